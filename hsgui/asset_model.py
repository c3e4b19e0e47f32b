"""Typed value trees for the asset editor — pure Python, no Qt.

An asset version is a structured value (dict / list / text / int / float / bool /
None / aware datetime). The editor works on a :class:`Node` tree of that value,
so every field has an explicit *kind* and can hold text the user typed that does
not (yet) parse, with the reason. Everything here is testable without a GUI:

* :func:`tree_from_value` / :meth:`Node.to_value` — value ↔ tree, keeping
  ``int``, ``float`` and ``bool`` distinct and datetimes as datetimes;
* :func:`validate_tree` — per-node problems (unparsable text, empty or duplicate
  key, schema violations), each with a readable reason;
* :func:`to_json_text` / :func:`parse_json_text` — the raw JSON view;
* :func:`diff_values` / :func:`format_diff` — what a save would change;
* a tiny schema format (see :data:`SCHEMA_KEYWORDS`).

Raw JSON form
-------------
Plain JSON (UTF-8 text is kept as is, integers of any size), except:

* a datetime is ``{"$datetime": "2017-06-20T12:00:00.000Z"}`` (ISO 8601; text
  without an offset is read as UTC, other offsets are converted to UTC; kept to
  the millisecond like every timestamp in the store);
* a user dict whose only key is ``"$datetime"`` or ``"$object"`` is escaped as
  ``{"$object": {...}}`` (its keys are then taken literally), so every value
  round-trips exactly;
* non-finite floats are written ``NaN`` / ``Infinity`` / ``-Infinity`` (what
  Python's json module reads and writes).

Schema format (a subset of JSON Schema)
---------------------------------------
``type`` (a kind name or a list of them: ``object``, ``array``, ``string``,
``integer``, ``number`` (also accepts integers), ``boolean``, ``null``, and our
``datetime``; ``{"type": "string", "format": "date-time"}`` means ``datetime``),
``properties``, ``required``, ``additionalProperties`` (``false`` or a schema),
``items``, ``enum``, ``default``, ``description``, ``title``, ``minimum``,
``maximum``.
"""
from __future__ import annotations

import copy
import difflib
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime

from channels.errors import TimeError
from channels.utils import UTC, ensure_utc, parse_datetime, utcnow

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


def convert_value(value, to_kind: str):
    """Explicit type change: keep what can be kept, else the kind's default."""
    if to_kind not in KINDS:
        raise ValueError(f"unknown kind {to_kind!r} (known: {', '.join(KINDS)})")
    frm = kind_of(value)
    if frm == to_kind:
        return copy.deepcopy(value)
    if to_kind == "null":
        return None
    if to_kind == "string":
        if frm in CONTAINER_KINDS:
            return to_json_text(value, indent=None)
        return "" if frm == "null" else scalar_text(frm, value)
    if to_kind == "integer":
        if frm == "number" and math.isfinite(value):
            return int(round(value))
        if frm == "boolean":
            return int(value)
        if frm == "string":
            try:
                return parse_scalar("integer", value)
            except ValueError:
                pass
            try:
                v = parse_scalar("number", value)
                return int(round(v)) if math.isfinite(v) else 0
            except ValueError:
                pass
        return 0
    if to_kind == "number":
        if frm in ("integer", "boolean"):
            return float(value)
        if frm == "string":
            try:
                return parse_scalar("number", value)
            except ValueError:
                pass
        return 0.0
    if to_kind == "boolean":
        if frm in ("integer", "number"):
            return bool(value)
        if frm == "string":
            try:
                return parse_scalar("boolean", value)
            except ValueError:
                return bool(value.strip())
        if frm in CONTAINER_KINDS:
            return bool(value)
        return False
    if to_kind == "datetime":
        if frm == "string":
            try:
                return parse_scalar("datetime", value)
            except ValueError:
                pass
        return utcnow()
    if to_kind == "object":
        if frm == "array":
            return {str(i): copy.deepcopy(v) for i, v in enumerate(value)}
        if frm == "string":
            try:
                v = parse_json_text(value)
                if isinstance(v, dict):
                    return v
            except JsonTextError:
                pass
        if frm == "null":
            return {}
        return {"value": copy.deepcopy(value)}
    # array
    if frm == "object":
        return [copy.deepcopy(v) for v in value.values()]
    if frm == "string":
        try:
            v = parse_json_text(value)
            if isinstance(v, list):
                return v
        except JsonTextError:
            pass
    if frm == "null":
        return []
    return [copy.deepcopy(value)]


