"""Running a workflow over a time interval: its factors in dependency order, each tool once per plate value.

**Factor** (HyperStream's ``Factor``): for each plate value ``pv`` of the sink node, one tool run. The sink
is the sink node's stream of ``pv``; the sources are, for every source node, its streams whose plate value
agrees with ``pv`` (the same value, a value of a parent plate — a house's stream for each of its residents —
or, for a sink on fewer plates, every finer value under ``pv``: the residents of a house aggregated into the
house). A node on no plates has one stream, used by every plate value. The alignment node must be on no
plates (as in HyperStream).

**MultiOutputFactor**: the sink node is on one plate more than its source (the *output plate*, e.g. rooms
under houses). For each plate value ``pv`` of the source, the tool splits the source's stream onto the sink
node's streams under ``pv`` — the output plate's values there are handed to HyperStream-style tools as
``meta_data_id`` and ``output_plate_values``; a tool of ours (e.g. the built-in ``splitter``) names them
itself. The optional splitting node goes to the tool as its splitting (alignment) stream.

**NodeCreationFactor**: a plate-creation tool reads its source and returns the values of a new plate; they
are added to the meta-data tree (under each input plate value) and the output plate is defined if it is not
yet, in the store, as HyperStream's ``NodeCreationFactor`` does. Later factors see the new plate.

Each tool run is an ordinary ``Tool.execute``: only what the sink is missing is computed, in chunks, each
chunk's data and calculated intervals committed together, recorded in the run history. So an interrupted
workflow leaves every stream consistent with its calculated intervals, and running it again continues where
it stopped.

**Stored code** (:mod:`.code_params`): :func:`plan` never decodes it; it marks the steps whose factor has
function parameters HyperStream stored as code (:attr:`Step.stored_code`). :func:`run_workflow` checks every
factor before anything runs and refuses, naming every factor it cannot run and why (code neither bound to a
named function nor allowed to run, code of another Python version, no tool that takes the stored
parameters) — or, with ``only_runnable=True``, runs the others and reports what it skipped. A factor whose
steps have nothing left to compute over the interval is not checked: there is nothing to run.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import CancelledError, ChannelsError
from ..stream import StreamId
from ..time_interval import TimeInterval, TimeIntervals
from .definitions import FactorDefinition, WorkflowDefinition
from .meta_data import ROOT
from .model import WorkflowModel
from .steps import Step, WorkflowExecutionError, input_stream, pv_text, run_step


@dataclass
class WorkflowRun:
    workflow_id: str
    interval: TimeInterval
    records: list = field(default_factory=list)     # RunRecord of every tool run
    skipped: list = field(default_factory=list)     # (factor label, why) of factors not run (only_runnable)
    engine: str = "inline"                            # where the steps ran: inline / local / dask
    created_plate_values: list = field(default_factory=list)   # (plate id, plate value) made by NodeCreation
    outcome: str = "running"                          # ok / error / cancelled
    error: str | None = None
    worker_pids: list = field(default_factory=list)   # local engine: the worker processes that ran the steps
    workers_started: int = 0                          # local engine: how many of them were started for this run

    @property
    def instances_written(self) -> int:
        return sum(r.instances_written for r in self.records)


def _where(workflow, f) -> str:
    return f"workflow {workflow.workflow_id!r}, factor {f.tool.name!r}"


def _single_stream(model, workflow, f, node_id, role) -> tuple:
    node = workflow.nodes[node_id]
    streams = model.node_streams(node)
    if len(streams) != 1:
        raise WorkflowExecutionError(f"{_where(workflow, f)}: {role} node {node.stream_name!r} is on plates "
                                     f"{node.plate_ids}; only {role} nodes on no plate are supported")
    return node.channel_id, next(iter(streams.values()))


def plan_factor(model: WorkflowModel, workflow: WorkflowDefinition, f: FactorDefinition) -> list[Step]:
    """The tool runs of one factor with the plates as they are now."""
    if f.factor_type == "Factor":
        return _plan_plain(model, workflow, f)
    if f.factor_type == "MultiOutputFactor":
        return _plan_multi(model, workflow, f)
    return _plan_node_creation(model, workflow, f)


def _plan_plain(model, workflow, f) -> list[Step]:
    if len(f.sinks) != 1:
        raise WorkflowExecutionError(f"{_where(workflow, f)}: a factor needs exactly one sink node, has "
                                     f"{len(f.sinks)}")
    sink_node = workflow.nodes[f.sinks[0]]
    sink_streams = model.node_streams(sink_node)
    sink_keys = frozenset(k for pv in list(sink_streams)[:1] for k, _v in pv)
    lookups = [_source_lookup(workflow.nodes[s], model.node_streams(workflow.nodes[s]), sink_keys) for s in f.sources]
    alignment = _single_stream(model, workflow, f, f.alignment_node, "alignment") if f.alignment_node else None
    return [Step(f, pv, [src for lookup in lookups for src in lookup(pv)], (sink_node.channel_id, sink_id), alignment)
            for pv, sink_id in sink_streams.items()]


def _source_lookup(node, streams: dict, sink_keys: frozenset):
    """``pv -> [(channel_id, StreamId)]``: a source node's streams whose plate value agrees with a sink plate
    value ``pv`` (the same value, the value of a coarser plate it lies under, or every finer value under it),
    found by index — planning costs one lookup per sink value, not a comparison with every source stream."""
    items = list(streams.items())
    if not items:
        return lambda pv: []
    keys = frozenset(k for k, _v in items[0][0])
    if keys <= sink_keys:      # the source is as fine as the sink or coarser: one stream per sink value
        exact = {frozenset(spv): [(node.channel_id, sid)] for spv, sid in items}
        return lambda pv: exact.get(frozenset(p for p in pv if p[0] in keys), [])
    if sink_keys < keys:       # the source is finer: every stream under the sink value (an aggregation)
        under: dict = {}
        for spv, sid in items:
            under.setdefault(frozenset(p for p in spv if p[0] in sink_keys), []).append((node.channel_id, sid))
        return lambda pv: under.get(frozenset(pv), [])
    return lambda pv: []       # plates that share no line of the meta-data tree: no source agrees


def _plan_multi(model, workflow, f) -> list[Step]:
    where = _where(workflow, f)
    if len(f.sources) > 1 or len(f.sinks) != 1:
        raise WorkflowExecutionError(f"{where}: a MultiOutputFactor needs at most one source node and exactly one "
                                     f"sink node, has {len(f.sources)} and {len(f.sinks)}")
    sink_node = workflow.nodes[f.sinks[0]]
    source_node = workflow.nodes[f.sources[0]] if f.sources else None
    source_plates = set(source_node.plate_ids) if source_node else set()
    new = [p for p in sink_node.plate_ids if p not in source_plates]
    if len(new) != 1:
        raise WorkflowExecutionError(f"{where}: the sink node {sink_node.stream_name!r} must be on exactly one plate "
                                     f"more than the source (the output plate), is on {sink_node.plate_ids}")
    out_plate = model.node_plates(sink_node)[sink_node.plate_ids.index(new[0])]
    key = out_plate.meta_data_id
    splitting = _single_stream(model, workflow, f, f.splitting_node, "splitting") if f.splitting_node else None
    sinks = model.node_streams(sink_node)
    sources = model.node_streams(source_node) if source_node else {(): None}
    by_parent: dict = {}
    for spv, sid in sinks.items():
        by_parent.setdefault(frozenset(p for p in spv if p[0] != key), []).append((spv, sid))
    steps = []
    for pv, src in sources.items():
        under = by_parent.get(frozenset(pv), [])
        if not under:
            continue
        values = [dict(spv)[key] for spv, _sid in under]
        base = StreamId(sink_node.stream_name, list(pv))
        steps.append(Step(f, pv, [(source_node.channel_id, src)] if src is not None else [],
                          (sink_node.channel_id, base), splitting,
                          sinks=[(sink_node.channel_id, sid) for _spv, sid in under], meta_data_id=key,
                          output_values=values))
    return steps


def _plan_node_creation(model, workflow, f) -> list[Step]:
    where = _where(workflow, f)
    out = f.output_plate or {}
    if not out.get("plate_id") or not out.get("meta_data_id"):
        raise WorkflowExecutionError(f"{where}: a NodeCreationFactor needs an output_plate with plate_id and "
                                     f"meta_data_id, has {out!r}")
    if len(f.sources) > 1 or f.sinks:
        raise WorkflowExecutionError(f"{where}: a NodeCreationFactor has at most one source node and no sink node")
    source_node = workflow.nodes[f.sources[0]] if f.sources else None
    streams = model.node_streams(source_node) if source_node else {(): None}
    return [Step(f, pv, [(source_node.channel_id, sid)] if sid is not None else [], None, None,
                 meta_data_id=out["meta_data_id"]) for pv, sid in streams.items()]


def plan(model: WorkflowModel, workflow: WorkflowDefinition) -> list[Step]:
    """Every step of ``workflow`` with the plates as they are now, in the order they run (a NodeCreationFactor's
    new plate values are added when it runs, so the steps after it may grow then)."""
    steps = []
    for f in workflow.factor_order():
        steps += plan_factor(model, workflow, f)
    return steps


def choose_engine(manager, workflow, engine: str = "auto", workers: int | None = None, scheduler=None) -> str:
    """The engine a run takes: ``auto`` is ``dask`` with a scheduler, ``inline`` for one worker or a workflow that
    cannot leave this process (memory-channel nodes, a script's live tools, a store only this process can open),
    else ``local`` worker processes. Asking for ``local``/``dask`` where that cannot work is an error that says why."""
    from .engines import ENGINES, shareable
    if engine not in ENGINES:
        raise WorkflowExecutionError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise WorkflowExecutionError(f"workers must be a whole number ≥ 1, not {workers!r}")
    why = shareable(manager, workflow)
    if engine == "auto":
        if scheduler is not None and why is None:
            return "dask"
        return "inline" if why is not None or workers == 1 else "local"
    if engine in ("local", "dask") and why is not None:
        raise WorkflowExecutionError(f"workflow {workflow.workflow_id!r} cannot run on the {engine} engine: {why}")
    return engine


def run_workflow(manager, model: WorkflowModel, workflow: WorkflowDefinition, interval: TimeInterval, *,
                 progress=None, cancel=None, chunk=None, bindings=None, allow_stored_code=False,
                 only_runnable: bool = False, engine: str = "auto", workers: int | None = None,
                 scheduler=None, pool=None) -> WorkflowRun:
    """Run every factor of ``workflow`` over ``interval``.

    :param progress: ``progress(fraction, text)``: inline, after every committed chunk of every step; on
        worker processes, as each batch of steps comes back
    :param cancel: object with ``is_set()``; checked between chunks (a cancel raises CancelledError
        after recording the outcome; everything committed so far stays, consistent)
    :param bindings: :class:`~.code_params.CodeBindings` for parameters stored as code (default: the
        bindings kept in ``manager.store``)
    :param allow_stored_code: run stored code that has no binding: ``True`` for all, or a set of content
        hashes (sha256 hex) the user consented to. Only code marshalled by this Python version runs. The
        caller is responsible for running this outside any process that must not run foreign code.
    :param only_runnable: run the factors that can run and skip the others (and what reads their output),
        listed in :attr:`WorkflowRun.skipped`, instead of refusing the whole workflow
    :param engine: ``auto`` (default), ``inline``, ``local`` or ``dask`` (see :func:`choose_engine` and
        :mod:`.engines`); ``workers``: local worker processes (default: as many as cores; 1 = inline);
        ``scheduler``: a Dask scheduler address (or Client / LocalCluster); ``pool``: the local engine's
        :class:`~.process_run.WorkerPool` (default: this process's, whose workers stay between runs)
    """
    from .code_params import CodeBindings, check_factor, tool_for
    if not workflow.factors or not workflow.nodes:
        raise WorkflowExecutionError(f"workflow {workflow.workflow_id!r} has no "
                                     f"{'factors' if not workflow.factors else 'nodes'}: nothing to run")
    if bindings is None:
        bindings = CodeBindings(manager.store)
    factors = workflow.factor_order()
    index_of = {id(f): i for i, f in enumerate(workflow.factors)}
    # refuse a workflow that cannot run before running any of it, naming every factor that cannot (factors on
    # plates that a NodeCreationFactor of this workflow makes are planned when their turn comes)
    made = {f.output_plate.get("plate_id") for f in factors if f.factor_type == "NodeCreationFactor"
            and f.output_plate and f.output_plate.get("plate_id") not in model.plates}
    checks, blocked, idle, planned = {}, {}, set(), {}
    for f in factors:
        nodes = [workflow.nodes[n] for n in f.sources + f.sinks]
        later = any(p in made for n in nodes for p in n.plate_ids)
        try:
            steps = None if later else plan_factor(model, workflow, f)
            planned[id(f)] = steps
        except WorkflowExecutionError as e:
            blocked[id(f)] = [str(e)]
            continue
        if steps is not None and _nothing_to_compute(manager, steps, interval):
            idle.add(id(f))
            continue
        checks[id(f)] = check = check_factor(manager, workflow, index_of[id(f)], bindings, allow_stored_code)
        if not check.runnable:
            blocked[id(f)] = check.problems
    skip = _downstream_of(workflow, factors, blocked)
    if blocked and not only_runnable:
        lines = [p for f in factors if id(f) in blocked for p in blocked[id(f)]]
        raise WorkflowExecutionError(f"workflow {workflow.workflow_id!r} cannot run: {len(blocked)} "
                                     f"factor{'s' if len(blocked) > 1 else ''} cannot run, nothing was run:\n  "
                                     + "\n  ".join(lines))
    result = WorkflowRun(workflow.workflow_id, interval)
    for f in factors:
        if id(f) in skip:
            why = "; ".join(blocked[id(f)]) if id(f) in blocked else "reads the output of a factor that cannot run"
            result.skipped.append((f"factor {index_of[id(f)]} ({f.tool.name})", why))
    factors = [f for f in factors if id(f) not in skip and id(f) not in idle]
    done = [0.0]

    def report(fraction, text):  # never backwards, whatever the rounding
        done[0] = max(done[0], min(1.0, fraction))
        if progress is not None:
            progress(done[0], text)
    tools = {}

    def tool_of(f):
        if id(f) not in tools:
            check = checks.get(id(f)) or check_factor(manager, workflow, index_of[id(f)], bindings, allow_stored_code)
            if not check.runnable:
                raise WorkflowExecutionError("; ".join(check.problems))
            tools[id(f)] = tool_for(check)
        return tools[id(f)]
    result.engine = engine = choose_engine(manager, workflow, engine, workers, scheduler)
    # phases: the factors between two NodeCreationFactors run as one step graph; a NodeCreationFactor runs
    # here, in order, and the factors after it are planned with the plate values it made
    phases, phase = [], []
    for f in factors:
        if f.factor_type == "NodeCreationFactor":
            phases += [phase, [f]] if phase else [[f]]
            phase = []
        else:
            phase.append(f)
    if phase:
        phases.append(phase)
    try:
        for pi, phase in enumerate(phases):
            base, span = pi / len(phases), 1.0 / len(phases)
            # planned above, until a NodeCreationFactor has run (it may add plate values)
            steps = [step for f in phase for step in (planned.pop(id(f), None) or plan_factor(model, workflow, f))]
            if phase[0].factor_type == "NodeCreationFactor":
                for step in steps:
                    if cancel is not None and cancel.is_set():
                        raise CancelledError(f"workflow {workflow.workflow_id!r} cancelled before "
                                             f"{step.factor.tool.name}")
                    report(base, f"{step.factor.tool.name}, {pv_text(step.plate_value)}")
                    _create_nodes(manager, model, workflow, step.factor, step, tool_of(step.factor), interval, result)
                planned.clear()
                continue

            def run_inline(step, i, n, base=base, span=span):
                label = f"{step.factor.tool.name}, {pv_text(step.plate_value)}"
                report(base + span * i / n, label)

                def prog(fraction, _written):
                    report(base + span * (i + fraction) / n, label)
                result.records.append(run_step(manager, workflow, step, tool_of(step.factor), interval, prog,
                                                cancel, chunk))

            _run_steps(engine, manager, workflow, steps, interval, tool_of=tool_of, run_inline=run_inline,
                      result=result, report=lambda fraction, text, base=base, span=span:
                      report(base + span * fraction, text), cancel=cancel, chunk=chunk, bindings=bindings,
                      allow_stored_code=allow_stored_code, workers=workers, scheduler=scheduler, pool=pool)
        result.outcome = "ok"
        report(1.0, f"{len(result.records)} tool runs, {result.instances_written:,} instances written")
        return result
    except CancelledError as e:
        result.outcome, result.error = "cancelled", str(e)
        raise
    except BaseException as e:
        result.outcome, result.error = "error", f"{type(e).__name__}: {e}"
        raise


def _nothing_to_compute(manager, steps, interval) -> bool:
    """Every step's sink streams exist and are calculated over ``interval`` (NodeCreation steps always run)."""
    for step in steps:
        if step.factor.factor_type == "NodeCreationFactor" or step.sink is None:
            return False
        targets = step.sinks if step.factor.factor_type == "MultiOutputFactor" else [step.sink]
        for channel_id, stream_id in targets:
            try:
                stream = manager.get_channel(channel_id).known_stream(stream_id)
            except ChannelsError:
                return False
            if stream is None or not (TimeIntervals([interval]) - stream.calculated_intervals).is_empty:
                return False
    return True


def _downstream_of(workflow, factors, blocked) -> set:
    """ids of the blocked factors and of every factor that reads (transitively) a node one of them writes."""
    out, written = set(blocked), set()
    for f in factors:  # dependency order: a writer comes before its readers
        reads = f.sources + [x for x in (f.alignment_node, f.splitting_node) if x]
        if id(f) in out or any(n in written for n in reads):
            out.add(id(f))
            written.update(f.sinks)
    return out


def _create_nodes(manager, model, workflow, factor, step, tool, interval, result) -> None:
    """Run a plate-creation tool and add the plate values it finds to the meta-data tree and the plate."""
    from .meta_data import MetaDataItem, identifier_of
    from .model import add_meta_data, add_plates
    from ..tools.plates import PlateCreationTool
    from .plates import PlateDefinition, resolve_plates
    spec = factor.tool
    if not isinstance(tool, PlateCreationTool):
        raise WorkflowExecutionError(f"{_where(workflow, factor)}: {spec.name} is not a plate-creation tool "
                                     f"(a NodeCreationFactor needs one)")
    source = input_stream(manager, *step.sources[0], workflow, spec) if step.sources else None
    found = tool.execute(source, interval, step.plate_value or None)
    key = step.meta_data_id
    parent = ROOT if not step.plate_value else _identifier(step.plate_value)
    new_items = []
    for meta in sorted(found or (), key=str):
        for k, v in _meta_pairs(meta, key):
            if k != key:
                continue
            ident = identifier_of(k, str(v), parent)
            if ident not in model.tree and all(i.identifier != ident for i in new_items):
                new_items.append(MetaDataItem(k, str(v), parent))
    store = manager.store
    if new_items:
        add_meta_data(store, new_items)
        model.tree.add_all([MetaDataItem(i.tag, i.data, i.parent) for i in new_items])
    out = factor.output_plate
    if out["plate_id"] not in model.plates:
        parent_plate = _parent_plate(model, step.plate_value)
        pd = PlateDefinition(out["plate_id"], key, out.get("description") or "", [], True, parent_plate)
        add_plates(store, [pd])
        model.plate_definitions.append(pd)
    model.plates.update(resolve_plates(model.plate_definitions, model.tree))
    result.created_plate_values += [(out["plate_id"], model.tree.path(model.tree[i.identifier])) for i in new_items]


def _meta_pairs(meta, key) -> list[tuple]:
    """What a plate-creation tool yields as meta-data: a plain value of ``key`` (HyperStream's
    ``asset_plate_generator``), a ``(key, value)`` pair, or a tuple of pairs."""
    if isinstance(meta, (str, int, float)):
        return [(key, str(meta))]
    if isinstance(meta, (tuple, list)) and len(meta) == 2 and isinstance(meta[0], str) and not isinstance(
            meta[1], (tuple, list)):
        return [(meta[0], str(meta[1]))]
    return [(str(k), str(v)) for k, v in meta]


def _identifier(pv) -> str:
    from .meta_data import identifier_of
    parent = ROOT
    for k, v in pv:
        parent = identifier_of(k, v, parent)
    return parent


def _parent_plate(model, pv) -> str | None:
    """The plate whose values have the meta-data keys of ``pv`` (the input plate), if any."""
    keys = tuple(k for k, _v in pv)
    if not keys:
        return None
    for pid, plate in model.plates.items():
        if plate.meta_data_ids == keys:
            return pid
    return None


def _run_steps(engine, manager, workflow, steps, interval, *, tool_of, run_inline, result, report, cancel, chunk,
               bindings, allow_stored_code, workers=None, scheduler=None, pool=None) -> None:
    """Run ``steps`` (one phase: no NodeCreationFactor among them) on ``engine``; records go to ``result``;
    ``pool``: the local engine's :class:`~.process_run.WorkerPool` (default: this process's)."""
    from .engines import _OutputRefresh, _refresh_outputs, _run_dask, _setup, step_dependencies, step_writers
    if not steps:
        return
    if engine == "inline":
        for i, step in enumerate(steps):
            if cancel is not None and cancel.is_set():
                raise CancelledError(f"workflow {workflow.workflow_id!r} cancelled before {step.factor.tool.name}")
            run_inline(step, i, len(steps))
        return
    writer = step_writers(steps)
    deps = step_dependencies(steps, writer)
    setup = _setup(manager, workflow, interval, chunk, bindings, allow_stored_code)
    finished = _OutputRefresh(manager)
    try:
        if engine == "local":
            from .process_run import run_local
            run_local(workflow, steps, deps, writer, setup, result, report, cancel, workers or os.cpu_count() or 1,
                      finished, pool)
        else:
            _run_dask(manager, workflow, steps, deps, setup, result, report, cancel, scheduler, finished)
    finally:   # a cancelled or failed run may have committed chunks of steps it did not finish
        _refresh_outputs(manager, steps)


# -- a run whose stored code must not run here ---------------------------------------------------------------------
def run_workflow_in_process(manager, workflow, interval: TimeInterval, *, allow_stored_code=False,
                            only_runnable: bool = False, progress=None, cancel=None, workers: int | None = None,
                            model=None) -> WorkflowRun:
    """Run ``workflow`` over ``interval`` with its steps in worker processes on ``manager``'s store (a workflow
    whose nodes are in the memory channel is refused: the workers' memory is their own; so is stored code in a
    NodeCreationFactor, which runs in the calling process, where it adds plate values)."""
    from .engines import store_target
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


__all__ = ["plan", "plan_factor", "run_workflow", "run_workflow_in_process", "choose_engine", "Step", "WorkflowRun",
           "WorkflowExecutionError"]
