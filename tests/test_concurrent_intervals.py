"""Calculated intervals under concurrency (issue 27) and runs limited to their inputs (issue 26 item 4).

Several processes (multiprocessing, spawn) and threads on one ChannelManager write, purge and compute one
stream at once; afterwards every stored instance lies in a calculated interval (except those written with
``Stream.writer``, which records none) and no calculated interval claims a purged or unwritten range -- checked
against the data. The thread cases run on SQLite and on mongomock (in-process: threads only).
"""
from __future__ import annotations

import multiprocessing as mp
import queue
import random
import threading
import time
from datetime import datetime, timedelta

import pytest

from channels import ChannelManager, StreamId, StreamInstance, TimeInterval, TimeIntervals
from channels.errors import StoreError
from channels.stores.sqlite_store import SQLiteStore
from channels.tools import MemoryRunHistory
from channels.tools.engine import Tool
from channels.utils import MAX_DATE, MIN_DATE, UTC

T0 = datetime(2024, 1, 1, tzinfo=UTC)
PIECE = timedelta(seconds=10)
PER_PIECE = 10
SID = StreamId("conc", {"k": "v"})
ALL = TimeInterval(MIN_DATE, MAX_DATE)
OPS = 1200  # operations per scenario, all workers together
#: mongomock answers every query by scanning the collection in Python (a batch costs ~20 ms at a few hundred
#: documents, growing with the collection), so its thread cases run fewer operations to stay within ~20 s
OPS_MONGOMOCK = 160


def piece(i: int) -> TimeInterval:
    return TimeInterval(T0 + PIECE * i, T0 + PIECE * (i + 1))


def piece_instances(i: int) -> list:
    return [StreamInstance(T0 + PIECE * i + PIECE / PER_PIECE * (j + 1), float(i)) for j in range(PER_PIECE)]


def write_piece(ch, stream, i: int) -> None:
    ch.write_chunk(stream, piece_instances(i), add_intervals=TimeIntervals([piece(i)]))


def check_consistent(stream, calc: TimeIntervals, pieces, plain: TimeIntervals = TimeIntervals()):
    """Every stored instance outside ``plain`` (written with ``writer``) lies in ``calc``; ``calc`` claims only
    pieces whose data is stored, whole (pieces are written and purged whole)."""
    present = TimeIntervals()
    for i in pieces:
        n = stream.window(piece(i)).count()
        assert n in (0, PER_PIECE), f"piece {i} half there ({n} instances)"
        if n:
            present = present + piece(i)
    outside = [ts for ts in stream.window(ALL).timestamps() if ts not in calc and ts not in plain]
    assert outside == [], f"{len(outside)} instances lie outside the calculated intervals, first {outside[0]}"
    invented = calc - present
    assert invented.is_empty, f"calculated intervals claim {invented.total_width} with no data: {invented}"
    assert (present - calc).is_empty
    return present


# -- processes (spawn) -------------------------------------------------------------------------------------------
def _proc_open(path):
    manager = ChannelManager(SQLiteStore(path), builtin_tools=False)
    ch = manager.get_channel("mongo")
    return ch, ch.get_or_create_stream(SID)


def _proc_writer(path, pieces, q, go, written):
    try:
        ch, s = _proc_open(path)
        go.wait(60)
        for k, i in enumerate(pieces):
            write_piece(ch, s, i)
            written.value = k + 1
        q.put(("ok", len(pieces)))
    except BaseException as e:  # noqa: BLE001 - reported to the test
        q.put(("error", f"{type(e).__name__}: {e}"))


def _proc_purger(path, n_ops, q, go, written, seed):
    try:
        ch, _ = _proc_open(path)
        rnd = random.Random(seed)
        go.wait(60)
        for _ in range(n_ops):
            while written.value == 0:
                time.sleep(0.001)
            ch.purge_interval(SID, piece(rnd.randrange(written.value)))
        q.put(("ok", n_ops))
    except BaseException as e:  # noqa: BLE001
        q.put(("error", f"{type(e).__name__}: {e}"))


def _run_processes(targets, timeout_s=60.0):
    ctx = mp.get_context("spawn")
    q, go = ctx.Queue(), ctx.Event()
    counters = [ctx.Value("i", 0) for _ in range(2)]
    procs = [ctx.Process(target=fn, args=args(q, go, counters)) for fn, args in targets]
    for p in procs:
        p.start()
    try:
        time.sleep(1.0)  # let both open the store, then start them together
        go.set()
        results, deadline = [], time.monotonic() + timeout_s
        while len(results) < len(procs):
            assert time.monotonic() < deadline, "workers did not finish in time"
            try:
                results.append(q.get(timeout=0.5))
            except queue.Empty:
                dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
                assert not dead, f"a worker died: exit codes {dead}"
    finally:
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.kill()
    errors = [r[1] for r in results if r[0] != "ok"]
    assert errors == []  # in particular no "database is locked"
    return sum(r[1] for r in results)


