"""Calculated intervals under concurrency: operations and anomalies, for the README's reliability section.

Scenarios, each on a fresh embedded store (SQLite file) -- and, with ``--mongomock``, the thread scenarios on
MongoDB through mongomock (in-process, so threads only):

* ``purge-vs-write/processes``  one process writes batches (10 instances, one 10 s piece each) while another
  purges random earlier pieces of the same stream;
* ``purge-vs-write/threads``    the same from two threads on one ChannelManager (what the app's job pool does);
* ``disjoint-writers/processes`` two processes write disjoint ranges of one stream;
* ``disjoint-writers/threads``  the same from two threads on one ChannelManager;
* ``clock-runs/threads``        two ``clock`` tool runs (1-minute chunks) into one output over different days.

Writes go the way the app's own callers write (the tool engine, the importer): on code with
``write_chunk(..., add_intervals=piece)`` that form, on older code ``write_chunk(..., stream.calculated_intervals
+ piece)``. At the end the data is compared with the stored calculated intervals (read through a fresh store):

* lost coverage    = seconds of pieces whose data is stored but which no calculated interval covers;
* invented coverage = seconds claimed calculated where no data was ever written or it was purged.

Pieces are purged whole, so each piece is either fully stored or absent. Prints one line per scenario.

Run: ``python bench/stress_calculated_intervals.py [--ops N] [--mongomock]``; ``STRESS_CODE_ROOT=/path/to/repo``
runs another checkout's ``channels`` (e.g. main, for a before/after comparison).
"""
from __future__ import annotations

import argparse
import inspect
import multiprocessing as mp
import os
import random
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, os.environ.get("STRESS_CODE_ROOT") or str(Path(__file__).resolve().parents[1]))

from channels import ChannelManager, StreamId, StreamInstance, TimeInterval, TimeIntervals  # noqa: E402
from channels.stores.sqlite_store import SQLiteStore  # noqa: E402
from channels.utils import UTC  # noqa: E402

T0 = datetime(2024, 1, 1, tzinfo=UTC)
PIECE_S = 10
PER_PIECE = 10
SID = StreamId("stress", {"k": "v"})


def piece_interval(i: int) -> TimeInterval:
    return TimeInterval(T0 + timedelta(seconds=PIECE_S * i), T0 + timedelta(seconds=PIECE_S * (i + 1)))


def piece_instances(i: int):
    step = PIECE_S / PER_PIECE
    return [StreamInstance(T0 + timedelta(seconds=PIECE_S * i + step * (j + 1)), float(i)) for j in range(PER_PIECE)]


def write_piece(channel, stream, i: int) -> None:
    """One batch and its piece, the way the app's callers commit a chunk on this code."""
    iv = TimeIntervals([piece_interval(i)])
    if "add_intervals" in inspect.signature(channel.write_chunk).parameters:
        channel.write_chunk(stream, piece_instances(i), add_intervals=iv)
    else:
        channel.write_chunk(stream, piece_instances(i), stream.calculated_intervals + iv)


def retrying(op, what: str, errors: list):
    """Run ``op``; an error is counted (the operation did not happen) and the run goes on."""
    try:
        op()
        return True
    except Exception as e:  # noqa: BLE001 - counted and reported
        errors.append(f"{what}: {type(e).__name__}: {e}")
        return False


# -- workers (module level: spawn) ---------------------------------------------------------------------------------
def _open(path):
    manager = ChannelManager(SQLiteStore(path), builtin_tools=False)
    ch = manager.get_channel("mongo")
    return manager, ch, ch.get_or_create_stream(SID)


def writer_loop(ch, s, pieces, written, errors) -> int:
    """Write ``pieces`` in order; ``written.value`` follows how many are done (the purger purges among them)."""
    n = 0
    for k, i in enumerate(pieces):
        n += retrying(lambda: write_piece(ch, s, i), f"write {i}", errors)
        written.value = k + 1
    return n


def purger_loop(ch, n_ops, written, seed, errors) -> int:
    """``n_ops`` purges of random pieces among those written so far (paced with the writer)."""
    rnd = random.Random(seed)
    n = 0
    for _ in range(n_ops):
        while written.value == 0:
            time.sleep(0.001)
        i = rnd.randrange(written.value)
        n += retrying(lambda: ch.purge_interval(SID, piece_interval(i)), f"purge {i}", errors)
        time.sleep(0.0005)
    return n


