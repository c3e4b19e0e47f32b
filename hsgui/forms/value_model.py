"""Typed value trees for the asset editor and the parameter form — pure Python, no Qt.

Implementation in four modules, each importing only those before it: :mod:`.value_kinds`
(kinds, scalar text), :mod:`.value_text` (raw JSON, diffs), this module (conversion between
kinds, the :class:`Node` tree) and :mod:`.value_schema` (schemas, validation).

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
import math

from channels.utils import ensure_utc, utcnow

from .value_kinds import (CONTAINER_KINDS, KIND_LABELS, KINDS, AssetValueError,
                          JsonTextError, default_for_kind, kind_of, parse_scalar, path_text, scalar_text)
from .value_text import parse_json_text, to_json_text


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
