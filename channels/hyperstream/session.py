"""HyperStream's session objects over ``channels``: ``HyperStream``, its plate and meta-data managers,
workflows with nodes and factors, and the workflow manager.

Semantics are HyperStream 0.3.8's where a script can see them:

* ``HyperStream(...)`` is a singleton reading ``hyperstream_config.json`` from the current directory
  (or ``config_filename=``): its ``mongo`` section opens the MongoDB store; ``{"store": {"sqlite": path}}``
  (our form) opens the embedded store instead — HyperStream itself requires ``mongo``.
* Meta-data, plates and committed workflows are HyperStream's documents (``meta_data``,
  ``plate_definitions``, ``workflow_definitions``, ``workflow_status``), so the app's
  :func:`channels.workflows.load_model` reads them back. A function-valued tool parameter is stored as
  HyperStream stores it (:mod:`channels.hyperstream.serialization`); such a workflow cannot be loaded
  back into a script here (that would run code from the database).
* ``w.execute(interval)`` runs through :func:`channels.workflows.run_workflow` with the script's own tool
  objects; naive datetimes are UTC.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import timedelta

from ..channel_manager import ChannelManager, open_store
from ..config import Config
from ..errors import ChannelsError, ConfigError
from ..stream import StreamId
from ..tools.loading import load_tool
from ..workflows.definitions import FactorDefinition, NodeDefinition, ToolSpec, WorkflowDefinition
from ..workflows.meta_data import ROOT, MetaDataItem, MetaDataTree, identifier_of
from ..workflows.model import add_meta_data, add_plates, add_workflow, load_model
from ..workflows.plates import PlateDefinition, overlapping_values, resolve_plates
from .compat import register_name
from .names import NotSupportedError, as_utc, error_classes
from .serialization import stored_function
from .tools import FUNCTION_TOOLS

log = logging.getLogger("hyperstream")
_errors = error_classes()
IncompatiblePlatesError = _errors["IncompatiblePlatesError"]
PlateDefinitionError = _errors["PlateDefinitionError"]
NodeDefinitionError = _errors["NodeDefinitionError"]
FactorDefinitionError = _errors["FactorDefinitionError"]


class NodeIDAbsentError(ChannelsError, KeyError):
    """No meta-data item with that identifier (treelib's error, which HyperStream lets through)."""


# -- meta-data ---------------------------------------------------------------------------------------------
class MetaDataNode:
    """A node of the meta-data tree as HyperStream's (treelib) tree shows it."""

    def __init__(self, identifier, tag, data):
        self.identifier, self.tag, self.data = identifier, tag, data

    def is_root(self) -> bool:
        return self.identifier == ROOT

    def __repr__(self):
        return f"Node(tag={self.tag!r}, identifier={self.identifier!r}, data={self.data!r})"


class MetaDataTreeView:
    """``meta_data_manager.global_plate_definitions``: the tree with treelib's read methods."""

    def __init__(self, tree: MetaDataTree):
        self._tree = tree

    def _node(self, item):
        return MetaDataNode(item.identifier, item.tag, item.data)

    def all_nodes(self) -> list:
        return [MetaDataNode(ROOT, ROOT, None)] + [self._node(i) for i in self._tree]

    def contains(self, identifier) -> bool:
        return identifier == ROOT or identifier in self._tree

    __contains__ = contains

    def get_node(self, identifier):
        if identifier == ROOT:
            return MetaDataNode(ROOT, ROOT, None)
        return self._node(self._tree[identifier]) if identifier in self._tree else None

    def __getitem__(self, identifier):
        node = self.get_node(identifier)
        if node is None:
            raise NodeIDAbsentError(f"node {identifier!r} is not in the meta-data tree")
        return node

    def children(self, identifier) -> list:
        items = self._tree.root.children if identifier == ROOT else self._tree[identifier].children
        return [self._node(i) for i in items]

    def parent(self, identifier):
        item = self._tree[identifier]
        return self.get_node(item.parent)

    @property
    def root(self) -> str:
        return ROOT

    def __len__(self):
        return len(self._tree) + 1


class MetaDataManager:
    """HyperStream's meta-data manager: the tree of the store's ``meta_data`` documents."""

    def __init__(self, store):
        self._store = store
        self.refresh()

    def refresh(self) -> None:
        self.tree = MetaDataTree.from_documents(self._store.list_documents("meta_data"))
        self.global_plate_definitions = MetaDataTreeView(self.tree)

    def contains(self, identifier) -> bool:
        return identifier in self.tree

    def insert(self, tag, identifier, parent, data):
        """Add an item (HyperStream's rule: ``identifier`` is ``tag_data`` under ``parent``; KeyError if it exists)."""
        tag, data, parent = str(tag), str(data), str(parent or ROOT)
        expected = identifier_of(tag, data, parent)
        if identifier != expected:
            raise ValueError(f"meta-data identifier {identifier!r} does not match tag {tag!r}, data {data!r} "
                             f"under {parent!r} (expected {expected!r})")
        if identifier in self.tree:
            raise KeyError(f"Identifier {identifier} already exists in tree")
        if parent != ROOT and parent not in self.tree:
            raise NodeIDAbsentError(f"parent {parent!r} of meta-data {identifier!r} is not in the tree")
        add_meta_data(self._store, [MetaDataItem(tag, data, parent)])
        self.tree.add(MetaDataItem(tag, data, parent))
        log.info("Meta data %s inserted", identifier)

    def delete(self, identifier):
        """Remove an item and everything under it (NodeIDAbsentError when there is no such item)."""
        if identifier not in self.tree:
            raise NodeIDAbsentError(f"Node '{identifier}' is not in the tree")
        doomed = [i for i in self.tree if i.identifier == identifier or i.identifier.startswith(identifier + ".")]
        for item in doomed:
            self._store.delete_documents("meta_data", {"tag": item.tag, "data": item.data, "parent": item.parent})
        self.refresh()
        log.info("Meta data %s deleted", identifier)


# -- plates --------------------------------------------------------------------------------------------------
class Plate:
    """HyperStream's Plate: ``values`` (tuples of ``(tag, data)`` pairs), ``parent``, iteration over values;
    ``plate[parent_value]`` is the values under a value of a parent plate."""

    def __init__(self, plate, parent=None):
        self._plate = plate
        self.plate_id = plate.plate_id
        self.meta_data_id = plate.meta_data_id
        self.description = plate.description
        self.values = [tuple(v) for v in plate.values]
        self.parent = parent

    @property
    def is_root(self) -> bool:
        return self.parent is None

    @property
    def ancestor_plates(self) -> list:
        out, p = [], self
        while p is not None:
            out.insert(0, p)
            p = p.parent
        return out

    @property
    def ancestor_meta_data_ids(self) -> list:
        return [p.meta_data_id for p in self.ancestor_plates]

    def is_sub_plate(self, other) -> bool:
        return all(v in set(other.values) for v in self.values)

    def __iter__(self):
        return iter(self.values)

    def __len__(self):
        return len(self.values)

    def __getitem__(self, parent_value):
        pv = set(parent_value if isinstance(parent_value, tuple) and parent_value and isinstance(parent_value[0], tuple)
                 else [parent_value])
        return [v for v in self.values if pv <= set(v)]

    def __eq__(self, other):
        return isinstance(other, Plate) and other.plate_id == self.plate_id and other.values == self.values

    def __hash__(self):
        return hash(self.plate_id)

    def __repr__(self):
        return f"Plate(plate_id={self.plate_id!r}, meta_data_id={self.meta_data_id!r}, values={self.values!r})"


class PlateManager:
    """HyperStream's plate manager: ``plates`` by id, ``create_plate``, ``delete_plate``, ``meta_data_manager``."""

    def __init__(self, store):
        self._store = store
        self.meta_data_manager = MetaDataManager(store)
        self.plates: dict = {}
        self.refresh()

    def _definitions(self):
        return [PlateDefinition.from_document(d) for d in self._store.list_documents("plate_definitions")]

    def refresh(self) -> None:
        """Re-read the meta-data tree and plates from the store."""
        self.meta_data_manager.refresh()
        defs = self._definitions()
        resolved = {}
        for d in defs:  # one plate that does not resolve does not hide the others
            try:
                resolved.update(resolve_plates(_ancestry(d, defs), self.meta_data_manager.tree))
            except ChannelsError as e:
                log.warning("plate %s: %s", d.plate_id, e)
        self.plates.clear()
        for pid in sorted(resolved, key=lambda p: len(resolved[p].meta_data_ids)):
            p = resolved[pid]
            self.plates[pid] = Plate(p, self.plates.get(p.parent.plate_id) if p.parent else None)

    def create_plate(self, plate_id, description, meta_data_id, values, complement, parent_plate):
        """Define a plate in the store and return it (the existing one if ``plate_id`` exists, as HyperStream)."""
        self.meta_data_manager.refresh()
        if any(d.plate_id == plate_id for d in self._definitions()):
            log.info("Plate with id %s already exists", plate_id)
            self.refresh()
            return self.plates[plate_id]
        if parent_plate and parent_plate not in self.plates:
            raise PlateDefinitionError(f"plate {plate_id!r}: parent plate {parent_plate!r} does not exist")
        if not values and not complement:
            raise PlateDefinitionError(f"plate {plate_id!r} selects nothing: give values, or complement=True")
        pd = PlateDefinition(str(plate_id), str(meta_data_id), str(description or ""), [str(v) for v in values or []],
                             bool(complement), parent_plate or None)
        add_plates(self._store, [pd])
        self.refresh()
        return self.plates[plate_id]

    def delete_plate(self, plate_id, delete_meta_data=False):
        """Remove a plate definition (and, if asked, the meta-data of its values); nothing if there is none."""
        if plate_id not in self.plates and not any(d.plate_id == plate_id for d in self._definitions()):
            log.info("Plate %s not found for deletion", plate_id)
            return
        plate = self.plates.get(plate_id)
        if delete_meta_data and plate is not None:
            for pv in plate.values:
                ident = ".".join("_".join(x) for x in pv)
                if ident in self.meta_data_manager.tree:
                    self.meta_data_manager.delete(ident)
        self._store.delete_documents("plate_definitions", {"plate_id": plate_id})
        self.refresh()
        log.info("Plate %s deleted", plate_id)


def _ancestry(pd, defs):
    by_id = {d.plate_id: d for d in defs}
    out, p = [], pd
    while p is not None and p not in out:
        out.append(p)
        p = by_id.get(p.parent_plate) if p.parent_plate else None
    return out


# -- workflows -----------------------------------------------------------------------------------------------
class Node:
    """A workflow node: one stream per plate value (``streams``; key None for a node on no plate)."""

    def __init__(self, channel, node_id, streams, plates):
        self._channel = channel
        self.node_id = node_id
        self.streams = streams
        self.plates = list(plates or [])
        self.factor = None

    @property
    def stream_name(self) -> str:
        return self.node_id

    @property
    def channel(self):
        return self._channel

    @property
    def plate_ids(self) -> list:
        return [p.plate_id for p in self.plates]

    @property
    def is_leaf(self) -> bool:
        return True

    def __repr__(self):
        return f"Node(node_id={self.node_id!r}, channel={self._channel.channel_id!r}, plates={self.plate_ids})"


class Factor:
    """A factor of a script's workflow (``Factor``, ``MultiOutputFactor`` or ``NodeCreationFactor``)."""

    def __init__(self, factor_type, tool, sources, sink, alignment_node=None, splitting_node=None,
                 output_plate=None):
        self.factor_type = factor_type
        self.tool = tool
        self.sources = list(sources or [])
        self.sink = sink
        self.alignment_node = alignment_node
        self.splitting_node = splitting_node
        self.output_plate = output_plate

    @property
    def source(self):
        return self.sources[0] if self.sources else None

    def __repr__(self):
        return f"{self.factor_type}(tool={self.tool!r})"


def _tool_document(tool) -> dict:
    """HyperStream's ToolModel document of a tool object: its public parameters in order; a function as
    ``pickle.dumps(func_dump(f))`` (``is_function``), a set as a list (``is_set``)."""
    params = []
    for key, value in _tool_parameters(tool).items():
        is_function = is_set = False
        if callable(value) and not isinstance(value, type):
            value, is_function = stored_function(value), True
        elif isinstance(value, (set, frozenset)):
            value, is_set = list(value), True
        elif isinstance(value, timedelta):   # our tools' durations; HyperStream's take seconds
            value = value.total_seconds()
        params.append({"key": key, "value": value, "is_function": is_function, "is_set": is_set})
    return {"name": tool.name, "version": "0.0.0", "parameters": params}


def _tool_parameters(tool) -> dict:
    params = getattr(tool, "parameters", None)
    if isinstance(params, dict):
        return params
    return {k: v for k, v in vars(tool).items() if not k.startswith("_")}


_OUTPUT_PLATE_FIELDS = ("plate_id", "meta_data_id", "description", "use_provided_values")


class Workflow:
    """HyperStream's Workflow: ``create_node`` / ``create_factor`` / ``create_multi_output_factor`` /
    ``create_node_creation_factor``, ``execute(time_interval)``."""

    def __init__(self, workflow_id, name, description, owner, online=False, monitor=False, *, session=None):
        self.workflow_id = workflow_id
        self.name = name
        self.description = description
        self.owner = owner
        self.online = online
        self.monitor = monitor
        self.nodes: dict = {}
        self.factors: list = []
        self._session = session
        log.info("New workflow created with id %s", workflow_id)

    def __enter__(self):
        hs = self._hs()
        hs.current_workflow = self
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self._hs().current_workflow = None
        return False

    def _hs(self):
        return self._session if self._session is not None else HyperStream()

    # -- building ------------------------------------------------------------------------------------------
    def create_node(self, stream_name, channel, plates):
        """A node over ``plates`` (its streams are made in ``channel``, one per overlapping plate value)."""
        plates = list(plates or [])
        streams = {}
        if plates:
            values = overlapping_values([p._plate for p in plates])
            if not values:
                raise NodeDefinitionError(f"node {stream_name!r}: plates {[p.plate_id for p in plates]} have no "
                                          f"overlapping values")
            for pv in values:
                streams[pv] = channel.get_or_create_stream(StreamId(stream_name, list(pv)))
        else:
            streams[None] = channel.get_or_create_stream(StreamId(stream_name))
        node = Node(channel, stream_name, streams, plates)
        self.nodes[node.node_id] = node
        return node

    def _check_tool(self, tool, kind, base_name):
        from ..tools.engine import Tool as _Tool
        from ..tools.plates import MultiOutputTool as _Multi, PlateCreationTool as _Creation
        base = {"Tool": _Tool, "MultiOutputTool": _Multi, "PlateCreationTool": _Creation}[base_name]
        if not isinstance(tool, base):
            raise ValueError(f"Expected {base_name}, got {type(tool)}")

    def create_factor(self, tool, sources, sink, alignment_node=None):
        """A Factor: ``tool`` from ``sources`` into ``sink`` (plates must match, as HyperStream checks)."""
        self._check_tool(tool, "Factor", "Tool")
        sources = list(sources or [])
        if sink.plates:
            from ..tools.engine import AggregateTool
            source_plates = {pid for s in sources for pid in s.plate_ids}
            if sources and not isinstance(tool, AggregateTool) and not getattr(tool, "selector_meta_data", None):
                for p in sink.plate_ids:
                    if p not in source_plates:
                        raise IncompatiblePlatesError(f"{p} not in source plates")
                for p in source_plates:
                    if p not in set(sink.plate_ids):
                        raise IncompatiblePlatesError(f"{p} not in sink plates")
        factor = Factor("Factor", tool, sources, sink, alignment_node=alignment_node)
        sink.factor = factor
        self.factors.append(factor)
        return factor

    def create_multi_output_factor(self, tool, source, splitting_node, sink):
        """A MultiOutputFactor: ``tool`` splits ``source`` onto the sink's output plate."""
        self._check_tool(tool, "MultiOutputFactor", "MultiOutputTool")
        input_plates = source.plates if source else []
        if len(input_plates) > 1:
            raise NotSupportedError("a MultiOutputFactor whose source is on more than one plate (as HyperStream)")
        if not sink.plates:
            raise ValueError("No output plate found")
        factor = Factor("MultiOutputFactor", tool, [source] if source else [], sink, splitting_node=splitting_node)
        sink.factor = factor
        self.factors.append(factor)
        return factor

    def create_node_creation_factor(self, tool, source, output_plate, plate_manager):
        """A NodeCreationFactor: ``tool`` finds the values of the new plate ``output_plate`` (a dict)."""
        self._check_tool(tool, "NodeCreationFactor", "PlateCreationTool")
        if source is not None and len(source.plates) > 1:
            raise NotSupportedError("a NodeCreationFactor whose source is on more than one plate (as HyperStream)")
        if not isinstance(output_plate, dict) or not output_plate.get("plate_id") or not output_plate.get("meta_data_id"):
            raise ValueError(f"output_plate must be a dict with plate_id and meta_data_id, got {output_plate!r}")
        factor = Factor("NodeCreationFactor", tool, [source] if source else [], None, output_plate=dict(output_plate))
        self.factors.append(factor)
        return factor

    # -- documents and running -----------------------------------------------------------------------------
    def _factor_document(self, f) -> dict:
        d = {"tool": _tool_document(f.tool), "factor_type": f.factor_type,
             "sources": [s.node_id for s in f.sources], "sinks": [f.sink.node_id] if f.sink is not None else []}
        if f.alignment_node is not None:
            d["alignment_node"] = f.alignment_node.node_id
        if f.splitting_node is not None:
            d["splitting_node"] = f.splitting_node.node_id
        if f.output_plate:
            d["output_plate"] = {k: f.output_plate[k] for k in _OUTPUT_PLATE_FIELDS if k in f.output_plate}
        return d

    def to_document(self) -> dict:
        """HyperStream's ``workflow_definitions`` document of this workflow (its field order)."""
        d = {"workflow_id": self.workflow_id, "name": self.name, "description": self.description,
             "nodes": [{"stream_name": n.node_id, "plate_ids": n.plate_ids, "channel_id": n.channel.channel_id}
                       for n in self.nodes.values()],
             "factors": [self._factor_document(f) for f in self.factors]}
        if self.owner is not None:
            d["owner"] = self.owner
        d.update(online=bool(self.online), monitor=bool(self.monitor))
        return {k: v for k, v in d.items() if v is not None}

    def definition(self) -> WorkflowDefinition:
        """This workflow as ``channels.workflows`` runs it: each factor carries the script's live tool."""
        nodes = {n.node_id: NodeDefinition(n.node_id, n.plate_ids, n.channel.channel_id) for n in self.nodes.values()}
        factors = []
        for f, fd in zip(self.factors, self.to_document()["factors"]):
            plain = {p["key"]: p["value"] for p in fd["tool"]["parameters"] if not p["is_function"]}
            code = {p["key"]: p["value"] for p in fd["tool"]["parameters"] if p["is_function"]}
            spec = ToolSpec(fd["tool"]["name"], "0.0.0", plain, list(code), code)
            factors.append(FactorDefinition(spec, f.factor_type, list(fd["sources"]), list(fd["sinks"]),
                                            fd.get("alignment_node"), fd.get("splitting_node"),
                                            fd.get("output_plate"), tool_instance=f.tool))
        return WorkflowDefinition(self.workflow_id, self.name, self.description or "", nodes, factors, self.owner,
                                  bool(self.online), bool(self.monitor))

    def execute(self, time_interval):
        """Run every factor over ``time_interval`` (naive ends are UTC) with :func:`channels.workflows.run_workflow`."""
        from ..workflows import run_workflow
        from .names import TimeInterval
        hs = self._hs()
        interval = TimeInterval(time_interval.start, time_interval.end)
        model = load_model(hs.channel_manager.store)
        result = run_workflow(hs.channel_manager, model, self.definition(), interval)
        hs.plate_manager.refresh()
        return result


class WorkflowManager:
    """HyperStream's workflow manager: ``workflows`` by id, ``commit_workflow``, ``load_workflow``,
    ``delete_workflow``."""

    def __init__(self, channel_manager, plate_manager, session=None):
        self.channel_manager = channel_manager
        self.plate_manager = plate_manager
        self.workflows: dict = {}
        self.uncommitted_workflows: set = set()
        self._session = session
        for d in self._documents():
            try:
                self.load_workflow(d["workflow_id"])
            except (ChannelsError, KeyError, ValueError) as e:
                log.warning("workflow %s not loaded: %s", d.get("workflow_id"), e)

    @property
    def _store(self):
        return self.channel_manager.store

    def _documents(self):
        return self._store.list_documents("workflow_definitions")

    def add_workflow(self, workflow, commit=False):
        if workflow.workflow_id in self.workflows:
            raise KeyError(f"Workflow with id {workflow.workflow_id} already exists")
        self.workflows[workflow.workflow_id] = workflow
        if commit:
            self.commit_workflow(workflow.workflow_id)
        else:
            self.uncommitted_workflows.add(workflow.workflow_id)

    def commit_workflow(self, workflow_id):
        """Write the workflow's definition and status documents (HyperStream's); a warning if it is stored."""
        try:
            workflow = self.workflows[workflow_id]
        except KeyError:
            raise KeyError(f"no workflow {workflow_id!r} to commit (workflows: {', '.join(self.workflows) or 'none'})") \
                from None
        if any(d.get("workflow_id") == workflow_id for d in self._documents()):
            log.warning("Workflow with id %s already exists in database", workflow_id)
            return
        definition = workflow.definition()
        definition.document = workflow.to_document()
        add_workflow(self._store, definition)
        self.uncommitted_workflows.discard(workflow_id)
        log.info("Committed workflow %s to database", workflow_id)

    def commit_all(self):
        for wid in list(self.uncommitted_workflows):
            self.commit_workflow(wid)

    def delete_workflow(self, workflow_id):
        """Remove the workflow from the store and from memory (nothing if there is none)."""
        n = self._store.delete_documents("workflow_definitions", {"workflow_id": workflow_id})
        n += self._store.delete_documents("workflow_status", {"workflow_id": workflow_id})
        if self.workflows.pop(workflow_id, None) is not None or n:
            log.info("Deleted workflow with id %s", workflow_id)
        self.uncommitted_workflows.discard(workflow_id)

    def load_workflow(self, workflow_id):
        """Read a committed workflow back into a script (tools by name; stored functions are refused)."""
        docs = [d for d in self._documents() if d.get("workflow_id") == workflow_id]
        if not docs:
            raise KeyError(f"no workflow {workflow_id!r} in the store")
        d = WorkflowDefinition.from_document(docs[0])
        w = Workflow(d.workflow_id, d.name, d.description, d.owner, d.online, d.monitor, session=self._session)
        plates = self.plate_manager.plates
        for n in d.nodes.values():
            w.create_node(n.stream_name, self.channel_manager.get_channel(n.channel_id), [plates[p] for p in n.plate_ids])
        for f in d.factors:
            if f.tool.code_parameters:
                raise NotSupportedError(f"workflow {workflow_id!r}, tool {f.tool.name!r}: parameter(s) "
                                        f"{', '.join(f.tool.code_parameters)} hold Python code stored in the "
                                        f"database; loading them would run that code")
            tool = self.channel_manager.get_tool(f.tool.name, dict(f.tool.parameters))
            sources = [w.nodes[s] for s in f.sources]
            if f.factor_type == "Factor":
                w.create_factor(tool, sources, w.nodes[f.sinks[0]],
                                w.nodes[f.alignment_node] if f.alignment_node else None)
            elif f.factor_type == "MultiOutputFactor":
                w.create_multi_output_factor(tool, sources[0] if sources else None,
                                             w.nodes[f.splitting_node] if f.splitting_node else None,
                                             w.nodes[f.sinks[0]])
            else:
                w.create_node_creation_factor(tool, sources[0] if sources else None, f.output_plate,
                                              self.plate_manager)
        self.workflows.pop(workflow_id, None)
        self.add_workflow(w)
        self.uncommitted_workflows.discard(workflow_id)
        return w


# -- tools ---------------------------------------------------------------------------------------------------
class ToolContainer:
    """``hs.tools.<name>(**parameters)``: a tool object by name (naive datetimes in the parameters are UTC;
    a function given to ``apply`` / ``sliding_apply`` runs with HyperStream's calling convention)."""

    def __init__(self, channel_manager, channels=None):
        self._manager = channel_manager
        self._channels = channels

    def _names(self):
        chans = self._channels if self._channels is not None else self._manager.tool_channels
        return sorted({n for c in chans for n in c.list_tools()})

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._names() and name not in FUNCTION_TOOLS:
            raise AttributeError(f"no tool {name!r} (tools: {', '.join(self._names())})")
        manager, channels = self._manager, self._channels

        def make(*args, **parameters):
            parameters = {k: as_utc(v) for k, v in parameters.items()}
            if name in FUNCTION_TOOLS and any(callable(v) and not isinstance(v, str)
                                              for v in list(args) + list(parameters.values())):
                return FUNCTION_TOOLS[name](*args, **parameters)
            if channels is not None:
                channel = next(c for c in channels if name in c.list_tools())
                return load_tool(channel, name, parameters, None, coerce=False)
            return manager.get_tool(name, parameters)

        make.__name__ = name
        make.__doc__ = f"Make the tool {name!r} with these parameters."
        return make

    def __dir__(self):
        return self._names()


class PluginWrapper:
    def __init__(self, tools):
        self.tools = tools


class _Unsupported:
    def __init__(self, what):
        self._what = what

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise NotSupportedError(f"{self._what} (hs.factors.{name}) is not supported by HyperStream Studio: use "
                                f"w.create_factor(hs.tools.{name}(...), sources, sink)")


class HyperStream:
    """HyperStream's session object (a singleton, as in HyperStream: ``HyperStream()`` again returns it)."""

    _instance = None

    def __new__(cls, *args, **kwargs):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
            cls._instance._ready = False
        return cls._instance

    def __init__(self, loglevel=logging.INFO, file_logger=True, console_logger=True, mqtt_logger=None,
                 config_filename="hyperstream_config.json"):
        if self._ready:
            return
        self.parameters = dict(loglevel=loglevel, file_logger=file_logger, console_logger=console_logger,
                               mqtt_logger=mqtt_logger)
        self.config_filename = config_filename
        log.setLevel(loglevel)
        try:
            self.config = Config.load(config_filename)
        except ConfigError as e:
            raise _errors["ConfigurationError"](f"HyperStream config: {e}") from None
        if self.config.mongo is None and not self.config.mongo_uri and not self.config.sqlite_path:
            raise _errors["ConfigurationError"](
                f"{config_filename}: no store: give HyperStream's \"mongo\" section or {{\"store\": {{\"sqlite\": "
                f"PATH}}}}")
        store = open_store(None, self.config)
        self.channel_manager = ChannelManager(store, self.config)
        self.plate_manager = PlateManager(store)
        self.workflow_manager = WorkflowManager(self.channel_manager, self.plate_manager, session=self)
        self.tools = ToolContainer(self.channel_manager,
                                   [c for c in self.channel_manager.tool_channels if c.channel_id == "tools"] or None)
        self.plugins = type("PluginContainer", (), {})()
        for c in self.channel_manager.tool_channels:
            if c.channel_id.endswith("_tools"):
                setattr(self.plugins, c.channel_id[:-len("_tools")], PluginWrapper(ToolContainer(self.channel_manager, [c])))
        self.factors = _Unsupported("HyperStream's factor shortcuts")
        self.current_workflow = None
        self.current_session = None
        self._ready = True

    @classmethod
    def reset(cls) -> None:
        """Forget the singleton (and close its store): the next ``HyperStream()`` reads the config again."""
        inst, cls._instance = cls._instance, None
        if inst is not None and getattr(inst, "_ready", False):
            inst.channel_manager.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        return False

    def __repr__(self):
        return "HyperStream({})".format(", ".join(f"{k}={v}" for k, v in self.parameters.items()))

    def __str__(self):
        return f"HyperStream (HyperStream Studio), store {self.channel_manager.store!r}"

    def new_session(self):
        return None

    @contextmanager
    def create_workflow(self, workflow_id, name, owner, description, online=False, monitor=False, safe=True):
        """Define a workflow in a ``with`` block (``safe=False``: reuse the one with this id if there is one)."""
        try:
            w = Workflow(workflow_id, name, description, owner, online, monitor, session=self)
            self.workflow_manager.add_workflow(w)
        except KeyError:
            if safe:
                raise
            w = self.workflow_manager.workflows[workflow_id]
        self.current_workflow = w
        try:
            yield w
        finally:
            self.current_workflow = None

    def add_workflow(self, workflow):
        self.workflow_manager.add_workflow(workflow)


for _name, _obj in dict(HyperStream=HyperStream, PlateManager=PlateManager, Workflow=Workflow,
                        WorkflowManager=WorkflowManager, MetaDataManager=MetaDataManager, Plate=Plate, Node=Node,
                        Factor=Factor, ToolContainer=ToolContainer, PluginWrapper=PluginWrapper).items():
    register_name(_name, _obj)

__all__ = ["HyperStream", "PlateManager", "MetaDataManager", "Plate", "Workflow", "WorkflowManager", "Node",
           "Factor", "ToolContainer", "PluginWrapper", "NodeIDAbsentError", "IncompatiblePlatesError"]
