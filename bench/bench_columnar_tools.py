"""Benchmark: the columnar path against the instance path of gauss, uniform, randint, aligned_merge and component,
each over one day of 1 s ticks (86,400 instances), into memory and into the embedded SQLite store.

The inputs of aligned_merge (uniform, gauss, randint at 1 s) and of component (the merged dicts) are written
before the timings; each timed run writes a fresh sink stream. ``tool.use_columns = False`` forces the instance
path in the same process; the ratio is instance / columnar (above 1: the columnar path is faster). Memory sinks
keep columnar batches as arrays until something reads instances, so "+read" also times a full ``items()`` read.
Each figure is the median of --repeat runs; results of the two paths are checked equal.

    python bench/bench_columnar_tools.py [--repeat 3] [--hours 24]
    python bench/bench_columnar_tools.py --smoke    # one hour, once: does it run? (no timing claims)
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

from channels import MemoryChannel, TimeInterval, ToolChannel, UTC  # noqa: E402
from channels.database_channel import DatabaseChannel  # noqa: E402
from channels.stores.sqlite_store import SQLiteStore  # noqa: E402
from channels.tools import MemoryRunHistory, load_tool  # noqa: E402
from channels.utils import utcnow  # noqa: E402

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "resources", "tools")
DAY0 = datetime(2026, 1, 1, tzinfo=UTC)

CASES = [  # (tool, parameters, input stream names)
    ("gauss", {"seed": 1}, []),
    ("uniform", {"seed": 2}, []),
    ("randint", {"low": 0, "high": 99, "seed": 3}, []),
    ("aligned_merge", {"names": ["u", "g", "r"]}, ["in_u", "in_g", "in_r"]),
    ("component", {"key": "u"}, ["in_merged"]),
]


def prepare(tc, channel, interval):
    """The input streams (written once, untimed, through the columnar path)."""
    h = MemoryRunHistory()
    first = {"first": interval.start, "stride": 1}
    for name, tool, params in (("in_u", "uniform", {"seed": 4}), ("in_g", "gauss", {"seed": 5}),
                               ("in_r", "randint", {"low": -50, "high": 50, "seed": 6})):
        load_tool(tc, tool, dict(params, **first)).execute([], channel.get_or_create_stream(name), interval,
                                                           history=h)
    load_tool(tc, "aligned_merge", {"names": ["u", "g", "r"]}).execute(
        [channel[n] for n in ("in_u", "in_g", "in_r")], channel.get_or_create_stream("in_merged"), interval, history=h)
    for n in ("in_u", "in_g", "in_r", "in_merged"):
        channel[n].window(interval).count()
        if isinstance(channel, MemoryChannel):
            channel[n].window(interval).items()  # instances made once, so neither path pays for it


def run_once(tc, channel, interval, case, columnar, sink_name, read):
    name, params, inputs = case
    if name in ("gauss", "uniform", "randint"):
        params = dict(params, first=interval.start, stride=1)
    tool = load_tool(tc, name, params)
    tool.use_columns = columnar
    sink = channel.get_or_create_stream(sink_name)
    t0 = time.perf_counter()
    tool.execute([channel[n] for n in inputs], sink, interval, history=MemoryRunHistory())
    if read:
        sink.window(interval).items()
    return time.perf_counter() - t0, sink


def bench(tc, channel, interval, repeat, read=False):
    rows = []
    for case in CASES:
        t = {True: [], False: []}
        sinks = {}
        for k in range(repeat):
            for columnar in (True, False):
                dt, sink = run_once(tc, channel, interval, case, columnar, f"out_{case[0]}_{columnar}_{k}", read)
                t[columnar].append(dt)
                sinks[columnar] = sink
        a, b = (sinks[c].window(interval).items() for c in (True, False))
        assert [(x.timestamp, repr(x.value)) for x in a] == [(x.timestamp, repr(x.value)) for x in b], case[0]
        rows.append((case[0], len(a), statistics.median(t[True]), statistics.median(t[False])))
    return rows


def show(title, rows):
    print(title)
    for name, n, tc_, ti in rows:
        print(f"  {name:14s} {n:7d} out   columnar {tc_:7.3f} s   instances {ti:7.3f} s   ratio {ti / tc_:6.1f}x")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--hours", type=int, default=24)
    ap.add_argument("--smoke", action="store_true", help="one hour, once: does it run? (no timing claims)")
    args = ap.parse_args(argv)
    if args.smoke:
        args.repeat, args.hours = 1, 1
        print("(smoke run: tiny sizes; no timing claims, the figures and verdicts below mean nothing)")
    interval = TimeInterval(DAY0, DAY0 + timedelta(hours=args.hours))
    tc = ToolChannel("tools", TOOLS, up_to_timestamp=utcnow())
    for name, _, _ in CASES:
        tc.get_tool_class(name)  # import once, outside the timings
    print(f"{args.hours} h of 1 s ticks; median of {args.repeat}")
    mem = MemoryChannel("bench")
    prepare(tc, mem, interval)
    show("MemoryChannel (tool run only):", bench(tc, mem, interval, args.repeat))
    mem = MemoryChannel("bench")
    prepare(tc, mem, interval)
    show("MemoryChannel (tool run + items() of the result):", bench(tc, mem, interval, args.repeat, read=True))
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(os.path.join(tmp, "bench.sqlite"))
        try:
            db = DatabaseChannel("bench", store)
            prepare(tc, db, interval)
            show("embedded SQLite store:", bench(tc, db, interval, args.repeat))
        finally:
            store.close()


if __name__ == "__main__":
    main()
