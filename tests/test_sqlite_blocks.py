"""Array blocks in the embedded store (issue 25): a large columnar write of floats is stored as float64 blocks,
and every read, count, summary and purge of a block-written stream answers exactly as for a row-written copy
of the same data -- over random windows and purges, windows starting and ending inside a block and on its
edges, and streams mixing rows and blocks. Two processes writing and purging one stream stay consistent.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import queue
import random
import sqlite3
import time
from datetime import datetime, timedelta

import numpy as np
import pytest

from channels import StreamId, StreamInstance, TimeInterval, TimeIntervals
from channels.errors import DuplicateInstanceError
from channels.stores.base import StreamDefinition
from channels.stores.sqlite_blocks import BLOCK_MIN, BLOCK_N
from channels.stores.sqlite_store import SQLiteStore
from channels.utils import EPOCH, UTC, to_ms

T0 = datetime(2022, 5, 1, tzinfo=UTC)
T0_MS = to_ms(T0)
BLK = StreamId("blocks", {"k": "b"})
ROW = StreamId("rows", {"k": "r"})
N = 5 * BLOCK_N + 123


def dt(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=int(ms))


def data(n=N, seed=1, start_ms=T0_MS):
    """Strictly increasing times with uneven gaps (some ms apart, some hours), floats with NaN, -0.0, 0.0, inf."""
    rng = np.random.default_rng(seed)
    gaps = rng.choice([1, 2, 7, 1000, 3_600_000], size=n, p=[0.5, 0.2, 0.2, 0.09, 0.01])
    ms = start_ms + np.cumsum(gaps).astype(np.int64)
    v = np.round(rng.standard_normal(n) * 10, 3)
    for x, k in ((np.nan, 37), (-0.0, 11), (0.0, 13), (np.inf, 3), (-np.inf, 2)):
        v[rng.choice(n, k, replace=False)] = x
    return ms, v


def instances(ms, v):
    return [StreamInstance(dt(t), float(x)) for t, x in zip(ms.tolist(), v.tolist())]


def pairs(store, sid, lo=None, hi=None):
    return [(i.timestamp, repr(i.value)) for i in store.read(sid, lo, hi)]


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path / "b.sqlite")
    for sid in (BLK, ROW):
        s.create_definition(StreamDefinition(sid, "mongo"))
    yield s
    s.close()


def block_rows(path, key):
    con = sqlite3.connect(path)
    try:
        sid = con.execute("SELECT sid FROM streams WHERE key=?", (key,)).fetchone()[0]
        return (con.execute("SELECT count(*), ifnull(sum(n), 0) FROM blocks WHERE sid=?", (sid,)).fetchone(),
                con.execute("SELECT count(*) FROM instances WHERE sid=?", (sid,)).fetchone()[0])
    finally:
        con.close()


def same_summary(a, b):
    assert np.array_equal(a.count, b.count)
    assert np.array_equal(a.first_ms, b.first_ms) and np.array_equal(a.last_ms, b.last_ms)
    assert np.array_equal(a.min, b.min, equal_nan=True) and np.array_equal(a.max, b.max, equal_nan=True)
    assert np.allclose(a.mean, b.mean, equal_nan=True, rtol=1e-9)


def same_window(store, lo, hi):
    """Every read of ``(lo, hi]`` answers the same for the block-written and the row-written stream."""
    assert pairs(store, BLK, lo, hi) == pairs(store, ROW, lo, hi), (lo, hi)
    assert store.count(BLK, lo, hi) == store.count(ROW, lo, hi), (lo, hi)
    fb, fr = store.first(BLK, lo, hi), store.first(ROW, lo, hi)
    lb, lr = store.last(BLK, lo, hi), store.last(ROW, lo, hi)
    assert (fb and (fb.timestamp, repr(fb.value))) == (fr and (fr.timestamp, repr(fr.value)))
    assert (lb and (lb.timestamp, repr(lb.value))) == (lr and (lr.timestamp, repr(lr.value)))
    (tb, vb), (tr, vr) = store.columns(BLK, lo, hi), store.columns(ROW, lo, hi)
    assert np.array_equal(tb, tr) and np.array_equal(vb, vr) and np.array_equal(np.signbit(vb), np.signbit(vr))
    cb, cr = store.typed_columns(BLK, lo, hi), store.typed_columns(ROW, lo, hi)
    if cr is None:  # values of other kinds in the window
        assert cb is None
    else:
        assert cb.kind == cr.kind == "float"
        assert np.array_equal(cb.ms, cr.ms) and np.array_equal(cb.values, cr.values, equal_nan=True)
    if lo is not None and hi is not None and lo < hi:
        for buckets in (1, 7, 200):
            same_summary(store.summary(BLK, lo, hi, buckets), store.summary(ROW, lo, hi, buckets))


def write_rows(store, sid, ms, v):
    """Write as rows: batches too small for blocks."""
    insts = instances(ms, v)
    for i in range(0, len(insts), BLOCK_MIN - 1):
        store.insert(sid, insts[i:i + BLOCK_MIN - 1])


def write_both(store, ms, v):
    assert store.insert_arrays(BLK, ms, v) == len(ms)
    write_rows(store, ROW, ms, v)


def edge_times(ms):
    """Block edges of a stream written in one batch (first/last instance of each block), +-1 ms."""
    firsts = ms[::BLOCK_N]
    lasts = ms[BLOCK_N - 1::BLOCK_N]
    out = []
    for t in np.concatenate((firsts, lasts)).tolist():
        out += [t - 1, t, t + 1]
    return out


def random_windows(rng, ms, k):
    edges = edge_times(ms)
    lo_all, hi_all = int(ms[0]) - 10, int(ms[-1]) + 10
    out = [(None, None), (None, dt(edges[4])), (dt(edges[5]), None)]
    for _ in range(k):
        a, b = (rng.choice(edges) if rng.random() < 0.5 else rng.randint(lo_all, hi_all) for _ in range(2))
        a, b = min(a, b), max(a, b)
        if rng.random() < 0.2:  # narrow, inside one block
            b = a + rng.randint(0, 30)
        out.append((dt(a), dt(b)))
    return out


def test_a_large_float_array_write_is_stored_as_blocks_in_a_smaller_file(tmp_path):
    ms, v = data()
    a, b = SQLiteStore(tmp_path / "arrays.sqlite"), SQLiteStore(tmp_path / "rows.sqlite")
    a.insert_arrays(BLK, ms, v)
    write_rows(b, BLK, ms, v)
    a.close()
    b.close()
    (n_blocks, in_blocks), n_rows = block_rows(str(tmp_path / "arrays.sqlite"), BLK.key)
    assert (in_blocks, n_rows) == (N, 0) and n_blocks == -(-N // BLOCK_N)
    # 16 bytes an instance, against a row and its key in the index for the row-written copy
    size, rows_size = (sum(os.path.getsize(f) for f in tmp_path.glob(name + "*")) for name in ("arrays", "rows"))
    assert size < 0.8 * rows_size


def test_a_small_array_write_stays_rows_and_a_large_float_instance_batch_goes_in_as_blocks(store):
    ms, v = data(100)
    store.insert_arrays(BLK, ms, v)
    assert block_rows(store.path, BLK.key) == ((0, 0), 100)
    ms, v = data(3 * BLOCK_N, seed=4)
    store.insert(ROW, instances(ms, v)[::-1])  # any order
    assert block_rows(store.path, ROW.key) == ((3, 3 * BLOCK_N), 0)
    assert [i.timestamp for i in store.read(ROW, None, None)] == [dt(t) for t in ms.tolist()]


def test_block_written_stream_reads_like_a_row_written_copy_over_random_windows(store):
    ms, v = data()
    write_both(store, ms, v)
    assert block_rows(store.path, BLK.key)[1] == 0
    rng = random.Random(5)
    for lo, hi in random_windows(rng, ms, 150):
        same_window(store, lo, hi)


def test_purges_of_a_block_written_stream_match_the_row_written_copy(store):
    ms, v = data(seed=2)
    write_both(store, ms, v)
    rng = random.Random(9)
    edges = edge_times(ms)
    for step in range(40):
        if rng.random() < 0.5:
            a = rng.choice(edges)
            b = a + rng.choice([0, 1, 5, 300, 50_000])
        else:
            a = rng.randint(int(ms[0]), int(ms[-1]))
            b = a + rng.randint(0, 2_000_000)
        nb = store.purge(BLK, dt(a), dt(b))
        nr = store.purge(ROW, dt(a), dt(b))
        assert nb == nr, step
        same_window(store, None, None)
        for lo, hi in random_windows(rng, ms, 5):
            same_window(store, lo, hi)
    kb = [c.interval for c in store.list_changes(BLK) if c.kind == "purge"]
    kr = [c.interval for c in store.list_changes(ROW) if c.kind == "purge"]
    assert kb == kr and len(kb) > 5
    assert store.purge(BLK) == store.purge(ROW) > 0
    assert pairs(store, BLK) == [] and store.count(BLK, None, None) == 0


def test_rows_written_among_blocks_read_in_time_order_and_duplicates_follow_the_row_rules(store):
    ms, v = data(seed=3)
    write_both(store, ms, v)
    rng = np.random.default_rng(4)
    # new timestamps: between two instances of a block, before and after the stream
    gaps = np.flatnonzero(np.diff(ms) > 1)
    new_ms = np.unique(np.concatenate((ms[rng.choice(gaps, 300, replace=False)] + 1, [ms[0] - 5, ms[-1] + 5])))
    new_v = np.round(rng.standard_normal(len(new_ms)), 2)
    for sid in (BLK, ROW):
        assert store.insert(sid, instances(new_ms, new_v)) == len(new_ms)
    # a second large array overlapping the stored span: as rows, existing equal instances skipped
    again_ms = np.unique(np.concatenate((ms[100:3000], new_ms[:50], ms[-1] + 10 + np.arange(2000))))
    merged = dict(zip(ms.tolist(), v.tolist())) | dict(zip(new_ms.tolist(), new_v.tolist()))
    again_v = np.array([merged.get(t, 1.5) for t in again_ms.tolist()])
    nb = store.insert_arrays(BLK, again_ms, again_v)
    nr = store.insert(ROW, instances(again_ms, again_v))  # a large float batch, on stored data: rows too
    assert nb == nr == 2000
    for lo, hi in random_windows(random.Random(3), ms, 80):
        same_window(store, lo, hi)
    # dict values among the blocks: component reads skip the floats, as for rows
    dict_ms = new_ms[::7] + 0  # already stored as floats: use times just after them
    dict_ms = dict_ms[np.isin(dict_ms + 1, np.concatenate((ms, new_ms, again_ms)), invert=True)] + 1
    for sid in (BLK, ROW):
        store.insert(sid, [StreamInstance(dt(t), {"a": float(t % 97), "b": "x"}) for t in dict_ms.tolist()])
    for lo, hi in ((None, None), (dt(int(ms[50])), dt(int(ms[3 * BLOCK_N])))):
        cb, cr = store.typed_component_columns(BLK, lo, hi, "a"), store.typed_component_columns(ROW, lo, hi, "a")
        assert np.array_equal(cb.ms, cr.ms) and np.array_equal(cb.values, cr.values) and len(cb.ms)
        assert pairs(store, BLK, lo, hi) == pairs(store, ROW, lo, hi)
        assert store.typed_columns(BLK, lo, hi) is None is store.typed_columns(ROW, lo, hi)
    # a different value at a block's timestamp is refused, as for a row
    t = int(ms[BLOCK_N + 10])
    for sid in (BLK, ROW):
        with pytest.raises(DuplicateInstanceError):
            store.insert(sid, [StreamInstance(dt(t), 12345.0)])
        with pytest.raises(DuplicateInstanceError):
            store.insert_arrays(sid, ms[BLOCK_N:3 * BLOCK_N], v[BLOCK_N:3 * BLOCK_N] + 1)
    # purges across rows and blocks
    for a, b in ((int(ms[200]), int(ms[BLOCK_N + 5])), (int(new_ms[10]) - 1, int(new_ms[20])), (int(ms[-20]), None)):
        assert store.purge(BLK, dt(a), b and dt(b)) == store.purge(ROW, dt(a), b and dt(b))
        for lo, hi in random_windows(random.Random(a), ms, 20):
            same_window(store, lo, hi)


def test_a_store_file_without_blocks_opens_and_gets_them(tmp_path):
    path = tmp_path / "old.sqlite"
    s = SQLiteStore(path)
    s.insert(BLK, instances(*data(500)))
    s.close()
    con = sqlite3.connect(path)
    con.execute("DROP TABLE blocks")  # as written by the version before blocks
    con.commit()
    assert con.execute("SELECT value FROM hsgui_meta WHERE key='schema_version'").fetchone()[0] == "1"
    con.close()
    s = SQLiteStore(path)
    ms, v = data(3 * BLOCK_N, start_ms=T0_MS + 10 ** 10, seed=8)
    s.insert_arrays(BLK, ms, v)
    assert s.count(BLK, None, None) == 500 + 3 * BLOCK_N
    s.close()
    con = sqlite3.connect(path)  # 3: its blocks are encoded (see test_block_encoding.py)
    assert con.execute("SELECT value FROM hsgui_meta WHERE key='schema_version'").fetchone()[0] == "3"
    con.close()


# -- two processes ---------------------------------------------------------------------------------------------
PIECE_MS = 20_000
PER = 2 * BLOCK_N + 100
PIECES = 60
SID = StreamId("twoproc", {"k": "v"})


def piece_arrays(i):
    ms = T0_MS + i * PIECE_MS + 1 + np.arange(PER, dtype=np.int64) * (PIECE_MS - 2) // PER
    return ms, np.sin(ms / 1000.0) + i


def piece_interval(i, a=0, b=PIECE_MS):
    return TimeInterval(dt(T0_MS + i * PIECE_MS + a), dt(T0_MS + i * PIECE_MS + b))


def _writer(path, q, go, written):
    try:
        s = SQLiteStore(path)
        go.wait(60)
        for i in range(PIECES):
            ms, v = piece_arrays(i)
            s.insert_arrays(SID, ms, v, add_intervals=TimeIntervals([piece_interval(i)]))
            written.value = i + 1
        q.put(("ok", PIECES))
    except BaseException as e:  # noqa: BLE001 - reported to the test
        q.put(("error", f"{type(e).__name__}: {e}"))


def _purger(path, q, go, written, seed):
    try:
        s = SQLiteStore(path)
        rnd = random.Random(seed)
        go.wait(60)
        ops = 0
        while written.value < PIECES or ops < PIECES:
            if written.value == 0:
                time.sleep(0.001)
                continue
            i = rnd.randrange(written.value)
            a = rnd.randrange(PIECE_MS)
            iv = piece_interval(i, a, min(PIECE_MS, a + rnd.choice([1, 50, 3000, PIECE_MS])))
            s.purge(SID, iv.start, iv.end, remove_intervals=TimeIntervals([iv]))
            ops += 1
        q.put(("ok", ops))
    except BaseException as e:  # noqa: BLE001
        q.put(("error", f"{type(e).__name__}: {e}"))


def test_one_process_writes_blocks_while_another_purges_them(tmp_path):
    path = str(tmp_path / "p.sqlite")
    s = SQLiteStore(path)
    s.create_definition(StreamDefinition(SID, "mongo"))
    ctx = mp.get_context("spawn")
    q, go, written = ctx.Queue(), ctx.Event(), ctx.Value("i", 0)
    procs = [ctx.Process(target=_writer, args=(path, q, go, written)),
             ctx.Process(target=_purger, args=(path, q, go, written, 3))]
    for p in procs:
        p.start()
    try:
        time.sleep(1.0)
        go.set()
        results, deadline = [], time.monotonic() + 120
        while len(results) < 2:
            assert time.monotonic() < deadline, "workers did not finish in time"
            try:
                results.append(q.get(timeout=0.5))
            except queue.Empty:
                assert not [p.exitcode for p in procs if p.exitcode not in (None, 0)], "a worker died"
    finally:
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.kill()
    assert [r for r in results if r[0] != "ok"] == []
    calc = s.get_definition(SID).calculated_intervals
    # exactly the written instances that lie in the calculated intervals are stored
    expected = np.concatenate([piece_arrays(i)[0] for i in range(PIECES)])
    keep = np.array([dt(t) in calc for t in expected.tolist()])
    got = [i.timestamp for i in s.read(SID, None, None)]
    assert got == [dt(t) for t in expected[keep].tolist()]
    assert 0 < len(got) < len(expected)
    assert s.count(SID, None, None) == len(got) == s.summary(SID, dt(T0_MS), dt(T0_MS + PIECES * PIECE_MS), 50).total
    ts, vals = s.columns(SID, None, None)
    allv = np.concatenate([piece_arrays(i)[1] for i in range(PIECES)])
    assert np.array_equal(ts, expected[keep]) and np.array_equal(vals, allv[keep])
    s.close()