def blank_like(value):
    """An empty value of the same shape (for "add item" in a list without a schema): same keys, empty fields."""
    k = kind_of(value)
    if k == "object":
        return {key: blank_like(v) for key, v in value.items()}
    if k == "array":
        return []
    return default_for_kind(k)


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


# -- the tree ----------------------------------------------------------------------------------------------

class Node:
    """One field of a value tree.

    ``key`` is the text key when the parent is an object (``None`` otherwise);
    scalars keep their parsed ``value``; containers keep ``children``. When the
    user typed text that does not parse as the node's kind, ``text`` keeps it and
    ``parse_error`` says why; ``value`` keeps the last good value.
    """

    __slots__ = ("kind", "key", "value", "children", "parent", "text", "parse_error", "__weakref__")

    def __init__(self, kind: str, value=None, key: str | None = None, children=None):
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        self.kind = kind
        self.key = key
        self.value = value
        self.children: list[Node] = []
        self.parent: Node | None = None
        self.text: str | None = None
        self.parse_error: str | None = None
        for c in children or ():
            self._adopt(c, len(self.children))

    def _adopt(self, child: "Node", index: int):
        child.parent = self
        if self.kind == "array":
            child.key = None
        self.children.insert(index, child)

    def __repr__(self):
        return f"Node({self.kind}, key={self.key!r}, path={self.path_text!r})"

    # -- value ----------------------------------------------------------------
    @property
    def is_container(self) -> bool:
        return self.kind in CONTAINER_KINDS

    def to_value(self):
        """The value of this subtree (later duplicates win; invalid text counts as its last good value)."""
        if self.kind == "object":
            return {c.key: c.to_value() for c in self.children}
        if self.kind == "array":
            return [c.to_value() for c in self.children]
        return copy.copy(self.value)

    def display_text(self) -> str:
        if self.text is not None:
            return self.text
        if self.kind == "object":
            n = len(self.children)
            return f"{{{n} key{'s' if n != 1 else ''}}}"
        if self.kind == "array":
            n = len(self.children)
            return f"[{n} item{'s' if n != 1 else ''}]"
        return scalar_text(self.kind, self.value)

    def set_text(self, text: str) -> bool:
        """Set a scalar from field text; False (and ``parse_error`` set) when it does not parse."""
        if self.is_container:
            raise ValueError(f"{self.path_text} is {KIND_LABELS[self.kind]}: it has no text")
        try:
            self.value = parse_scalar(self.kind, text)
        except ValueError as e:
            self.text, self.parse_error = text, str(e)
            return False
        self.text = self.parse_error = None
        return True

    def set_value(self, value) -> None:
        """Set a scalar to a Python value of its kind (check box, date-time edit, choice list)."""
        if kind_of(value, self.path_text) != self.kind:
            raise AssetValueError(f"{self.path_text} is {KIND_LABELS[self.kind]}, not {type(value).__name__}")
        if self.kind == "datetime":
            value = ensure_utc(value)
        self.value = value
        self.text = self.parse_error = None

    def replace_with_value(self, value) -> None:
        """Make this node hold ``value`` (any kind), keeping its key and place."""
        new = tree_from_value(value)
        self.kind, self.value, self.text, self.parse_error = new.kind, new.value, None, None
        self.children = []
        for c in new.children:
            self._adopt(c, len(self.children))

    def change_kind(self, kind: str) -> None:
        """Explicit type change; keeps the value where it converts (``"12"`` -> 12), else the kind's default."""
        if kind == self.kind:
            return
        source = self.to_value()
        if self.text is not None and not self.is_container:
            source = self.text  # convert what the user sees
        self.replace_with_value(convert_value(source, kind))

    # -- structure ----------------------------------------------------------------
    @property
    def index(self) -> int | None:
        if self.parent is None:
            return None
        for i, c in enumerate(self.parent.children):
            if c is self:
                return i
        return None

    @property
    def path(self) -> tuple:
        parts = []
        node = self
        while node.parent is not None:
            parts.append(node.key if node.parent.kind == "object" else node.index)
            node = node.parent
        return tuple(reversed(parts))

    @property
    def path_text(self) -> str:
        return path_text(self.path)

    @property
    def root(self) -> "Node":
        node = self
        while node.parent is not None:
            node = node.parent
        return node

    def walk(self):
        """This node and every descendant, depth first, in display order."""
        yield self
        for c in self.children:
            yield from c.walk()

    def child(self, key_or_index) -> "Node":
        if self.kind == "object":
            for c in self.children:
                if c.key == key_or_index:
                    return c
            raise KeyError(f"{self.path_text} has no key {key_or_index!r}")
        if self.kind == "array":
            return self.children[key_or_index]
        raise KeyError(f"{self.path_text} is {KIND_LABELS[self.kind]}: it has no children")

    def find(self, path) -> "Node":
        node = self
        for part in path:
            node = node.child(part)
        return node

    def unique_key(self, base: str = "new_key") -> str:
        keys = {c.key for c in self.children}
        if base not in keys:
            return base
        i = 2
        while f"{base}_{i}" in keys:
            i += 1
        return f"{base}_{i}"

    def insert(self, value, key: str | None = None, index: int | None = None) -> "Node":
        """Add a child holding ``value`` (objects need a key; None picks a free ``new_key``)."""
        if not self.is_container:
            raise ValueError(f"{self.path_text} is {KIND_LABELS[self.kind]}: only objects and lists have children")
        node = tree_from_value(value)
        if self.kind == "object":
            node.key = self.unique_key() if key is None else key
        self._adopt(node, len(self.children) if index is None else index)
        return node

    def remove(self) -> None:
        if self.parent is None:
            raise ValueError("the root of an asset value cannot be removed")
        self.parent.children.pop(self.index)
        self.parent = None

    def rename(self, key: str) -> None:
        if self.parent is None or self.parent.kind != "object":
            raise ValueError(f"{self.path_text} is not a key of an object")
        self.key = key

    def can_move(self, delta: int) -> bool:
        if self.parent is None:
            return False
        j = self.index + delta
        return 0 <= j < len(self.parent.children)

    def move(self, delta: int) -> None:
        """Move up (-1) or down (+1) among its siblings (list items and object keys)."""
        if not self.can_move(delta):
            raise ValueError(f"cannot move {self.path_text} {'up' if delta < 0 else 'down'}")
        sib = self.parent.children
        i = self.index
        sib[i], sib[i + delta] = sib[i + delta], sib[i]


