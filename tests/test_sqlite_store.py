"""What only the embedded SQLite store has to do: refuse foreign files untouched, schema versions, WAL, threads."""
from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timedelta

import numpy as np
import pytest

from channels.errors import StoreError
from channels.lod import summarise_arrays
from channels.stores.base import StreamDefinition
from channels.stores.sqlite_store import SCHEMA_VERSION, SQLiteStore
from channels.stream import StreamId, StreamInstance
from channels.time_interval import TimeInterval, TimeIntervals
from channels.utils import UTC, from_ms, to_ms

T0 = datetime(2022, 6, 1, tzinfo=UTC)
SID = StreamId("power", {"house": "2"})


def _instances(n, start_s=0, step_ms=1000, value=lambda i: float(i)):
    base = to_ms(T0) + start_s * 1000
    return [StreamInstance._make((from_ms(base + (i + 1) * step_ms), value(i))) for i in range(n)]


@pytest.mark.parametrize("content", [
    b"this is a text file, not a database\n" * 10,
    bytes(range(256)) * 8,
    b"SQLite format 3\x00" + b"\x00" * 20,  # header prefix only: too short
])
def test_non_sqlite_file_is_refused_and_left_untouched(tmp_path, content):
    path = tmp_path / "notes.sqlite"
    path.write_bytes(content)
    with pytest.raises(StoreError) as ei:
        SQLiteStore(path)
    assert str(path) in str(ei.value)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.sqlite"]


def test_corrupt_store_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "store.sqlite"
    with SQLiteStore(path) as s:
        s.create_definition(StreamDefinition(SID, "db"))
        s.insert(SID, _instances(500))
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    data = bytearray(path.read_bytes())
    assert data.startswith(b"SQLite format 3\x00")
    data[100:4096] = b"\xa5" * (4096 - 100)  # the schema page
    path.write_bytes(bytes(data))
    before = path.read_bytes()
    with pytest.raises(StoreError) as ei:
        SQLiteStore(path)
    assert str(path) in str(ei.value)
    assert path.read_bytes() == before


def test_other_applications_database_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO customers (name) VALUES ('x')")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(StoreError) as ei:
        SQLiteStore(path)
    assert "another application" in str(ei.value) and "customers" in str(ei.value)
    assert path.read_bytes() == before


def test_empty_file_and_missing_folder_become_a_store(tmp_path):
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    with SQLiteStore(empty) as s:
        s.insert(SID, _instances(3))
        assert s.count(SID, None, None) == 3
    with SQLiteStore(tmp_path / "a" / "b" / "new.sqlite") as s:
        assert s.list_definitions() == []


def test_newer_schema_version_is_refused(tmp_path):
    path = tmp_path / "store.sqlite"
    SQLiteStore(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE hsgui_meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    con.commit()
    con.close()
    with pytest.raises(StoreError) as ei:
        SQLiteStore(path)
    msg = str(ei.value)
    assert "newer" in msg and str(SCHEMA_VERSION + 1) in msg and str(path) in msg


def test_wal_mode(tmp_path):
    path = tmp_path / "store.sqlite"
    with SQLiteStore(path) as s:
        s.insert(SID, _instances(2))
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_reopen_persists_everything(tmp_path):
    path = tmp_path / "store.sqlite"
    ivs = TimeIntervals([TimeInterval(T0, T0 + timedelta(hours=2))])
    data = _instances(3000, step_ms=2000, value=lambda i: {"p": float(i % 97), "s": "on"} if i % 3 else float(i))
    with SQLiteStore(path) as s:
        s.create_definition(StreamDefinition(SID, "db", calculated_intervals=ivs, sandbox="sb"))
        s.insert(SID, data)
        s.record_run({"tool": "clock", "n": 1})
        before = s.summary(SID, T0, T0 + timedelta(hours=2), 12)
        before_c = s.summary(SID, T0, T0 + timedelta(hours=2), 12, component="p")
    with SQLiteStore(path) as s:
        d = s.get_definition(SID)
        assert d.calculated_intervals == ivs and d.sandbox == "sb" and d.channel_id == "db"
        assert list(s.read(SID, None, None)) == data
        assert s.list_runs() == [{"tool": "clock", "n": 1}]
        after = s.summary(SID, T0, T0 + timedelta(hours=2), 12)
        after_c = s.summary(SID, T0, T0 + timedelta(hours=2), 12, component="p")
        for a, b in ((before, after), (before_c, after_c)):
            np.testing.assert_array_equal(a.count, b.count)
            np.testing.assert_array_equal(a.mean, b.mean)
        assert after.total == 3000
        # and it keeps working
        assert s.insert(SID, _instances(10, start_s=100_000)) == 10
        assert s.count(SID, None, None) == 3010


def test_reader_sees_only_whole_batches_while_a_writer_inserts(tmp_path):
    path = tmp_path / "store.sqlite"
    store = SQLiteStore(path)
    batch, batches = 500, 30
    errors, seen = [], []
    done = threading.Event()

    def writer():
        try:
            for b in range(batches):
                store.insert(SID, _instances(batch, start_s=b * batch, value=lambda i: float(i)))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            done.set()

    def reader():
        try:
            while not done.is_set():
                n = store.count(SID, None, None)
                m = len(list(store.read(SID, None, None)))
                ms, _ = store.columns(SID, None, None)
                s = store.summary(SID, T0, T0 + timedelta(seconds=batch * batches + 1), 50)
                seen.append((n, m, len(ms), s.total))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=writer), threading.Thread(target=reader), threading.Thread(target=reader)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    store.close()
    assert not errors, errors
    assert seen, "the readers never ran"
    for counts in seen:
        assert all(c % batch == 0 for c in counts), counts
    assert len({c for counts in seen for c in counts}) > 1  # the readers did overlap with the writer


