"""Safe value encoding for the stores. No pickle, ever: a shared database must not be able to run code.

Storable values are JSON-like (``dict`` with ``str`` keys, ``list``, ``tuple``
(stored as a list), ``str``, ``int`` of any size, ``float`` including NaN and
±inf, ``bool``, ``None``) plus aware ``datetime`` (kept to the millisecond,
returned as aware UTC) and :class:`channels.time_interval.TimeInterval`.
numpy scalars (``np.float64``, ``np.int64``, ``np.bool_``) are accepted and
stored as the matching Python number. Anything else raises
:class:`ValueEncodingError` naming the type and where it sits, e.g.
``value['a'][2] is a set``.

Two encodings:

* **Tagged JSON** (SQLite): plain JSON, except that non-JSON things become a
  one-key-tagged object ``{"$t": <tag>, ...}``:

  ``{"$t": "dt", "ms": <epoch ms>}`` a datetime,
  ``{"$t": "ti", "s": <ms>, "e": <ms>}`` a TimeInterval,
  ``{"$t": "f", "v": "nan" | "inf" | "-inf"}`` a non-finite float,
  ``{"$t": "d", "v": [[k, v], ...]}`` a user dict that itself has a ``"$t"``
  key (escaped, so every value round-trips exactly);
  ``{"$t": "b", "v": <base64>}`` bytes, in documents only (:func:`encode_document_json`: HyperStream's
  stored code parameters, never decoded here); stream values stay bytes-free.

* **BSON-native** (MongoDB, HyperStream's layout): values are stored as they
  are (datetimes as BSON dates, NaN as BSON double), except

  ``{"__hs_type__": "TimeInterval", "start": <date>, "end": <date>}``,
  ``{"__hs_type__": "int", "v": "<digits>"}`` for ints outside int64,
  ``{"__hs_type__": "dict", "items": [[k, v], ...]}`` for a user dict whose
  keys MongoDB cannot hold (``$``-prefixed, containing ``.`` or NUL) or that
  has the tag key.
"""
from __future__ import annotations

import base64
import json
import math
from datetime import datetime, timedelta

from ..errors import ValueEncodingError
from ..time_interval import TimeInterval
from ..utils import EPOCH, UTC

try:  # numpy is a hard dependency of the package, but keep the codec importable without it
    import numpy as _np
    _NP_BOOL, _NP_INT, _NP_FLOAT = _np.bool_, _np.integer, _np.floating
except ImportError:  # pragma: no cover
    _NP_BOOL = _NP_INT = _NP_FLOAT = ()

ONE_MS = timedelta(milliseconds=1)
TAG = "$t"
MONGO_TAG = "__hs_type__"
_INT64_MIN, _INT64_MAX = -(2 ** 63), 2 ** 63 - 1
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "-0": -0.0}  # "-0": see sqlite_store


def _path_text(path: str) -> str:
    return path or "value"


def _fail(path: str, what: str):
    raise ValueEncodingError(f"{_path_text(path)} is {what}: store values must be JSON-like "
                             f"(dict with text keys, list, text, number, bool, None), datetime or TimeInterval")


def _type_name(x) -> str:
    t = type(x)
    name = t.__name__
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"{article} {name}"


def dt_ms(dt: datetime, path: str = "") -> int:
    """Epoch ms of an aware datetime (floor to ms); ValueEncodingError for a naive one."""
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        raise ValueEncodingError(f"{_path_text(path)} is a naive datetime ({dt.isoformat()}): "
                                 f"give a timezone-aware datetime (e.g. tzinfo=UTC)")
    return (dt - EPOCH) // ONE_MS


