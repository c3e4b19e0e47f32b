"""Where the asset editor's schema hints come from — pure Python, no Qt.

Two sources (the schema format is documented in :mod:`hsgui.forms.value_model`):

* a registry keyed by asset stream name: built-in schemas for
  ``workflow_parameters``, ``houses``, ``residents`` and ``sensor_layout``;
  more can be added with :func:`register_asset_schema`;
* a tool's parameters: :func:`schema_from_parameter_specs` turns
  :func:`channels.tools.params.parameter_specs` into an object schema (required
  keys, types, choices, defaults, descriptions). An asset stream named
  ``tool_parameters`` with meta-data ``tool=<name>`` gets the schema of that
  tool when the caller can resolve tool names (``tool_lookup``).
"""
from __future__ import annotations

import copy
import logging
import enum
import typing
from datetime import datetime, timedelta

from channels.stream import get_stream_id
from channels.time_interval import RelativeTimeInterval, TimeInterval

from .value_kinds import AssetValueError, kind_of
from .value_schema import check_schema

log = logging.getLogger(__name__)

DATETIME = {"type": "datetime"}

WORKFLOW_PARAMETERS = {
    "title": "Workflow parameters",
    "description": "Parameters a workflow reads when it is built and run.",
    "type": "object",
    "properties": {
        "workflow_id": {"type": "string", "description": "Unique name of the workflow"},
        "description": {"type": "string", "description": "What the workflow computes"},
        "owner": {"type": "string", "description": "Who to ask about it"},
        "online": {"type": "boolean", "default": False, "description": "Run continuously as new data arrives"},
        "start": {"type": "datetime", "description": "First time the workflow computes (UTC)"},
        "end": {"type": ["datetime", "null"], "default": None, "description": "Last time (null: up to now)"},
        "chunk_seconds": {"type": "integer", "minimum": 1, "default": 3600,
                          "description": "Length of one computation chunk, in seconds"},
        "aggregate": {"enum": ["mean", "median", "min", "max", "sum", "count", "std"], "default": "mean",
                      "description": "Function that summarises each window"},
        "window_seconds": {"type": "number", "minimum": 0, "default": 60.0,
                           "description": "Sliding-window length, in seconds"},
        "houses": {"type": "array", "items": {"type": "integer"},
                   "description": "Houses to process (their house_id, the streams' house meta-data)"},
        "residents": {"type": "array", "items": {"type": "string"},
                      "description": "Residents to process (their resident_id, the streams' resident meta-data)"},
        "tool_parameters": {"type": "object", "additionalProperties": {"type": "object"},
                            "description": "Per-tool parameter overrides: tool name -> parameters"},
    },
    "required": ["workflow_id", "start", "chunk_seconds"],
}

