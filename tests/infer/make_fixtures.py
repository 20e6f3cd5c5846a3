#!/usr/bin/python3
"""Build the inference test fixtures with PyTorch (Debian's python3-torch).

Five small networks (plain U-Net, ResNet-18-style U-Net, DeepLabV3-style
net, MobileNet-style depthwise encoder, classifier head) and a network of
rarer attributes, with fixed random weights (seeded), exported to ONNX at
opsets 9, 11, 13 and 17, and PyTorch's own outputs on fixed inputs: a
random tensor and a real patch of the Landsat 7 scene L7_ETMs.tif (bands
1-3, scaled to [0, 1]).

    /usr/bin/python3 tests/infer/make_fixtures.py [DATA_DIR]

writes tests/infer/fixtures/: <model>.onnx, <case>.in.f32 and
<case>.out.f32 (raw little-endian float32, C order) and cases.txt, one line
per case: "case model.onnx input.f32 output.f32 N C H W". CI needs no
torch: the results are committed. The tests compare eoproc's outputs with
PyTorch's (max abs error 1e-4) on the vectorized and the portable path.
"""

import os
import pathlib
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "fixtures"
REPO = HERE.parents[1]


def randomize_bn(model, gen):
    """Give every batch norm non-trivial statistics, so folding is tested."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
            m.weight.data.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.1)


def cbr(cin, cout, k=3, s=1, d=1, groups=1, act=None):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, s, padding=d * (k // 2), dilation=d, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        act if act is not None else nn.ReLU(inplace=True),
    )


# ---------------------------------------------------------------- plain U-Net
class UNet(nn.Module):
    def __init__(self, cin=3, ncls=2, base=8):
        super().__init__()
        c = [base, base * 2, base * 4, base * 8]
        self.enc = nn.ModuleList()
        prev = cin
        for ch in c:
            self.enc.append(nn.Sequential(cbr(prev, ch), cbr(ch, ch)))
            prev = ch
        self.ups = nn.ModuleList()
        self.dec = nn.ModuleList()
        for ch in reversed(c[:-1]):
            self.ups.append(nn.ConvTranspose2d(prev, ch, 2, stride=2))
            self.dec.append(nn.Sequential(cbr(ch * 2, ch), cbr(ch, ch)))
            prev = ch
        self.head = nn.Conv2d(prev, ncls, 1)

    def forward(self, x):
        skips = []
        for i, e in enumerate(self.enc):
            x = e(x)
            if i < len(self.enc) - 1:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for up, dec in zip(self.ups, self.dec):
            x = up(x)
            x = dec(torch.cat([x, skips.pop()], 1))
        return self.head(x)


# ------------------------------------------------ ResNet-18-style U-Net
class Basic(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = cbr(cin, cout, s=stride)
        self.c2 = nn.Sequential(nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        idt = x if self.down is None else self.down(x)
        return F.relu(self.c2(self.c1(x)) + idt)


class ResUNet(nn.Module):
    def __init__(self, cin=3, ncls=3):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(cin, 16, 7, 2, 3, bias=False), nn.BatchNorm2d(16),
                                  nn.ReLU(inplace=True))
        self.pool = nn.MaxPool2d(3, 2, 1)
        ch = [16, 24, 32, 48]
        layers, prev = [], 16
        for i, c in enumerate(ch):
            layers.append(nn.Sequential(Basic(prev, c, 1 if i == 0 else 2), Basic(c, c, 1)))
            prev = c
        self.layers = nn.ModuleList(layers)
        self.dec = nn.ModuleList()
        for c in reversed(ch[:-1]):
            self.dec.append(cbr(prev + c, c))
            prev = c
        self.final = nn.Sequential(cbr(prev + 16, 16), nn.Conv2d(16, ncls, 1))

    def forward(self, x):
        size = x.shape[-2:]
        s0 = self.stem(x)
        x = self.pool(s0)
        feats = []
        for l in self.layers:
            x = l(x)
            feats.append(x)
        x = feats.pop()
        for d in self.dec:
            skip = feats.pop()
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
            x = d(torch.cat([x, skip], 1))
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = self.final(torch.cat([x, s0], 1))
        return F.interpolate(x, size=size, mode="bilinear", align_corners=True)


# ------------------------------------------------------ DeepLabV3-style
class ASPP(nn.Module):
    def __init__(self, cin, cout, rates=(2, 4, 6)):
        super().__init__()
        self.b0 = cbr(cin, cout, k=1)
        self.bs = nn.ModuleList([cbr(cin, cout, d=r) for r in rates])
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(cin, cout, 1, bias=False),
                                  nn.BatchNorm2d(cout), nn.ReLU(inplace=True))
        self.proj = nn.Sequential(cbr(cout * (2 + len(rates)), cout, k=1), nn.Dropout(0.5))

    def forward(self, x):
        size = x.shape[-2:]
        outs = [self.b0(x)] + [b(x) for b in self.bs]
        p = F.interpolate(self.pool(x), size=size, mode="bilinear", align_corners=False)
        return self.proj(torch.cat(outs + [p], 1))


class DeepLab(nn.Module):
    def __init__(self, cin=3, ncls=4):
        super().__init__()
        self.backbone = nn.Sequential(
            cbr(cin, 16, s=2), cbr(16, 24, s=2), cbr(24, 32, s=2),
            cbr(32, 32, d=2), cbr(32, 48, d=4))
        self.aspp = ASPP(48, 24)
        self.cls = nn.Conv2d(24, ncls, 1)

    def forward(self, x):
        size = x.shape[-2:]
        y = self.cls(self.aspp(self.backbone(x)))
        return F.interpolate(y, size=size, mode="bilinear", align_corners=False)


# ------------------------------------------------ MobileNet-style encoder
class InvRes(nn.Module):
    def __init__(self, cin, cout, stride, expand, se):
        super().__init__()
        mid = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.expand = cbr(cin, mid, k=1, act=nn.Hardswish())
        self.dw = cbr(mid, mid, s=stride, groups=mid, act=nn.ReLU6())
        self.se = None
        if se:
            self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(mid, mid // 4, 1),
                                    nn.ReLU(), nn.Conv2d(mid // 4, mid, 1), nn.Hardsigmoid())
        self.proj = nn.Sequential(nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.dw(self.expand(x))
        if self.se is not None:
            y = y * self.se(y)
        y = self.proj(y)
        return x + y if self.use_res else y


class MobileSeg(nn.Module):
    def __init__(self, cin=3):
        super().__init__()
        self.stem = cbr(cin, 16, s=2, act=nn.Hardswish())
        self.blocks = nn.Sequential(
            InvRes(16, 16, 1, 2, False), InvRes(16, 24, 2, 3, True),
            InvRes(24, 24, 1, 3, True), InvRes(24, 32, 2, 2, False),
            nn.Sequential(nn.Conv2d(32, 32, 5, 1, 4, dilation=2, groups=32, bias=False),
                          nn.BatchNorm2d(32), nn.LeakyReLU(0.1)))
        self.head = nn.Conv2d(32, 1, 1)

    def forward(self, x):
        y = self.head(self.blocks(self.stem(x)))
        y = F.interpolate(y, scale_factor=8.0, mode="nearest")
        return torch.sigmoid(y)


# -------------------------------------------------------- classifier head
class Classifier(nn.Module):
    def __init__(self, cin=3, ncls=10):
        super().__init__()
        self.pad = nn.ReflectionPad2d(1)
        self.c1 = nn.Conv2d(cin, 16, 3)
        self.act1 = nn.PReLU(16)
        self.p1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.c2 = nn.Conv2d(16, 24, 3, padding=1, groups=4)
        self.p2 = nn.AvgPool2d(3, 2, padding=1, count_include_pad=False)
        self.c3 = nn.Conv2d(24, 32, 3, padding=1)
        self.p3 = nn.AvgPool2d(2, 2, padding=1, count_include_pad=True)
        self.fc1 = nn.Linear(32, 24)
        self.fc2 = nn.Linear(24, ncls)

    def forward(self, x):
        x = self.p1(self.act1(self.c1(self.pad(x))))
        x = self.p2(torch.tanh(self.c2(x)))
        x = self.p3(F.leaky_relu(self.c3(x), 0.2))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        x = torch.sigmoid(self.fc1(x)) * x[:, :24]  # Gemm, Sigmoid, Slice, Mul
        return torch.softmax(self.fc2(x), dim=1)


# ------------------------------------- older opsets and rarer attributes
class Misc(nn.Module):
    """ConvTranspose with output_padding, grouped + dilated ConvTranspose,
    Conv1d, Pad, Slice, nearest upsampling, legacy Softmax; with new=True
    (opset >= 11) also dilated MaxPool, stepped Slice and bilinear resize."""

    def __init__(self, new):
        super().__init__()
        self.new = new
        self.ct = nn.ConvTranspose2d(3, 8, 3, stride=2, padding=1, output_padding=1)
        self.ctg = nn.ConvTranspose2d(8, 8, 3, stride=1, padding=1, groups=4, dilation=2)
        self.bn = nn.BatchNorm2d(8)
        self.c1d = nn.Conv1d(8, 6, 5, stride=2, padding=2)

    def forward(self, x):
        y = F.relu6(self.bn(self.ctg(self.ct(x))))
        if self.new:
            y = F.max_pool2d(y, 3, stride=2, padding=1, dilation=2)
            y = F.interpolate(y, scale_factor=0.5, mode="bilinear", align_corners=False)
        else:
            y = F.max_pool2d(y, 2)
            y = F.interpolate(y, scale_factor=2.0, mode="nearest")
        z = self.c1d(y.flatten(2))
        z = F.pad(z, (2, 1), mode="constant", value=0.5)
        z = z[:, 1:5, 3:-3:2] if self.new else z[:, 1:5, 3:-3]
        return torch.softmax(z, dim=1)


def l7_patch(data_dir, size, x0, y0):
    from osgeo import gdal

    ds = gdal.Open(str(data_dir / "L7_ETMs.tif"))
    arr = np.stack([ds.GetRasterBand(b).ReadAsArray(x0, y0, size, size) for b in (1, 2, 3)])
    return (arr.astype(np.float32) / 255.0)[None]


def save_cases(net, name, onnx_name, inputs):
    """PyTorch's outputs of net on each input, saved; the cases.txt lines."""
    lines = []
    for kind, x in inputs.items():
        with torch.no_grad():
            y = net(torch.from_numpy(x)).numpy().astype(np.float32)
        case = "%s_%s" % (name, kind)
        x.tofile(OUT / (case + ".in.f32"))
        y.tofile(OUT / (case + ".out.f32"))
        lines.append("%s %s %s.in.f32 %s.out.f32 %s" % (
            case, onnx_name, case, case, " ".join(str(d) for d in x.shape)))
        print("%-28s in %s out %s |y|max %.3f" % (case, x.shape, y.shape, np.abs(y).max()))
    return lines


