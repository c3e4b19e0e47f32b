"""The raw JSON text of a value (round-trips datetimes and every float).

Pure Python, no Qt; the text format is described in :mod:`.value_model`.
"""
from __future__ import annotations

import json
import re

from channels.errors import TimeError
from channels.utils import parse_datetime

from .value_kinds import (CONTAINER_KINDS, DATETIME_TAG, OBJECT_TAG, JsonTextError, datetime_text, kind_of, path_text, scalar_text)


# -- raw JSON ----------------------------------------------------------------------------------------------

def _to_jsonable(value):
    k = kind_of(value)
    if k == "datetime":
        return {DATETIME_TAG: datetime_text(value)}
    if k == "object":
        out = {key: _to_jsonable(v) for key, v in value.items()}
        if len(value) == 1 and next(iter(value)) in (DATETIME_TAG, OBJECT_TAG):
            return {OBJECT_TAG: out}
        return out
    if k == "array":
        return [_to_jsonable(v) for v in value]
    return value


def _pretty(x, indent: int, level: int, width: int) -> str:
    flat = json.dumps(x, ensure_ascii=False, separators=(", ", ": "))
    if not isinstance(x, (dict, list)) or not x or len(flat) + indent * level <= width:
        return flat
    pad, inner = " " * (indent * level), " " * (indent * (level + 1))
    if isinstance(x, dict):
        parts = [inner + json.dumps(k, ensure_ascii=False) + ": " + _pretty(v, indent, level + 1, width)
                 for k, v in x.items()]
        return "{\n" + ",\n".join(parts) + "\n" + pad + "}"
    parts = [inner + _pretty(v, indent, level + 1, width) for v in x]
    return "[\n" + ",\n".join(parts) + "\n" + pad + "]"


def to_json_text(value, indent: int | None = 2, width: int = 72) -> str:
    """The raw JSON form of a value (see the module docstring).

    With ``indent``, containers that fit in ``width`` columns stay on one line.
    """
    if indent is None:
        return json.dumps(_to_jsonable(value), ensure_ascii=False, separators=(", ", ": "))
    return _pretty(_to_jsonable(value), indent, 0, width)


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


class _Dup(Exception):
    def __init__(self, key):
        self.key = key


def _pairs(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise _Dup(k)
        out[k] = v
    return out


def _from_jsonable(x, path=()):
    if isinstance(x, dict):
        if len(x) == 1 and DATETIME_TAG in x:
            text = x[DATETIME_TAG]
            if not isinstance(text, str):
                raise JsonTextError(f"{path_text(path)}: {DATETIME_TAG} needs ISO date-time text, "
                                    f"got {json.dumps(text)}")
            try:
                return parse_datetime(text)
            except TimeError as e:
                raise JsonTextError(f"{path_text(path)}: {e}") from None
        if len(x) == 1 and OBJECT_TAG in x and isinstance(x[OBJECT_TAG], dict):
            return {k: _from_jsonable(v, path + (k,)) for k, v in x[OBJECT_TAG].items()}
        return {k: _from_jsonable(v, path + (k,)) for k, v in x.items()}
    if isinstance(x, list):
        return [_from_jsonable(v, path + (i,)) for i, v in enumerate(x)]
    return x


def parse_json_text(text: str):
    """Inverse of :func:`to_json_text`; JsonTextError with line/column for malformed text or a duplicate key."""
    if not text.strip():
        raise JsonTextError("the text is empty: write a JSON value, e.g. {}")
    try:
        raw = json.loads(text, object_pairs_hook=_pairs)
    except json.JSONDecodeError as e:
        raise JsonTextError(e.msg, e.lineno, e.colno) from None
    except _Dup as d:
        # point at the second occurrence of the key
        hits = [m.start() for m in re.finditer(re.escape(json.dumps(d.key, ensure_ascii=False)) + r"\s*:", text)]
        line, col = _line_col(text, hits[1]) if len(hits) > 1 else (None, None)
        raise JsonTextError(f"duplicate key {d.key!r}: keys of an object must be unique", line, col) from None
    except RecursionError:
        raise JsonTextError("the value is nested too deeply") from None
    return _from_jsonable(raw)


def short_text(value, limit: int = 40) -> str:
    text = to_json_text(value, indent=None) if kind_of(value) in CONTAINER_KINDS else (
        repr(value) if isinstance(value, str) else scalar_text(kind_of(value), value))
    return text if len(text) <= limit else text[:limit - 1] + "…"
