"""MemoryChannel window reads vs a naive sort-and-filter of the same data (target: >= 10x faster).

Builds a 1,000,000-instance stream (floats, 1 s apart), times the write, then
times window reads through the public API (``stream.window(iv).items()``)
against the naive way on the same data in the same run: ``sorted(list)``
followed by a list-comprehension filter ``start < ts <= end`` per window.

Run: python bench/bench_memory.py [--n 1000000] [--windows 200] [--naive-windows 30] [--seed 1]
     python bench/bench_memory.py --smoke     (20,000 instances, a few windows: does it run? no timing claims)
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from channels import UTC, MemoryChannel, StreamId, StreamInstance, TimeInterval


def median_time(fn, args_list):
    times, out = [], None
    for args in args_list:
        t0 = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--windows", type=int, default=200, help="random ~1,000-instance windows for the channel")
    ap.add_argument("--naive-windows", type=int, default=30,
                    help="how many of those windows the (slow) naive baseline also reads")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes: does the bench run? (no timing claims)")
    a = ap.parse_args()
    if a.smoke:
        a.n, a.windows, a.naive_windows = 20_000, 20, 5
        print("(smoke run: tiny sizes; no timing claims, the figures and verdicts below mean nothing)")
    rng = random.Random(a.seed)
    n = a.n
    t0 = datetime(2000, 1, 1, tzinfo=UTC)
    print(f"MemoryChannel bench: n={n:,} float instances 1 s apart, seed={a.seed}")

    t = time.perf_counter()
    instances = [StreamInstance(t0 + timedelta(seconds=k), rng.random()) for k in range(n)]
    t_make = time.perf_counter() - t

    mc = MemoryChannel("bench")
    stream = mc.create_stream(StreamId("values", {"kind": "float"}))
    t = time.perf_counter()
    stream.writer(instances)
    t_write = time.perf_counter() - t
    print(f"build {n:,} StreamInstances: {t_make:.2f} s   write them to the MemoryChannel: {t_write:.2f} s "
          f"({n / t_write / 1e6:.2f} M instances/s)")
    assert stream.window().count() == n

    naive_data = list(instances)  # same data, as a plain list

    def naive(start, end):
        data = sorted(naive_data)
        return [i for i in data if start < i.timestamp <= end]

    def channel(start, end):
        return stream.window(TimeInterval(start, end)).items()

    # ~1,000-instance windows, ends on and off the data points
    small = []
    for _ in range(a.windows):
        k = rng.randrange(0, n - 1100)
        off = rng.choice([0, 0.5])
        small.append((t0 + timedelta(seconds=k + off), t0 + timedelta(seconds=k + off + 1000)))
    big_n = min(100_000, n // 5)
    big_k = rng.randrange(0, n - big_n - 1)
    big = [(t0 + timedelta(seconds=big_k), t0 + timedelta(seconds=big_k + big_n))]

    # correctness spot check on a few windows before timing
    for w in small[:3] + big:
        assert channel(*w) == naive(*w)

    ch_small, _ = median_time(channel, small)
    nv_small, _ = median_time(naive, small[: a.naive_windows])
    ch_big, out_big = median_time(channel, big * 5)
    nv_big, _ = median_time(naive, big * 3)
    assert len(out_big) == big_n

    rows = [
        (f"{a.windows} windows of ~1,000 (naive: first {min(a.naive_windows, a.windows)})", ch_small, nv_small),
        (f"1 window of {big_n:,} (channel x5, naive x3)", ch_big, nv_big),
    ]
    print(f"{'window read (median)':<52} {'channel':>12} {'naive':>12} {'ratio':>9}")
    for name, c, v in rows:
        print(f"{name:<52} {c * 1e3:>9.3f} ms {v * 1e3:>9.1f} ms {v / c:>8.0f}x")
    worst = min(v / c for _n, c, v in rows)
    print(f"target >= 10x faster than naive sort-and-filter: {'MET' if worst >= 10 else 'NOT MET'} "
          f"(worst ratio {worst:.0f}x)")


if __name__ == "__main__":
    main()
