"""The workspace document: the whole working state as JSON. Pure Python (no Qt).

A workspace names the store it was made on (never with a password), the time range and zone, the plot
panes with their curves (stream, component, colour, visibility) and the window's dock layout (Qt's own
opaque state, base64). :func:`parse_workspace` checks every field and raises :class:`WorkspaceError` naming
the bad one (``panes[1].curves[0].colour: expected a colour like '#1f77b4', got 'blue?'``), so a hand-edited
or truncated file is a clear message, never a half-restored window.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from channels.errors import StreamIdError
from channels.stream import StreamId
from channels.utils import redact_uri

FORMAT = "hsgui-workspace"
VERSION = 1
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
#: the pane options a workspace may carry and what each must be (other keys are kept, for newer versions)
_BOOL_OPTIONS = ("log_x", "log_y", "log_right", "legend_inside")


class WorkspaceError(ValueError):
    """A workspace file that cannot be opened; the message names the field."""


@dataclass
class CurveDoc:
    channel: str
    name: str
    meta_data: list = field(default_factory=list)   # [[key, value], ...]
    component: str | None = None
    colour: str | None = None
    visible: bool = True
    axis: str = "left"                               # "left" or "right" (a second y axis for another scale)

    def label(self) -> str:
        meta = ", ".join(f"{k}={v}" for k, v in self.meta_data)
        return f"{self.channel}/{self.name}" + (f": [{meta}]" if meta else "") + \
            (f" · {self.component}" if self.component is not None else "")


@dataclass
class PaneDoc:
    curves: list = field(default_factory=list)       # CurveDoc
    options: dict = field(default_factory=dict)      # per-pane plot options (free-form, forward compatible)
    kind: str = "time"                               # "time", or "xy": curves are its X then its Y


@dataclass
class WorkspaceDoc:
    store: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    zone: str = "UTC"
    panes: list = field(default_factory=list)        # PaneDoc
    dock_state: str | None = None                    # base64 of QMainWindow.saveState()
    last_seconds: float | None = None                # the range is "the last …" preset: restored up to now

    def streams(self) -> list:
        return [c for p in self.panes for c in p.curves]


def redact(target: str | None) -> str | None:
    """A store target as a workspace keeps it: :func:`channels.utils.redact_uri`, the project's one rule."""
    return redact_uri(target) if target else target


def to_json(doc: WorkspaceDoc) -> str:
    out = {
        "format": FORMAT,
        "version": VERSION,
        "store": redact(doc.store),
        "time_range": None if doc.start is None or doc.end is None else
        {"start": doc.start.isoformat(), "end": doc.end.isoformat(),
         **({"last_seconds": doc.last_seconds} if doc.last_seconds else {})},
        "zone": doc.zone,
        "panes": [{"kind": p.kind, "curves": [{"channel": c.channel, "stream": {"name": c.name, "meta_data": [list(p) for p in
                                                                                              c.meta_data]},
                               "component": c.component, "colour": c.colour, "visible": c.visible,
                               "axis": c.axis}
                              for c in p.curves],
                   "options": p.options} for p in doc.panes],
        "dock_state": doc.dock_state,
    }
    return json.dumps(out, indent=2, ensure_ascii=False)


def _need(cond: bool, where: str, what: str, got) -> None:
    if not cond:
        raise WorkspaceError(f"{where}: expected {what}, got {got!r}")


def _time(value, where: str) -> datetime:
    _need(isinstance(value, str), where, "an ISO date-time text", value)
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise WorkspaceError(f"{where}: expected an ISO date-time like '2024-03-01T00:00:00+00:00', "
                             f"got {value!r}") from None
    _need(dt.tzinfo is not None, where, "a date-time with its UTC offset", value)
    return dt