def proc_writer(path, pieces, q, go, written):
    _, ch, s = _open(path)
    errors: list = []
    go.wait(60)
    n = writer_loop(ch, s, pieces, written, errors)
    q.put(("write", n, errors[:5], len(errors)))


def proc_purger(path, n_ops, q, go, written, seed):
    _, ch, s = _open(path)
    errors: list = []
    go.wait(60)
    n = purger_loop(ch, n_ops, written, seed, errors)
    q.put(("purge", n, errors[:5], len(errors)))


class _Counter:
    def __init__(self):
        self.value = 0


def collect(q, procs, timeout_s: float = 600):
    """The workers' results; a worker that died without one is reported as such (never a hang)."""
    import queue
    results, deadline = [], time.monotonic() + timeout_s
    while len(results) < len(procs) and time.monotonic() < deadline:
        try:
            results.append(q.get(timeout=0.5))
        except queue.Empty:
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead and len(results) + len(dead) >= len(procs):
                results += [("died", 0, [f"worker exited with code {p.exitcode}"], 1) for p in dead]
                break
    for p in procs:
        p.join(30)
        if p.is_alive():
            p.kill()
    return results


# -- checking ------------------------------------------------------------------------------------------------------
def anomalies(channel, stream, n_pieces: int, calc: TimeIntervals):
    """(lost seconds, invented seconds, pieces stored) comparing the data with ``calc``."""
    present = TimeIntervals()
    for iv in [piece_interval(i) for i in range(n_pieces)]:
        c = stream.window(iv).count()
        if c:
            present = present + iv
    lost = (present - calc).total_width.total_seconds()
    invented = (calc - present).total_width.total_seconds()
    return lost, invented, present


def fresh_intervals(path, store_factory=None):
    store = SQLiteStore(path) if store_factory is None else store_factory()
    d = store.get_definition(SID)
    return d.calculated_intervals if d else TimeIntervals()


# -- scenarios -------------------------------------------------------------------------------------------------------
def scenario_processes(kind: str, ops: int, folder: Path):
    path = folder / f"{kind}.sqlite"
    _open(path)  # create the store and the stream
    ctx = mp.get_context("spawn")
    q, go = ctx.Queue(), ctx.Event()
    w1, w2 = ctx.Value("i", 0), ctx.Value("i", 0)
    half = ops // 2
    if kind == "purge-vs-write":
        procs = [ctx.Process(target=proc_writer, args=(str(path), list(range(half)), q, go, w1)),
                 ctx.Process(target=proc_purger, args=(str(path), half, q, go, w1, 1))]
        n_pieces = half
    else:
        procs = [ctx.Process(target=proc_writer, args=(str(path), list(range(0, half)), q, go, w1)),
                 ctx.Process(target=proc_writer, args=(str(path), list(range(half, 2 * half)), q, go, w2))]
        n_pieces = 2 * half
    for p in procs:
        p.start()
    time.sleep(3.0)  # both open the store, then start together
    t0 = time.perf_counter()
    go.set()
    results = collect(q, procs)
    secs = time.perf_counter() - t0
    _, ch, s = _open(path)
    return report(f"{kind}/processes", results, ch, s, n_pieces, fresh_intervals(path), secs)


def scenario_threads(kind: str, ops: int, store_factory):
    manager = ChannelManager(store_factory(), builtin_tools=False)
    ch = manager.get_channel("mongo")
    s = ch.get_or_create_stream(SID)
    half = ops // 2
    results = []
    lock = threading.Lock()

    w1, w2 = _Counter(), _Counter()

    def writer(pieces, written):
        errors: list = []
        n = writer_loop(ch, s, pieces, written, errors)
        with lock:
            results.append(("write", n, errors[:5], len(errors)))

    def purger(n_ops, seed):
        errors: list = []
        n = purger_loop(ch, n_ops, w1, seed, errors)
        with lock:
            results.append(("purge", n, errors[:5], len(errors)))

    if kind == "purge-vs-write":
        threads = [threading.Thread(target=writer, args=(list(range(half)), w1)),
                   threading.Thread(target=purger, args=(half, 2))]
        n_pieces = half
    else:
        threads = [threading.Thread(target=writer, args=(list(range(0, half)), w1)),
                   threading.Thread(target=writer, args=(list(range(half, 2 * half)), w2))]
        n_pieces = 2 * half
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.perf_counter() - t0
    calc = ch.store.get_definition(SID).calculated_intervals
    return report(f"{kind}/threads", results, ch, s, n_pieces, calc, secs)


