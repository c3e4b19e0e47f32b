"""What HyperStream users organise their work with, beyond channels: the meta-data tree, plates and
workflows (HyperStream 0.3.8's own collections), how a workflow runs, and lineage/stale marks.

==============  ============================================================================
``meta_data``   the meta-data tree (``meta_data``: tag, data, parent)
``plates``      plate definitions and their resolution to plate values (``plate_definitions``)
``definitions`` workflow documents: nodes, factors, tools (``workflow_definitions``)
``model``       the three loaded together from a store; writing them back
``execution``   running a workflow: factors in dependency order, one tool run per plate value
``lineage``     from run records, workflow definitions and the change log: what made what; stale intervals
``recompute``   purge and recompute exactly the stale intervals of a stream
==============  ============================================================================

Each name is imported from its module when first asked for (:mod:`channels._lazy`).
"""
from .._lazy import lazy_attributes

_EXPORTS = {
    ".definitions": ("FactorDefinition", "NodeDefinition", "ToolSpec", "WorkflowDefinition",
                     "WorkflowDefinitionError"),
    ".execution": ("Step", "WorkflowExecutionError", "WorkflowRun", "plan", "run_workflow"),
    ".lineage": ("Computation", "Lineage", "LineageIndex", "StaleReason", "lineage_index", "workflow_steps"),
    ".lineage_tracker": ("LineageTracker",),
    ".meta_data": ("MetaDataError", "MetaDataItem", "MetaDataTree"),
    ".model": ("WorkflowModel", "add_meta_data", "add_plates", "add_workflow", "load_model"),
    ".plates": ("Plate", "PlateDefinition", "PlateError", "overlapping_values", "resolve_plates"),
    ".recompute": ("RecomputePlan", "recompute", "recompute_plan"),
}
__getattr__, __dir__, _ = lazy_attributes(__name__, _EXPORTS)

__all__ = ["MetaDataTree", "MetaDataItem", "MetaDataError", "Plate", "PlateDefinition", "PlateError",
           "resolve_plates", "overlapping_values", "WorkflowDefinition", "NodeDefinition", "FactorDefinition",
           "ToolSpec", "WorkflowDefinitionError", "WorkflowModel", "load_model", "add_meta_data", "add_plates",
           "add_workflow", "plan", "run_workflow", "Step", "WorkflowRun", "WorkflowExecutionError", "Lineage",
           "LineageIndex", "LineageTracker", "StaleReason", "lineage_index", "Computation", "workflow_steps", "RecomputePlan", "recompute_plan", "recompute"]
