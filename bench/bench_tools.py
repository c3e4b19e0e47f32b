"""Benchmark: clock(1 s) -> sliding_window(-60 s, 0, 60 s) -> aggregate(mean) over one day (DESIGN §7).

Targets: <= 0.35 s into the embedded store, <= 0.15 s into memory. Baselines in the same run:
  * naive: the same three steps as plain Python loops over datetimes (no channel, no engine);
  * numpy: the per-minute means of epoch-ms ticks with a reshape (the raw limit).
Each figure is the median of --repeat runs; ratios are to the naive baseline.

    python bench/bench_tools.py [--repeat 3] [--days 1]
    python bench/bench_tools.py --smoke    # two hours, once: does it run? (no timing claims)
    python bench/bench_tools.py --year     # 365 days of 1 s ticks (31.5 M) into the embedded store, in 1-day
                                           # chunks with progress; prints time and peak RSS (target <= 500 MB)
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import numpy as np  # noqa: E402

from channels import MemoryChannel, TimeInterval, ToolChannel, UTC  # noqa: E402
from channels.tools import MemoryRunHistory, load_tool  # noqa: E402
from channels.utils import utcnow  # noqa: E402

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "resources", "tools")
DAY0 = datetime(2026, 1, 1, tzinfo=UTC)


def pipeline(tc, channel, interval):
    history = MemoryRunHistory()
    clock = channel.get_or_create_stream("bench_clock")
    windows = channel.get_or_create_stream("bench_windows")
    means = channel.get_or_create_stream("bench_means")
    load_tool(tc, "clock", {"first": interval.start, "stride": 1}).execute([], clock, interval, history=history)
    load_tool(tc, "sliding_window", {"first": interval.start, "lower": -60, "upper": 0, "increment": 60}).execute(
        [], windows, interval, history=history)
    load_tool(tc, "aggregate", {"func": "mean"}).execute([clock], means, interval, alignment_stream=windows,
                                                         history=history)
    return means.window(interval).items()


def naive(interval):
    """The same computation with plain Python: ticks, windows, mean of the ticks in each window."""
    ticks = []
    t = interval.start + timedelta(seconds=1)
    while t <= interval.end:
        ticks.append(t)
        t += timedelta(seconds=1)
    out = []
    i = 0
    end = interval.start + timedelta(seconds=60)
    while end <= interval.end:
        start = end - timedelta(seconds=60)
        inside = []
        while i < len(ticks) and ticks[i] <= end:
            if ticks[i] > start:
                inside.append(ticks[i])
            i += 1
        ms = [int((x - DAY0).total_seconds() * 1000) for x in inside]
        out.append((end, DAY0 + timedelta(milliseconds=round(sum(ms) / len(ms)))))
        end += timedelta(seconds=60)
    return out


def numpy_baseline(interval):
    n = int((interval.end - interval.start).total_seconds())
    ms = np.arange(1, n + 1, dtype=np.int64) * 1000
    return ms.reshape(-1, 60).mean(axis=1)


def timed(fn, repeat):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def peak_rss_mb() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def year(tc, days=365):
    from channels.database_channel import DatabaseChannel
    from channels.stores.sqlite_store import SQLiteStore
    interval = TimeInterval(DAY0 - timedelta(days=days), DAY0)
    history = MemoryRunHistory()
    print(f"clock(1 s) -> sliding_window(60 s) -> aggregate(mean) over {days} days ({86400 * days:,} ticks) "
          f"into the embedded store, 1-day chunks; RSS at start {peak_rss_mb():.0f} MB", flush=True)
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(os.path.join(tmp, "year.sqlite"))
        try:
            channel = DatabaseChannel("bench", store)
            clock = channel.get_or_create_stream("year_clock")
            windows = channel.get_or_create_stream("year_windows")
            means = channel.get_or_create_stream("year_means")
            steps = [("clock", load_tool(tc, "clock", {"first": interval.start, "stride": 1}), [], clock, None),
                     ("sliding_window", load_tool(tc, "sliding_window", {"first": interval.start, "lower": -60,
                                                                          "upper": 0, "increment": 60}),
                      [], windows, None),
                     ("aggregate", load_tool(tc, "aggregate", {"func": "mean"}), [clock], means, windows)]
            for name, tool, sources, sink, alignment in steps:
                t0 = time.perf_counter()
                last = [0.0]

                def progress(fraction, written, name=name, t0=t0):
                    if fraction - last[0] >= 0.1 or fraction >= 1.0:
                        last[0] = fraction
                        print(f"  {name:<15s} {fraction * 100:5.1f} %  {written:>12,} written  "
                              f"{time.perf_counter() - t0:7.1f} s  peak RSS {peak_rss_mb():6.0f} MB", flush=True)
                tool.execute(sources, sink, interval, alignment_stream=alignment, chunk=86400, progress=progress,
                             history=history)
            n = store.count(means.stream_id, None, None)
        finally:
            store.close()
    total = time.perf_counter() - t_start
    rss = peak_rss_mb()
    print(f"  total {total:.1f} s, {n:,} means; peak RSS {rss:.0f} MB "
          f"(target <= 500 MB: {'OK' if rss <= 500 else 'ABOVE'})")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--days", type=int, default=1)
    ap.add_argument("--year", action="store_true", help="a year of 1 s ticks into the embedded store")
    ap.add_argument("--year-days", type=int, default=365, help=argparse.SUPPRESS)
    ap.add_argument("--smoke", action="store_true", help="two hours, once: does it run? (no timing claims)")
    args = ap.parse_args(argv)
    if args.year:
        tc = ToolChannel("tools", TOOLS, up_to_timestamp=utcnow())
        year(tc, args.year_days)
        return
    span = timedelta(hours=2) if args.smoke else timedelta(days=args.days)
    if args.smoke:
        args.repeat = 1
    interval = TimeInterval(DAY0, DAY0 + span)
    tc = ToolChannel("tools", TOOLS, up_to_timestamp=utcnow())
    for name in ("clock", "sliding_window", "aggregate"):
        tc.get_tool_class(name)  # import once, outside the timings

    t_naive, ref = timed(lambda: naive(interval), args.repeat)
    t_numpy, _ = timed(lambda: numpy_baseline(interval), args.repeat)
    t_mem, got = timed(lambda: pipeline(tc, MemoryChannel("bench"), interval), args.repeat)
    assert [(i.timestamp, i.value) for i in got] == ref, "pipeline result differs from the naive baseline"
    n = len(got)
    print(f"clock(1 s) -> sliding_window(60 s) -> aggregate(mean), {span.total_seconds() / 86400:g} day(s): "
          f"{int(span.total_seconds())} ticks, {n} means; median of {args.repeat}"
          f"{' (smoke run: the figures mean nothing)' if args.smoke else ''}")
    print(f"  baseline naive Python loops : {t_naive:7.3f} s")
    print(f"  baseline numpy reshape-mean : {t_numpy:7.3f} s")
    print(f"  MemoryChannel               : {t_mem:7.3f} s   ratio to naive {t_mem / t_naive:5.2f}x   "
          f"target <= 0.15 s: {'OK' if t_mem <= 0.15 else 'SLOWER'}")

    try:
        from channels.database_channel import DatabaseChannel
        from channels.stores.sqlite_store import SQLiteStore
    except ImportError as e:
        print(f"  embedded store              : skipped ({e})")
        return
    times = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            store = SQLiteStore(os.path.join(tmp, "bench.sqlite"))
            try:
                channel = DatabaseChannel("bench", store)
                t0 = time.perf_counter()
                got = pipeline(tc, channel, interval)
                times.append(time.perf_counter() - t0)
            finally:
                store.close()
    assert [(i.timestamp, i.value) for i in got] == ref, "store pipeline result differs from the naive baseline"
    t_db = statistics.median(times)
    verdict = "OK" if t_db <= 0.35 else "SLOWER than the 0.35 s target"
    print(f"  embedded SQLite store       : {t_db:7.3f} s   ratio to naive {t_db / t_naive:5.2f}x   "
          f"target <= 0.35 s: {verdict}")


if __name__ == "__main__":
    main()
