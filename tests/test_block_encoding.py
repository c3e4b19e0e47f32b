"""Encoded array blocks in the embedded store (issue 25: a bulk import is bound by the bytes it writes): every
float64 bit pattern and every int64 ms written as blocks comes back exactly; files whose blocks were written
raw by the earlier version read as before and take encoded blocks beside them; a file holding encoded blocks
is refused, with the "newer version" error, by a version that only knows raw blocks.
"""
from __future__ import annotations

import os
import sqlite3

import numpy as np
import pytest

from channels import StreamId
from channels.errors import StoreError
from channels.stores import sqlite_db
from channels.stores.base import StreamDefinition
from channels.stores.block_codec import decode_num, decode_ts
from channels.stores.sqlite_blocks import BLOCK_N
from channels.stores.sqlite_store import SQLiteStore
from channels.utils import EPOCH
from datetime import timedelta

S = StreamId("enc", {"k": "e"})
T0 = 1_577_836_800_000


def dt(ms):
    return EPOCH + timedelta(milliseconds=int(ms))


def bits(a):
    return np.ascontiguousarray(a, np.float64).view(np.int64)


def value_sets(n, rng):
    """Values of many kinds: decimals (with and without NaN, -0.0, inf among them), smooth series, integers,
    constants, and arbitrary 64-bit patterns (NaN payloads, subnormals, the extremes)."""
    dec = np.round(20 + rng.standard_normal(n), 3)
    dec_special = dec.copy()
    for x, k in ((np.nan, 40), (-0.0, 12), (0.0, 9), (np.inf, 3), (-np.inf, 2), (5e-324, 2), (1 / 3, 5)):
        dec_special[rng.choice(n, k, replace=False)] = x
    dec_special[:3] = np.array([0x7FF8_0000_0000_0123, 0xFFF0_0000_0000_0001, 0x8000_0000_0000_0000],
                               np.uint64).view(np.float64)      # NaN payloads (quiet, signalling) and -0.0 first
    return {
        "decimals": dec,
        "decimals with specials": dec_special,
        "smooth": np.round(50 + np.cumsum(rng.standard_normal(n)) * 0.01, 2),
        "sine": 20 + np.sin(np.arange(n) / 100),
        "integers": np.arange(n, dtype=np.float64) * 1000 - 7e9,
        "constant": np.full(n, -3.25),
        "any bits": rng.integers(-2 ** 63, 2 ** 63 - 1, n, dtype=np.int64).view(np.float64),
        "extremes": np.resize(np.array([np.finfo(float).max, -np.finfo(float).max, np.finfo(float).tiny,
                                        5e-324, 1e15 + 0.5, -1e-15]), n),
    }


def time_sets(n, rng):
    huge = rng.integers(1, 2 ** 32, n)
    huge[rng.choice(n, 5, replace=False)] = 2 ** 36     # steps that need 8 bytes
    return {
        "every second": T0 + np.arange(n, dtype=np.int64) * 1000,
        "uneven": T0 + np.cumsum(rng.choice([1, 2, 7, 1000, 3_600_000], n)).astype(np.int64),
        "before 1970, huge steps": -6 * 10 ** 13 + np.cumsum(huge).astype(np.int64),
    }