def tree_from_value(value, key: str | None = None, _path=()) -> Node:
    """Build a :class:`Node` tree; AssetValueError names the first part it cannot hold."""
    kind = kind_of(value, path_text(_path) if _path else "value")
    if kind == "object":
        children = []
        for k, v in value.items():
            if not isinstance(k, str):
                raise AssetValueError(f"key {k!r} at {path_text(_path)} is not text")
            children.append(tree_from_value(v, k, _path + (k,)))
        node = Node("object", key=key, children=children)
    elif kind == "array":
        node = Node("array", key=key, children=[tree_from_value(v, None, _path + (i,)) for i, v in enumerate(value)])
    else:
        if kind == "datetime":
            value = ensure_utc(value)
        node = Node(kind, value, key=key)
    return node


# -- strict equality ---------------------------------------------------------------------------------------

def same_value(a, b) -> bool:
    """Equality that keeps 1, 1.0 and True apart (and NaN equal to NaN)."""
    ka, kb = kind_of(a), kind_of(b)
    if ka != kb:
        return False
    if ka == "object":
        return list(a.keys()) == list(b.keys()) and all(same_value(a[k], b[k]) for k in a)
    if ka == "array":
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if ka == "number" and a != a and b != b:
        return True
    return a == b


# -- schema ------------------------------------------------------------------------------------------------

