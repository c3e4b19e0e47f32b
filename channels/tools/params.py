"""Tool parameter introspection (for the GUI's parameter form) and coercion of user-entered values.

``parameter_specs(tool_class)`` reads the annotated ``__init__`` of a tool
(``from __future__ import annotations`` is fine) and its docstring (Sphinx
``:param x:``, Google ``Args:`` or numpy ``Parameters`` sections).

``coerce_parameters(tool_class, raw)`` turns form values (text such as
``"3.5"``, ``"true"``, ``"2017-06-20T12:00Z"``, ``"60s"``, ``"[1, 2]"``) into
the annotated types. Text date-times without an offset are read as UTC; a
naive ``datetime`` object is an error. Parameters without an annotation take
the type of their default where there is one ("inferred"); for those,
conversion is best effort and text that does not convert is passed on as is.
"""
from __future__ import annotations

import collections.abc
import enum
import inspect
import json
import re
import types
import typing
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..errors import TimeError, ToolParameterError
from .functions import AggregateFunctionName, ElementFunctionName, function_names
from ..time_interval import RelativeTimeInterval, TimeInterval, TimeIntervals
from ..utils import ensure_utc, get_timedelta, parse_datetime


class _Required:
    _inst = None

    def __new__(cls):
        if cls._inst is None:
            cls._inst = super().__new__(cls)
        return cls._inst

    def __repr__(self):
        return "REQUIRED"

    def __bool__(self):
        return False


#: marker for "no default: the parameter must be given"
REQUIRED = _Required()

#: kinds (``ParameterSpec.kind``)
KINDS = ("bool", "int", "float", "str", "datetime", "timedelta", "list", "dict", "time_interval",
         "relative_time_interval", "choice", "function", "any")


@dataclass
class ParameterSpec:
    name: str
    annotation: Any                 # the type hint as written (None when not annotated)
    type: Any                       # the base type (Optional unwrapped); None for "any"
    kind: str                       # one of KINDS
    default: Any = REQUIRED         # REQUIRED when the parameter has no default
    choices: tuple | None = None    # allowed values (Literal, Enum members, function names)
    optional: bool = False          # None is allowed (Optional[...] or default None)
    doc: str = ""
    inferred: bool = False          # type taken from the default (no annotation)
    item_type: Any = None           # element type of list[...] parameters

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


# -- docstrings -----------------------------------------------------------------------------------
_SPHINX = re.compile(r"^\s*:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")
_GOOGLE_HEAD = re.compile(r"^\s*(Args|Arguments|Parameters|Params|Keyword Args)\s*:\s*$")
_GOOGLE_ITEM = re.compile(r"^(\s*)(\w+)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")
_NUMPY_HEAD = re.compile(r"^\s*Parameters\s*$")
_NUMPY_ITEM = re.compile(r"^(\s*)(\w+)\s*(?::\s*(.*))?$")


def parse_param_docs(doc: str | None) -> dict[str, str]:
    """``name -> description`` from Sphinx, Google or numpy style parameter sections."""
    if not doc:
        return {}
    lines = inspect.cleandoc(doc).splitlines()
    out: dict[str, str] = {}
    # Sphinx
    cur = None
    for line in lines:
        m = _SPHINX.match(line)
        if m:
            cur = m.group(1)
            out[cur] = m.group(2).strip()
            continue
        if cur and line.strip() and not line.strip().startswith(":") and line.startswith((" ", "\t")):
            out[cur] = (out[cur] + " " + line.strip()).strip()
        else:
            cur = None
    # numpy
    for i, line in enumerate(lines):
        if _NUMPY_HEAD.match(line) and i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}:
            base = None
            cur = None
            for item in lines[i + 2:]:
                if not item.strip():
                    continue
                indent = len(item) - len(item.lstrip())
                if base is None:
                    base = indent
                if indent < base or (indent == base and set(item.strip()) == {"-"}):
                    break
                if indent == base:
                    m = _NUMPY_ITEM.match(item)
                    if not m:
                        break
                    cur = m.group(2)
                    out.setdefault(cur, "")
                elif cur:
                    out[cur] = (out.get(cur, "") + " " + item.strip()).strip()
    # Google
    for i, line in enumerate(lines):
        if _GOOGLE_HEAD.match(line):
            base = None
            cur = None
            for item in lines[i + 1:]:
                if not item.strip():
                    continue
                indent = len(item) - len(item.lstrip())
                if base is None:
                    base = indent
                    if base == 0:
                        break
                if indent < base:
                    break
                if indent == base:
                    m = _GOOGLE_ITEM.match(item)
                    if not m:
                        break
                    cur = m.group(2)
                    if not out.get(cur):
                        out[cur] = m.group(4).strip()
                elif cur and out.get(cur) is not None:
                    out[cur] = (out[cur] + " " + item.strip()).strip()
    return out


