"""Workflow definitions as HyperStream stores them (collections ``workflow_definitions``, ``workflow_status``).

A workflow has **nodes** (``{stream_name, plate_ids, channel_id}``: one stream per plate value of the
node's plates, named ``stream_name`` with the plate value as meta-data) and **factors**
(``{tool: {name, version, parameters: [{key, value, is_function, is_set}]}, factor_type, sources,
sinks, alignment_node, splitting_node, output_plate}``; ``factor_type`` is ``Factor``,
``MultiOutputFactor`` or ``NodeCreationFactor``).

Documents are kept as read: :attr:`WorkflowDefinition.document` is the stored document, untouched,
so opening a HyperStream database never rewrites its workflows. Tool parameters that HyperStream
stored as serialised Python code (``is_function: true``, a marshalled function) are never
deserialised here: :attr:`ToolSpec.code_parameters` names them, and running such a factor is refused
with an error that says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ChannelsError

FACTOR_TYPES = ("Factor", "MultiOutputFactor", "NodeCreationFactor")


class WorkflowDefinitionError(ChannelsError):
    """A workflow document that does not describe a workflow (missing field, unknown node, bad type)."""


_JSON_TYPES = {dict: "an object", list: "a list", str: "text"}


def _typed(value, kind, where: str, field_name: str, default=None):
    """``value`` when it is of JSON type ``kind`` (``default`` when missing/null); else a clear error.

    Text is never taken for a list: ``"sources": "xy"`` is an error, not the two nodes ``x`` and ``y``."""
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        got = "text" if isinstance(value, str) else "a list" if isinstance(value, list) else \
            "an object" if isinstance(value, dict) else type(value).__name__
        raise WorkflowDefinitionError(f"{where}: {field_name} must be {_JSON_TYPES.get(kind, kind.__name__)}, "
                                      f"got {got} {value!r}"[:400])
    return value


def _text_list(value, where: str, field_name: str) -> list:
    items = _typed(value, list, where, field_name, [])
    for j, x in enumerate(items):
        if not isinstance(x, str) or not x:
            raise WorkflowDefinitionError(f"{where}: {field_name}[{j}] must be a node or plate id (text), got {x!r}")
    return list(items)


@dataclass
class ToolSpec:
    name: str
    version: str | None
    parameters: dict                      # key -> value, for parameters that hold plain values
    code_parameters: list = field(default_factory=list)   # keys whose value is stored Python code
    code_values: dict = field(default_factory=dict)       # key -> the stored value as read (never decoded here)

    @classmethod
    def from_document(cls, d: dict, where: str) -> "ToolSpec":
        if not isinstance(d, dict):
            raise WorkflowDefinitionError(f"{where}: tool must be an object with name, version and parameters, "
                                          f"got {d!r}"[:400])
        if not d.get("name") or not isinstance(d["name"], str):
            raise WorkflowDefinitionError(f"{where}: tool has no name: {d!r}"[:400])
        params, code, values = {}, [], {}
        for j, p in enumerate(_typed(d.get("parameters"), list, where, f"tool {d['name']!r} parameters", [])):
            _typed(p, dict, where, f"tool {d['name']!r} parameters[{j}]")
            key = p.get("key")
            if not key or not isinstance(key, str):
                raise WorkflowDefinitionError(f"{where}: tool {d['name']!r} has a parameter without key: {p!r}")
            if p.get("is_function"):
                code.append(key)
                values[key] = p.get("value")
            else:
                params[key] = p.get("value")
        return cls(str(d["name"]), str(d["version"]) if d.get("version") else None, params, code, values)

    def to_document(self) -> dict:
        params = [{"key": k, "value": v, "is_function": False, "is_set": True} for k, v in self.parameters.items()]
        params += [{"key": k, "value": self.code_values.get(k), "is_function": True, "is_set": True}
                   for k in self.code_parameters]
        return {"name": self.name, "version": self.version or "0.0.0", "parameters": params}


@dataclass
class NodeDefinition:
    stream_name: str
    plate_ids: list
    channel_id: str

    @property
    def node_id(self) -> str:
        return self.stream_name


@dataclass
class FactorDefinition:
    tool: ToolSpec
    factor_type: str
    sources: list
    sinks: list
    alignment_node: str | None = None
    splitting_node: str | None = None
    output_plate: dict | None = None
    #: a live tool object to run instead of loading ``tool`` by name (a HyperStream script's own tool, whose
    #: function parameters are live functions of that script); never stored
    tool_instance: object | None = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str:
        return self.tool.name


@dataclass
class WorkflowDefinition:
    workflow_id: str
    name: str
    description: str
    nodes: dict            # node_id -> NodeDefinition, in stored order
    factors: list          # FactorDefinition, in stored order
    owner: str | None = None
    online: bool = False
    monitor: bool = False
    document: dict | None = None   # the stored document, as read

    @classmethod
    def from_document(cls, d: dict) -> "WorkflowDefinition":
        if not isinstance(d, dict):
            raise WorkflowDefinitionError(f"a workflow document must be an object, got {type(d).__name__}")
        wid = d.get("workflow_id")
        if not wid:
            raise WorkflowDefinitionError(f"workflow document without workflow_id: keys {sorted(map(str, d))}")
        if not isinstance(wid, str):
            raise WorkflowDefinitionError(f"workflow_id must be text, got {wid!r}")
        where = f"workflow {wid!r}"
        nodes = {}
        for i, n in enumerate(_typed(d.get("nodes"), list, where, "nodes", [])):
            _typed(n, dict, where, f"node {i}")
            if not n.get("stream_name") or not n.get("channel_id"):
                raise WorkflowDefinitionError(f"{where}: node {i} needs stream_name and channel_id: {n!r}"[:400])
            for key in ("stream_name", "channel_id"):
                _typed(n[key], str, where, f"node {i} {key}")
            nodes[n["stream_name"]] = NodeDefinition(n["stream_name"], _text_list(n.get("plate_ids"), where,
                                                                                  f"node {i} plate_ids"),
                                                     n["channel_id"])
        factors = []
        for i, f in enumerate(_typed(d.get("factors"), list, where, "factors", [])):
            fwhere = f"{where}, factor {i}"
            _typed(f, dict, where, f"factor {i}")
            ftype = f.get("factor_type", "Factor")
            if ftype not in FACTOR_TYPES:
                raise WorkflowDefinitionError(f"{fwhere}: unknown factor_type {ftype!r} (expected one of "
                                              f"{', '.join(FACTOR_TYPES)})")
            for key in ("alignment_node", "splitting_node"):
                _typed(f.get(key) or None, str, fwhere, key)
            fd = FactorDefinition(ToolSpec.from_document(f.get("tool"), fwhere), ftype,
                                  _text_list(f.get("sources"), fwhere, "sources"),
                                  _text_list(f.get("sinks"), fwhere, "sinks"), f.get("alignment_node") or None,
                                  f.get("splitting_node") or None,
                                  _typed(f.get("output_plate") or None, dict, fwhere, "output_plate"))
            for nid in fd.sources + fd.sinks + [x for x in (fd.alignment_node, fd.splitting_node) if x]:
                if nid not in nodes:
                    raise WorkflowDefinitionError(f"{fwhere} ({fd.tool.name}): node {nid!r} is not a node of the "
                                                  f"workflow (nodes: {', '.join(nodes) or 'none'})")
            factors.append(fd)
        return cls(str(wid), str(d.get("name") or wid), str(d.get("description") or ""), nodes, factors,
                   d.get("owner"), bool(d.get("online", False)), bool(d.get("monitor", False)), d)

    def to_document(self) -> dict:
        """HyperStream's document for a workflow defined here (field order of its models)."""
        if self.document is not None:
            return self.document
        factors = []
        for f in self.factors:
            fd = {"tool": f.tool.to_document(), "factor_type": f.factor_type, "sources": list(f.sources),
                  "sinks": list(f.sinks)}
            for k in ("alignment_node", "splitting_node", "output_plate"):
                if getattr(f, k):
                    fd[k] = getattr(f, k)
            factors.append(fd)
        d = {"workflow_id": self.workflow_id, "name": self.name, "description": self.description or self.name,
             "nodes": [{"stream_name": n.stream_name, "plate_ids": list(n.plate_ids), "channel_id": n.channel_id}
                       for n in self.nodes.values()],
             "factors": factors}
        if self.owner:
            d["owner"] = self.owner
        d.update(online=self.online, monitor=self.monitor)
        return d

    def factor_order(self) -> list[FactorDefinition]:
        """Factors in dependency order: a factor comes after every factor that writes one of its inputs.

        Stored order is kept where it allows (HyperStream runs factors in stored order)."""
        writers = {}
        for f in self.factors:
            for s in f.sinks:
                writers.setdefault(s, []).append(f)
        done, out, visiting = set(), [], set()

        def visit(f):
            if id(f) in done:
                return
            if id(f) in visiting:
                raise WorkflowDefinitionError(f"workflow {self.workflow_id!r}: factors form a cycle through "
                                              f"{f.tool.name!r}")
            visiting.add(id(f))
            for nid in f.sources + [x for x in (f.alignment_node, f.splitting_node) if x]:
                for w in writers.get(nid, []):
                    if w is not f:
                        visit(w)
            visiting.discard(id(f))
            done.add(id(f))
            out.append(f)

        for f in self.factors:
            visit(f)
        return out


