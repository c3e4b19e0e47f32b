"""The columnar side of the SQLite store, and the row helpers its parts share.

:func:`columns_batch` turns a :class:`channels.columnar.Columns` batch into the :class:`RowBatch` that
``SQLiteStore.insert`` would make of the same instances (same ``v``/``num`` columns, same component rows),
formatting the text from the arrays; :class:`SQLiteColumnReader` (owned by the store, reaching the file through
its :class:`channels.stores.sqlite_db.SQLiteDatabase`) reads them back as Columns in one query each
(``typed_columns``, ``typed_component_columns``).

Component kinds: ``component_values.k`` records the Python type of each component value, so a column of them
reads back exactly (REAL drops the sign of zero and the int/float distinction): :data:`K_FLOAT` (the value is
``num``), :data:`K_NEG_ZERO` (-0.0), :data:`K_BOOL`, :data:`K_INT` (an int that ``num`` holds exactly, i.e.
within +-2**53), :data:`K_OTHER` (another number). NULL: written by a version that did not record the kind
(read back as ``num``; the typed read declines).
"""
from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from itertools import repeat
from typing import NamedTuple

import numpy as np

from ..columnar import Columns, check_arrays
from ..utils import EPOCH, ensure_utc, to_ms

_LO = -(2 ** 62)  # "no start"
_HI = 2 ** 62     # "no end"
#: the tagged text of -0.0: SQLite's REAL storage drops the sign of zero, so v keeps it (num stays 0.0)
_NEG_ZERO_TEXT = '{"$t":"f","v":"-0"}'
_NAN_TEXT = '{"$t":"f","v":"nan"}'
_DT_PREFIX = '{"$t":"dt","ms":'
_TI_PREFIX = '{"$t":"ti","s":'
_NONFINITE_JSON = {"nan": _NAN_TEXT, "inf": '{"$t":"f","v":"inf"}', "-inf": '{"$t":"f","v":"-inf"}'}

K_FLOAT, K_NEG_ZERO, K_BOOL, K_INT, K_OTHER = 0, 1, 2, 3, 4
_K_NAN, _K_SKIP = 5, 9  # typed_component_columns only: a NaN (no component row), an instance the key skips
_EXACT_INT = 2 ** 53


def _ms(dt: datetime | None, default: int) -> int:
    return default if dt is None else to_ms(ensure_utc(dt, "time"))


def _dt(ms):
    return None if ms is None else EPOCH + timedelta(milliseconds=ms)


class RowBatch(NamedTuple):
    """A batch ready for the ``instances`` table, everything computed before the write transaction.

    ``ms`` (list) / ``ms_arr`` (int64) the epoch ms of each instance in batch order; ``num_arr`` / ``numcol`` the
    ``num`` column (array / list); ``vcol`` the ``v`` column (None: every value is in ``num`` alone); ``vals`` the
    values as Python objects, indexable (only read for a conflict message); ``keep`` the indices to write in time
    order (None: all, already ordered); ``comp_items`` the dict values' numeric components (see
    :func:`dict_components`) or None.
    """
    n: int
    ms: list
    ms_arr: np.ndarray
    num_arr: np.ndarray
    vcol: list | None
    numcol: list
    vals: object
    keep: list | None
    comp_items: object


def _empty() -> Columns:
    return Columns(np.zeros(0, np.int64), "float", np.zeros(0))


class _LazyValues:
    """``values[i]`` of a Columns batch as its Python object, made only when asked (for a conflict message)."""

    def __init__(self, columns):
        self.columns = columns

    def __getitem__(self, i):
        return self.columns.slice(i, i + 1).python_values()[0]


def component_kind(cv, f: float) -> int:
    """The ``component_values.k`` of a numeric component value ``cv`` whose ``num`` is ``f``."""
    t = type(cv)
    if t is float:
        return K_NEG_ZERO if f == 0.0 and math.copysign(1.0, f) < 0 else K_FLOAT
    if t is int:
        return K_INT if -_EXACT_INT <= cv <= _EXACT_INT else K_OTHER
    if t is bool or isinstance(cv, (bool, np.bool_)):
        return K_BOOL
    if isinstance(cv, (int, np.integer)):
        return K_INT if -_EXACT_INT <= int(cv) <= _EXACT_INT else K_OTHER
    if isinstance(cv, (float, np.floating)):
        return K_NEG_ZERO if f == 0.0 and math.copysign(1.0, f) < 0 else K_FLOAT
    return K_OTHER


