#!/usr/bin/env python3
"""Writes a synthetic, structured tuning space as a Kernel Tuner cache file (a second space for checking that the
search strategies are not fitted to the convolution space): 5 parameters, interactions between them, one
region that fails, and a deterministic pseudo-noise. Usage: synthetic_cache.py OUT.json"""
import hashlib
import json
import math
import sys

names = ["work_group", "unroll", "items_x", "items_y", "local_memory"]
values = {
    "work_group": [16, 32, 64, 128, 192, 256, 384, 512, 768, 1024],
    "unroll": [1, 2, 4, 8],
    "items_x": [1, 2, 3, 4, 5, 6, 7, 8],
    "items_y": [1, 2, 4, 8],
    "local_memory": [0, 1, 2],
}


def noise(key):
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "little") / 2.0**64


def time_of(c):
    wg = math.log2(c["work_group"])
    ix, iy, un, lm = c["items_x"], c["items_y"], c["unroll"], c["local_memory"]
    # The best work-group size shrinks as each thread does more work; unrolling helps until registers run out.
    best_wg = 9.0 - 0.35 * (ix * iy) ** 0.5
    t = 1.0 + 0.12 * (wg - best_wg) ** 2
    t += 0.6 / ix + 0.02 * (ix - 5) ** 2
    t += 0.25 * abs(math.log2(iy) - 1.0)
    registers = un * ix * iy
    t *= 1.0 - 0.06 * math.log2(un) if registers <= 32 else 1.0 + 0.03 * (registers - 32) ** 0.5
    t *= {0: 1.0, 1: 0.85 if ix >= 3 else 1.05, 2: 0.9}[lm]
    return t * (1.0 + 0.04 * (noise(json.dumps(c, sort_keys=True)) - 0.5))


def main():
    out = sys.argv[1]
    records = []
    import itertools
    for combo in itertools.product(*(values[n] for n in names)):
        c = dict(zip(names, combo))
        key = ",".join(str(v) for v in combo)
        record = dict(c)
        if c["work_group"] * c["items_x"] * c["items_y"] > 16384 or (c["local_memory"] == 2 and c["items_y"] == 8):
            record["time"] = "RuntimeFailedConfig"
        else:
            record["time"] = round(time_of(c), 6)
        for field in ["compile_time", "verification_time", "benchmark_time", "strategy_time", "framework_time"]:
            record[field] = 0
        records.append(json.dumps({key: record})[1:-1])
    header = {"device_name": "synthetic", "kernel_name": "synthetic_kernel", "problem_size": [4096],
              "tune_params_keys": names, "tune_params": values}
    text = json.dumps(header, indent="")[:-2] + ',\n"cache": {\n' + ",\n".join(records) + "}\n}\n"
    with open(out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
