"""Every store returns the awkward floats exactly -- plain and as dict components, written as instances or as
columns -- through items(), columns(), columns(component=...) and the typed (columnar) reads."""
from __future__ import annotations

import math
import sqlite3
from datetime import datetime, timedelta

import numpy as np
import pytest

from channels.columnar import Columns
from channels.database_channel import DatabaseChannel
from channels.stores.sqlite_store import SQLiteStore
from channels.stream import StreamId, StreamInstance
from channels.time_interval import TimeInterval
from channels.utils import UTC, to_ms

from stores_fixtures import store  # noqa: F401  (the parametrised fixture)

T0 = datetime(2021, 3, 1, tzinfo=UTC)
IV = TimeInterval(T0, T0 + timedelta(hours=1))
FLOATS = [-0.0, 0.0, math.nan, math.inf, -math.inf, 5e-324, 1.7976931348623157e308, -1e-05]
MS = to_ms(T0) + 1000 * np.arange(1, len(FLOATS) + 1, dtype=np.int64)


def same_float(a, b) -> bool:
    if type(a) is not float or type(b) is not float:
        return False
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def assert_floats(got, want):
    got = list(got)
    assert len(got) == len(want), (got, want)
    assert all(same_float(g, w) for g, w in zip(got, want)), (got, want)


def non_nan(values):
    return [v for v in values if not math.isnan(v)]


@pytest.mark.parametrize("how", ["instances", "columns"])
def test_special_floats_read_back_exactly_plain_and_as_components(store, how):
    ch = DatabaseChannel("db", store)
    plain, comp = ch.get_or_create_stream("plain"), ch.get_or_create_stream("comp")
    fl = np.array(FLOATS)
    ints = np.arange(len(FLOATS), dtype=np.int64) - 3
    if how == "instances":
        ts = [T0 + timedelta(seconds=i + 1) for i in range(len(FLOATS))]
        plain.writer([StreamInstance(t, f) for t, f in zip(ts, FLOATS)])
        comp.writer([StreamInstance(t, {"x": f, "i": int(i)}) for t, f, i in zip(ts, FLOATS, ints)])
    else:
        ch.write_columns_chunk(plain, Columns(MS, "float", fl), [IV])
        ch.write_columns_chunk(comp, Columns(MS, "record", [fl, ints], names=("x", "i")), [IV])
    # items()
    p_items, c_items = plain.window(IV).items(), comp.window(IV).items()
    assert [to_ms(t) for t, _ in p_items] == MS.tolist() == [to_ms(t) for t, _ in c_items]
    assert_floats([v for _, v in p_items], FLOATS)
    assert_floats([v["x"] for _, v in c_items], FLOATS)
    assert [v["i"] for _, v in c_items] == ints.tolist() and {type(v["i"]) for _, v in c_items} == {int}
    # columns(): the numbers, NaN left out, sign of zero kept
    keep = ~np.isnan(fl)
    for ms, vals in (plain.window(IV).columns(), comp.window(IV).columns("x")):
        assert ms.tolist() == MS[keep].tolist()
        assert_floats(vals.tolist(), non_nan(FLOATS))
    # typed (columnar) reads
    typed = ch.get_typed_columns(plain, IV)
    assert typed.kind == "float" and typed.ms.tolist() == MS.tolist()
    assert_floats(typed.python_values(), FLOATS)
    x = ch.get_typed_component_columns(comp, IV, "x")
    i = ch.get_typed_component_columns(comp, IV, "i")
    assert x.kind == "float" and x.ms.tolist() == MS.tolist()
    assert_floats(x.python_values(), FLOATS)
    assert i.kind == "int" and i.python_values() == ints.tolist()


def test_sqlite_record_columns_are_stored_byte_for_byte_as_their_instances(tmp_path):
    s = SQLiteStore(tmp_path / "s.sqlite")
    fl = np.array(FLOATS + [1e22, 0.1, 123456789.0, 1e16, 2.5e-7])
    ms = to_ms(T0) + 1000 * np.arange(1, len(fl) + 1, dtype=np.int64)
    ints = np.array([0, -1, 2 ** 63 - 1, -(2 ** 63), 2 ** 53 + 1] + list(range(len(fl) - 5)), dtype=np.int64)
    for names in (("x", "y é\"\\"), None):
        cols = Columns(ms, "record", [fl, ints], names=names)
        a, b = StreamId("cols", {"n": str(names is None)}), StreamId("insts", {"n": str(names is None)})
        s.insert_columns(a, cols)
        s.insert(b, cols.instances())
        con = s._db.con()

        def rows(sid):
            return con.execute("SELECT i.ts, i.v, i.num FROM instances i JOIN streams s ON s.sid = i.sid "
                               "WHERE s.key = ? ORDER BY i.ts", (sid.key,)).fetchall()

        def comp_rows(sid):
            return con.execute("SELECT c.name, cv.ts, cv.num, cv.k FROM component_values cv JOIN components c "
                               "ON c.cid = cv.cid JOIN streams s ON s.sid = c.sid WHERE s.key = ? "
                               "ORDER BY c.name, cv.ts", (sid.key,)).fetchall()
        assert rows(a) == rows(b) and len(rows(a)) == len(fl)
        assert comp_rows(a) == comp_rows(b) and (len(comp_rows(a)) > 0) == (names is not None)
        assert [(t, repr(v)) for t, v in s.read(a, None, None)] == [(t, repr(v)) for t, v in s.read(b, None, None)]
    s.close()


def test_sqlite_component_rows_of_an_older_version_are_read_but_not_typed(tmp_path):
    path = tmp_path / "old.sqlite"
    s = SQLiteStore(path)
    sid = StreamId("d")
    s.insert(sid, [StreamInstance(T0 + timedelta(seconds=k + 1), {"x": float(k)}) for k in range(10)])
    s.close()
    con = sqlite3.connect(path)  # as a file written before component_values had its kind column
    con.executescript("ALTER TABLE component_values DROP COLUMN k;")
    con.close()
    s = SQLiteStore(path)  # reopening adds the column back, empty
    ms, vals = s.columns(sid, None, None, "x")
    assert vals.tolist() == [float(k) for k in range(10)]
    assert s.typed_component_columns(sid, None, None, "x") is None  # kind unknown: the tool reads instances
    s.insert(StreamId("e"), [StreamInstance(T0 + timedelta(seconds=1), {"x": -0.0})])
    assert math.copysign(1.0, s.columns(StreamId("e"), None, None, "x")[1][0]) < 0
    s.close()
