"""Exports GMNet weights (a torch.save state_dict) to ONNX for the onnxruntime comparison in
`regain bench --model`. The thumbnail is fixed at 256x256; the image's height and width are
dynamic.

usage: export_onnx.py WEIGHTS.pth OUT.onnx"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gmnet_ref  # noqa: E402


def exact_adaptive_pool(x, size):
    """adaptive_avg_pool2d with PyTorch's bins written out as static slices: ONNX has no
    adaptive pooling for sizes that do not divide the input (64 -> 3 here)."""
    h, w = x.shape[2], x.shape[3]
    rows = []
    for i in range(size):
        y0, y1 = (i * h) // size, -(-((i + 1) * h) // size)
        cols = []
        for j in range(size):
            x0, x1 = (j * w) // size, -(-((j + 1) * w) // size)
            cols.append(x[:, :, y0:y1, x0:x1].mean(dim=(2, 3), keepdim=True))
        rows.append(torch.cat(cols, dim=3))
    return torch.cat(rows, dim=2)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    model = gmnet_ref.GMNetRef().eval()
    model.load_state_dict({k.removeprefix('module.'): v for k, v in torch.load(src, map_location='cpu').items()})
    for sq in (model.sq_ker, model.sq_chn, model.sq_qmax):
        sq.forward = (lambda s: (lambda x: s.conv(exact_adaptive_pool(x, s.size))))(sq)
    img = torch.rand(1, 3, 96, 128)
    thumb = torch.rand(1, 3, 256, 256)
    with torch.no_grad():
        ref = model(img, thumb)
        torch.onnx.export(model, (img, thumb), dst, input_names=['image', 'thumbnail'], output_names=['out', 'qmax'],
                          dynamic_axes={'image': {2: 'h', 3: 'w'}, 'out': {2: 'h2', 3: 'w2'}}, opset_version=13)
    print('exported', dst, 'out', tuple(ref[0].shape))


if __name__ == '__main__':
    main()