def scenario_clock(store_factory, days: int = 2):
    """Two clock runs (1-minute chunks: 1,440 commits a day) into one output over different days, two threads."""
    manager = ChannelManager(store_factory())
    ch = manager.get_channel("mongo")
    out = ch.get_or_create_stream(StreamId("clock_out"))
    results = []
    lock = threading.Lock()

    def run(day):
        iv = TimeInterval(T0 + timedelta(days=day), T0 + timedelta(days=day + 1))
        tool = manager.get_tool("clock", {"first": T0, "stride": 60})
        errors: list = []
        rec = None
        try:
            rec = tool.execute([], out, iv, chunk=60)
        except Exception as e:  # noqa: BLE001
            errors.append(f"{type(e).__name__}: {e}")
        with lock:
            results.append(("clock", rec.chunks if rec else 0, errors, len(errors)))

    threads = [threading.Thread(target=run, args=(d,)) for d in range(days)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.perf_counter() - t0
    calc = ch.store.get_definition(out.stream_id).calculated_intervals
    wanted = TimeIntervals([TimeInterval(T0, T0 + timedelta(days=days))])
    n = out.window(TimeInterval(T0, T0 + timedelta(days=days))).count()
    lost = (wanted - calc).total_width.total_seconds() if n == days * 1440 else float("nan")
    invented = (calc - wanted).total_width.total_seconds()
    ops = sum(r[1] for r in results)
    errs = sum(r[3] for r in results)
    line = (f"clock-runs/threads: {ops} chunk commits in {secs:.1f} s, {n} instances; "
            f"calculated {calc.total_width.total_seconds():.0f} of {wanted.total_width.total_seconds():.0f} s; "
            f"lost coverage {lost:.0f} s, invented coverage {invented:.0f} s, errors {errs}")
    print(line, flush=True)
    for r in results:
        for e in r[2][:2]:
            print("   error:", e)
    return ops, lost, invented, errs


def report(name, results, ch, s, n_pieces, calc, secs):
    lost, invented, present = anomalies(ch, s, n_pieces, calc)
    ops = sum(r[1] for r in results)
    errs = sum(r[3] for r in results)
    print(f"{name}: {ops} operations in {secs:.1f} s; lost coverage {lost:.0f} s, invented coverage {invented:.0f} s "
          f"(of {n_pieces * PIECE_S} s written); errors {errs}", flush=True)
    for r in results:
        for e in r[2][:2]:
            print("   error:", e)
    return ops, lost, invented, errs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ops", type=int, default=2000, help="operations per scenario (two workers share them)")
    ap.add_argument("--mongomock", action="store_true", help="also the thread scenarios on mongomock")
    ap.add_argument("--smoke", action="store_true", help="40 operations per scenario, no figures to keep")
    args = ap.parse_args(argv)
    if args.smoke:
        print("smoke run: tiny sizes, the figures mean nothing")
        args.ops = 40
    import channels
    print(f"channels from {Path(channels.__file__).parent}", flush=True)
    totals = [0, 0.0, 0.0, 0]
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        k = [0]

        def sqlite_factory():
            k[0] += 1
            return SQLiteStore(folder / f"t{k[0]}.sqlite")
        runs = [scenario_processes("purge-vs-write", args.ops, folder),
                scenario_threads("purge-vs-write", args.ops, sqlite_factory),
                scenario_processes("disjoint-writers", args.ops, folder),
                scenario_threads("disjoint-writers", args.ops, sqlite_factory),
                scenario_clock(sqlite_factory)]
        if args.mongomock:
            import mongomock
            from channels.stores.mongo_store import MongoStore

            def mongo_factory():
                k[0] += 1
                return MongoStore(mongomock.MongoClient(), db_name=f"stress{k[0]}")
            print("-- MongoDB (mongomock, threads) --")
            runs += [scenario_threads("purge-vs-write", args.ops, mongo_factory),
                     scenario_threads("disjoint-writers", args.ops, mongo_factory),
                     scenario_clock(mongo_factory)]
        for ops, lost, invented, errs in runs:
            totals[0] += ops
            totals[1] += lost if lost == lost else 0
            totals[2] += invented
            totals[3] += errs
    print(f"TOTAL: {totals[0]} operations; lost coverage {totals[1]:.0f} s, invented coverage {totals[2]:.0f} s; "
          f"errors {totals[3]}")


if __name__ == "__main__":
    main()
