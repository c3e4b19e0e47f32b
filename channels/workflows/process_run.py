"""Run a workflow in a worker process: how the app runs code it must not run in its own process.

Stored Python code that the user consented to (``allow_stored_code``) runs only here, never in the process of
the window: :func:`run_workflow_in_process` starts a fresh interpreter (``spawn``), which opens the same store
by itself, runs :func:`~.execution.run_workflow` and reports progress back; a cancel reaches it through an event
it checks between chunks (so it stops within one chunk, leaving every stream consistent with its calculated
intervals). The store must be one another process can open: an embedded store file or a MongoDB URI; the
memory channel of the worker is its own, so a workflow with nodes in the memory channel is refused here.
"""
from __future__ import annotations

import multiprocessing
import queue as _queue
from dataclasses import dataclass, field

from ..errors import CancelledError, ChannelsError
from ..time_interval import TimeInterval
from .execution import WorkflowExecutionError


@dataclass
class ProcessRunResult:
    """What a run in a worker process did (the records stay in the store's run history)."""

    workflow_id: str
    interval: TimeInterval
    outcome: str
    runs: int = 0
    instances_written: int = 0
    skipped: list = field(default_factory=list)
    error: str | None = None

    @property
    def records(self) -> list:  # same shape as WorkflowRun for callers that count runs
        return [None] * self.runs


def store_target(manager) -> str:
    """How another process opens ``manager``'s store (kept in memory only: a URI may hold a password)."""
    target = getattr(manager, "open_target", None) or getattr(manager.store, "path", None)
    if not target:
        raise WorkflowExecutionError(f"this store ({getattr(manager.store, 'description', manager.store)!r}) cannot "
                                     f"be opened by a worker process: connect to an embedded store file or a "
                                     f"MongoDB URI to run stored code")
    return target


def _child(target, config, workflow_id, interval, allow_stored_code, only_runnable, messages, cancel):
    from ..channel_manager import ChannelManager, open_store
    from .execution import run_workflow
    from .model import load_model
    try:
        manager = (ChannelManager.open(target) if target.lower().endswith(".json")
                   else ChannelManager(open_store(target), config))
        try:
            model = load_model(manager.store)
            workflow = model.workflows.get(workflow_id)
            if workflow is None:
                raise WorkflowExecutionError(f"workflow {workflow_id!r} is not in the store")
            result = run_workflow(manager, model, workflow, interval, allow_stored_code=allow_stored_code,
                                  only_runnable=only_runnable, cancel=cancel,
                                  progress=lambda f, text: messages.put(("progress", f, text)))
            messages.put(("done", result.outcome, len(result.records), result.instances_written,
                          list(result.skipped), None))
        finally:
            manager.close()
    except CancelledError as e:
        messages.put(("done", "cancelled", 0, 0, [], str(e)))
    except ChannelsError as e:
        messages.put(("done", "error", 0, 0, [], str(e)))
    except BaseException as e:  # noqa: BLE001 - the user's code may raise anything: report it, named
        messages.put(("done", "error", 0, 0, [], f"{type(e).__name__}: {e}"))


def run_workflow_in_process(manager, workflow, interval: TimeInterval, *, allow_stored_code=False,
                            only_runnable: bool = False, progress=None, cancel=None,
                            poll_s: float = 0.1) -> ProcessRunResult:
    """Run ``workflow`` over ``interval`` in a fresh worker process on ``manager``'s store.

    :param progress: ``progress(fraction, text)`` in the calling process
    :param cancel: object with ``is_set()``; passed on to the worker, which stops within one chunk
    Raises WorkflowExecutionError (refused, or the worker's error) or CancelledError, like run_workflow.
    """
    memory_nodes = [n.stream_name for n in workflow.nodes.values() if n.channel_id == "memory"]
    if memory_nodes:
        raise WorkflowExecutionError(f"workflow {workflow.workflow_id!r}: nodes {', '.join(memory_nodes)} are in the "
                                     f"memory channel, whose data would stay in the worker process: a workflow "
                                     f"that runs stored code must write to the store")
    target = store_target(manager)
    ctx = multiprocessing.get_context("spawn")
    messages, stop = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=_child, name=f"workflow {workflow.workflow_id}", daemon=True,
                       args=(target, manager.config, workflow.workflow_id, interval, allow_stored_code,
                             only_runnable, messages, stop))
    proc.start()
    result = None
    try:
        while result is None:
            if cancel is not None and cancel.is_set():
                stop.set()
            try:
                msg = messages.get(timeout=poll_s)
            except _queue.Empty:
                if not proc.is_alive():
                    try:  # the last message may arrive just after the process ended
                        msg = messages.get(timeout=1.0)
                    except _queue.Empty:
                        raise WorkflowExecutionError(f"workflow {workflow.workflow_id!r}: the worker process ended "
                                                     f"without a result (exit code {proc.exitcode})") from None
                else:
                    continue
            if msg[0] == "progress" and progress is not None:
                progress(msg[1], msg[2])
            elif msg[0] == "done":
                result = ProcessRunResult(workflow.workflow_id, interval, msg[1], msg[2], msg[3], msg[4], msg[5])
    finally:
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=5)
    if result.outcome == "cancelled":
        raise CancelledError(result.error or f"workflow {workflow.workflow_id!r} cancelled")
    if result.outcome == "error":
        raise WorkflowExecutionError(result.error)
    return result


__all__ = ["run_workflow_in_process", "ProcessRunResult", "store_target"]