def export(model, name, x, opset, dynamic=False, fold=True):
    path = OUT / (name + ".onnx")
    kw = {}
    if dynamic:
        kw["dynamic_axes"] = {"x": {0: "n", 2: "h", 3: "w"}, "y": {0: "n", 2: "h", 3: "w"}}
    torch.onnx.export(model, torch.from_numpy(x), str(path), opset_version=opset,
                      input_names=["x"], output_names=["y"], do_constant_folding=fold,
                      training=(torch.onnx.TrainingMode.EVAL if fold
                                else torch.onnx.TrainingMode.PRESERVE), **kw)
    return path.name


def main():
    data_dir = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                            os.environ.get("EOPROC_DATA", REPO / ".cache" / "data"))
    OUT.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    gen = torch.Generator().manual_seed(7)
    rng = np.random.default_rng(7)
    nets = [
        # name, model, input size, opset, dynamic axes, constant folding (off:
        # batch norms stay in the file, for eoproc to fold)
        ("unet_plain_op13", UNet(), 64, 13, False, False),
        ("unet_plain_op17", UNet(), 64, 17, False, True),
        ("resunet18_op13", ResUNet(), 64, 13, False, True),
        ("deeplabv3_op17", DeepLab(), 64, 17, True, True),
        ("mobilenet_op13", MobileSeg(), 64, 13, False, True),
        ("classifier_op17", Classifier(), 32, 17, False, True),
        ("mobilenet_op11", MobileSeg(), 64, 11, False, True),  # Clip-11, Resize-11
        ("misc_op9", Misc(new=False), 16, 9, False, False),
        ("misc_op11", Misc(new=True), 16, 11, False, True),
        ("mobilenet_op17", MobileSeg(), 64, 17, False, True),  # HardSwish-14
    ]
    lines = []
    for i, (name, net, size, opset, dyn, fold) in enumerate(nets):
        torch.manual_seed(100 + i)
        if name == "unet_plain_op17":  # the same weights as op13
            net.load_state_dict(nets[0][1].state_dict())
        else:
            for p in net.parameters():
                p.data.copy_(torch.randn(p.shape, generator=gen) *
                             (1.0 / max(1, p[0].numel()) ** 0.5))
            randomize_bn(net, gen)
        net.eval()
        inputs = {
            "random": rng.standard_normal((1, 3, size, size)).astype(np.float32),
            "l7": l7_patch(data_dir, size, (100 + 37 * i) % (349 - size),
                           (120 + 23 * i) % (352 - size)),
        }
        onnx_name = export(net, name, inputs["random"], opset, dyn, fold)
        lines += save_cases(net, name, onnx_name, inputs)
    (OUT / "cases.txt").write_text("\n".join(lines) + "\n")
    unsupported()
    ops_model()
    pad_model()


