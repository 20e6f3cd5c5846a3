#!/usr/bin/python3
"""Build the sliding-window segmentation fixture with PyTorch.

    /usr/bin/python3 tests/infer/make_segment_fixture.py

writes tests/infer/fixtures/segment_fcn.onnx: a small fully convolutional
network (3x3 convolution, max pooling, 3x3 convolution, transposed
convolution back to full size, skip concatenation, 1x1 head to 3 classes;
no softmax, so eoproc's "auto" activation applies one) with fixed random
weights, exported at opset 13 with dynamic batch, height and width. Its
receptive field reaches 6 pixels around a pixel, so tiles overlapping by 32
(a quarter is 8) must reproduce a whole-raster run exactly
(tests/python/test_segment.py). CI needs no torch: the file is committed.
"""

import pathlib

import torch
import torch.nn as nn

OUT = pathlib.Path(__file__).resolve().parent / "fixtures" / "segment_fcn.onnx"


class FCN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 8, 3, padding=1)
        self.up = nn.ConvTranspose2d(8, 8, 2, stride=2)
        self.head = nn.Conv2d(16, 3, 1)

    def forward(self, x):
        a = torch.relu(self.c1(x))
        b = torch.relu(self.c2(nn.functional.max_pool2d(a, 2)))
        return self.head(torch.cat([a, self.up(b)], 1)) * 3.0


def main():
    torch.manual_seed(7)
    net = FCN().eval()
    torch.onnx.export(
        net,
        torch.zeros(1, 3, 32, 32),
        str(OUT),
        opset_version=13,
        input_names=["x"],
        output_names=["logits"],
        dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}, "logits": {0: "n", 2: "h", 3: "w"}},
    )
    print("wrote", OUT, OUT.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
