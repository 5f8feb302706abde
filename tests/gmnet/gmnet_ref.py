"""Reference GMNet in PyTorch for regain's parity tests (written for this repository from
the published layer description; see include/regain/gmnet.h for the table of facts).
Module attribute names reproduce the published state_dict keys so that torch.save files of
this model load like the authors' checkpoints."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride, 1)


class Down(nn.Module):
    """Stride-2 conv then two convs, ReLU after each (keys .conv.0/.2/.4)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Sequential(conv3(cin, cout, 2), nn.ReLU(), conv3(cout, cout), nn.ReLU(),
                                  conv3(cout, cout), nn.ReLU())

    def forward(self, x):
        return self.conv(x)


class Res(nn.Module):
    def __init__(self, nf):
        super().__init__()
        self.conv1 = conv3(nf, nf)
        self.conv2 = conv3(nf, nf)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


class Squeeze(nn.Module):
    """Adaptive average pool to size x size, then a 1x1-conv MLP (nf -> 2nf -> nf -> out)."""

    def __init__(self, size, out, nf):
        super().__init__()
        self.size = size
        self.conv = nn.Sequential(nn.Conv2d(nf, 2 * nf, 1), nn.ReLU(), nn.Conv2d(2 * nf, nf, 1), nn.ReLU(),
                                  nn.Conv2d(nf, out, 1))

    def forward(self, x):
        return self.conv(F.adaptive_avg_pool2d(x, self.size))


def res_stack(nf):
    return nn.Sequential(*[Res(nf) for _ in range(5)])


class GMNetRef(nn.Module):
    def __init__(self, nf=64, out_nc=1):
        super().__init__()
        self.down1 = Down(3, nf // 4)
        self.down2 = Down(nf // 4, nf)
        self.res_y = res_stack(nf)
        self.sq_ker = Squeeze(3, nf, nf)
        self.sq_chn = Squeeze(1, nf, nf)
        self.sq_qmax = Squeeze(1, 1, nf)
        self.mask_est = nn.Sequential(conv3(nf, nf), nn.ReLU(), conv3(nf, 1), nn.Sigmoid())
        self.down_x = Down(3, nf)
        self.res1 = res_stack(nf)
        self.res2 = res_stack(nf)
        self.res3 = res_stack(nf)
        self.upconv = conv3(nf, 4 * nf)
        self.HRconv = conv3(nf, nf)
        self.conv_last = conv3(nf, out_nc)

    def forward(self, img, thumb):
        g = self.res_y(self.down2(self.down1(thumb)))
        kernel = self.sq_ker(g)          # (1, nf, 3, 3): one 3x3 kernel per channel
        att = torch.sigmoid(self.sq_chn(g))
        qmax = self.sq_qmax(g)
        x = self.res1(self.down_x(img))
        nf = x.shape[1]
        dw = F.conv2d(x, kernel.reshape(nf, 1, 3, 3), padding=1, groups=nf)
        x = x * self.mask_est(dw)
        x = self.res2(x) * att
        x = self.res3(x)
        x = F.relu(F.pixel_shuffle(self.upconv(x), 2))
        out = self.conv_last(F.relu(self.HRconv(x)))
        return out, qmax.reshape(-1)


def randomize(model, seed):
    """Random weights at a scale that keeps activations O(1) through the 46 convs, with
    non-zero biases so that every bias is exercised."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('weight'):
                fan_in = p[0].numel()
                std = (2.0 / fan_in) ** 0.5
                if '.conv2.' in name:
                    std *= 0.3  # residual branches: keep the stream from growing 2x per block
                p.copy_(torch.randn(p.shape, generator=g) * std)
            else:
                p.copy_((torch.rand(p.shape, generator=g) - 0.5) * 0.1)
        model.sq_qmax.conv[4].bias.fill_(0.8)
