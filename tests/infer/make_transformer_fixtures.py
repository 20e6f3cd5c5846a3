#!/usr/bin/python3
"""Build the transformer and remaining convolutional-family fixtures with
PyTorch (Debian's python3-torch), beside those of make_fixtures.py.

Small networks with fixed random weights (seeded), exported at opsets 13
and 17, and PyTorch's own outputs on a random tensor and a Landsat 7 patch:

- SegFormer-style: overlapping patch embedding (strided 7x7 / 3x3 conv +
  LayerNorm), efficient self-attention (spatial-reduction conv, LayerNorm,
  multi-head attention with MatMul batch broadcasting and Softmax), Mix-FFN
  (Linear, depthwise 3x3, GELU, Linear) and the all-MLP decoder. Opset 13
  exports LayerNorm as ReduceMean / Sub / Pow / Sqrt / Div, opset 17 as
  LayerNormalization; GELU is Erf-based in both.
- FPN (lateral 1x1, top-down nearest upsampling, 3x3 smoothing), PSPNet
  (pyramid pooling with adaptive average pools of 1, 2, 4 bins),
  LinkNet (transposed-convolution decoder with additive skips) and
  DeepLabV3+ (separable atrous ASPP, image pooling, low-level skip).

    /usr/bin/python3 tests/infer/make_transformer_fixtures.py [DATA_DIR]

writes tests/infer/fixtures/<name>.onnx, <case>.in.f32 / .out.f32 and
replaces its own lines of cases.txt (test_infer.c and test_infer.py run
every line on every SIMD path). CI needs no torch: the results are
committed.
"""

import os
import pathlib
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from make_fixtures import OUT, REPO, export, l7_patch, randomize_bn, save_cases  # noqa: E402