_TYPE_NAMES = ("object", "array", "string", "integer", "number", "boolean", "null", "datetime")


def schema_kinds(schema: dict | None) -> tuple[str, ...] | None:
    """Node kinds a schema allows (None: any). ``number`` also allows ``integer``."""
    if not schema:
        return None
    t = schema.get("type")
    if t is None:
        if "enum" in schema:
            kinds = []
            for v in schema["enum"]:
                k = kind_of(v)
                if k not in kinds:
                    kinds.append(k)
            return tuple(kinds)
        if "properties" in schema:
            return ("object",)
        if "items" in schema:
            return ("array",)
        return None
    names = [t] if isinstance(t, str) else list(t)
    out = []
    for n in names:
        k = "datetime" if (n == "string" and schema.get("format") == "date-time") else n
        for kk in ((k, "integer") if k == "number" else (k,)):
            if kk not in out:
                out.append(kk)
    return tuple(out)


def check_schema(schema, where: str = "schema") -> None:
    """SchemaError when a schema uses unknown keywords or types (run on built-in and generated schemas)."""
    if not isinstance(schema, dict):
        raise SchemaError(f"{where} must be a dict, got {type(schema).__name__}")
    unknown = set(schema) - set(SCHEMA_KEYWORDS)
    if unknown:
        raise SchemaError(f"{where} uses unknown keyword(s) {', '.join(sorted(unknown))} "
                          f"(known: {', '.join(SCHEMA_KEYWORDS)})")
    t = schema.get("type")
    if t is not None:
        names = [t] if isinstance(t, str) else t
        if not isinstance(names, (list, tuple)) or not names or any(n not in _TYPE_NAMES for n in names):
            raise SchemaError(f"{where}: type {t!r} is not one of {', '.join(_TYPE_NAMES)} (or a list of them)")
    for k, sub in (schema.get("properties") or {}).items():
        check_schema(sub, f"{where}.properties[{k!r}]")
    req = schema.get("required", [])
    if not isinstance(req, (list, tuple)) or any(not isinstance(r, str) for r in req):
        raise SchemaError(f"{where}: required must be a list of key names")
    ap = schema.get("additionalProperties", True)
    if isinstance(ap, dict):
        check_schema(ap, f"{where}.additionalProperties")
    elif not isinstance(ap, bool):
        raise SchemaError(f"{where}: additionalProperties must be true, false or a schema")
    if "items" in schema:
        check_schema(schema["items"], f"{where}.items")
    if "enum" in schema:
        if not isinstance(schema["enum"], (list, tuple)) or not schema["enum"]:
            raise SchemaError(f"{where}: enum must be a non-empty list")
        for v in schema["enum"]:
            kind_of(v, f"{where}.enum item")
    if "default" in schema:
        kind_of(schema["default"], f"{where}.default")  # raises AssetValueError for unsupported defaults


def child_schema(schema: dict | None, parent_kind: str, key=None) -> dict | None:
    """The schema of a child (object key or list item) under ``schema``."""
    if not schema:
        return None
    if parent_kind == "object":
        props = schema.get("properties") or {}
        if key in props:
            return props[key]
        ap = schema.get("additionalProperties")
        return ap if isinstance(ap, dict) else None
    if parent_kind == "array":
        items = schema.get("items")
        return items if isinstance(items, dict) else None
    return None