def dict_components(comp_items, ms, keep, numeric) -> dict:
    """``{name: (ms list, num list, k list)}`` of the numeric top-level components of the dicts ``comp_items``
    (``(batch index, dict)`` pairs; only the indices in ``keep`` unless it is None), or of a
    :class:`RecordComponents`."""
    if not comp_items:
        return {}
    if isinstance(comp_items, RecordComponents):
        return comp_items.components(keep)
    comps: dict = {}
    wanted = None if keep is None else set(keep)
    for i, x in comp_items:
        if wanted is not None and i not in wanted:
            continue
        t = ms[i]
        for k, cv in x.items():
            f = numeric(cv)
            if f is not None:
                entry = comps.get(k)
                if entry is None:
                    entry = comps[k] = ([], [], [])
                entry[0].append(t)
                entry[1].append(f)
                entry[2].append(component_kind(cv, f))
    return comps


class RecordComponents:
    """The component rows of a record Columns batch with names, computed from its arrays."""

    def __init__(self, columns):
        self.columns = columns

    def components(self, keep) -> dict:
        c = self.columns
        ka = None if keep is None else np.asarray(keep, dtype=np.int64)
        ms = c.ms if ka is None else c.ms[ka]
        out = {}
        for name, arr in zip(c.names, c.values):
            a = arr if ka is None else arr[ka]
            if a.dtype == np.float64:
                m = ~np.isnan(a)
                t, v = ms[m], a[m]
                k = np.where((v == 0.0) & np.signbit(v), K_NEG_ZERO, K_FLOAT)
            else:
                t, v = ms, a.astype(np.float64)
                k = np.where((a >= -_EXACT_INT) & (a <= _EXACT_INT), K_INT, K_OTHER)
            if len(t):
                out[name] = (t.tolist(), v.tolist(), k.tolist())
        return out


def _field_texts(arr: np.ndarray) -> list:
    """JSON texts of a float64/int64 array as encode_json writes them inside a dict or list (repr of each
    number; non-finite floats tagged)."""
    texts = list(map(repr, arr.tolist()))
    if arr.dtype == np.float64:
        for i in np.flatnonzero(~np.isfinite(arr)).tolist():
            texts[i] = _NONFINITE_JSON[texts[i]]
    return texts


def record_texts(columns) -> list | None:
    """The tagged-JSON ``v`` text of each value of a record Columns, byte for byte what ``encode_json`` writes
    for the dicts (lists) ``python_values()`` makes; None when that cannot be formatted here (a name that is the
    tag key, which encode_json escapes)."""
    fields = [_field_texts(a) for a in columns.values]
    if columns.names is None:
        parts = [repeat("[")]
        for j, f in enumerate(fields):
            parts += [repeat(","), f] if j else [f]
        parts.append(repeat("]"))
    else:
        if "$t" in columns.names:
            return None
        parts = []
        for j, (name, f) in enumerate(zip(columns.names, fields)):
            parts += [repeat(("{" if j == 0 else ",") + json.dumps(name) + ":"), f]
        parts.append(repeat("}"))
    return list(map("".join, zip(*parts)))


def _safe_json_key(key: str) -> bool:
    return key.isascii() and key.isprintable() and '"' not in key and "\\" not in key


