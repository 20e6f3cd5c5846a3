#!/usr/bin/python3
"""Where a profiled `eoproc detect` spends its CPU time, by stage: reads
`perf script` of a `perf record -F HZ --call-graph dwarf` run and files each
sample under the stage of the innermost frame of its call chain that names
one (model load: parsing, planning, packing the weights; tile
fetch/decode; model inference; vectorization: polygons, post-processing and
writing); the rest is "other" (start-up, the AOI plan, the job store, the
sliding window's glue, freeing at exit). Prints CPU seconds
(samples / HZ) and shares.

    perf_stages.py PERF.data HZ
"""

import re
import subprocess
import sys

STAGES = (
    ("model load", re.compile(
        r"^(eoi_segment_model_load|load_model|plan_model|eoi_onnx_parse|eo_model_open\w*)$"),
     re.compile(r"^$")),
    ("fetch/decode", re.compile(
        r"^(read_tile|load_tile|decode_(png|jpeg|webp)|read_stripe|eo_dataset_read|"
        r"eoi_tile\w*|png_\w+|inflate\w*|libdeflate\w*|jpeg_\w+|WebP\w+)$"),
     re.compile(r"lib(png|z|deflate|jpeg|turbojpeg|webp)\.so")),
    ("inference", re.compile(
        r"^(eo_model_run|exec_plan|eoi_run_conv\w*|conv_\w+|gemm_\w+|wino\w*|col2im\w*|"
        r"im2col\w*|act_\w+|vmax_\w+)$"), re.compile(r"libopenblas")),
    ("vectorization", re.compile(
        r"^(eoi_polygonize\w*|polygonize\w*|eoi_plan_finish|eo_features_\w+|eoi_features_\w+|"
        r"GEOS\w+|geos::.*)$"), re.compile(r"libgeos")),
)


def main():
    data, hz = sys.argv[1], float(sys.argv[2])
    out = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym,dso"],
                         capture_output=True, text=True, check=True).stdout
    counts = {name: 0 for name, _, _ in STAGES}
    counts["other"] = 0
    frame = re.compile(r"^\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$")
    for sample in out.split("\n\n"):
        frames = [m.groups() for m in map(frame.match, sample.splitlines()) if m]
        if not frames:
            continue
        stage = "other"
        for sym, dso in frames:  # innermost first
            sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
            hit = next((n for n, s, d in STAGES if s.match(sym) or d.search(dso)), None)
            if hit:
                stage = hit
                break
        counts[stage] += 1
    total = max(sum(counts.values()), 1)
    print("CPU time by stage (perf, %d samples at %g Hz): " % (total, hz) +
          ", ".join("%s %.1f s (%.0f%%)" % (k, v / hz, 100.0 * v / total)
                    for k, v in counts.items()))


if __name__ == "__main__":
    main()
