"""The meta-data tree, plates and workflows of one store, loaded together; writing them back.

:func:`load_model` reads the four HyperStream collections (``meta_data``, ``plate_definitions``,
``workflow_definitions``, ``workflow_status``) and never writes; problems in one document are
collected in :attr:`WorkflowModel.errors` instead of hiding the rest.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..errors import ChannelsError
from ..stream import StreamId
from ..utils import utcnow
from .definitions import NodeDefinition, WorkflowDefinition, load_workflows
from .meta_data import MetaDataError, MetaDataItem, MetaDataTree
from .plates import Plate, PlateDefinition, PlateError, overlapping_values, resolve_plates

log = logging.getLogger(__name__)


@dataclass
class WorkflowModel:
    tree: MetaDataTree
    plate_definitions: list
    plates: dict                 # plate_id -> Plate
    workflows: dict              # workflow_id -> WorkflowDefinition
    status: dict = field(default_factory=dict)   # workflow_id -> workflow_status document
    errors: list = field(default_factory=list)   # (what, message)
    _streams: dict = field(default_factory=dict, repr=False, compare=False)   # node_streams cache

    def node_plates(self, node: NodeDefinition) -> list[Plate]:
        missing = [p for p in node.plate_ids if p not in self.plates]
        if missing:
            raise PlateError(f"node {node.stream_name!r} is on plate{'s' if len(missing) > 1 else ''} "
                             f"{', '.join(missing)}, which {'are' if len(missing) > 1 else 'is'} not defined")
        return [self.plates[p] for p in node.plate_ids]

    def node_streams(self, node: NodeDefinition) -> dict:
        """``{plate value: StreamId}`` of a node (one stream with no meta-data when it is on no plate).

        Kept per node until the node's plates change (a NodeCreationFactor resolves them anew), so planning
        a workflow builds every node's streams once."""
        plates = tuple(self.node_plates(node))
        key = (node.stream_name, tuple(node.plate_ids))
        cached = self._streams.get(key)
        if cached is not None and len(cached[0]) == len(plates) and all(a is b for a, b in zip(cached[0], plates)):
            return cached[1]
        values = overlapping_values(plates)
        ids = StreamId._many(node.stream_name, values)   # text pairs (as plates hold them): made at once
        if ids is not None:
            streams = dict(zip(values, ids))
        else:
            streams = {pv: StreamId(node.stream_name, list(pv)) for pv in values}
        self._streams[key] = (plates, streams)
        return streams

    def plates_of_stream(self, stream_id: StreamId) -> list[str]:
        """Plates whose values include this stream's meta-data exactly."""
        meta = frozenset(stream_id.meta_data)
        return [pid for pid, p in self.plates.items() if any(frozenset(v) == meta for v in p.values)]


def load_model(store) -> WorkflowModel:
    """The model of ``store`` (empty when the store keeps no such documents)."""
    errors = []

    def docs(name):
        try:
            return store.list_documents(name)
        except NotImplementedError:
            return []

    try:
        tree = MetaDataTree.from_documents(docs("meta_data"))
    except MetaDataError as e:
        errors.append(("meta_data", str(e)))
        tree = MetaDataTree()
    definitions = []
    for d in docs("plate_definitions"):
        try:
            definitions.append(PlateDefinition.from_document(d))
        except PlateError as e:
            errors.append(("plate_definitions", str(e)))
        except Exception as e:  # noqa: BLE001 - a field of the wrong type: this document is reported, not fatal
            errors.append(("plate_definitions", f"plate definition {d.get('plate_id', '?') if isinstance(d, dict) else '?'!s}"
                                                f" cannot be read: {type(e).__name__}: {e}"[:400]))
    plates = {}
    for pd in definitions:  # one bad plate does not hide the others
        try:
            plates.update(resolve_plates([p for p in definitions if p.plate_id in _ancestry(pd, definitions)], tree))
        except PlateError as e:
            errors.append((f"plate {pd.plate_id}", str(e)))
    workflows, wf_errors = load_workflows(docs("workflow_definitions"))
    errors += [(f"workflow {wid}", msg) for wid, msg in wf_errors]
    status = {d.get("workflow_id"): d for d in docs("workflow_status") if isinstance(d, dict)}
    for what, msg in errors:
        log.warning("%s: %s", what, msg)
    return WorkflowModel(tree, definitions, plates, {w.workflow_id: w for w in workflows}, status, errors)


def _ancestry(pd, definitions) -> set:
    by_id = {p.plate_id: p for p in definitions}
    out, p = set(), pd
    while p is not None and p.plate_id not in out:
        out.add(p.plate_id)
        p = by_id.get(p.parent_plate) if p.parent_plate else None
    return out


def add_meta_data(store, items) -> None:
    """Insert meta-data items (checked against the stored tree first: all or nothing)."""
    tree = MetaDataTree.from_documents(store.list_documents("meta_data"))
    items = list(items)
    tree.add_all([MetaDataItem(i.tag, i.data, i.parent) for i in items])
    store.insert_documents("meta_data", [i.to_document() for i in items])


def add_plates(store, definitions) -> None:
    """Insert plate definitions (checked: unique ids, parents known, resolvable)."""
    existing = [PlateDefinition.from_document(d) for d in store.list_documents("plate_definitions")]
    ids = {p.plate_id for p in existing}
    for pd in definitions:
        if pd.plate_id in ids:
            raise PlateError(f"plate {pd.plate_id!r} already exists")
        ids.add(pd.plate_id)
    resolve_plates(existing + list(definitions), MetaDataTree.from_documents(store.list_documents("meta_data")))
    store.insert_documents("plate_definitions", [p.to_document() for p in definitions])


def add_workflow(store, workflow: WorkflowDefinition) -> None:
    """Insert a workflow definition and its status document, as HyperStream's ``commit_workflow`` does."""
    if any(d.get("workflow_id") == workflow.workflow_id for d in store.list_documents("workflow_definitions")):
        raise ChannelsError(f"workflow {workflow.workflow_id!r} already exists")
    WorkflowDefinition.from_document(workflow.to_document())  # the document must read back
    now = utcnow()
    store.insert_documents("workflow_definitions", [workflow.to_document()])
    store.insert_documents("workflow_status", [{"workflow_id": workflow.workflow_id, "last_updated": now,
                                                "last_accessed": now, "requested_intervals": []}])


__all__ = ["WorkflowModel", "load_model", "add_meta_data", "add_plates", "add_workflow"]