def test_purge_in_one_process_while_another_writes(tmp_path):
    path = str(tmp_path / "s.sqlite")
    _proc_open(path)
    n = OPS // 2
    ops = _run_processes([
        (_proc_writer, lambda q, go, c: (path, list(range(n)), q, go, c[0])),
        (_proc_purger, lambda q, go, c: (path, n, q, go, c[0], 7))])
    assert ops >= 1000
    ch, s = _proc_open(path)
    present = check_consistent(s, s.calculated_intervals, range(n))
    assert timedelta(0) < present.total_width < n * PIECE  # both really happened


def test_two_writer_processes_over_disjoint_ranges(tmp_path):
    path = str(tmp_path / "s.sqlite")
    _proc_open(path)
    n = OPS // 2
    ops = _run_processes([
        (_proc_writer, lambda q, go, c: (path, list(range(n)), q, go, c[0])),
        (_proc_writer, lambda q, go, c: (path, list(range(n, 2 * n)), q, go, c[1]))])
    assert ops >= 1000
    ch, s = _proc_open(path)
    assert s.calculated_intervals == TimeIntervals([TimeInterval(T0, T0 + PIECE * 2 * n)])
    check_consistent(s, s.calculated_intervals, range(2 * n))


# -- threads on one ChannelManager (SQLite and mongomock) ------------------------------------------------------
def _sqlite(tmp_path):
    return SQLiteStore(tmp_path / "t.sqlite")


def _mongomock(tmp_path):
    mongomock = pytest.importorskip("mongomock")
    from channels.stores.mongo_store import MongoStore
    return MongoStore(mongomock.MongoClient(), db_name="conc")


STORES = {"sqlite": _sqlite, "mongomock": _mongomock}
#: for the thread cases that take 15 s or more on mongomock (its scans): the quick run (-m "not slow") keeps sqlite
SLOW_ON_MONGOMOCK = pytest.mark.parametrize("manager", ["sqlite", pytest.param("mongomock", marks=pytest.mark.slow)],
                                            indirect=True)


@pytest.fixture(params=list(STORES))
def manager(request, tmp_path):
    m = ChannelManager(STORES[request.param](tmp_path))
    m.ops = OPS if request.param == "sqlite" else OPS_MONGOMOCK
    yield m
    m.store.close()


def _threads(*fns, timeout_s=60.0):
    errors = []

    def wrap(fn):
        def run():
            try:
                fn()
            except BaseException as e:  # noqa: BLE001
                errors.append(f"{type(e).__name__}: {e}")
        return run
    threads = [threading.Thread(target=wrap(f)) for f in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout_s)
        assert not t.is_alive(), "a thread did not finish in time"
    assert errors == []


def test_purge_in_one_thread_while_others_write(manager):
    ch = manager.get_channel("mongo")
    s = ch.get_or_create_stream(SID)
    n = manager.ops // 2 - 50
    written = [0]
    plain_pieces = range(n, n + 50)  # written with ``writer``: no calculated interval

    def writer():
        for i in range(n):
            write_piece(ch, s, i)
            written[0] = i + 1

    def plain_writer():
        for i in plain_pieces:
            s.writer(piece_instances(i))

    def purger():
        rnd = random.Random(3)
        for _ in range(n):
            while written[0] == 0:
                time.sleep(0.001)
            ch.purge_interval(SID, piece(rnd.randrange(written[0])))

    _threads(writer, plain_writer, purger)
    plain = TimeIntervals([TimeInterval(piece(n).start, piece(n + 49).end)])
    assert s.window(plain[0]).count() == 50 * PER_PIECE
    stored = ch.store.get_definition(SID).calculated_intervals
    assert s.calculated_intervals == stored  # the channel's copy is what the store holds
    present = check_consistent(s, stored, range(n), plain)
    assert timedelta(0) < present.total_width < n * PIECE
    assert (stored & plain).is_empty  # a writer's data is never claimed calculated


