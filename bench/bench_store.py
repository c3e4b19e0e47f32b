"""Benchmarks of the stores against same-process baselines (DESIGN.md §7). Not a test: prints figures and ratios.

    python bench/bench_store.py            # 1,000,000 and 10,000,000 instances
    python bench/bench_store.py --quick    # 100,000 and 1,000,000
    python bench/bench_store.py --smoke    # 2,000 and 20,000, once each: does it run? (no timing claims)

Baselines are plain ``sqlite3`` on an equivalent table
``raw(ts INTEGER PRIMARY KEY, value REAL) WITHOUT ROWID`` in its own file with
the same pragmas the store uses (WAL, synchronous=NORMAL, 64 MB cache), so the
ratio shows what the store adds on top of SQLite itself.
"""
from __future__ import annotations

import argparse
import gc
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from channels.stores.sqlite_store import SQLiteStore  # noqa: E402
from channels.stream import StreamId, StreamInstance  # noqa: E402
from channels.utils import EPOCH, from_ms  # noqa: E402

BASE_MS = 1_500_000_000_000  # 2017-07-14
STEP_MS = 1000               # one instance a second
BUCKETS = 2000
SID = StreamId("bench", {"house": "1"})


def median_time(fn, repeats: int, setup=None):
    times, result = [], None
    for _ in range(repeats):
        if setup:
            setup()
        gc.collect()
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def raw_connect(path):
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA cache_size=-65536")
    con.execute("CREATE TABLE IF NOT EXISTS raw (ts INTEGER PRIMARY KEY, value REAL) WITHOUT ROWID")
    return con


def values(n, seed=0):
    return np.random.default_rng(seed).normal(20.0, 5.0, n)


def instances(n, offset=0, seed=0):
    ms = BASE_MS + (np.arange(n, dtype=np.int64) + offset + 1) * STEP_MS
    return [StreamInstance._make((from_ms(m), v)) for m, v in zip(ms.tolist(), values(n, seed).tolist())]


def line(what, t, base_t, base_what, target=None):
    ratio = t / base_t if base_t else float("nan")
    tgt = f"   target {target}" if target else ""
    print(f"  {what:<44s} {t:8.3f} s   {base_what:<38s} {base_t:8.3f} s   ratio {ratio:6.2f}{tgt}")
    return ratio