def columns_batch(stream_id, columns):
    """The :class:`RowBatch` of a non-float :class:`channels.columnar.Columns` (floats go through
    ``insert_arrays``), without per-instance objects: the ``v`` text of datetimes, intervals and records is
    formatted from the arrays. None for records whose text cannot be formatted here (write them as instances)."""
    kind = columns.kind
    ms_arr, _ = check_arrays(stream_id, columns.ms, np.zeros(len(columns)))
    ms_l = ms_arr.tolist()
    n = len(ms_l)
    comps = None
    if kind == "int":  # as insert: v the INTEGER, num its REAL
        num_arr = columns.values.astype(np.float64)
        vcol, numcol = columns.values.tolist(), num_arr.tolist()
    else:
        num_arr, numcol = np.full(n, np.nan), [None] * n
        if kind == "datetime":
            vcol = [f'{{"$t":"dt","ms":{m}}}' for m in columns.values.tolist()]
        elif kind == "interval":
            vcol = [f'{{"$t":"ti","s":{a},"e":{b}}}' for a, b in zip(columns.starts.tolist(),
                                                                     columns.values.tolist())]
        else:
            vcol = record_texts(columns)
            if vcol is None:
                return None
            if columns.names is not None:
                comps = RecordComponents(columns)
    return RowBatch(n, ms_l, ms_arr, num_arr, vcol, numcol, _LazyValues(columns), None, comps)