@SLOW_ON_MONGOMOCK
def test_two_writer_threads_over_disjoint_ranges(manager):
    ch = manager.get_channel("mongo")
    s = ch.get_or_create_stream(SID)
    n = manager.ops // 2
    _threads(lambda: [write_piece(ch, s, i) for i in range(n)],
             lambda: [write_piece(ch, s, i) for i in range(n, 2 * n)])
    whole = TimeIntervals([TimeInterval(T0, T0 + PIECE * 2 * n)])
    assert ch.store.get_definition(SID).calculated_intervals == whole == s.calculated_intervals
    check_consistent(s, whole, range(2 * n))


@SLOW_ON_MONGOMOCK
def test_two_clock_runs_into_one_output_over_different_days(manager):
    ch = manager.get_channel("mongo")
    out = ch.get_or_create_stream(StreamId("ticks"))
    stride, chunk = 60, (60 if manager.ops == OPS else 1800)
    records = []

    def run(day):
        iv = TimeInterval(T0 + timedelta(days=day), T0 + timedelta(days=day + 1))
        tool = manager.get_tool("clock", {"first": T0, "stride": stride})
        records.append(tool.execute([], out, iv, chunk=chunk, history=MemoryRunHistory()))

    _threads(lambda: run(0), lambda: run(1), timeout_s=120)
    assert sum(r.chunks for r in records) >= (1000 if manager.ops == OPS else 96)
    two_days = TimeInterval(T0, T0 + timedelta(days=2))
    assert ch.store.get_definition(out.stream_id).calculated_intervals == TimeIntervals([two_days])
    assert out.calculated_intervals == TimeIntervals([two_days])
    assert out.window(two_days).count() == 2 * 24 * 60


# -- a run computes and marks only where its inputs are calculated (issue 26 item 4) -----------------------------
class _Double(Tool):
    def _execute(self, sources, alignment_stream, interval):
        for ts, v in sources[0].window(interval):
            yield StreamInstance(ts, 2 * v)


def _minutes(a, b):
    return [StreamInstance(T0 + timedelta(minutes=m), float(m)) for m in range(a + 1, b + 1)]


@pytest.mark.parametrize("kind", ["memory", "mongo"])
def test_run_over_an_input_still_being_appended_marks_only_its_calculated_part(kind, tmp_path):
    manager = ChannelManager(SQLiteStore(tmp_path / "s.sqlite"))
    ch = manager.get_channel(kind)
    raw, out = ch.get_or_create_stream(StreamId("raw")), ch.get_or_create_stream(StreamId("doubled"))
    ten_hours = TimeInterval(T0, T0 + timedelta(hours=10))
    five = TimeInterval(T0, T0 + timedelta(hours=5))
    ch.write_chunk(raw, _minutes(0, 300), add_intervals=TimeIntervals([five]))   # appended so far: 5 h
    history = MemoryRunHistory()
    run = _Double().execute([raw], out, ten_hours, history=history)
    assert out.calculated_intervals == TimeIntervals([five])        # not the 10 h asked for
    assert out.window(ten_hours).count() == 300
    assert run.skipped and run.skipped[0]["input"] == str(raw.stream_id)
    assert run.skipped[0]["start"] == five.end.isoformat() and run.skipped[0]["end"] == ten_hours.end.isoformat()
    assert "not calculated" in run.skipped[0]["reason"]
    assert history.list()[0].to_dict()["skipped"] == run.skipped    # recorded with the run
    # the rest of the input arrives; the next run computes exactly the part skipped before
    ch.write_chunk(raw, _minutes(300, 600), add_intervals=TimeIntervals([TimeInterval(five.end, ten_hours.end)]))
    run2 = _Double().execute([raw], out, ten_hours, history=history)
    assert run2.computed == TimeIntervals([TimeInterval(five.end, ten_hours.end)]) and run2.skipped == []
    assert out.calculated_intervals == TimeIntervals([ten_hours])
    assert out.window(ten_hours).values() == [2.0 * m for m in range(1, 601)]


