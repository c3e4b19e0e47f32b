"""Run a workflow whose consented stored code must not run in the calling process (the app's window).

:func:`run_workflow_in_process` is :func:`~.execution.run_workflow` on the ``local`` engine: every step runs in a
worker process that opens the same store itself (an embedded store file or a MongoDB URI) and reports back;
a cancel reaches the workers through an event they check between chunks. A workflow whose nodes are in the
memory channel is refused (the workers' memory is their own), and so is stored code in a NodeCreationFactor
(those run in the calling process, where they add plate values).
"""
from __future__ import annotations

from ..time_interval import TimeInterval
from .engines import store_target
from .execution import WorkflowRun
from .steps import WorkflowExecutionError


def run_workflow_in_process(manager, workflow, interval: TimeInterval, *, allow_stored_code=False,
                            only_runnable: bool = False, progress=None, cancel=None, workers: int | None = None,
                            model=None) -> WorkflowRun:
    """Run ``workflow`` over ``interval`` with its steps in worker processes on ``manager``'s store."""
    from .execution import run_workflow
    from .model import load_model
    if allow_stored_code:
        coded = [f.tool.name for f in workflow.factors if f.factor_type == "NodeCreationFactor"
                 and f.tool.code_parameters]
        if coded:
            raise WorkflowExecutionError(f"workflow {workflow.workflow_id!r}: the NodeCreationFactor "
                                         f"{', '.join(coded)} carries stored code, which would run in this process: "
                                         f"bind it to a named function instead")
    store_target(manager)
    return run_workflow(manager, model if model is not None else load_model(manager.store), workflow, interval,
                        allow_stored_code=allow_stored_code, only_runnable=only_runnable, progress=progress,
                        cancel=cancel, engine="local", workers=workers)


__all__ = ["run_workflow_in_process"]