def _curve(c, where: str) -> CurveDoc:
    _need(isinstance(c, dict), where, "an object", c)
    channel = c.get("channel")
    _need(isinstance(channel, str) and channel != "", f"{where}.channel", "a channel id", channel)
    stream = c.get("stream")
    _need(isinstance(stream, dict), f"{where}.stream", "an object with name and meta_data", stream)
    name = stream.get("name")
    _need(isinstance(name, str) and name != "", f"{where}.stream.name", "a stream name", name)
    meta = stream.get("meta_data", [])
    _need(isinstance(meta, list), f"{where}.stream.meta_data", "a list of [key, value] pairs", meta)
    for j, pair in enumerate(meta):
        _need(isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str),
              f"{where}.stream.meta_data[{j}]", "a [key, value] pair", pair)
        _need(isinstance(pair[1], (str, int, float)) and not isinstance(pair[1], bool),
              f"{where}.stream.meta_data[{j}]", "a value that is text or a number", pair[1])
    try:
        StreamId(name, [tuple(p) for p in meta])
    except StreamIdError as e:
        raise WorkspaceError(f"{where}.stream: {e}") from None
    component = c.get("component")
    _need(component is None or isinstance(component, str), f"{where}.component", "a component name or null",
          component)
    colour = c.get("colour")
    _need(colour is None or (isinstance(colour, str) and _COLOUR.match(colour)), f"{where}.colour",
          "a colour like '#1f77b4'", colour)
    visible = c.get("visible", True)
    _need(isinstance(visible, bool), f"{where}.visible", "true or false", visible)
    axis = c.get("axis", "left")
    _need(axis in ("left", "right"), f"{where}.axis", "'left' or 'right'", axis)
    return CurveDoc(channel, name, [list(p) for p in meta], component, colour, visible, axis)


def _pane_options(options: dict, where: str) -> None:
    for key in _BOOL_OPTIONS:
        if key in options:
            _need(isinstance(options[key], bool), f"{where}.{key}", "true or false", options[key])
    ref = options.get("reference_line")
    _need(ref is None or (isinstance(ref, (int, float)) and not isinstance(ref, bool) and ref == ref),
          f"{where}.reference_line", "a number or null", ref)
    colour = options.get("colour")
    _need(colour is None or (isinstance(colour, str) and _COLOUR.match(colour)), f"{where}.colour",
          "a colour like '#1f77b4' or null", colour)


def parse_workspace(text: str) -> WorkspaceDoc:
    """The document in ``text``; WorkspaceError naming the first bad field."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise WorkspaceError(f"not a workspace file: invalid JSON at line {e.lineno}, column {e.colno}: "
                             f"{e.msg}") from None
    _need(isinstance(raw, dict), "workspace", "a JSON object", type(raw).__name__)
    _need(raw.get("format") == FORMAT, "format", repr(FORMAT), raw.get("format"))
    version = raw.get("version")
    _need(isinstance(version, int) and 1 <= version <= VERSION, "version", f"1..{VERSION}", version)
    store = raw.get("store")
    _need(store is None or isinstance(store, str), "store", "a store target text or null", store)
    start = end = last = None
    tr = raw.get("time_range")
    if tr is not None:
        _need(isinstance(tr, dict), "time_range", "an object with start and end", tr)
        start, end = _time(tr.get("start"), "time_range.start"), _time(tr.get("end"), "time_range.end")
        if not start < end:
            raise WorkspaceError(f"time_range: end {tr.get('end')} must be after start {tr.get('start')}")
        last = tr.get("last_seconds")
        _need(last is None or (isinstance(last, (int, float)) and not isinstance(last, bool) and last > 0),
              "time_range.last_seconds", "a positive number of seconds", last)
    zone = raw.get("zone", "UTC")
    _need(isinstance(zone, str) and zone != "", "zone", "a time-zone name", zone)
    panes_raw = raw.get("panes", [])
    _need(isinstance(panes_raw, list), "panes", "a list", panes_raw)
    panes = []
    for i, p in enumerate(panes_raw):
        _need(isinstance(p, dict), f"panes[{i}]", "an object", p)
        curves = p.get("curves", [])
        _need(isinstance(curves, list), f"panes[{i}].curves", "a list", curves)
        options = p.get("options", {})
        _need(isinstance(options, dict), f"panes[{i}].options", "an object", options)
        _pane_options(options, f"panes[{i}].options")
        kind = p.get("kind", "time")
        _need(kind in ("time", "xy"), f"panes[{i}].kind", "'time' or 'xy'", kind)
        if kind == "xy":
            _need(len(curves) == 2, f"panes[{i}].curves", "two streams (X, then Y) for an XY pane", curves)
        panes.append(PaneDoc([_curve(c, f"panes[{i}].curves[{j}]") for j, c in enumerate(curves)], options, kind))
    dock = raw.get("dock_state")
    _need(dock is None or isinstance(dock, str), "dock_state", "a base64 text or null", dock)
    return WorkspaceDoc(redact(store), start, end, zone, panes, dock, last)


__all__ = ["CurveDoc", "PaneDoc", "WorkspaceDoc", "WorkspaceError", "parse_workspace", "to_json", "redact"]