HOUSE = {
    "type": "object",
    "properties": {
        "house_id": {"type": "integer", "minimum": 0, "description": "Numeric id used in stream meta-data"},
        "name": {"type": "string"},
        "address": {"type": "string"},
        "installed": {"type": "datetime", "description": "When the sensors were installed (UTC)"},
        "active": {"type": "boolean", "default": True},
        "rooms": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["house_id", "name"],
}

RESIDENT = {
    "type": "object",
    "properties": {
        "resident_id": {"type": "string", "description": "Pseudonymous id (the streams' resident meta-data)"},
        "house_id": {"type": "integer", "minimum": 0, "description": "The house lived in (a house_id of houses)"},
        "role": {"enum": ["resident", "visitor", "carer"], "default": "resident"},
        "since": {"type": "datetime"},
        "until": {"type": ["datetime", "null"], "default": None},
        "wearable": {"type": ["string", "null"], "default": None,
                     "description": "Id of the wearable sensor, if the resident has one"},
    },
    "required": ["resident_id", "house_id", "role"],
}

SENSOR = {
    "type": "object",
    "properties": {
        "sensor_id": {"type": "string"},
        "kind": {"enum": ["pir", "door", "temperature", "humidity", "light", "power", "accelerometer"]},
        "room": {"type": "string"},
        "sample_rate_hz": {"type": "number", "minimum": 0},
    },
    "required": ["sensor_id", "kind"],
}

BUILTIN_SCHEMAS = {
    "workflow_parameters": WORKFLOW_PARAMETERS,
    "houses": {"title": "Houses", "type": "array", "items": HOUSE},
    "residents": {"title": "Residents", "type": "array", "items": RESIDENT},
    "sensor_layout": {"title": "Sensor layout", "type": "object",
                      "properties": {"house_id": {"type": "integer", "minimum": 0},
                                     "sensors": {"type": "array", "items": SENSOR}},
                      "required": ["house_id", "sensors"]},
}

_REGISTRY: dict[str, dict] = {}


def register_asset_schema(stream_name: str, schema: dict) -> None:
    """Use ``schema`` for every asset stream called ``stream_name`` (checked now, SchemaError if malformed)."""
    check_schema(schema, f"schema for {stream_name!r}")
    _REGISTRY[stream_name] = schema


for _name, _schema in BUILTIN_SCHEMAS.items():
    register_asset_schema(_name, _schema)


def registered_schemas() -> dict[str, dict]:
    return dict(_REGISTRY)


def schema_for_stream(stream_id, tool_lookup=None) -> dict | None:
    """The schema for an asset stream (by name), or None.

    ``tool_lookup(name) -> tool class`` lets a ``tool_parameters: [tool=<name>]``
    asset use that tool's parameter schema.
    """
    sid = get_stream_id(stream_id)
    if sid.name == "tool_parameters" and tool_lookup is not None:
        tool = dict(sid.meta_data).get("tool")
        if tool:
            try:
                return schema_for_tool(tool_lookup(tool))
            except Exception as e:  # noqa: BLE001 - unknown tool: edit without hints rather than fail
                log.warning("no schema for %s: tool %r cannot be loaded (%s)", sid, tool, e)
                return None
    schema = _REGISTRY.get(sid.name)
    return copy.deepcopy(schema) if schema is not None else None


# -- tool parameters -------------------------------------------------------------------------------------

_SIMPLE = {bool: "boolean", int: "integer", float: "number", str: "string", datetime: "datetime", dict: "object",
           list: "array", tuple: "array"}


def _asset_value(v):
    """A tool default as an asset value (None when it has no asset form)."""
    if isinstance(v, enum.Enum):
        v = v.value
    if isinstance(v, timedelta):
        return v.total_seconds()
    if isinstance(v, TimeInterval):
        return {"start": v.start, "end": v.end}
    if isinstance(v, RelativeTimeInterval):
        return {"start": v.start.total_seconds(), "end": v.end.total_seconds()}
    if isinstance(v, (tuple, set, frozenset)):
        v = list(v)
    if isinstance(v, list):
        items = [_asset_value(x) for x in v]
        return items
    if isinstance(v, dict):
        return {str(k): _asset_value(x) for k, x in v.items()}
    kind_of(v)  # raises AssetValueError for anything else
    return v


def to_asset_value(v):
    """A tool parameter value (or default) as an asset value: enums by value, durations in seconds,
    time intervals as ``{start, end}``, tuples and sets as lists. AssetValueError when it has no asset form."""
    return _asset_value(v)


def _type_schema(hint) -> dict:
    """The schema of one value of type ``hint`` (a list parameter's item type); {} when anything goes."""
    if hint is None or hint is typing.Any:
        return {}
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        return _type_schema(typing.get_args(hint)[0])
    if origin is typing.Union or type(hint).__name__ == "UnionType":
        args = typing.get_args(hint)
        rest = [a for a in args if a is not type(None)]
        s = _type_schema(rest[0]) if len(rest) == 1 else {}
        if len(rest) != len(args):
            if "type" in s:
                s["type"] = [s["type"], "null"] if isinstance(s["type"], str) else list(s["type"]) + ["null"]
            elif "enum" in s:
                s["enum"] = s["enum"] + [None]
        return s
    if origin is typing.Literal:
        choices = []
        for c in typing.get_args(hint):
            try:
                choices.append(_asset_value(c))
            except AssetValueError:
                pass
        return {"enum": choices} if choices else {}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {"enum": [_asset_value(m) for m in hint]}
    if origin in (list, tuple, set, frozenset):
        args = typing.get_args(hint)
        s = {"type": "array"}
        item = _type_schema(args[0]) if args and args[0] is not Ellipsis else {}
        if item:
            s["items"] = item
        return s
    if origin is dict:
        return {"type": "object"}
    if hint is timedelta:
        return {"type": "number", "description": "seconds"}
    if isinstance(hint, type):
        for t, name in _SIMPLE.items():
            if hint is t or (issubclass(hint, t) and t is not bool):
                return {"type": name}
    return {}


def schema_for_parameter_value(spec) -> dict:
    """The schema of a set value of a list / dict parameter (what a structured editor shows):
    ``{"type": "array", "items": <item type>}`` or ``{"type": "object"}``; ``None`` (unset) is not part
    of it — the form handles that with its own "unset" box."""
    if spec.kind == "list":
        s = {"type": "array"}
        item = _type_schema(spec.item_type)
        if item:
            s["items"] = item
    elif spec.kind == "dict":
        s = {"type": "object"}
    else:
        s = _spec_schema(spec)
        s.pop("default", None)
    if spec.doc:
        s["description"] = spec.doc
    check_schema(s, f"schema of parameter {spec.name!r}")
    return s


def _spec_schema(spec) -> dict:
    kind = spec.kind
    doc = spec.doc or ""
    if kind in ("choice", "function"):
        choices = []
        for c in spec.choices or ():
            try:
                choices.append(_asset_value(c))
            except AssetValueError:
                pass
        s = {"enum": choices} if choices else {}
    elif kind == "timedelta":
        s = {"type": "number"}
        doc = (doc + " " if doc else "") + "(seconds)"
    elif kind == "time_interval":
        s = {"type": "object", "properties": {"start": {"type": "datetime"}, "end": {"type": "datetime"}},
             "required": ["start", "end"]}
    elif kind == "relative_time_interval":
        s = {"type": "object", "properties": {"start": {"type": "number", "description": "offset in seconds"},
                                              "end": {"type": "number", "description": "offset in seconds"}},
             "required": ["start", "end"]}
    elif kind == "list":
        s = {"type": "array"}
        item = _SIMPLE.get(spec.item_type)
        if item:
            s["items"] = {"type": item}
    else:
        t = {"bool": "boolean", "int": "integer", "float": "number", "str": "string", "datetime": "datetime",
             "dict": "object"}.get(kind)
        s = {"type": t} if t else {}
    if spec.optional:
        if "type" in s:
            s["type"] = [s["type"], "null"] if isinstance(s["type"], str) else list(s["type"]) + ["null"]
        elif "enum" in s and None not in s["enum"]:
            s["enum"] = s["enum"] + [None]
    if not spec.required:
        try:
            s["default"] = _asset_value(spec.default)
        except AssetValueError:
            pass
    if doc:
        s["description"] = doc
    return s


def schema_from_parameter_specs(specs, title: str | None = None) -> dict:
    """An object schema from ``channels.tools.params.parameter_specs(tool_class)``.

    Each parameter becomes a property: its type (Optional -> also null;
    durations in seconds; time intervals as ``{start, end}``), its choices,
    its default and its doc text; parameters without a default are required.
    Unknown keys are not allowed (the tool would reject them).
    """
    schema = {"type": "object", "properties": {}, "required": [], "additionalProperties": False}
    if title:
        schema["title"] = title
    for spec in specs:
        schema["properties"][spec.name] = _spec_schema(spec)
        if spec.required:
            schema["required"].append(spec.name)
    check_schema(schema, f"schema from parameters of {title or 'tool'}")
    return schema


def schema_for_tool(tool_class) -> dict:
    from channels.tools.params import parameter_specs
    return schema_from_parameter_specs(parameter_specs(tool_class), title=getattr(tool_class, "__name__", None))


__all__ = ["BUILTIN_SCHEMAS", "register_asset_schema", "registered_schemas", "schema_for_stream",
           "schema_from_parameter_specs", "schema_for_tool", "schema_for_parameter_value", "to_asset_value"]