def schema_for_node(root_schema: dict | None, node: Node) -> dict | None:
    """Walk the schema along the node's path."""
    chain = []
    n = node
    while n.parent is not None:
        chain.append(n)
        n = n.parent
    schema = root_schema
    parent = n
    for c in reversed(chain):
        schema = child_schema(schema, parent.kind, c.key)
        if schema is None:
            return None
        parent = c
    return schema


def default_for_schema(schema: dict | None, kind: str | None = None):
    """A starting value that satisfies the schema where it can: ``default``, first choice, or required keys filled."""
    if schema and "default" in schema and (kind is None or kind_of(schema["default"]) == kind):
        return copy.deepcopy(schema["default"])
    if schema and schema.get("enum") and kind is None:
        return copy.deepcopy(schema["enum"][0])
    kinds = schema_kinds(schema)
    if kind is None:
        kind = kinds[0] if kinds else "string"
    if kind == "object":
        props = (schema or {}).get("properties") or {}
        return {k: default_for_schema(props.get(k)) for k in (schema or {}).get("required", [])}
    return default_for_kind(kind)


def allowed_kinds(schema: dict | None) -> tuple[str, ...]:
    """What the type selector offers for a field: the schema's kinds (plus the current one), or all kinds."""
    return schema_kinds(schema) or KINDS


# -- validation --------------------------------------------------------------------------------------------

@dataclass
class Problem:
    node: Node
    message: str

    @property
    def path_text(self) -> str:
        return self.node.path_text

    def __str__(self):
        return f"{self.path_text}: {self.message}"


def _short(value, limit: int = 40) -> str:
    text = to_json_text(value, indent=None) if kind_of(value) in CONTAINER_KINDS else (
        repr(value) if isinstance(value, str) else scalar_text(kind_of(value), value))
    return text if len(text) <= limit else text[:limit - 1] + "…"


def validate_tree(root: Node, schema: dict | None = None) -> list[Problem]:
    """Every problem in the tree, in display order; an empty list means the value can be saved."""
    problems: list[Problem] = []

    def visit(node: Node, sch: dict | None, key_required: bool = False):
        if node.parse_error:
            problems.append(Problem(node, node.parse_error))
        if sch:
            kinds = schema_kinds(sch)
            if kinds and node.kind not in kinds:
                want = " or ".join(KIND_LABELS[k] for k in kinds if not (k == "integer" and "number" in kinds))
                problems.append(Problem(node, f"expected {want}, not {KIND_LABELS[node.kind]}"))
            elif not node.is_container and node.parse_error is None:
                v = node.value
                if "enum" in sch and not any(same_value(v, c) for c in sch["enum"]):
                    choices = ", ".join(_short(c) for c in sch["enum"])
                    problems.append(Problem(node, f"{_short(v)} is not one of the choices: {choices}"))
                if node.kind in ("integer", "number") and v == v:
                    if "minimum" in sch and v < sch["minimum"]:
                        problems.append(Problem(node, f"must be at least {sch['minimum']}"))
                    if "maximum" in sch and v > sch["maximum"]:
                        problems.append(Problem(node, f"must be at most {sch['maximum']}"))
        if node.kind == "object":
            seen: dict[str, int] = {}
            for c in node.children:
                seen[c.key] = seen.get(c.key, 0) + 1
            props = (sch or {}).get("properties") or {}
            required = (sch or {}).get("required") or []
            missing = [r for r in required if r not in seen]
            if missing:
                problems.append(Problem(node, "missing required key" + ("s " if len(missing) > 1 else " ")
                                        + ", ".join(repr(m) for m in missing)))
            closed = sch is not None and sch.get("additionalProperties") is False
            for c in node.children:
                if c.key == "":
                    problems.append(Problem(c, "key is empty"))
                elif seen[c.key] > 1:
                    problems.append(Problem(c, f"duplicate key {c.key!r}: keys of an object must be unique"))
                elif closed and c.key not in props:
                    allowed = ", ".join(props) or "none"
                    problems.append(Problem(c, f"unknown key {c.key!r} (allowed: {allowed})"))
                visit(c, child_schema(sch, "object", c.key))
        elif node.kind == "array":
            for c in node.children:
                visit(c, child_schema(sch, "array"))

    visit(root, schema)
    return problems