# -- type analysis ----------------------------------------------------------------------------------
_NONE_TYPE = type(None)


def _analyse(hint):
    """(base type, kind, choices, optional, item_type) of a type hint."""
    if hint is None or hint is Any or hint is inspect.Parameter.empty:
        return None, "any", None, False, None
    optional = False
    origin = typing.get_origin(hint)
    if origin is typing.Union or (hasattr(types, "UnionType") and origin is types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not _NONE_TYPE]
        optional = len(args) != len(typing.get_args(hint))
        if len(args) == 1:
            base, kind, choices, _opt, item = _analyse(args[0])
            return base, kind, choices, optional, item
        return hint, "any", None, optional, None
    if origin is typing.Annotated:
        return _analyse(typing.get_args(hint)[0])
    if hint is AggregateFunctionName:
        return str, "function", tuple(function_names("aggregate")), False, None
    if hint is ElementFunctionName:
        return str, "function", tuple(function_names("element")), False, None
    if origin is typing.Literal:
        choices = tuple(typing.get_args(hint))
        return type(choices[0]) if choices else None, "choice", choices, None in choices, None
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint, "choice", tuple(hint), False, None
    if origin in (list, tuple, set, frozenset, collections.abc.Sequence, collections.abc.Set):
        args = typing.get_args(hint)
        item = args[0] if args and args[0] is not Ellipsis else None
        return list, "list", None, False, item
    if origin is dict:
        return dict, "dict", None, False, None
    simple = {bool: "bool", int: "int", float: "float", str: "str", datetime: "datetime", timedelta: "timedelta",
              list: "list", tuple: "list", set: "list", dict: "dict", TimeInterval: "time_interval",
              RelativeTimeInterval: "relative_time_interval"}
    if isinstance(hint, type):
        for t, kind in simple.items():
            if hint is t:
                return hint, kind, None, False, None
        for t, kind in simple.items():
            if issubclass(hint, t) and t is not bool:
                return hint, kind, None, False, None
    return hint, "any", None, False, None


def _kind_of_value(v):
    if v is None or v is REQUIRED:
        return None
    for t in (bool, int, float, str, datetime, timedelta, TimeInterval, RelativeTimeInterval, list, tuple, dict):
        if isinstance(v, t):
            return t
    return None


def parameter_specs(tool_class) -> list[ParameterSpec]:
    """The parameters of ``tool_class.__init__``, in signature order (``self``, ``*args``, ``**kwargs`` skipped)."""
    init = tool_class.__init__
    try:
        sig = inspect.signature(init)
    except (TypeError, ValueError):
        return []
    try:
        hints = typing.get_type_hints(init, include_extras=True)
    except Exception:  # unresolved forward reference: fall back to raw annotations
        hints = {k: v for k, v in getattr(init, "__annotations__", {}).items() if not isinstance(v, str)}
    docs = {}
    docs.update(parse_param_docs(init.__doc__))
    for k, v in parse_param_docs(tool_class.__doc__).items():
        if v or k not in docs:
            docs[k] = v
    specs = []
    for i, (name, p) in enumerate(sig.parameters.items()):
        if i == 0 and name in ("self", "cls"):
            continue
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        default = REQUIRED if p.default is p.empty else p.default
        hint = hints.get(name)
        inferred = False
        if hint is None:
            t = _kind_of_value(default)
            if t is not None:
                hint, inferred = t, True
        base, kind, choices, optional, item = _analyse(hint)
        if default is None:
            optional = True
        if name in ("func", "function") and kind in ("str", "any") and choices is None and not inferred:
            kind, choices, base = "function", tuple(function_names()), str
        specs.append(ParameterSpec(name=name, annotation=hints.get(name), type=base, kind=kind, default=default,
                                   choices=choices, optional=optional, doc=docs.get(name, ""), inferred=inferred,
                                   item_type=item))
    return specs


# -- coercion -----------------------------------------------------------------------------------------
_TRUE = {"true", "yes", "y", "on", "1", "t"}
_FALSE = {"false", "no", "n", "off", "0", "f"}


class _Bad(Exception):
    pass


def _tool_name(tool_class) -> str:
    return getattr(tool_class, "__name__", str(tool_class))


