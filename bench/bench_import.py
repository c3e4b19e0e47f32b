"""Benchmark: import a large CSV (ISO times + 2 float columns) into the embedded store, memory flat.

Prints the file size, rows, time, MB/s and rows/s, peak RSS during the import (sampled every 50 ms) next
to the RSS before it, and the baseline of the same process: pyarrow's streaming CSV reader reading the
same file with no conversion (the read limit). The file is generated first (streamed to disk).

    python bench/bench_import.py [--mb 1024] [--keep FILE]
    python bench/bench_import.py --smoke     # a 1 MB file: does it run? (no timing claims)
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from datetime import datetime

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import numpy as np  # noqa: E402

from channels import ChannelManager  # noqa: E402
from channels.importing import ImportSpec, import_file  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def make_csv(path, mb, block=200_000):
    t0 = datetime(2020, 1, 1).timestamp()
    rng = np.random.default_rng(1)
    with open(path, "w") as f:
        f.write("time,temperature,humidity\n")
        i = 0
        while f.tell() < mb * 2 ** 20:
            n = block
            secs = t0 + np.arange(i, i + n)
            times = np.datetime_as_string((secs * 1000).astype("datetime64[ms]"), unit="ms")
            a = np.round(20 + rng.standard_normal(n), 3)
            b = np.round(50 + 5 * rng.standard_normal(n), 2)
            f.write("\n".join(f"{t},{x},{y}" for t, x, y in zip(times, a, b)) + "\n")
            i += n
    return os.path.getsize(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=1024)
    ap.add_argument("--keep", help="reuse/keep the generated CSV at this path")
    ap.add_argument("--smoke", action="store_true", help="a 1 MB file: does it run? (no timing claims)")
    args = ap.parse_args()
    if args.smoke:
        args.mb = 1
        print("(smoke run: tiny sizes; no timing claims, the figures and verdicts below mean nothing)")
    tmp = tempfile.mkdtemp()
    try:
        run(args, tmp)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args, tmp):
    path = args.keep or os.path.join(tmp, "big.csv")
    if not os.path.exists(path):
        t = time.perf_counter()
        size = make_csv(path, args.mb, 10_000 if args.smoke else 200_000)
        print(f"generated {size / 2 ** 20:,.0f} MB in {time.perf_counter() - t:.1f} s")
    size = os.path.getsize(path)

    import pyarrow.csv as pcsv
    t = time.perf_counter()
    rows = sum(b.num_rows for b in pcsv.open_csv(path, read_options=pcsv.ReadOptions(block_size=1 << 22)))
    t_read = time.perf_counter() - t

    manager = ChannelManager.open(os.path.join(tmp, "store.sqlite"))
    db = manager.get_channel("mongo")
    before = rss_mb()
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()
    marks = []
    t = time.perf_counter()
    report = import_file(db, ImportSpec(path, "time", ["temperature", "humidity"]),
                         progress=lambda f, r: marks.append((time.perf_counter() - t, f, rss_mb())))
    t_imp = time.perf_counter() - t
    done.set()
    manager.close()
    print(f"file: {size / 2 ** 20:,.0f} MB, {rows:,} rows, 2 value columns -> {report.instances_written:,} instances")
    print(f"import into the embedded store: {t_imp:.1f} s = {size / 2 ** 20 / t_imp:.1f} MB/s, "
          f"{rows / t_imp:,.0f} rows/s; malformed {report.rows_malformed}")
    print(f"baseline pyarrow streaming read (no conversion): {t_read:.1f} s = {size / 2 ** 20 / t_read:.1f} MB/s; "
          f"import / read = {t_imp / t_read:.1f}x")
    print(f"RSS before {before:.0f} MB, peak during import {peak[0]:.0f} MB (+{peak[0] - before:.0f} MB); "
          f"progress reports: {len(marks)}, RSS at 25/50/75/100 %: " +
          ", ".join(f"{marks[min(len(marks) - 1, int(q * len(marks)))][2]:.0f}" for q in (0.25, 0.5, 0.75, 0.999)))


if __name__ == "__main__":
    main()
