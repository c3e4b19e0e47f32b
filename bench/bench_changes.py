"""Cost of the change log (issue 22): the same write batches with and without recording their Change.

Baseline in the same process: SQLiteStore.insert / purge with ``SQLiteChangeLog.record`` replaced by a no-op (what the
store did before the change log). Prints medians per batch and the ratio for batch sizes 1, 100 and 10,000,
and the cost of one stream's lineage question on a store with 1,000 changes.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from channels import ChannelManager, StreamId, StreamInstance, TimeInterval, TimeIntervals, UTC  # noqa: E402
from channels.stores.sqlite_changes import SQLiteChangeLog  # noqa: E402
from channels.stores.sqlite_store import SQLiteStore  # noqa: E402

T0 = datetime(2020, 1, 1, tzinfo=UTC)


def _batches(size, count, offset):
    return [[StreamInstance(T0 + timedelta(seconds=offset + b * size + i), float(i)) for i in range(size)]
            for b in range(count)]


def main():
    smoke = "--smoke" in sys.argv[1:]
    if smoke:
        print("smoke run: tiny sizes, the figures mean nothing")
    with tempfile.TemporaryDirectory() as d:
        store = SQLiteStore(Path(d) / "bench.sqlite")
        real = SQLiteChangeLog.__dict__["record"]
        print(f"{'batch':>8} {'with log':>12} {'without':>12} {'ratio':>7}")
        off = lambda *a, **k: None  # noqa: E731
        offset = 0
        for size, count in (((1, 20), (100, 6), (10_000, 2)) if smoke else ((1, 2000), (100, 600), (10_000, 40))):
            sid = StreamId("a", {"n": str(size)})
            times = {True: [], False: []}
            for b, batch in enumerate(_batches(size, count, offset)):  # alternate batch by batch, one stream
                on = b % 2 == 0
                SQLiteChangeLog.record = real if on else off
                t = time.perf_counter()
                store.insert(sid, batch)
                times[on].append(time.perf_counter() - t)
            offset += size * count
            SQLiteChangeLog.record = real
            w, wo = statistics.median(times[True]), statistics.median(times[False])
            print(f"{size:>8} {w * 1e3:>10.3f}ms {wo * 1e3:>10.3f}ms {w / wo:>7.3f}")
        # purge of 100 instances, with and without
        for label, fn in (("with log", real), ("without", lambda *a, **k: None)):
            SQLiteChangeLog.record = fn
            sid = StreamId("p", {"l": label})
            store.insert(sid, _batches(100 * 50, 1, 0)[0])
            ts = []
            for k in range(50):
                t = time.perf_counter()
                store.purge(sid, T0 + timedelta(seconds=100 * k), T0 + timedelta(seconds=100 * (k + 1)))
                ts.append(time.perf_counter() - t)
            print(f"purge of 100 instances {label}: {statistics.median(ts) * 1e3:.3f} ms")
        SQLiteChangeLog.record = real
        # one lineage question: raw with 1,000 recorded corrections, a run over it
        manager = ChannelManager(store)
        ch = manager.get_channel("mongo")
        raw = ch.get_or_create_stream(StreamId("raw"))
        iv = TimeInterval(T0, T0 + timedelta(days=1))
        ch.write_chunk(raw, [StreamInstance(T0 + timedelta(seconds=60 * k), 1.0) for k in range(1, 1441)],
                       TimeIntervals([iv]))
        out = ch.get_or_create_stream(StreamId("out"))
        manager.get_tool("aligned_merge", {}).execute([raw], out, iv, history=manager.run_history)
        time.sleep(0.01)
        for k in range(10 if smoke else 1000):
            raw.writer([StreamInstance(T0 + timedelta(seconds=60 * k + 7), 2.0)])
        from channels.workflows import lineage_index
        ts = []
        for _ in range(5):
            t = time.perf_counter()
            lin = lineage_index(manager).lineage("mongo", StreamId("out"))
            ts.append(time.perf_counter() - t)
        print(f"lineage of one stream after {10 if smoke else 1000:,} corrections of its input: {statistics.median(ts) * 1e3:.1f} ms "
              f"({len(lin.stale)} reason(s), {len(lin.stale_intervals)} stale intervals)")
        store.close()


if __name__ == "__main__":
    main()