def test_summary_exact_over_many_levels_and_after_purges(tmp_path):
    """Dense data (250 ms apart) so summaries combine several levels; purges cut buckets at every level."""
    rng = np.random.default_rng(1)
    n = 40_000
    ms = to_ms(T0) + np.cumsum(rng.integers(1, 500, size=n))
    vals = rng.normal(size=n)
    vals[rng.random(n) < 0.05] = np.nan
    data = [StreamInstance._make((from_ms(m), float(v))) for m, v in zip(ms.tolist(), vals.tolist())]
    s = SQLiteStore(tmp_path / "a.sqlite")
    for chunk in range(0, n, 7000):
        s.insert(SID, data[chunk:chunk + 7000])
    cuts = [(int(ms[5000]) + 17, int(ms[9000]) - 3), (int(ms[20000]) - 1, int(ms[20001])),
            (int(ms[30000]) + 999, int(ms[39000]) + 12_345)]
    keep = np.ones(n, bool)
    for lo, hi in cuts:
        assert s.purge(SID, from_ms(lo), from_ms(hi)) == int(((ms > lo) & (ms <= hi) & keep).sum())
        keep &= ~((ms > lo) & (ms <= hi))
    # the same remaining data written afresh in one go
    fresh = SQLiteStore(tmp_path / "b.sqlite")
    fresh.insert(SID, [d for d, k in zip(data, keep) if k])
    kms, kvals = ms[keep], vals[keep]
    day0 = (to_ms(T0) // 3_600_000) * 3_600_000
    span = int(ms[-1]) - day0
    for lo, hi, b in [(day0, day0 + 6 * 3_600_000, 6), (day0, day0 + 6 * 3_600_000, 72),
                      (day0, day0 + 3 * 3_600_000, 720), (day0 + 60_000, day0 + 3_660_000, 240)]:
        want = summarise_arrays(kms, kvals, lo, hi, b)
        for store in (s, fresh):
            got = store.summary(SID, from_ms(lo), from_ms(hi), b)
            np.testing.assert_array_equal(got.count, want.count)
            np.testing.assert_array_equal(got.min, want.min)
            np.testing.assert_array_equal(got.max, want.max)
            np.testing.assert_array_equal(got.first_ms, want.first_ms)
            np.testing.assert_array_equal(got.last_ms, want.last_ms)
            np.testing.assert_allclose(got.mean, want.mean, rtol=1e-9, equal_nan=True)
    for lo_off, hi_off, b in [(123, span - 77, 2000), (5_555, span // 3, 17), (0, span, 1), (987_654, 987_700, 5)]:
        lo, hi = day0 + lo_off, day0 + hi_off
        got = s.summary(SID, from_ms(lo), from_ms(hi), b)
        assert got.total == s.count(SID, from_ms(lo), from_ms(hi)) == int(((kms > lo) & (kms <= hi)).sum())
        np.testing.assert_array_equal(got.count, fresh.summary(SID, from_ms(lo), from_ms(hi), b).count)
    s.close()
    fresh.close()