def _to_bool(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    if isinstance(v, str):
        t = v.strip().lower()
        if t in _TRUE:
            return True
        if t in _FALSE:
            return False
    raise _Bad("expected a bool (true/false)")


def _to_int(v):
    if isinstance(v, bool):
        raise _Bad("expected an integer")
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        t = v.strip()
        try:
            return int(t)
        except ValueError:
            try:
                f = float(t)
            except ValueError:
                raise _Bad("expected an integer") from None
            if f.is_integer():
                return int(f)
    raise _Bad("expected an integer")


def _to_float(v):
    if isinstance(v, bool):
        raise _Bad("expected a number")
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            pass
    raise _Bad("expected a number")


def _to_datetime(v):
    try:
        if isinstance(v, datetime):
            return ensure_utc(v, "date-time")
        if isinstance(v, str):
            return parse_datetime(v)
    except TimeError as e:
        raise _Bad(str(e)) from None
    raise _Bad("expected a date-time (ISO text such as 2017-06-20T12:00:00Z)")


def _to_timedelta(v):
    if isinstance(v, bool):
        raise _Bad("expected a duration")
    try:
        if isinstance(v, (timedelta, int, float, str)):
            return get_timedelta(v)
    except TimeError as e:
        raise _Bad(str(e)) from None
    raise _Bad("expected a duration (seconds, or text such as '60s', '5m', '2h')")


def _json(v, what):
    try:
        return json.loads(v)
    except ValueError as e:
        raise _Bad(f"expected {what} as JSON ({e})") from None


def _to_list(v, item_type):
    if isinstance(v, (list, tuple, set, frozenset)):
        items = list(v)
    elif isinstance(v, str):
        t = v.strip()
        if t.startswith("["):
            items = _json(t, "a list")
            if not isinstance(items, list):
                raise _Bad("expected a list")
        elif t == "":
            items = []
        else:  # comma-separated text
            items = [s.strip() for s in t.split(",")]
            if item_type is None:
                items = [_text_guess(s) for s in items]
    else:
        raise _Bad("expected a list")
    if item_type is not None:
        _base, kind, choices, optional, item = _analyse(item_type)
        items = [_convert(x, kind, _base, choices, optional, item) for x in items]
    return items


def _text_guess(t: str):
    try:
        return json.loads(t)
    except ValueError:
        return t


def _to_dict(v):
    if isinstance(v, dict):
        return dict(v)
    if isinstance(v, str):
        d = _json(v.strip(), "a dict")
        if isinstance(d, dict):
            return d
    raise _Bad("expected a dict (JSON object)")


def _to_time_interval(v):
    try:
        if isinstance(v, TimeInterval):
            return v
        if isinstance(v, str):
            t = v.strip()
            if t.startswith(("{", "[")):
                v = _json(t, "a time interval")
            else:
                parts = re.split(r"\s*(?:/|,|\s--\s)\s*", t)
                if len(parts) != 2:
                    raise _Bad("expected a time interval as 'start/end' ISO text")
                v = parts
        if isinstance(v, dict) and set(v) >= {"start", "end"}:
            return TimeInterval(_to_datetime(v["start"]), _to_datetime(v["end"]))
        if isinstance(v, (list, tuple)) and len(v) == 2:
            return TimeInterval(_to_datetime(v[0]), _to_datetime(v[1]))
    except TimeError as e:
        raise _Bad(str(e)) from None
    raise _Bad("expected a time interval (start/end)")


def _to_relative(v):
    try:
        if isinstance(v, RelativeTimeInterval):
            return v
        if isinstance(v, str):
            t = v.strip()
            if t.startswith(("{", "[")):
                v = _json(t, "a relative time interval")
            else:
                parts = [p for p in re.split(r"\s*[,;/]\s*", t) if p]
                if len(parts) != 2:
                    raise _Bad("expected a relative interval as 'start, end' offsets such as '-60s, 0'")
                v = parts
        if isinstance(v, dict) and set(v) >= {"start", "end"}:
            return RelativeTimeInterval(_to_timedelta(v["start"]), _to_timedelta(v["end"]))
        if isinstance(v, (list, tuple)) and len(v) == 2:
            return RelativeTimeInterval(_to_timedelta(v[0]), _to_timedelta(v[1]))
    except TimeError as e:
        raise _Bad(str(e)) from None
    raise _Bad("expected a relative time interval (start, end offsets)")


def _to_choice(v, base, choices):
    if isinstance(base, type) and issubclass(base, enum.Enum):
        if isinstance(v, base):
            return v
        for m in base:
            if v == m.value or v == m.name or (isinstance(v, str) and v.strip() in (str(m.value), m.name)):
                return m
        raise _Bad(f"expected one of {', '.join(m.name for m in base)}")
    if v in choices:
        return v
    if isinstance(v, str):
        for c in choices:
            if str(c) == v.strip():
                return c
    raise _Bad(f"expected one of {', '.join(map(repr, choices))}")


_CONVERTERS = {"bool": _to_bool, "int": _to_int, "float": _to_float, "datetime": _to_datetime,
               "timedelta": _to_timedelta, "dict": _to_dict, "time_interval": _to_time_interval,
               "relative_time_interval": _to_relative}


def _convert(v, kind, base, choices, optional, item_type):
    if v is None:
        if optional:
            return None
        raise _Bad("None is not allowed")
    if kind in ("choice", "function"):
        return _to_choice(v, base, choices)
    if kind == "str":
        if isinstance(v, str):
            return v
        raise _Bad("expected text")
    if kind == "list":
        return _to_list(v, item_type)
    conv = _CONVERTERS.get(kind)
    if conv is not None:
        return conv(v)
    # "any": text that reads as JSON becomes that value, other text stays text
    if isinstance(v, str):
        return _text_guess(v.strip()) if v.strip() else v
    return v


def coerce_value(spec: ParameterSpec, value, tool_name: str = "tool"):
    """One value converted to ``spec``'s type; ToolParameterError naming the parameter if it cannot be."""
    if isinstance(value, str) and value.strip() == "" and spec.kind not in ("str", "any"):
        if spec.optional:
            return None if spec.default is REQUIRED else spec.default
        if not spec.required:
            return spec.default
    try:
        return _convert(value, spec.kind, spec.type, spec.choices, spec.optional, spec.item_type)
    except _Bad as e:
        if spec.inferred:  # no annotation: best effort only
            return value
        raise ToolParameterError(tool_name, spec.name, f"{e} ({_type_text(spec)}), "   # said once
                                                       f"got {type(value).__name__} {value!r}") from None


def _type_text(spec: ParameterSpec) -> str:
    if spec.kind in ("choice", "function"):
        return "one of [" + ", ".join(map(str, (c.name if isinstance(c, enum.Enum) else c
                                                 for c in spec.choices or ()))) + "]"
    t = spec.kind
    return f"Optional[{t}]" if spec.optional else t


def coerce_parameters(tool_class, raw: dict | None) -> dict:
    """Convert user-entered ``raw`` values to the annotated types of ``tool_class``'s parameters.

    Unknown names and missing required parameters are ToolParameterErrors.
    Parameters not given are left out (the tool's own defaults apply).
    """
    raw = dict(raw or {})
    name = _tool_name(tool_class)
    specs = {s.name: s for s in parameter_specs(tool_class)}
    accepts_kwargs = _accepts_var_kwargs(tool_class)
    out = {}
    for key, value in raw.items():
        spec = specs.get(key)
        if spec is None:
            if accepts_kwargs:
                out[key] = value
                continue
            known = ", ".join(specs) or "none"
            raise ToolParameterError(name, key, f"unknown parameter (known parameters: {known})")
        out[key] = coerce_value(spec, value, name)
    for spec in specs.values():
        if spec.required and spec.name not in out:
            raise ToolParameterError(name, spec.name, f"required parameter is missing "
                                                      f"(expected type {_type_text(spec)})")
    return out


def _accepts_var_kwargs(tool_class) -> bool:
    try:
        return any(p.kind == p.VAR_KEYWORD for p in inspect.signature(tool_class.__init__).parameters.values())
    except (TypeError, ValueError):
        return False


# -- JSON forms ------------------------------------------------------------------------------------------
def to_jsonable(value):
    """A JSON-only form of a parameter value: datetimes as ISO text, durations in seconds,
    time intervals as ``{"start", "end"}``, sets/tuples as lists, enums by value; other objects as ``repr``."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, TimeInterval):
        return {"start": value.start.isoformat(), "end": value.end.isoformat()}
    if isinstance(value, RelativeTimeInterval):
        return {"start": value.start.total_seconds(), "end": value.end.total_seconds()}
    if isinstance(value, TimeIntervals):
        return [to_jsonable(iv) for iv in value]
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((to_jsonable(v) for v in value), key=repr)
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        try:
            return to_jsonable(value.item())
        except Exception:
            pass
    if callable(value):
        return f"<function {getattr(value, '__qualname__', repr(value))}>"
    return repr(value)


def value_to_text(value) -> str:
    """Text for a form field that ``coerce_value`` reads back to the same value."""
    if value is None or value is REQUIRED:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        s = value.total_seconds()
        return f"{int(s)}s" if s == int(s) else f"{s}s"
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(to_jsonable(value))


__all__ = ["ParameterSpec", "REQUIRED", "KINDS", "parameter_specs", "coerce_parameters", "coerce_value",
           "parse_param_docs", "to_jsonable", "value_to_text"]