def test_an_input_written_with_writer_counts_as_calculated_from_its_first_to_its_last_instance(tmp_path):
    manager = ChannelManager(SQLiteStore(tmp_path / "s.sqlite"))
    ch = manager.get_channel("mongo")
    raw, out = ch.get_or_create_stream(StreamId("raw")), ch.get_or_create_stream(StreamId("doubled"))
    raw.writer(_minutes(60, 120))                                   # no calculated intervals recorded
    day = TimeInterval(T0, T0 + timedelta(hours=24))
    run = _Double().execute([raw], out, day, history=MemoryRunHistory())
    first, last = T0 + timedelta(minutes=61), T0 + timedelta(minutes=120)
    assert out.calculated_intervals == TimeIntervals([TimeInterval(first - timedelta(milliseconds=1), last)])
    assert out.window(day).count() == 60
    assert {(d["start"], d["end"]) for d in run.skipped} == {
        (T0.isoformat(), (first - timedelta(milliseconds=1)).isoformat()), (last.isoformat(), day.end.isoformat())}
    empty = ch.get_or_create_stream(StreamId("empty"))
    run = _Double().execute([empty], ch.get_or_create_stream(StreamId("e2")), day, history=MemoryRunHistory())
    assert run.computed.is_empty and "no data" in run.skipped[0]["reason"]
    # a generator without inputs computes the whole interval
    clock = manager.get_tool("clock", {"first": T0, "stride": 3600})
    ticks = ch.get_or_create_stream(StreamId("ticks"))
    assert clock.execute([], ticks, day, history=MemoryRunHistory()).skipped == []
    assert ticks.calculated_intervals == TimeIntervals([day])


# -- MongoDB: a dropped write (issue 27) -------------------------------------------------------------------------
class _FailingStreams:
    """The ``streams`` collection, where ``insert_many`` stops after ``keep`` documents with a network error and
    ``delete_many`` fails (the server went away mid-batch)."""

    def __init__(self, coll, keep):
        self._coll, self._keep = coll, keep

    def __getattr__(self, name):
        return getattr(self._coll, name)

    def insert_many(self, docs, ordered=True):
        from pymongo.errors import AutoReconnect
        self._coll.insert_many(list(docs)[:self._keep], ordered=ordered)
        raise AutoReconnect("connection closed")

    def delete_many(self, *a, **k):
        from pymongo.errors import AutoReconnect
        raise AutoReconnect("connection closed")


def test_mongo_dropped_write_says_what_remains_and_the_next_calculated_write_removes_it():
    mongomock = pytest.importorskip("mongomock")
    from channels.stores.mongo_store import MongoStore
    client = mongomock.MongoClient()
    store = MongoStore(client, db_name="drop")
    manager = ChannelManager(store, builtin_tools=False)
    ch = manager.get_channel("mongo")
    s = ch.get_or_create_stream(SID)
    write_piece(ch, s, 0)                                           # a committed batch
    s.writer(piece_instances(50))                                   # data HyperStream-style, without intervals
    real = store._c.streams
    store._c.streams = _FailingStreams(real, keep=4)
    batch = piece_instances(1)
    with pytest.raises(StoreError) as ei:
        ch.write_chunk(s, batch, add_intervals=TimeIntervals([piece(1)]))
    store._c.streams = real
    msg = str(ei.value)
    assert "removing the part written failed" in msg and "may remain outside the calculated intervals" in msg
    assert "removed again" not in msg.replace("removed when", "")
    assert s.calculated_intervals == TimeIntervals([piece(0)])      # the failed batch is not marked
    assert store.count(SID, piece(1).start, piece(1).end) == 4     # the orphans are there ...
    ch.refresh()                                                    # ... reading writes nothing ...
    assert store.count(SID, piece(1).start, piece(1).end) == 4
    write_piece(ch, s, 3)                                           # ... the next calculated write removes them
    assert store.count(SID, piece(1).start, piece(1).end) == 0
    assert store.count(SID, None, None) == PER_PIECE * 3            # pieces 0, 3 and the writer's piece 50
    assert s.window(piece(1)).count() == 0
    assert s.window(piece(50)).count() == PER_PIECE                 # never removed: written without intervals
    check_consistent(s, s.calculated_intervals, [0, 1, 3], TimeIntervals([piece(50)]))
    # another process (another store object) cleans notes left by one that died, once they are old enough
    store2 = MongoStore(client, db_name="drop")
    store2._c.streams = _FailingStreams(store2._c.streams, keep=3)
    with pytest.raises(StoreError):
        store2.insert(SID, piece_instances(2), add_intervals=TimeIntervals([piece(2)]))
    del store2                                                      # it "died" with its notes
    other = MongoStore(client, db_name="drop")
    other.orphan_after_s = 3600
    other.insert(SID, piece_instances(4), add_intervals=TimeIntervals([piece(4)]))
    assert other.count(SID, piece(2).start, piece(2).end) == 3     # a note this young may be a live writer's
    other.orphan_after_s = 0
    other.insert(SID, piece_instances(5), add_intervals=TimeIntervals([piece(5)]))
    assert other.count(SID, piece(2).start, piece(2).end) == 0
    assert other.count(SID, None, None) == PER_PIECE * 5