def ms_dt(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


# -- tagged JSON (SQLite) -----------------------------------------------------

def _to_json(x, path: str, _bytes: bool = False):
    t = type(x)
    if t is str or x is None or t is bool or t is int:
        return x
    if t is float:
        if x != x:
            return {TAG: "f", "v": "nan"}
        if x in (math.inf, -math.inf):
            return {TAG: "f", "v": "inf" if x > 0 else "-inf"}
        return x
    if t is dict:
        out = {}
        for k, v in x.items():
            if type(k) is not str:
                if not isinstance(k, str):
                    _fail(f"{_path_text(path)} key {k!r}", "not text")
                k = str(k)
            out[k] = _to_json(v, f"{_path_text(path)}[{k!r}]", _bytes)
        # escaped as a list of pairs, so the decoder (which works inside-out) never mistakes it for a tag
        return {TAG: "d", "v": [[k, v] for k, v in out.items()]} if TAG in x else out
    if t is list or t is tuple:
        return [_to_json(v, f"{_path_text(path)}[{i}]", _bytes) for i, v in enumerate(x)]
    if isinstance(x, datetime):
        return {TAG: "dt", "ms": dt_ms(x, path)}
    if _bytes and t is bytes:
        return {TAG: "b", "v": base64.b64encode(x).decode("ascii")}
    if isinstance(x, TimeInterval):
        return {TAG: "ti", "s": dt_ms(x.start, path), "e": dt_ms(x.end, path)}
    # subclasses and numpy scalars
    if isinstance(x, (bool, _NP_BOOL)):
        return bool(x)
    if isinstance(x, (int, _NP_INT)):
        return int(x)
    if isinstance(x, (float, _NP_FLOAT)):
        return _to_json(float(x), path)
    if isinstance(x, str):
        return str(x)
    if isinstance(x, dict):
        return _to_json(dict(x), path, _bytes)
    if isinstance(x, (list, tuple)):
        return _to_json(list(x), path, _bytes)
    _fail(path, _type_name(x))


def _needs_tagging(x) -> bool:
    """True unless ``x`` is made only of plain JSON types with finite floats and no tag-key dicts."""
    t = type(x)
    if t is str or t is int or t is bool or x is None:
        return False
    if t is float:
        return x != x or x in (math.inf, -math.inf)
    if t is list:
        return any(_needs_tagging(v) for v in x)
    if t is dict:
        return TAG in x or any(type(k) is not str or _needs_tagging(v) for k, v in x.items())
    return True


def encode_document_json(document: dict) -> str:
    """Tagged-JSON text of a meta-data/plate/workflow document: as :func:`encode_json`, and ``bytes`` (HyperStream
    stores a function-valued tool parameter as pickled bytes, kept opaque here) as ``{"$t": "b", "v": <base64>}``."""
    return json.dumps(_to_json(document, "", True), separators=(",", ":"), allow_nan=False)


def encode_json(value) -> str:
    """Tagged-JSON text of a value; ValueEncodingError names the offending part."""
    if not _needs_tagging(value):
        return json.dumps(value, separators=(",", ":"))
    return json.dumps(_to_json(value, ""), separators=(",", ":"), allow_nan=False)


def _untag(obj: dict):
    tag = obj.get(TAG)
    if tag is None or len(obj) > 3:
        return obj
    if tag == "b" and len(obj) == 2:
        return base64.b64decode(obj["v"])
    if tag == "dt" and len(obj) == 2:
        return EPOCH + timedelta(milliseconds=obj["ms"])
    if tag == "ti" and len(obj) == 3:
        return TimeInterval._trusted(EPOCH + timedelta(milliseconds=obj["s"]), EPOCH + timedelta(milliseconds=obj["e"]))
    if tag == "f" and len(obj) == 2:
        return _NONFINITE[obj["v"]]
    if tag == "d" and len(obj) == 2:
        return {k: v for k, v in obj["v"]}
    return obj


def decode_json(text: str):
    """Inverse of :func:`encode_json`."""
    if "$t" not in text:
        return json.loads(text)
    return json.loads(text, object_hook=_untag)


# -- BSON-native (MongoDB) ---------------------------------------------------

def _bad_mongo_key(k: str) -> bool:
    return k.startswith("$") or "." in k or "\0" in k or k == MONGO_TAG


def _to_bson(x, path: str):
    t = type(x)
    if t is str or x is None or t is bool or t is float:
        return x
    if t is int:
        return x if _INT64_MIN <= x <= _INT64_MAX else {MONGO_TAG: "int", "v": str(x)}
    if t is dict:
        for k in x:
            if not isinstance(k, str):
                _fail(f"{_path_text(path)} key {k!r}", "not text")
        if any(_bad_mongo_key(k) for k in x):
            return {MONGO_TAG: "dict", "items": [[str(k), _to_bson(v, f"{_path_text(path)}[{k!r}]")]
                                                  for k, v in x.items()]}
        return {str(k): _to_bson(v, f"{_path_text(path)}[{k!r}]") for k, v in x.items()}
    if t is list or t is tuple:
        return [_to_bson(v, f"{_path_text(path)}[{i}]") for i, v in enumerate(x)]
    if isinstance(x, datetime):
        return ms_dt(dt_ms(x, path))  # aware UTC, truncated to ms
    if isinstance(x, TimeInterval):
        return {MONGO_TAG: "TimeInterval", "start": ms_dt(dt_ms(x.start, path)), "end": ms_dt(dt_ms(x.end, path))}
    if isinstance(x, (bool, _NP_BOOL)):
        return bool(x)
    if isinstance(x, (int, _NP_INT)):
        return _to_bson(int(x), path)
    if isinstance(x, (float, _NP_FLOAT)):
        return float(x)
    if isinstance(x, str):
        return str(x)
    if isinstance(x, dict):
        return _to_bson(dict(x), path)
    if isinstance(x, (list, tuple)):
        return _to_bson(list(x), path)
    _fail(path, _type_name(x))


def encode_bson(value):
    """A BSON-storable form of a value (see the module docstring)."""
    return _to_bson(value, "")


def _aware(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def decode_bson(x):
    """Inverse of :func:`encode_bson`; also turns naive BSON dates into aware UTC and Int64 into int."""
    t = type(x)
    if t is str or t is float or x is None or t is bool or t is int:
        return x
    if t is dict or isinstance(x, dict):
        tag = x.get(MONGO_TAG)
        if tag is not None:
            if tag == "TimeInterval" and "start" in x and "end" in x:
                return TimeInterval._trusted(_aware(x["start"]), _aware(x["end"]))
            if tag == "int" and "v" in x:
                return int(x["v"])
            if tag == "dict" and "items" in x:
                return {k: decode_bson(v) for k, v in x["items"]}
        return {k: decode_bson(v) for k, v in x.items()}
    if t is list:
        return [decode_bson(v) for v in x]
    if isinstance(x, datetime):
        return _aware(x)
    if isinstance(x, bool):
        return bool(x)
    if isinstance(x, int):  # bson.int64.Int64
        return int(x)
    if isinstance(x, float):
        return float(x)
    return x  # other BSON types written by someone else: hand them over unchanged


# -- numbers -------------------------------------------------------------------

def numeric(value) -> float | None:
    """The float a value counts as in aggregates (bools as 0/1, like lod.numeric_or_nan); None otherwise.

    NaN counts as "not numeric" (None), as in :func:`channels.lod.summarise_arrays`.
    """
    t = type(value)
    if t is float:
        return value if value == value else None
    if t is int or t is bool:
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    if isinstance(value, (int, float, _NP_INT, _NP_FLOAT, _NP_BOOL)) and not isinstance(value, complex):
        f = float(value)
        return f if f == f else None
    return None


def values_equal(a, b) -> bool:
    """Equality used for duplicate detection: ``==``, with NaN equal to NaN (also nested)."""
    try:
        if a == b:
            return True
    except Exception:  # noqa: BLE001 - exotic __eq__
        return False
    ta, tb = type(a), type(b)
    if ta is float and tb is float:
        return a != a and b != b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b))
    return False


__all__ = ["encode_json", "decode_json", "encode_bson", "decode_bson", "numeric", "values_equal", "dt_ms", "ms_dt",
           "TAG", "MONGO_TAG"]
