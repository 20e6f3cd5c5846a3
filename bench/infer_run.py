#!/usr/bin/python3
"""One engine's latency on one ONNX model: used by bench/infer.sh.

    infer_run.py eoproc|torch MODEL.onnx RUNS THREADS

Prints "median_ms <ms> min_ms <ms> cpu_ms <ms> gflop <GFLOP per run>" after
one warm-up run (cpu_ms: the median of the runs' process CPU time, user +
system, which other jobs on the machine disturb less than wall time). eoproc runs through its Python package (eoproc.Model);
torch runs the same network rebuilt from tests/infer/make_fixtures.py (or
make_transformer_fixtures.py's SegFormer when BENCH_NET=segformer, with
SEGFORMER_ARGS) with the weights stored beside the ONNX file (MODEL.pt),
torch.set_num_threads. BENCH_PRECISION=bf16: eoproc's BF16 path.
"""

import os
import statistics
import sys
import time

import numpy as np


def main():
    engine, model, runs, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rng = np.random.default_rng(0)
    times, cpu = [], []
    gflop = 0.0
    if engine == "eoproc":
        import eoproc

        with eoproc._context() as c:  # this thread's context, kept for the runs
            eoproc._lib.eo_ctx_set_threads(c, threads)
        m = eoproc.Model(model, precision=os.environ.get("BENCH_PRECISION", "fp32"))
        if m.info["precision"] != os.environ.get("BENCH_PRECISION", "fp32"):
            sys.exit("bench: eoproc runs %s here (no AVX512_BF16?)" % m.info["precision"])
        x = rng.standard_normal(m.input_shape).astype(np.float32)
        gflop = m.info["flops"] / 1e9
        m.run(x)
        for _ in range(runs):
            c, t = time.process_time(), time.perf_counter()
            m.run(x)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
    else:
        import torch

        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "infer"))
        torch.set_num_threads(threads)
        if os.environ.get("BENCH_NET") == "segformer":  # bench/transformer.sh
            from make_transformer_fixtures import SegFormer

            net = SegFormer(**eval(os.environ["SEGFORMER_ARGS"]))
        else:
            from make_fixtures import UNet

            base = int(os.environ.get("UNET_BASE", "32"))
            net = UNet(base=base)
        net.load_state_dict(torch.load(model[:-5] + ".pt"))
        net.eval()
        size = int(os.environ.get("UNET_SIZE", "512"))
        x = torch.from_numpy(rng.standard_normal((1, 3, size, size)).astype(np.float32))
        with torch.no_grad():
            net(x)
            for _ in range(runs):
                c, t = time.process_time(), time.perf_counter()
                net(x)
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
    print("median_ms %.2f min_ms %.2f cpu_ms %.2f gflop %.3f" % (
        statistics.median(times) * 1e3, min(times) * 1e3, statistics.median(cpu) * 1e3, gflop))


if __name__ == "__main__":
    main()