def cbr(cin, cout, k=3, s=1, d=1, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, d * (k // 2), d, groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU())


# ---- SegFormer-style -----------------------------------------------------
class PatchEmbed(nn.Module):
    def __init__(self, cin, dim, k, s):
        super().__init__()
        self.proj = nn.Conv2d(cin, dim, k, s, k // 2)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        x = self.proj(x)
        n, c, h, w = x.shape
        return self.norm(x.flatten(2).transpose(1, 2)), h, w


class EffAttention(nn.Module):
    def __init__(self, dim, heads, sr):
        super().__init__()
        self.heads, self.sr = heads, sr
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        if sr > 1:
            self.reduce = nn.Conv2d(dim, dim, sr, sr)
            self.norm = nn.LayerNorm(dim)

    def forward(self, x, h, w):
        n, t, c = x.shape
        d = c // self.heads
        q = self.q(x).reshape(n, t, self.heads, d).permute(0, 2, 1, 3)
        if self.sr > 1:
            y = x.transpose(1, 2).reshape(n, c, h, w)
            y = self.norm(self.reduce(y).reshape(n, c, -1).transpose(1, 2))
        else:
            y = x
        kv = self.kv(y).reshape(n, -1, 2, self.heads, d).permute(2, 0, 3, 1, 4)
        k, v = kv[0], kv[1]
        a = (q @ k.transpose(-2, -1)) * (d ** -0.5)
        a = a.softmax(dim=-1)
        o = (a @ v).transpose(1, 2).reshape(n, t, c)
        return self.proj(o)


class MixFFN(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.dw = nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x, h, w):
        x = self.fc1(x)
        n, t, c = x.shape
        x = self.dw(x.transpose(1, 2).reshape(n, c, h, w)).flatten(2).transpose(1, 2)
        return self.fc2(F.gelu(x))


class Block(nn.Module):
    def __init__(self, dim, heads, sr):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = EffAttention(dim, heads, sr)
        self.ffn = MixFFN(dim, dim * 2)

    def forward(self, x, h, w):
        x = x + self.attn(self.n1(x), h, w)
        return x + self.ffn(self.n2(x), h, w)


class SegFormer(nn.Module):
    def __init__(self, dims=(16, 32), heads=(1, 2), srs=(4, 2), classes=3):
        super().__init__()
        self.embeds = nn.ModuleList([PatchEmbed(3, dims[0], 7, 4),
                                     PatchEmbed(dims[0], dims[1], 3, 2)])
        self.blocks = nn.ModuleList([Block(d, hd, s) for d, hd, s in zip(dims, heads, srs)])
        self.norms = nn.ModuleList([nn.LayerNorm(d) for d in dims])
        self.lin = nn.ModuleList([nn.Linear(d, 32) for d in dims])
        self.fuse = cbr(64, 32, 1)
        self.cls = nn.Conv2d(32, classes, 1)

    def forward(self, x):
        size = x.shape[2:]
        feats = []
        for emb, blk, nrm in zip(self.embeds, self.blocks, self.norms):
            t, h, w = emb(x)
            t = nrm(blk(t, h, w))
            x = t.transpose(1, 2).reshape(t.shape[0], -1, h, w)
            feats.append(x)
        top = feats[0].shape[2:]
        outs = []
        for f, lin in zip(feats, self.lin):
            n, c, h, w = f.shape
            y = lin(f.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(n, -1, h, w)
            outs.append(F.interpolate(y, size=top, mode="bilinear", align_corners=False))
        y = self.cls(self.fuse(torch.cat(outs[::-1], dim=1)))
        return F.interpolate(y, size=size, mode="bilinear", align_corners=False)


# ---- FPN, PSPNet, LinkNet, DeepLabV3+ -------------------------------------
class Encoder(nn.Module):
    """Four stages at strides 2, 4, 8, 16."""

    def __init__(self, chans=(16, 24, 32, 48)):
        super().__init__()
        cin, self.stages = 3, nn.ModuleList()
        for c in chans:
            self.stages.append(nn.Sequential(cbr(cin, c, 3, 2), cbr(c, c)))
            cin = c

    def forward(self, x):
        feats = []
        for s in self.stages:
            x = s(x)
            feats.append(x)
        return feats


class FPN(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.enc = Encoder()
        self.lat = nn.ModuleList([nn.Conv2d(c, 32, 1) for c in (16, 24, 32, 48)])
        self.smooth = nn.ModuleList([cbr(32, 16) for _ in range(4)])
        self.cls = nn.Conv2d(16, classes, 1)

    def forward(self, x):
        size = x.shape[2:]
        f = self.enc(x)
        p = [None] * 4
        p[3] = self.lat[3](f[3])
        for i in (2, 1, 0):
            p[i] = self.lat[i](f[i]) + F.interpolate(p[i + 1], scale_factor=2.0, mode="nearest")
        y = sum(F.interpolate(s(q), size=p[0].shape[2:], mode="bilinear", align_corners=False)
                for s, q in zip(self.smooth, p))
        return F.interpolate(self.cls(y), size=size, mode="bilinear", align_corners=False)


class PSPNet(nn.Module):
    def __init__(self, classes=3, bins=(1, 2, 4)):
        super().__init__()
        self.enc = Encoder()
        self.bins = bins
        self.branches = nn.ModuleList([cbr(48, 12, 1) for _ in bins])
        self.head = cbr(48 + 12 * len(bins), 32)
        self.cls = nn.Conv2d(32, classes, 1)

    def forward(self, x):
        size = x.shape[2:]
        f = self.enc(x)[3]
        outs = [f]
        for b, br in zip(self.bins, self.branches):
            y = br(F.adaptive_avg_pool2d(f, b))
            outs.append(F.interpolate(y, size=f.shape[2:], mode="bilinear", align_corners=False))
        y = self.cls(self.head(torch.cat(outs, 1)))
        return F.interpolate(y, size=size, mode="bilinear", align_corners=False)


class LinkDecoder(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        m = cin // 4
        self.a = cbr(cin, m, 1)
        self.up = nn.Sequential(nn.ConvTranspose2d(m, m, 3, 2, 1, output_padding=1),
                                nn.BatchNorm2d(m), nn.ReLU())
        self.b = cbr(m, cout, 1)

    def forward(self, x):
        return self.b(self.up(self.a(x)))


class LinkNet(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.enc = Encoder()
        self.d4, self.d3 = LinkDecoder(48, 32), LinkDecoder(32, 24)
        self.d2, self.d1 = LinkDecoder(24, 16), LinkDecoder(16, 16)
        self.cls = nn.Conv2d(16, classes, 3, 1, 1)

    def forward(self, x):
        f1, f2, f3, f4 = self.enc(x)
        y = self.d4(f4) + f3
        y = self.d3(y) + f2
        y = self.d2(y) + f1
        return self.cls(self.d1(y))


def sep(cin, cout, d):
    return nn.Sequential(nn.Conv2d(cin, cin, 3, 1, d, d, groups=cin, bias=False),
                         nn.BatchNorm2d(cin), nn.ReLU(), cbr(cin, cout, 1))


class DeepLabV3Plus(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.enc = Encoder()
        self.aspp = nn.ModuleList([cbr(48, 24, 1), sep(48, 24, 2), sep(48, 24, 3)])
        self.pool = cbr(48, 24, 1)
        self.project = cbr(24 * 4, 24, 1)
        self.low = cbr(24, 12, 1)
        self.head = nn.Sequential(sep(36, 24, 1), nn.Conv2d(24, classes, 1))

    def forward(self, x):
        size = x.shape[2:]
        f = self.enc(x)
        hi, lo = f[3], f[1]
        outs = [b(hi) for b in self.aspp]
        g = self.pool(F.adaptive_avg_pool2d(hi, 1))
        outs.append(F.interpolate(g, size=hi.shape[2:], mode="bilinear", align_corners=False))
        y = self.project(torch.cat(outs, 1))
        y = F.interpolate(y, size=lo.shape[2:], mode="bilinear", align_corners=False)
        y = self.head(torch.cat([y, self.low(lo)], 1))
        return F.interpolate(y, size=size, mode="bilinear", align_corners=False)


NETS = [
    # name, model class, input size, opset
    ("segformer_op13", SegFormer, 64, 13),
    ("segformer_op17", SegFormer, 64, 17),
    ("fpn_op13", FPN, 64, 13),
    ("pspnet_op17", PSPNet, 64, 17),
    ("linknet_op13", LinkNet, 64, 13),
    ("deeplabv3plus_op17", DeepLabV3Plus, 64, 17),
    # each family at the other opset too
    ("fpn_op17", FPN, 64, 17),
    ("pspnet_op13", PSPNet, 64, 13),
    ("linknet_op17", LinkNet, 64, 17),
    ("deeplabv3plus_op13", DeepLabV3Plus, 64, 13),
]


def main():
    data_dir = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                            os.environ.get("EOPROC_DATA", REPO / ".cache" / "data"))
    torch.set_num_threads(2)
    gen = torch.Generator().manual_seed(11)
    rng = np.random.default_rng(11)
    lines = []
    for i, (name, cls, size, opset) in enumerate(NETS):
        torch.manual_seed(200 + i)
        net = cls()
        for p in net.parameters():
            p.data.copy_(torch.randn(p.shape, generator=gen) *
                         (1.0 / max(1, p[0].numel()) ** 0.5))
        for m in net.modules():
            if isinstance(m, nn.LayerNorm):  # non-trivial affine parameters
                m.weight.data.copy_(1.0 + 0.2 * torch.randn(m.weight.shape, generator=gen))
                m.bias.data.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
        randomize_bn(net, gen)
        net.eval()
        inputs = {
            "random": rng.standard_normal((1, 3, size, size)).astype(np.float32),
            "l7": l7_patch(data_dir, size, (60 + 41 * i) % (349 - size),
                           (90 + 29 * i) % (352 - size)),
        }
        onnx_name = export(net, name, inputs["random"], opset)
        lines += save_cases(net, name, onnx_name, inputs)
    cases = OUT / "cases.txt"
    ours = tuple(n + "_" for n, *_ in NETS)
    kept = [ln for ln in cases.read_text().split("\n") if ln.strip() and not ln.startswith(ours)]
    cases.write_text("\n".join(kept + lines) + "\n")


def pool_shuffle_model():
    """GlobalMaxPool and a pixel shuffle (DepthToSpace, CRD as PyTorch's
    PixelShuffle exports it) side by side: two outputs of one input."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 5, 7])
    g = helper.make_tensor_value_info("gmax", TensorProto.FLOAT, [1, 8, 1, 1])
    d = helper.make_tensor_value_info("shuffled", TensorProto.FLOAT, [1, 2, 10, 14])
    graph = helper.make_graph(
        [helper.make_node("GlobalMaxPool", ["x"], ["gmax"], name="gmax"),
         helper.make_node("DepthToSpace", ["x"], ["shuffled"], name="shuffle", blocksize=2,
                          mode="CRD")],
        "pool_shuffle", [x], [g, d])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(m, str(OUT / "pool_shuffle_op13.onnx"))


def gelu_like_model():
    """GELU's node pattern (Div Erf Add Mul Mul) but dividing by a second
    input instead of sqrt(2): must not be fused into GELU."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 5])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5])
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 5])
    one = helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])
    half = helper.make_tensor("half", TensorProto.FLOAT, [], [0.5])
    graph = helper.make_graph(
        [helper.make_node("Div", ["x", "y"], ["t"]),
         helper.make_node("Erf", ["t"], ["u"]),
         helper.make_node("Add", ["u", "one"], ["w"]),
         helper.make_node("Mul", ["x", "w"], ["v"]),
         helper.make_node("Mul", ["v", "half"], ["z"])],
        "gelu_like", [x, y], [z], [one, half])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(m, str(OUT / "gelu_like_op13.onnx"))


if __name__ == "__main__":
    main()
    pool_shuffle_model()
    gelu_like_model()
