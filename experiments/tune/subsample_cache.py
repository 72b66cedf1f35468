#!/usr/bin/env python3
"""Writes a seeded random sample of a Kernel Tuner cache file's timed records as a new cache file, standing in for an
earlier, partial session of the same space (the history of the transfer strategy in a replay).
Usage: subsample_cache.py IN.json OUT.json FRACTION SEED"""
import json
import random
import sys


def main():
    source, out, fraction, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    with open(source) as f:
        cache = json.load(f)
    timed = sorted(key for key, record in cache["cache"].items() if not isinstance(record["time"], str))
    chosen = set(random.Random(seed).sample(timed, max(1, round(fraction * len(timed)))))
    cache["cache"] = {key: record for key, record in cache["cache"].items() if key in chosen}
    with open(out, "w") as f:
        json.dump(cache, f, indent="")
        f.write("\n")


if __name__ == "__main__":
    main()
