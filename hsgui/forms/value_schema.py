"""Schemas for value trees: what kinds a field may take, defaults, and validation of a whole tree.

The schema format is a subset of JSON Schema (see :mod:`.value_model`). Pure Python, no Qt.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass


from .value_kinds import KIND_LABELS, KINDS, SCHEMA_KEYWORDS, SchemaError, default_for_kind, kind_of
from .value_model import Node, same_value
from .value_text import short_text


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
                    choices = ", ".join(short_text(c) for c in sch["enum"])
                    problems.append(Problem(node, f"{short_text(v)} is not one of the choices: {choices}"))
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