@pytest.mark.parametrize("n", [BLOCK_N * 3 + 17, 1031])
def test_every_float64_bit_pattern_and_every_time_comes_back_exactly(tmp_path, n):
    rng = np.random.default_rng(n)
    path = tmp_path / "s.sqlite"
    store = SQLiteStore(path)
    written = {}
    for (vk, v), (tk, ms) in zip(value_sets(n, rng).items(), list(time_sets(n, rng).items()) * 3):
        sid = StreamId(f"{vk} / {tk}")
        store.create_definition(StreamDefinition(sid, "mongo"))
        store.insert_arrays(sid, ms, v)
        written[sid] = (ms, v)
    store.close()
    store = SQLiteStore(path)   # read back from the file
    for sid, (ms, v) in written.items():
        got = store.typed_columns(sid, None, None)
        assert np.array_equal(got.ms, ms), sid
        assert np.array_equal(bits(got.values), bits(v)), sid
        # a window cutting blocks, as instances
        lo, hi = int(ms[n // 3]), int(ms[2 * n // 3])
        inst = list(store.read(sid, dt(lo), dt(hi)))
        assert [i.timestamp for i in inst] == [dt(t) for t in ms[n // 3 + 1:2 * n // 3 + 1]]
        assert np.array_equal(bits([i.value for i in inst]), bits(v[n // 3 + 1:2 * n // 3 + 1])), sid
    store.close()


def test_regular_decimal_data_takes_a_fraction_of_the_raw_bytes(tmp_path):
    n = 50 * BLOCK_N
    rng = np.random.default_rng(3)
    store = SQLiteStore(tmp_path / "s.sqlite")
    store.create_definition(StreamDefinition(S, "mongo"))
    store.insert_arrays(S, T0 + np.arange(n, dtype=np.int64) * 1000, np.round(20 + rng.standard_normal(n), 3))
    store.close()
    con = sqlite3.connect(tmp_path / "s.sqlite")
    stored = con.execute("SELECT sum(length(ts) + length(num)) FROM blocks").fetchone()[0]
    con.close()
    assert stored < 16 * n / 6      # 16 bytes an instance raw; about 2.0 encoded (a 1 s step, 3 decimals)
    assert os.path.getsize(tmp_path / "s.sqlite") < 16 * n / 3


def _as_earlier_version_wrote_it(path):
    """Rewrite every block of the file raw (int64 / float64 little-endian), schema version 2: the file the
    version before encoded blocks wrote."""
    con = sqlite3.connect(path)
    rows = con.execute("SELECT sid, t0, n, ts, num FROM blocks").fetchall()
    for sid, t0, n, ts, num in rows:
        con.execute("UPDATE blocks SET ts=?, num=? WHERE sid=? AND t0=?",
                    (decode_ts(ts, n).tobytes(), decode_num(num, n).tobytes(), sid, t0))
    con.execute("UPDATE hsgui_meta SET value='2' WHERE key='schema_version'")
    con.commit()
    raw = con.execute("SELECT count(*) FROM blocks WHERE length(ts) = 8 * n AND length(num) = 8 * n").fetchone()[0]
    con.close()
    return len(rows), raw


def test_raw_blocks_of_an_earlier_file_read_and_mix_with_encoded_ones(tmp_path):
    path = tmp_path / "old.sqlite"
    n = 3 * BLOCK_N + 5
    rng = np.random.default_rng(5)
    ms = T0 + np.cumsum(rng.choice([1, 1000, 60_000], 3 * n)).astype(np.int64)
    v = np.round(rng.standard_normal(3 * n) * 100, 2)
    v[rng.choice(3 * n, 30, replace=False)] = np.nan
    store = SQLiteStore(path)
    store.create_definition(StreamDefinition(S, "mongo"))
    store.insert_arrays(S, ms[:n], v[:n])
    store.close()
    blocks, raw = _as_earlier_version_wrote_it(path)
    assert blocks == raw == 4
    store = SQLiteStore(path)   # opens (version 2) and reads the raw blocks
    assert np.array_equal(bits(store.typed_columns(S, None, None).values), bits(v[:n]))
    store.insert_arrays(S, ms[n:], v[n:])   # encoded blocks after the raw ones
    # a purge cutting a raw block and an encoded one: both rewritten, the rest kept
    cut_lo, cut_hi = int(ms[n - 100]), int(ms[n + 100])
    store.purge(S, dt(cut_lo), dt(cut_hi))
    keep = (ms <= cut_lo) | (ms > cut_hi)
    got = store.typed_columns(S, None, None)
    assert np.array_equal(got.ms, ms[keep]) and np.array_equal(bits(got.values), bits(v[keep]))
    assert store.count(S, dt(int(ms[10])), dt(int(ms[-10]))) == int(np.count_nonzero(keep[11:-9]))
    store.close()
    con = sqlite3.connect(path)
    version = con.execute("SELECT value FROM hsgui_meta WHERE key='schema_version'").fetchone()[0]
    kinds = con.execute("SELECT sum(length(num) = 8 * n), sum(length(num) < 8 * n) FROM blocks").fetchone()
    con.close()
    assert version == "3" and kinds[0] >= 2 and kinds[1] >= 6


def test_a_version_that_reads_only_raw_blocks_refuses_a_file_with_encoded_ones(tmp_path, monkeypatch):
    path = tmp_path / "new.sqlite"
    store = SQLiteStore(path)
    store.create_definition(StreamDefinition(S, "mongo"))
    store.insert_arrays(S, T0 + np.arange(BLOCK_N, dtype=np.int64) * 1000, np.arange(BLOCK_N) / 4)
    store.close()
    monkeypatch.setattr(sqlite_db, "SCHEMA_VERSION", 2)    # the version before encoded blocks
    with pytest.raises(StoreError) as e:
        SQLiteStore(path)
    msg = str(e.value)
    assert "newer version" in msg and "schema version 3" in msg and str(path) in msg
    _as_earlier_version_wrote_it(path)                     # the same data raw: that version opens it
    SQLiteStore(path).close()


def test_an_imported_parquet_file_is_stored_value_for_value(tmp_path):
    """A Parquet file of several batches (a regular second clock with a gap; decimals, NaN, -0.0, values with
    many digits, a missing value) imports into encoded blocks that give back every instance of the file."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    from channels import ChannelManager
    from channels.import_reading import BATCH_ROWS
    from channels.importing import ImportSpec, import_file
    n = 2 * BATCH_ROWS + 999
    rng = np.random.default_rng(11)
    ms = T0 + np.arange(n, dtype=np.int64) * 1000
    ms[n // 2:] += 3_600_000                                       # an hour without readings
    temp = np.round(20 + rng.standard_normal(n), 3)
    temp[rng.choice(n, 50, replace=False)] = np.nan
    temp[rng.choice(n, 20, replace=False)] = -0.0
    temp[rng.choice(n, 20, replace=False)] = np.pi
    humid = rng.standard_normal(n) * 5 + 50                        # not decimals
    missing = np.zeros(n, bool)
    missing[rng.choice(n, 30, replace=False)] = True
    path = tmp_path / "readings.parquet"
    pq.write_table(pa.table({"time": pa.array(ms, pa.timestamp("ms", tz="UTC")), "temp": pa.array(temp),
                             "humid": pa.array(humid, mask=missing)}), path, row_group_size=100_000)
    manager = ChannelManager.open(str(tmp_path / "store.sqlite"))
    db = manager.get_channel("mongo")
    report = import_file(db, ImportSpec(str(path), "time", ["temp", "humid"]))
    assert report.instances_written == 2 * n - 30 and report.rows_malformed == 0
    store = db.store
    for name, v, keep in (("temp", temp, np.ones(n, bool)), ("humid", humid, ~missing)):
        got = store.typed_columns(StreamId(name), None, None)
        assert np.array_equal(got.ms, ms[keep]) and np.array_equal(bits(got.values), bits(v[keep])), name
    manager.close()
    con = sqlite3.connect(tmp_path / "store.sqlite")
    stored, instances = con.execute("SELECT sum(length(ts) + length(num)), sum(n) FROM blocks").fetchone()
    con.close()
    assert instances > 2 * n - 3000 and stored < 16 * instances * 0.6   # the last, short batch went in as rows


def test_a_damaged_block_is_a_store_error_saying_so(tmp_path):
    path = tmp_path / "s.sqlite"
    store = SQLiteStore(path)
    store.create_definition(StreamDefinition(S, "mongo"))
    store.insert_arrays(S, T0 + np.arange(BLOCK_N, dtype=np.int64) * 1000, np.arange(BLOCK_N) / 4)
    store.close()
    con = sqlite3.connect(path)
    con.execute("UPDATE blocks SET num = X'07000000'")    # an encoding byte no version wrote
    con.commit()
    con.close()
    store = SQLiteStore(path)
    with pytest.raises(StoreError, match="damaged array block: unknown value encoding 7"):
        store.typed_columns(S, None, None)
    store.close()