def group_by_raw(con, lo, hi, buckets):
    width = (hi - lo) / buckets
    return con.execute("SELECT CAST((ts - ? - 1) / ? AS INTEGER) AS b, count(*), min(value), max(value), "
                       "avg(value), min(ts), max(ts) FROM raw WHERE ts > ? AND ts <= ? GROUP BY b",
                       (lo, width, lo, hi)).fetchall()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100,000 / 1,000,000 instances instead of 1M / 10M")
    ap.add_argument("--dir", default=None, help="folder for the temporary database files")
    ap.add_argument("--smoke", action="store_true", help="2,000 / 20,000 instances, once: does it run?")
    args = ap.parse_args()
    n = 100_000 if args.quick else 1_000_000
    big = 1_000_000 if args.quick else 10_000_000
    reps = 3
    if args.smoke:
        n, big, reps = 2_000, 20_000, 1
        print("(smoke run: tiny sizes; no timing claims, the figures and verdicts below mean nothing)")
    tmp = Path(tempfile.mkdtemp(prefix="hsgui-bench-", dir=args.dir))
    print(f"bench_store: {n:,} / {big:,} instances, Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
          f"numpy {np.__version__}, {os.cpu_count()} CPUs, files in {tmp}")
    try:
        run(tmp, n, big, reps, args.smoke)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp: Path, n: int, big: int, reps: int, smoke: bool = False):
    data = instances(n)
    rows = [(BASE_MS + (i + 1) * STEP_MS, v) for i, v in enumerate(values(n).tolist())]

    # -- write ---------------------------------------------------------------------------------------------------
    print(f"\nwrite {n:,} float instances (one call / one executemany, one transaction), median of {reps}")
    counter = iter(range(1000))

    def fresh_raw():
        p = tmp / f"raw{next(counter)}.sqlite"
        fresh_raw.con = raw_connect(p)

    def raw_write():
        con = fresh_raw.con
        con.execute("BEGIN")
        con.executemany("INSERT INTO raw (ts, value) VALUES (?, ?)", rows)
        con.execute("COMMIT")
        con.close()

    def fresh_store():
        fresh_store.s = SQLiteStore(tmp / f"store{next(counter)}.sqlite")

    def store_write():
        fresh_store.s.insert(SID, data)
        fresh_store.s.close()

    def fresh_same():
        p = tmp / f"same{next(counter)}.sqlite"
        c = raw_connect(p)
        c.execute("CREATE TABLE same (sid INTEGER NOT NULL, ts INTEGER NOT NULL, v, num REAL, "
                  "PRIMARY KEY (sid, ts)) WITHOUT ROWID")
        fresh_same.con = c

    def same_write():
        con = fresh_same.con
        con.execute("BEGIN")
        con.executemany("INSERT INTO same (sid, ts, num) VALUES (1, ?, ?)", rows)
        con.execute("COMMIT")
        con.close()

    t_raw, _ = median_time(raw_write, reps, fresh_raw)
    t_same, _ = median_time(same_write, reps, fresh_same)
    t_store, _ = median_time(store_write, reps, fresh_store)
    arr_ms = np.array([r[0] for r in rows], dtype=np.int64)
    arr_v = np.array([r[1] for r in rows], dtype=np.float64)

    def store_write_arrays():
        fresh_store.s.insert_arrays(SID, arr_ms, arr_v)
        fresh_store.s.close()

    t_arrays, _ = median_time(store_write_arrays, reps, fresh_store)
    line("SQLiteStore.insert", t_store, t_raw, "raw executemany (int, float)", "<= 1.20")
    line("SQLiteStore.insert_arrays", t_arrays, t_raw, "raw executemany (int, float)", "<= 1.00")
    line("SQLiteStore.insert", t_store, t_same, "raw executemany, store's key layout", "(info)")
    line("(raw, store's key layout)", t_same, t_raw, "raw executemany (int, float)", "(info)")

    def store_write_chunks():
        s = fresh_store.s
        for c in range(0, n, 10_000):
            s.insert(SID, data[c:c + 10_000])
        s.close()

    t_chunks, _ = median_time(store_write_chunks, 1, fresh_store)
    line("SQLiteStore.insert in 10,000-instance calls", t_chunks, t_raw, "raw executemany (int, float)", "(info)")

    # the stores to read from
    store_path = tmp / "read.sqlite"
    store = SQLiteStore(store_path)
    store.insert(SID, data)
    raw_path = tmp / "read_raw.sqlite"
    con = raw_connect(raw_path)
    con.execute("BEGIN")
    con.executemany("INSERT INTO raw VALUES (?, ?)", rows)
    con.execute("COMMIT")
    del rows
    lo, hi = BASE_MS, BASE_MS + n * STEP_MS

    # -- read ----------------------------------------------------------------------------------------------------
    print(f"\nread {n:,} instances, median of {reps}")

    def raw_read():
        got = con.execute("SELECT ts, value FROM raw WHERE ts > ? AND ts <= ?", (lo, hi)).fetchall()
        return [(EPOCH + timedelta(milliseconds=t), v) for t, v in got]

    def store_read():
        return list(store.read(SID, from_ms(lo), from_ms(hi)))

    t_raw, r1 = median_time(raw_read, reps)
    t_store, r2 = median_time(store_read, reps)
    assert len(r1) == len(r2) == n and r2[0] == data[0] and r2[-1] == data[-1]
    del r1, r2
    line("SQLiteStore.read -> StreamInstances", t_store, t_raw, "raw fetchall + datetime build", "<= 1.50")

    def raw_cols():
        a = np.array(con.execute("SELECT ts, value FROM raw WHERE ts > ? AND ts <= ?", (lo, hi)).fetchall())
        return a[:, 0].astype(np.int64), a[:, 1]

    def store_cols():
        return store.columns(SID, from_ms(lo), from_ms(hi))

    t_raw, c1 = median_time(raw_cols, reps)
    t_store, c2 = median_time(store_cols, reps)
    assert np.array_equal(c1[0], c2[0]) and np.array_equal(c1[1], c2[1])
    line("SQLiteStore.columns -> numpy", t_store, t_raw, "raw fetchall into numpy", "<= 1.50")

    # -- summary ---------------------------------------------------------------------------------------------------
    print(f"\n{BUCKETS:,}-bucket summary of the whole stream")
    t_sum_n, s_n = median_time(lambda: store.summary(SID, from_ms(lo), from_ms(hi), BUCKETS), 7)
    assert s_n.total == n
    t_gb_n, _ = median_time(lambda: group_by_raw(con, lo, hi, BUCKETS), 3)
    line(f"SQLiteStore.summary, {n:,} instances", t_sum_n, t_gb_n, "plain GROUP BY on raw table", "<= 1/20")
    store.close()
    con.close()

    print(f"  building {big:,}-instance store and raw table ...", flush=True)
    t_build = time.perf_counter()
    big_store = SQLiteStore(tmp / "big.sqlite")
    big_con = raw_connect(tmp / "big_raw.sqlite")
    chunk = min(big, 1_000_000)
    for c in range(0, big, chunk):
        m = min(chunk, big - c)
        batch = instances(m, offset=c, seed=c)
        big_store.insert(SID, batch)
        del batch
        ms = (BASE_MS + (np.arange(m, dtype=np.int64) + c + 1) * STEP_MS).tolist()
        big_con.execute("BEGIN")
        big_con.executemany("INSERT INTO raw VALUES (?, ?)", zip(ms, values(m, seed=c).tolist()))
        big_con.execute("COMMIT")
    print(f"  (built in {time.perf_counter() - t_build:.1f} s)")
    blo, bhi = BASE_MS, BASE_MS + big * STEP_MS
    t_sum_big, s_big = median_time(lambda: big_store.summary(SID, from_ms(blo), from_ms(bhi), BUCKETS), 7)
    assert s_big.total == big
    t_gb_big, _ = median_time(lambda: group_by_raw(big_con, blo, bhi, BUCKETS), 1)
    r = line(f"SQLiteStore.summary, {big:,} instances", t_sum_big, t_gb_big, "plain GROUP BY on raw table",
             "<= 0.5 s and <= 1/20")
    print(f"  flatness: summary {n:,} -> {t_sum_n * 1000:.1f} ms, {big:,} -> {t_sum_big * 1000:.1f} ms "
          f"(x{t_sum_big / t_sum_n:.2f} for x{big // n} the instances); GROUP BY {t_gb_n:.2f} s -> {t_gb_big:.2f} s; "
          f"summary/GROUP BY at {big:,} = 1/{1 / r:.0f}")
    t_cnt, c_big = median_time(lambda: big_store.count(SID, None, None), 3)
    print(f"  (info) count() of {big:,}: {t_cnt:.3f} s")
    big_store.close()
    big_con.close()

    # -- mongomock, for information ------------------------------------------------------------------------------
    try:
        import mongomock
    except ImportError:
        return
    from channels.stores.mongo_store import MongoStore
    m = 200 if smoke else 2_000
    print(f"\nmongomock (in-process fake, for information only), {m:,} instances")
    ms_store = MongoStore(mongomock.MongoClient(), db_name="bench")
    small = instances(m)
    t_w, _ = median_time(lambda: ms_store.insert(SID, small), 1)
    t_r, _ = median_time(lambda: list(ms_store.read(SID, None, None)), 3)
    t_c, _ = median_time(lambda: ms_store.columns(SID, None, None), 3)
    t_s, _ = median_time(lambda: ms_store.summary(SID, from_ms(BASE_MS), from_ms(BASE_MS + m * STEP_MS), 200), 3)
    print(f"  insert {t_w:.3f} s, read {t_r:.3f} s, columns {t_c:.3f} s, 200-bucket summary {t_s:.3f} s")
    # mongomock has no real indexes (every find scans and sorts the collection) and MongoStore.insert on it is
    # quadratic, so the larger streams are written HyperStream-style (raw documents, no unique index) and
    # then rebuild_lod()
    for m in (2_000,) if smoke else (20_000, 200_000):
        client = mongomock.MongoClient()
        ms_store = MongoStore(client, db_name="bench")
        ms_store.create_indexes()  # made on the empty collections (as HyperStream does), so the store has them ...
        client.bench.streams.drop_indexes()  # ... and dropped: mongomock checks a unique index by scanning: quadratic
        client.bench.streams.insert_many([{"stream_id": SID.as_raw(), "datetime": i.timestamp.replace(tzinfo=None),
                                           "value": i.value} for i in instances(m)])
        lo_, hi_ = from_ms(BASE_MS), from_ms(BASE_MS + m * STEP_MS)
        t_rb, _ = median_time(lambda: ms_store.rebuild_lod(SID), 1)
        for b in (200, BUCKETS):
            t_lod, s1 = median_time(lambda: ms_store.summary(SID, lo_, hi_, b), 3)
            t_pipe, s2 = median_time(lambda: ms_store._lod.pipeline_summary(SID, lo_, hi_, b), 1)
            assert s1.total == s2.total == m
            print(f"  {m:>9,} instances, {b:>5,}-bucket summary: aggregates {t_lod * 1000:8.1f} ms, "
                  f"pipeline {t_pipe * 1000:9.1f} ms (rebuild_lod {t_rb:.1f} s)")


if __name__ == "__main__":
    main()
