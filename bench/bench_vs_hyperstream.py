"""Side by side with the original HyperStream 0.3.8: every workload of ../shared/peer/hs_bench.py, in one session.

Runs ``/tmp/venvhs/bin/python ../shared/peer/hs_bench.py`` in a subprocess (its last stdout line is JSON), then the
same workloads here with ``channels``, and prints the figures and the ratio HyperStream/ours (> 1: we are faster).

    python bench/bench_vs_hyperstream.py [--quick] [--hs-python /tmp/venvhs/bin/python]
    python bench/bench_vs_hyperstream.py --smoke   # our side only, tiny sizes, once: does it run? (no ratios)

Our equivalents (best of --repeats, like hs_bench):
  mem_*        MemoryChannel, N StreamInstance(ts, float) at 1 s spacing ending a minute before now: build the
               instances, stream.writer(list), channel.get_results over the full range and a 10 % window.
               "build" uses the C accelerator of StreamInstance when it is compiled (channels/_speedups.c;
               the header says whether it is active). Printed beside it, not compared: the same build with the
               pure-Python fallback (mem_build_pure_python_s, in a subprocess with HSGUI_NO_SPEEDUPS=1), with
               the cyclic garbage collector off (mem_build_gc_disabled_s), with a check-free tuple subclass and
               with plain tuples: in pure Python "build" is one Python-level class call per instance plus the
               collections that traverse the instances built so far, paid by any pure-Python class of that
               shape; the accelerator makes the call C and keeps instances of atoms out of the collector.
  db_*         DatabaseChannel, write = stream.writer(list), read = list(get_results): "raw_mongomock" on
               MongoStore over stock mongomock (as hs_bench's raw figures: both sides are then ~97 % mongomock's
               O(n) unique-index scan per document); "mongomock" (N=20,000) with a hash-based unique check on
               both sides (hs_bench's harness patch there, bench/mongomock_hash_unique.py here); db_sqlite_* the
               same workload on the embedded store, compared with HyperStream's db_mongomock_*.
  tools_*      clock(stride=1 s) over the last full UTC day -> memory; apply (registry function epoch_seconds:
               datetime -> float, hs_bench uses a lambda giving seconds of the day); sliding_window(-60, 0, 60);
               sliding_apply(mean) over windows and values.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from channels import MemoryChannel, StreamId, StreamInstance, TimeInterval, ToolChannel  # noqa: E402
from channels.database_channel import DatabaseChannel  # noqa: E402
from channels.tools import MemoryRunHistory, load_tool  # noqa: E402
from channels import stream as stream_module  # noqa: E402
from channels.utils import utcnow  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, os.pardir, "resources", "tools")
HS_BENCH = os.path.join(HERE, os.pardir, os.pardir, "shared", "peer", "hs_bench.py")
if not os.path.exists(HS_BENCH):
    HS_BENCH = "/work/shared/peer/hs_bench.py"


def timed(fn):
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _no_gc(fn):
    def run():
        gc.disable()
        try:
            return fn()
        finally:
            gc.enable()
    return run


def make_timestamps(n):
    end = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=1)
    return [end - timedelta(seconds=n - 1 - i) for i in range(n)]


def ours_memory(n, repeats, res):
    ts = make_timestamps(n)
    full = TimeInterval(ts[0] - timedelta(seconds=1), ts[-1])
    i0, k = (n * 45) // 100, n // 10
    win = TimeInterval(ts[i0 - 1], ts[i0 + k - 1])
    best = {}
    for r in range(repeats):
        ch = MemoryChannel(f"bench_memory_{r}")
        stream = ch.create_stream(StreamId("bench", meta_data=(("rep", str(r)),)))
        t_build, insts = timed(lambda: [StreamInstance(t, float(i)) for i, t in enumerate(ts)])
        t_write, _ = timed(lambda: stream.writer(insts))
        t_full, got_full = timed(lambda: ch.get_results(stream, full))
        t_win, got_win = timed(lambda: ch.get_results(stream, win))
        assert len(got_full) == n and len(got_win) == k
        assert got_win[0].timestamp == ts[i0] and got_win[-1].timestamp == ts[i0 + k - 1]
        for key, v in (("build", t_build), ("write", t_write), ("read_full", t_full), ("read_10pct", t_win)):
            best[key] = min(best.get(key, float("inf")), v)
        # as hs_bench: nothing of this repeat is alive while the next one builds (a full garbage collection
        # during a build traverses every live tracked object, so leftovers would slow the next build)
        del insts, got_full, got_win, ch, stream
    for key, v in best.items():
        res[f"mem_{key}_s"] = v
    # where "build" goes: the same build with the cyclic garbage collector off while it runs (not a workload of
    # hs_bench; it shows how much of "build" is collections traversing the instances already built)
    build = _no_gc(lambda: [StreamInstance(t, float(i)) for i, t in enumerate(ts)])
    res["mem_build_gc_disabled_s"] = min(timed(build)[0] for _ in range(repeats))
    # the floor of "build" for any class of that shape: a tuple subclass whose __new__ does no check at all
    class Bare(tuple):
        __slots__ = ()

        def __new__(cls, timestamp, value):
            return tuple.__new__(cls, (timestamp, value))
    res["mem_build_bare_tuple_subclass_s"] = min(timed(lambda: [Bare(t, float(i)) for i, t in enumerate(ts)])[0]
                                                 for _ in range(repeats))
    res["mem_build_plain_tuples_s"] = min(timed(lambda: [(t, float(i)) for i, t in enumerate(ts)])[0]
                                          for _ in range(repeats))
    if stream_module.SPEEDUPS:
        res["mem_build_pure_python_s"] = pure_python_build(n, repeats)


def build_time(n, repeats):
    """Best of ``repeats`` builds of n instances, as ours_memory times "build"."""
    ts = make_timestamps(n)
    return min(timed(lambda: [StreamInstance(t, float(i)) for i, t in enumerate(ts)])[0] for _ in range(repeats))


def pure_python_build(n, repeats):
    """The build with the pure-Python fallback: this script in a subprocess with HSGUI_NO_SPEEDUPS=1."""
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--pure-build", str(n), str(repeats)],
                         env=dict(os.environ, HSGUI_NO_SPEEDUPS="1"), capture_output=True, text=True, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["speedups"] is False, got
    return got["build_s"]


def ours_db(make_store, n, repeats, label, res):
    ts = make_timestamps(n)
    full = TimeInterval(ts[0] - timedelta(seconds=1), ts[-1])
    insts = [StreamInstance(t, float(i)) for i, t in enumerate(ts)]
    best = {}
    store, fin = make_store()
    try:
        ch = DatabaseChannel("mongo", store)
        for r in range(repeats):
            sid = StreamId(f"bench_db_{label}", meta_data=(("rep", str(r)),))
            stream = ch.create_stream(sid)
            t_write, _ = timed(lambda: stream.writer(insts))
            t_read, got = timed(lambda: list(ch.get_results(stream, full)))
            assert len(got) == n and got[0].timestamp == ts[0] and got[-1].value == float(n - 1)
            best["write"] = min(best.get("write", float("inf")), t_write)
            best["read_full"] = min(best.get("read_full", float("inf")), t_read)
            ch.purge_stream(sid, remove_definition=True)
    finally:
        fin()
    for key, v in best.items():
        res[f"db_{label}_{key}_s"] = v


def mongomock_store():
    import mongomock
    from channels.stores.mongo_store import MongoStore
    client = mongomock.MongoClient()
    return MongoStore(client, db_name="bench"), client.close


def sqlite_store():
    from channels.stores.sqlite_store import SQLiteStore
    d = tempfile.mkdtemp(prefix="hsgui-vs-hs-")
    s = SQLiteStore(os.path.join(d, "bench.sqlite"))

    def fin():
        s.close()
        import shutil
        shutil.rmtree(d, ignore_errors=True)
    return s, fin


def ours_tools(days, repeats, res):
    tc = ToolChannel("tools", TOOLS, up_to_timestamp=utcnow())
    for name in ("clock", "apply", "sliding_window", "sliding_apply"):
        tc.get_tool_class(name)
    day_end = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    ti = TimeInterval(day_end - timedelta(days=days), day_end)
    h = MemoryRunHistory()
    best = {}
    for r in range(repeats):
        mem = MemoryChannel("memory")
        ticker, values, windows, means = [mem.get_or_create_stream(f"{nm}_{r}")
                                          for nm in ("ticker", "values", "windows", "means")]
        stages = [
            ("clock", lambda: load_tool(tc, "clock", {"first": ti.start, "stride": 1}).execute(
                [], ticker, ti, history=h)),
            ("apply", lambda: load_tool(tc, "apply", {"func": "epoch_seconds"}).execute(
                [ticker], values, ti, history=h)),
            ("sliding_window", lambda: load_tool(tc, "sliding_window", {"first": ti.start, "lower": -60,
                                                                        "upper": 0, "increment": 60}).execute(
                [], windows, ti, history=h)),
            ("sliding_apply_mean", lambda: load_tool(tc, "sliding_apply", {"func": "mean"}).execute(
                [windows, values], means, ti, history=h)),
        ]
        total = 0.0
        for name, fn in stages:
            t, _ = timed(fn)
            total += t
            best[name] = min(best.get(name, float("inf")), t)
        best["chain_total"] = min(best.get("chain_total", float("inf")), total)
        n_means = means.window(ti).count()
        assert ticker.window(ti).count() == 86400 * days and n_means == 1440 * days, n_means
    for key, v in best.items():
        res[f"tools_{key}_s"] = v


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--hs-python", default="/tmp/venvhs/bin/python")
    ap.add_argument("--hs-json", default=None, help="use this saved hs_bench output instead of running it")
    ap.add_argument("--smoke", action="store_true", help="our side only, tiny sizes: does it run? (no ratios)")
    ap.add_argument("--pure-build", nargs=2, type=int, metavar=("N", "REPEATS"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.pure_build:   # the subprocess of pure_python_build: one JSON line
        print(json.dumps({"build_s": build_time(*a.pure_build), "speedups": stream_module.SPEEDUPS}))
        return
    n_mem, n_db, n_db_raw, repeats = (20000, 2000, 200, 1) if a.quick else (200000, 20000, 1000, 3)

    if a.smoke:
        n_mem, n_db, n_db_raw, repeats = 2000, 200, 50, 1
        hs = {"hyperstream_version": "(not run: smoke)"}
        print("smoke run: HyperStream is not run, tiny sizes; the figures mean nothing", flush=True)
    elif a.hs_json:
        hs = json.loads(open(a.hs_json).read().strip().splitlines()[-1])
    else:
        cmd = [a.hs_python, HS_BENCH] + (["--quick"] if a.quick else [])
        print("running", " ".join(cmd), flush=True)
        t0 = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=tempfile.gettempdir()).stdout
        print(f"  (HyperStream bench took {time.perf_counter() - t0:.0f} s)", flush=True)
        hs = json.loads(out.strip().splitlines()[-1])

    ours: dict = {}
    ours_memory(n_mem, repeats, ours)
    ours_db(mongomock_store, n_db_raw, repeats, "raw_mongomock", ours)
    # hs_bench's main database figures run on mongomock with a hash-based unique check (its harness patch); ours
    # run on mongomock with our own harness patch of the same idea (bench/mongomock_hash_unique.py), and on the
    # embedded store
    import mongomock_hash_unique
    mongomock_hash_unique.enable()
    ours_db(mongomock_store, n_db, repeats, "mongomock", ours)
    ours_db(sqlite_store, n_db, repeats, "sqlite", ours)
    ours_tools(1, repeats, ours)

    print(f"\nHyperStream {hs.get('hyperstream_version')} vs channels, same workloads, best of {repeats}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {os.getloadavg()[0]:.2f}; "
          f"StreamInstance C accelerator {'active' if stream_module.SPEEDUPS else 'NOT active (pure Python)'}")
    print(f"  {'workload':<34s} {'HyperStream':>12s} {'ours':>10s} {'HS/ours':>9s}  target >= 10")
    keys = [k for k in hs if k.endswith("_s") and not k.endswith("_per_s")]
    missed = []
    for k in keys:
        ours_k = ours.get(k)
        if ours_k is None:
            print(f"  {k:<34s} {hs[k]:12.4f} {'-':>10s}")
            continue
        ratio = hs[k] / ours_k if ours_k > 0 else float("inf")
        ok = ratio >= 10
        if not ok:
            missed.append(k)
        print(f"  {k:<34s} {hs[k]:12.4f} {ours_k:10.4f} {ratio:9.1f}  {'OK' if ok else 'below'}")
    for k in sorted(set(ours) - set(keys)):
        ref = hs.get(k.replace("sqlite", "mongomock"))
        extra = f"   (vs HyperStream mongomock: {ref / ours[k]:.1f}x)" if ref else ""
        if k.startswith("mem_build_") and hs.get("mem_build_s"):
            extra = f"   (HyperStream build / this: {hs['mem_build_s'] / ours[k]:.1f}x)"
        print(f"  {k:<34s} {'':12s} {ours[k]:10.4f}{extra}")
    if a.smoke:
        print("  (smoke run: no ratios)")
    else:
        print("  all workloads >= 10x" if not missed else f"  below 10x: {', '.join(missed)}")
    print(json.dumps({"hyperstream": {k: hs[k] for k in keys}, "ours": ours}, sort_keys=True))


if __name__ == "__main__":
    main()
