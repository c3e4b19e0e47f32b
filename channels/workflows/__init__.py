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
"""
from .definitions import FactorDefinition, NodeDefinition, ToolSpec, WorkflowDefinition, WorkflowDefinitionError
from .execution import Step, WorkflowExecutionError, WorkflowRun, plan, run_workflow
from .lineage import Computation, Lineage, LineageIndex, StaleReason, lineage_index, workflow_steps
from .lineage_tracker import LineageTracker
from .meta_data import MetaDataError, MetaDataItem, MetaDataTree
from .model import WorkflowModel, add_meta_data, add_plates, add_workflow, load_model
from .plates import Plate, PlateDefinition, PlateError, overlapping_values, resolve_plates
from .recompute import RecomputePlan, recompute, recompute_plan

__all__ = ["MetaDataTree", "MetaDataItem", "MetaDataError", "Plate", "PlateDefinition", "PlateError",
           "resolve_plates", "overlapping_values", "WorkflowDefinition", "NodeDefinition", "FactorDefinition",
           "ToolSpec", "WorkflowDefinitionError", "WorkflowModel", "load_model", "add_meta_data", "add_plates",
           "add_workflow", "plan", "run_workflow", "Step", "WorkflowRun", "WorkflowExecutionError", "Lineage",
           "LineageIndex", "LineageTracker", "StaleReason", "lineage_index", "Computation", "workflow_steps", "RecomputePlan", "recompute_plan", "recompute"]
