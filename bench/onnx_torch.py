"""An ONNX convolutional network run by PyTorch: the graph's nodes in order,
each with torch.nn.functional on the file's own weights (python3-onnx reads
it). Enough for the U-Nets of the benchmarks (Conv, ConvTranspose, MaxPool,
Relu, Sigmoid, Add, Concat, Identity, Resize/Upsample nearest, BatchNormalization), so
that a PyTorch pipeline runs exactly the weights eoproc runs.

    net = OnnxTorch("model.onnx"); y = net(torch.zeros(1, 3, 512, 512))
"""

import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _pads(p):
    """ONNX [top, left, bottom, right] as torch padding; symmetric only."""
    if not p:
        return 0
    n = len(p) // 2
    if list(p[:n]) != list(p[n:]):
        raise ValueError("asymmetric padding %s" % (p,))
    return tuple(p[:n])


class OnnxTorch(torch.nn.Module):
    def __init__(self, path):
        super().__init__()
        m = onnx.load(str(path))
        self.graph = m.graph
        self.w = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy())
                  for i in m.graph.initializer}
        for n in m.graph.node:
            if n.op_type == "Constant":
                self.w[n.output[0]] = torch.from_numpy(
                    numpy_helper.to_array(_attrs(n)["value"]).copy())
        self.input = m.graph.input[0].name
        self.output = m.graph.output[0].name

    def forward(self, x):
        v = dict(self.w)
        v[self.input] = x
        for n in self.graph.node:
            op, at = n.op_type, _attrs(n)
            ins = [v[i] if i else None for i in n.input]
            if op == "Constant":
                continue
            if op in ("Conv", "ConvTranspose"):
                kw = {"stride": tuple(at.get("strides", (1, 1))),
                      "padding": _pads(at.get("pads")), "groups": at.get("group", 1)}
                b = ins[2] if len(ins) > 2 else None
                if op == "Conv":
                    y = F.conv2d(ins[0], ins[1], b, dilation=tuple(at.get("dilations", (1, 1))),
                                 **kw)
                else:
                    y = F.conv_transpose2d(ins[0], ins[1], b,
                                           output_padding=tuple(at.get("output_padding", (0, 0))),
                                           **kw)
            elif op == "MaxPool":
                y = F.max_pool2d(ins[0], tuple(at["kernel_shape"]),
                                 stride=tuple(at.get("strides", at["kernel_shape"])),
                                 padding=_pads(at.get("pads")))
            elif op == "Identity":
                y = ins[0]
            elif op == "Relu":
                y = F.relu(ins[0])
            elif op == "Sigmoid":
                y = torch.sigmoid(ins[0])
            elif op == "Add":
                y = ins[0] + ins[1]
            elif op == "Concat":
                y = torch.cat(ins, at["axis"])
            elif op in ("Resize", "Upsample"):
                if at.get("mode", b"nearest") != b"nearest":
                    raise ValueError("%s mode %s" % (op, at.get("mode")))
                sc = ins[2] if op == "Resize" else ins[1]
                if sc is None or sc.numel() == 0:
                    y = F.interpolate(ins[0], size=tuple(int(s) for s in ins[3][2:]),
                                      mode="nearest")
                else:
                    y = F.interpolate(ins[0], scale_factor=tuple(float(s) for s in sc[2:]),
                                      mode="nearest")
            elif op == "BatchNormalization":
                y = F.batch_norm(ins[0], ins[3], ins[4], ins[1], ins[2], False, 0.0,
                                 at.get("epsilon", 1e-5))
            else:
                raise ValueError("onnx_torch: operator %s is not supported" % op)
            v[n.output[0]] = y
        return v[self.output]