class SQLiteColumnReader:
    """Typed columnar reads of one store file; see the module docstring."""

    def __init__(self, db, stored):
        """``stored``: the store's :class:`channels.stores.sqlite_blocks.StoredInstances` (its one reader)."""
        self.db = db
        self.stored = stored

    # the row columns of each kind (see typed_columns): a row of another kind yields something the int64/float64
    # field cannot take (None or text), which means "not columnar". Datetimes and intervals are read from their
    # tagged JSON by prefix: encode_json writes a top-level datetime exactly as {"$t":"dt","ms":N} and an
    # interval as {"$t":"ti","s":A,"e":B} (a user dict with a "$t" key is escaped as {"$t":"d",...}), and CAST
    # takes the integer at the start of the text. Floats: v is NULL (the value is num), or NaN / -0.0 spelled in
    # v (flag 1 / 2).
    _KINDS = {
        "float": (f"num, CASE WHEN v IS NULL THEN 0 WHEN v = '{_NAN_TEXT}' THEN 1 WHEN v = '{_NEG_ZERO_TEXT}' "
                  f"THEN 2 ELSE 'x' END", np.dtype([("t", "<i8"), ("v", "<f8"), ("f", "<i1")])),
        "int": ("CASE WHEN typeof(v) = 'integer' THEN v END", np.dtype([("t", "<i8"), ("v", "<i8")])),
        "datetime": (f"CASE WHEN substr(v, 1, 16) = '{_DT_PREFIX}' THEN CAST(substr(v, 17) AS INTEGER) END",
                     np.dtype([("t", "<i8"), ("v", "<i8")])),
        "interval": (f"CASE WHEN substr(v, 1, 15) = '{_TI_PREFIX}' THEN CAST(substr(v, 16) AS INTEGER) END, "
                     f"CAST(substr(v, instr(v, ',\"e\":') + 5) AS INTEGER)",
                     np.dtype([("t", "<i8"), ("s", "<i8"), ("e", "<i8")])),
    }

    def typed_columns(self, stream_id, start, end):
        """The instances in ``(start, end]`` as :class:`channels.columnar.Columns` when their values are all floats,
        all ints, all datetimes or all TimeIntervals (decoded in SQL, no per-instance Python objects); None
        otherwise. The kind is that of the first instance (a block's instances are floats)."""
        lo, hi = _ms(start, _LO), _ms(end, _HI)
        db, stored = self.db, self.stored
        with db.errors(f"reading columns of stream {stream_id}"), db.snapshot() as con:
            sid = db.sid(con, stream_id)
            if sid is None:
                return _empty()
            span = stored.bounds(con, sid, lo, hi)
            if span is None:
                return _empty()
            v, _ = stored.at(con, sid, np.array([span[0]], dtype=np.int64))[span[0]]
            if v is None or v in (_NAN_TEXT, _NEG_ZERO_TEXT):
                kind = "float"
            elif type(v) is int:  # ints within int64 are stored as the INTEGER itself
                kind = "int"
            elif v[:16] == _DT_PREFIX:
                kind = "datetime"
            elif v[:15] == _TI_PREFIX:
                kind = "interval"
            else:
                return None
            cols, dtype = self._KINDS[kind]
            parts = []
            try:
                for rows, bts, bnum in stored.pieces(sid, lo, hi, cols):
                    a = np.fromiter(rows, dtype, len(rows))
                    if len(bts):
                        if kind != "float":
                            return None  # a block's floats among other kinds
                        b = np.zeros(len(bts), dtype)
                        b["t"], b["v"] = bts, bnum
                        a = np.concatenate((a, b))
                        if len(rows):
                            a = a[np.argsort(a["t"], kind="stable")]
                    parts.append(a)
            except (TypeError, ValueError):
                return None  # mixed kinds: the caller reads instances
            a = parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0, dtype)
            if kind == "float":
                values = a["v"]
                if a["f"].any():
                    values = values.copy()
                    values[a["f"] == 1] = np.nan
                    values[a["f"] == 2] = -0.0
                return Columns(np.ascontiguousarray(a["t"]), "float", np.ascontiguousarray(values))
            if kind == "interval":
                return Columns(a["t"], "interval", a["e"], a["s"])
            return Columns(np.ascontiguousarray(a["t"]), kind, np.ascontiguousarray(a["v"]))

    def typed_component_columns(self, stream_id, start, end, key):
        """``value[key]`` of the instances in ``(start, end]`` whose dict value has ``key`` (the others skipped, as
        ``StreamView.component`` does) as float or int Columns, exactly; None when they are not all floats or all
        ints, or the store cannot tell (component rows written without their kind)."""
        lo, hi = _ms(start, _LO), _ms(end, _HI)
        dtype = np.dtype([("t", "<i8"), ("v", "<f8"), ("k", "<i1")])
        db = self.db
        with db.errors(f"reading component {key!r} of stream {stream_id}"), db.snapshot() as con:
            sid = db.sid(con, stream_id)
            if sid is None:
                return _empty()
            cid = db.cid(con, sid, key)
            n = self.stored.count(con, sid, lo, hi)
            m = 0 if cid is None else con.execute("SELECT count(*) FROM component_values WHERE cid=? AND ts>? "
                                                  "AND ts<=?", (cid, lo, hi)).fetchone()[0]
            try:
                if n == m:  # every instance has a numeric value[key]: the component rows alone
                    if n == 0:
                        return _empty()
                    a = np.fromiter(con.execute("SELECT ts, num, k FROM component_values WHERE cid=? AND ts>? "
                                                "AND ts<=? ORDER BY ts", (cid, lo, hi)), dtype)
                elif not _safe_json_key(key):
                    return None
                else:  # the others: skipped (not a dict, no such key), NaN, or anything else ('x': decline).
                    # Rows only: a block holds floats, which a component read skips (see sqlite_blocks)
                    path = "$." + json.dumps(key)
                    a = np.fromiter(con.execute(
                        f"SELECT i.ts, ifnull(cv.num, 0.0), CASE WHEN cv.ts IS NOT NULL THEN cv.k "
                        f"WHEN typeof(i.v) <> 'text' OR substr(i.v, 1, 1) <> '{{' THEN {_K_SKIP} "
                        f"WHEN substr(i.v, 1, 6) = '{{\"$t\":' THEN "
                        f"CASE WHEN substr(i.v, 1, 10) = '{{\"$t\":\"d\",' THEN 'x' ELSE {_K_SKIP} END "
                        f"WHEN json_type(i.v, ?) IS NULL THEN {_K_SKIP} "
                        f"WHEN json_extract(i.v, ?) = ? THEN {_K_NAN} ELSE 'x' END "
                        f"FROM instances i LEFT JOIN component_values cv ON cv.cid = ? AND cv.ts = i.ts "
                        f"WHERE i.sid=? AND i.ts>? AND i.ts<=? ORDER BY i.ts",
                        (path, path, _NAN_TEXT, -1 if cid is None else cid, sid, lo, hi)), dtype)
                    a = a[a["k"] != _K_SKIP]
            except (TypeError, ValueError):
                return None
        kinds = set(np.unique(a["k"]).tolist())
        if not kinds:
            return _empty()
        if kinds <= {K_FLOAT, K_NEG_ZERO, _K_NAN}:
            values = a["v"]
            if kinds != {K_FLOAT}:
                values = values.copy()
                values[a["k"] == K_NEG_ZERO] = -0.0
                values[a["k"] == _K_NAN] = np.nan
            return Columns(a["t"], "float", values)
        if kinds == {K_INT}:
            return Columns(a["t"], "int", a["v"].astype(np.int64))
        return None