def problems_by_node(problems) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for p in problems:
        out.setdefault(id(p.node), []).append(p.message)
    return out


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


# -- diff -------------------------------------------------------------------------------------------------

@dataclass
class Change:
    op: str          # "added", "removed", "changed"
    path: tuple
    old: object = None
    new: object = None

    @property
    def path_text(self) -> str:
        return path_text(self.path)


def _canon(v) -> str:
    return kind_of(v) + ":" + to_json_text(v, indent=None)


def diff_values(old, new, path=()) -> list[Change]:
    """Structural changes from ``old`` to ``new`` (lists matched by content, so an insert is one change)."""
    ko, kn = kind_of(old), kind_of(new)
    if ko != kn:
        return [Change("changed", path, old, new)]
    if ko == "object":
        out = []
        for k in old:
            if k not in new:
                out.append(Change("removed", path + (k,), old[k], None))
        for k in new:
            if k not in old:
                out.append(Change("added", path + (k,), None, new[k]))
            else:
                out.extend(diff_values(old[k], new[k], path + (k,)))
        if not out and list(old) != list(new):
            out.append(Change("changed", path, old, new))  # same keys, new order
        return out
    if ko == "array":
        out = []
        sm = difflib.SequenceMatcher(a=[_canon(v) for v in old], b=[_canon(v) for v in new], autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag == "equal":
                continue
            if tag == "replace" and i2 - i1 == j2 - j1:
                for d in range(i2 - i1):
                    out.extend(diff_values(old[i1 + d], new[j1 + d], path + (j1 + d,)))
                continue
            for i in range(i1, i2):
                out.append(Change("removed", path + (i,), old[i], None))
            for j in range(j1, j2):
                out.append(Change("added", path + (j,), None, new[j]))
        return out
    if same_value(old, new):
        return []
    return [Change("changed", path, old, new)]


def _label(value) -> str:
    k = kind_of(value)
    if k in ("object", "array"):
        return _short(value, 60)
    return f"{_short(value, 60)} ({KIND_LABELS[k]})" if k in ("integer", "number", "boolean", "datetime") else \
        _short(value, 60)


def format_diff(changes) -> list[str]:
    """Readable lines: ``+ path = value``, ``- path = value``, ``~ path: old → new``."""
    lines = []
    for c in changes:
        if c.op == "added":
            lines.append(f"+ {c.path_text} = {_label(c.new)}")
        elif c.op == "removed":
            lines.append(f"- {c.path_text} = {_label(c.old)}")
        else:
            if kind_of(c.old) == kind_of(c.new) == "object" and list(c.old) != list(c.new):
                lines.append(f"~ {c.path_text}: keys reordered")
            else:
                lines.append(f"~ {c.path_text}: {_label(c.old)} → {_label(c.new)}")
    return lines


def summarize_diff(changes) -> str:
    n = {"added": 0, "removed": 0, "changed": 0}
    for c in changes:
        n[c.op] += 1
    parts = [f"{v} {k}" for k, v in n.items() if v]
    return ", ".join(parts) if parts else "no changes"


__all__ = ["KINDS", "KIND_LABELS", "Node", "Problem", "Change", "AssetValueError", "JsonTextError", "SchemaError",
           "tree_from_value", "validate_tree", "to_json_text", "parse_json_text", "diff_values", "format_diff",
           "summarize_diff", "same_value", "kind_of", "convert_value", "blank_like", "parse_scalar", "scalar_text",
           "datetime_text", "path_text", "schema_kinds", "schema_for_node", "child_schema", "check_schema",
           "default_for_schema", "allowed_kinds", "problems_by_node", "UTC"]
