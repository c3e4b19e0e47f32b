"""Kinds of values (object, array, string, integer, number, boolean, datetime, null) and the text of
scalars: the base of the value model. Pure Python, no Qt."""
from __future__ import annotations

import json
import math
import re
from datetime import datetime

from channels.errors import TimeError
from channels.utils import ensure_utc, parse_datetime, utcnow

#: node kinds, in the order the type selector offers them
KINDS = ("object", "array", "string", "integer", "number", "boolean", "datetime", "null")
CONTAINER_KINDS = ("object", "array")
#: what the user sees for each kind
KIND_LABELS = {"object": "object", "array": "list", "string": "text", "integer": "integer", "number": "number",
               "boolean": "boolean", "datetime": "date-time", "null": "null"}

SCHEMA_KEYWORDS = ("type", "properties", "required", "additionalProperties", "items", "enum", "default",
                   "description", "title", "format", "minimum", "maximum")

DATETIME_TAG = "$datetime"
OBJECT_TAG = "$object"


class AssetValueError(ValueError):
    """A value the asset editor cannot represent (names where it sits)."""


class JsonTextError(ValueError):
    """Raw JSON text that does not parse; ``line``/``column`` are 1-based (or None when unknown)."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.message = message
        self.line = line
        self.column = column
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(where + message)


class SchemaError(ValueError):
    """A schema that does not follow :data:`SCHEMA_KEYWORDS`."""


# -- kinds and text -----------------------------------------------------------------------------------

def kind_of(value, path: str = "value") -> str:
    """The node kind of a Python value; AssetValueError for anything the editor cannot hold."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise AssetValueError(f"{path} is a naive datetime ({value.isoformat()}): asset datetimes must be "
                                  f"timezone-aware (UTC)")
        return "datetime"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    raise AssetValueError(f"{path} is a {type(value).__name__}: the asset editor handles dicts, lists, text, "
                          f"integers, numbers, booleans, date-times and null")


def datetime_text(dt: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a ``Z``: ``2017-06-20T12:00:00.000Z``."""
    dt = ensure_utc(dt)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{dt.microsecond // 1000:03d}Z"


def number_text(x: float) -> str:
    if x != x:
        return "nan"
    if x in (math.inf, -math.inf):
        return "inf" if x > 0 else "-inf"
    return repr(x)


def scalar_text(kind: str, value) -> str:
    """The text a field shows for a scalar value (what :func:`parse_scalar` reads back)."""
    if kind == "string":
        return value
    if kind == "integer":
        return str(value)
    if kind == "number":
        return number_text(value)
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "datetime":
        return datetime_text(value)
    if kind == "null":
        return "null"
    raise ValueError(f"{kind} is not a scalar kind")


_INT_RE = re.compile(r"^[+-]?\d+$")


def parse_scalar(kind: str, text: str):
    """Parse field text as ``kind``; ValueError with a readable reason when it does not fit."""
    if kind == "string":
        return text
    t = text.strip()
    if kind == "integer":
        if not t:
            raise ValueError("enter a whole number")
        if _INT_RE.match(t):
            return int(t)
        try:
            float(t)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
        raise ValueError(f"{text!r} is not a whole number (change the type to number for decimals)")
    if kind == "number":
        if not t:
            raise ValueError("enter a number")
        try:
            return float(t)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
    if kind == "boolean":
        low = t.lower()
        if low in ("true", "yes", "1"):
            return True
        if low in ("false", "no", "0"):
            return False
        raise ValueError(f"{text!r} is not true or false")
    if kind == "datetime":
        if not t:
            raise ValueError("enter a date-time such as 2017-06-20T12:00:00Z")
        try:
            return parse_datetime(t)
        except TimeError as e:
            raise ValueError(str(e)) from None
    if kind == "null":
        if t in ("", "null"):
            return None
        raise ValueError("a null field holds no value")
    raise ValueError(f"{kind} is not a scalar kind")


def default_for_kind(kind: str):
    return {"object": {}, "array": [], "string": "", "integer": 0, "number": 0.0, "boolean": False,
            "datetime": None, "null": None}[kind] if kind != "datetime" else utcnow()


# -- paths ------------------------------------------------------------------------------------------------
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def path_text(path) -> str:
    """``("houses", 0, "name")`` -> ``houses[0].name``; the root is ``(root)``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.match(part):
            out += ("." if out else "") + part
        else:
            out += "[" + json.dumps(part, ensure_ascii=False) + "]"
    return out or "(root)"