def pad_model():
    """Pad reflect, then Pad constant with negative pads (crops); recomputed
    with numpy in tests/python/test_infer.py."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 7])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [
        helper.make_node("Pad", ["x", "p1"], ["r"], mode="reflect"),
        helper.make_node("Pad", ["r", "p2", "v"], ["y"], mode="constant"),
    ]
    inits = [
        numpy_helper.from_array(np.array([0, 0, 2, 1, 0, 0, 1, 3], np.int64), "p1"),
        numpy_helper.from_array(np.array([0, 1, -1, 0, 0, -1, 0, 2], np.int64), "p2"),
        numpy_helper.from_array(np.array(0.5, np.float32), "v"),
    ]
    g = helper.make_graph(nodes, "pads", [x], [y], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(m, str(OUT / "pad_op13.onnx"))


def ops_model():
    """Data-movement and matrix ops the networks above do not export:
    Transpose, Reshape, MatMul, Split (opset 13 input), Sub, Pad (edge),
    Softmax on a middle axis. tests/python/test_infer.py recomputes it in
    numpy (weights w[i, j] = (i - 2 j) / 4)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = np.array([[(i - 2 * j) / 4 for j in range(4)] for i in range(4)], np.float32)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, 6])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
        helper.make_node("Reshape", ["t", "shp"], ["r"]),
        helper.make_node("MatMul", ["r", "w"], ["mm"]),
        helper.make_node("Split", ["mm", "sp"], ["a", "b"], axis=1),
        helper.make_node("Sub", ["a", "b"], ["s"]),
        helper.make_node("Pad", ["s", "pads"], ["p"], mode="edge"),
        helper.make_node("Softmax", ["p"], ["y"], axis=1),
    ]
    inits = [
        numpy_helper.from_array(np.array([1, 36, 4], np.int64), "shp"),
        numpy_helper.from_array(w, "w"),
        numpy_helper.from_array(np.array([18, 18], np.int64), "sp"),
        numpy_helper.from_array(np.array([0, 1, 0, 0, 1, 0], np.int64), "pads"),
    ]
    g = helper.make_graph(nodes, "ops", [x], [y], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(m, str(OUT / "ops_op13.onnx"))


def unsupported():
    """A model with an operator eoproc does not run (Det, node my_det)."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["r"], name="my_relu"),
                           helper.make_node("Det", ["r"], ["y"], name="my_det")],
                          "unsupported", [x], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(m, str(OUT / "unsupported_det.onnx"))


if __name__ == "__main__":
    main()
