"""Writes a parity case for tests/gmnet_test.cpp: random GMNet weights saved with torch.save
(plus a copy with DataParallel's 'module.' prefix), random inputs and the reference outputs,
all as raw little-endian float32.

usage: make_case.py OUT_DIR SEED WIDTH HEIGHT"""
import os
import sys
from collections import OrderedDict

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gmnet_ref import GMNetRef, randomize  # noqa: E402


def main():
    out_dir, seed, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    model = GMNetRef().eval()
    randomize(model, seed)
    torch.save(model.state_dict(), os.path.join(out_dir, 'model.pth'))
    torch.save(OrderedDict(('module.' + k, v) for k, v in model.state_dict().items()),
               os.path.join(out_dir, 'model_module.pth'))
    gen = torch.Generator().manual_seed(seed + 1)
    # Smooth-ish content plus noise, in [0, 1]; HWC like the C++ side.
    img = (torch.rand(1, 3, h // 8 + 1, w // 8 + 1, generator=gen))
    img = F_interp(img, h, w) * 0.8 + torch.rand(1, 3, h, w, generator=gen) * 0.2
    thumb = F_interp(img, 256, 256).clamp(0, 1)
    with torch.no_grad():
        out, qmax = model(img, thumb)
    out = out[:, :, :h, :w]
    img.permute(0, 2, 3, 1).contiguous().numpy().tofile(os.path.join(out_dir, 'input.f32'))
    thumb.permute(0, 2, 3, 1).contiguous().numpy().tofile(os.path.join(out_dir, 'thumb.f32'))
    out.contiguous().numpy().tofile(os.path.join(out_dir, 'out.f32'))
    qmax.numpy().tofile(os.path.join(out_dir, 'qmax.f32'))
    print('out range', float(out.min()), float(out.max()), 'qmax', float(qmax))


def F_interp(x, h, w):
    return torch.nn.functional.interpolate(x, size=(h, w), mode='bilinear', align_corners=False)




def hostile(out_dir):
    """Archives the loader must refuse: a pickle that would call os.system, and a deflated
    (compressed) archive. Nothing here is ever unpickled by Python."""
    import pickle
    import zipfile

    class Evil:
        def __reduce__(self):
            return (os.system, ('echo pwned',))

    with zipfile.ZipFile(os.path.join(out_dir, 'hostile.pth'), 'w', zipfile.ZIP_STORED) as z:
        z.writestr('archive/data.pkl', pickle.dumps(Evil(), protocol=2))
    with zipfile.ZipFile(os.path.join(out_dir, 'deflated.pth'), 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('archive/data.pkl', pickle.dumps({'a': 1}, protocol=2) * 10)
    # "Billion laughs": each step pairs two references to the previous value.
    laughs = b'\x80\x02]q\x00' + b'h\x00h\x00\x86q\x00' * 64 + b'.'
    with zipfile.ZipFile(os.path.join(out_dir, 'laughs.pth'), 'w', zipfile.ZIP_STORED) as z:
        z.writestr('archive/data.pkl', laughs)
    torch.save(OrderedDict(weight=torch.zeros(3, dtype=torch.float64)), os.path.join(out_dir, 'double.pth'))


if __name__ == '__main__':
    main()
    hostile(sys.argv[1])