def load_workflows(documents) -> tuple[list[WorkflowDefinition], list[tuple[str, str]]]:
    """Workflows from documents; each document that is not a runnable workflow is reported, never fatal, and the
    others load: a field of the wrong JSON type, a workflow with no nodes or no factors (nothing to run: it
    would report "ok" having done nothing), and two documents with the same ``workflow_id`` (which one is
    meant cannot be told: neither is loaded)."""
    out, errors = [], []
    for n, d in enumerate(documents):
        wid = d.get("workflow_id", "?") if isinstance(d, dict) else "?"
        wid = wid if isinstance(wid, str) else repr(wid)
        try:
            w = WorkflowDefinition.from_document(d)
        except WorkflowDefinitionError as e:
            errors.append((wid, str(e)))
            continue
        except Exception as e:  # noqa: BLE001 - whatever else is wrong in one document must not hide the rest
            errors.append((wid, f"workflow document {n} cannot be read: {type(e).__name__}: {e}"[:400]))
            continue
        empty = [what for what, items in (("nodes", w.nodes), ("factors", w.factors)) if not items]
        if empty:
            errors.append((wid, f"workflow {wid!r} has no {' and no '.join(empty)}: nothing to run (not loaded)"))
            continue
        out.append(w)
    counts = {}
    for w in out:
        counts[w.workflow_id] = counts.get(w.workflow_id, 0) + 1
    for wid, k in counts.items():
        if k > 1:
            errors.append((wid, f"{k} stored documents have workflow_id {wid!r}: which one is meant cannot be told, "
                                f"so none is loaded (remove or rename the others)"))
    return [w for w in out if counts[w.workflow_id] == 1], errors


__all__ = ["WorkflowDefinition", "NodeDefinition", "FactorDefinition", "ToolSpec", "WorkflowDefinitionError",
           "FACTOR_TYPES", "load_workflows"]
