"""Where a workflow's steps run: inline, on local worker processes, or on a Dask cluster.

A run is a graph of steps (factor × plate value, :class:`.execution.Step`). A step depends only on the steps
that write its own sources, alignment or splitting stream — :func:`step_dependencies` finds them by stream, in
one pass — not on whole factors, so the first houses' summaries can finish while other houses still compute.

Engines (all keep the step contract: only what the sink is missing, chunks committed with their calculated
intervals, a run record, a cancel checked between chunks):

* ``inline`` — in this process, in dependency order (HyperStream's way; what runs a workflow whose nodes are in
  the memory channel, a script's live tools, or a store no other process can open, e.g. mongomock);
* ``local`` — worker processes (``spawn``; as many as cores unless told) of a warm pool
  (:mod:`.process_run`: started once, kept between runs) that open the same store themselves (an embedded store
  file or a MongoDB URI); the steps of one house go to the same worker where they can; a worker commits the
  outputs, data and run records of each batch of steps in one write transaction (the store's write group: the write lock
  is held only to commit, and other workers' page caches are dropped once per batch, not once per chunk); a
  cancel sets an event every worker checks between chunks;
* ``dask`` — a ``distributed`` cluster at a scheduler address (opt-in: ``pip install ".[dask]"``). Workers open
  the store themselves: MongoDB for a real cluster; an embedded store file only when every worker runs on
  this machine. A running Dask task cannot be killed, so cancel goes through a ``distributed.Event`` each
  step checks between chunks.

Workers get the workflow's document, the bindings and the consent once per run (a message / a scattered object),
then ready steps as small tuples, in batches; they answer with the steps' run records, or an error as text (a
worker's exception class may not survive the trip back). What a worker keeps between runs is
:class:`WorkerState`: the open store (re-validated at each run's start), the loaded tools; never stream
definitions.
"""
from __future__ import annotations

import functools
import os
import socket
import threading
import time
import uuid

from ..errors import CancelledError, ChannelsError
from .steps import WorkflowExecutionError, pv_text

ENGINES = ("auto", "inline", "local", "dask")


def step_outputs(step) -> list:
    if step.factor.factor_type == "MultiOutputFactor":
        return list(step.sinks) + ([step.sink] if step.sink else [])
    return [step.sink] if step.sink else []


def step_inputs(step) -> list:
    return list(step.sources) + ([step.alignment] if step.alignment else [])


def step_writers(steps) -> dict:
    """``(channel_id, StreamId) -> index`` of the step of ``steps`` that writes it."""
    return {out: i for i, step in enumerate(steps) for out in step_outputs(step)}


def step_dependencies(steps, writer=None) -> list[list[int]]:
    """For each step, the indexes of the steps that write one of its inputs (linear in steps and streams)."""
    writer = step_writers(steps) if writer is None else writer
    deps = []
    for i, step in enumerate(steps):
        deps.append(sorted({writer[s] for s in step_inputs(step) if s in writer and writer[s] != i}))
    return deps


# -- the worker side (local processes and Dask workers) --------------------------------------------------------
class _Setup:
    """What every worker needs once per run (picklable: sent to each worker process, never stored)."""

    def __init__(self, run_id, target, config, workflow_document, allow_stored_code, bindings, interval, chunk):
        self.run_id, self.target, self.config = run_id, target, config
        self.workflow_document, self.allow_stored_code = workflow_document, allow_stored_code
        self.bindings, self.interval, self.chunk = bindings, interval, chunk


def _file_identity(path) -> tuple | None:
    try:
        st = os.stat(path)
    except (OSError, TypeError, ValueError):
        return None
    return st.st_dev, st.st_ino


class WorkerState:
    """What a worker process keeps between runs: its open stores — opened once, and at each run's start checked to
    be the same file (reopened when the file was replaced) —, the tools it loaded for a workflow, and the context
    of its recent runs (a manager with fresh stream definitions, the workflow, bindings and tools of that run)."""

    #: the contexts of this many runs are kept (a Dask worker may serve the groups of a few runs at a time)
    KEEP_RUNS = 4

    def __init__(self):
        self.stores: dict = {}   # target -> (config, store, file identity)
        self.runs: dict = {}     # run_id -> run context (dict)
        self.tools: dict = {}    # (target, workflow, bindings, consent) -> {factor index: tool}
        self.lock = threading.Lock()

    def run(self, setup, cancel) -> dict:
        """The context of ``setup``'s run (made at its first step on this worker)."""
        with self.lock:
            state = self.runs.get(setup.run_id)
            if state is None:
                from ..channel_manager import ChannelManager
                from .code_params import CodeBindings
                from .definitions import WorkflowDefinition
                store, config = self._store(setup)
                # a new manager per run: stream definitions are read afresh (other processes changed them since)
                manager = ChannelManager(store, config)
                workflow = WorkflowDefinition.from_document(setup.workflow_document)
                state = self.runs[setup.run_id] = {
                    "manager": manager, "workflow": workflow, "bindings": CodeBindings(bindings=setup.bindings),
                    "tools": self._tools(setup, _tool_files(manager, workflow)), "cancel": cancel, "setup": setup}
                while len(self.runs) > self.KEEP_RUNS:
                    del self.runs[next(iter(self.runs))]
            return state

    def _tools(self, setup, files) -> dict:
        """The factors' tools (index -> tool) of this workflow as earlier runs loaded them: kept while the workflow,
        its bindings, the consent and the tool files (``files``) stay the same (a tool that learned its chunk
        length keeps it)."""
        key = (setup.target, files, repr(setup.workflow_document), repr(setup.bindings),
               repr(sorted(setup.allow_stored_code) if isinstance(setup.allow_stored_code, set)
                    else setup.allow_stored_code))
        tools = self.tools.pop(key, None)
        self.tools[key] = tools = {} if tools is None else tools
        while len(self.tools) > self.KEEP_RUNS:
            del self.tools[next(iter(self.tools))]
        return tools

    def _store(self, setup):
        from ..channel_manager import open_store
        from ..config import Config
        target = setup.target
        config = Config.load(target) if target.lower().endswith(".json") else setup.config
        kept = self.stores.get(target)
        if kept is not None:
            old_config, store, identity = kept
            path = getattr(store, "path", None)
            if old_config == config and (path is None or _file_identity(path) == identity):
                return store, config
            del self.stores[target]
            store.close()   # another config, or the file was replaced: open it again
        store = open_store(None, config) if target.lower().endswith(".json") else open_store(target, config)
        self.stores[target] = (config, store, _file_identity(getattr(store, "path", None)))
        return store, config

    def end_runs(self) -> None:
        """Forget the runs' contexts (their definitions and tools); the stores stay open."""
        with self.lock:
            self.runs.clear()

    def close(self) -> None:
        with self.lock:
            self.runs.clear()
            self.tools.clear()
            for _config, store, _identity in self.stores.values():
                try:
                    store.close()
                except Exception:  # noqa: BLE001 - closing at exit: nothing left to tell
                    pass
            self.stores.clear()


def _tool_files(manager, workflow) -> tuple:
    """``(path, modification time)`` of every file of a tool the workflow's factors name (an edited tool is loaded
    again)."""
    names = {f.tool.name for f in workflow.factors}
    files = []
    for channel in manager.tool_channels:
        listed = channel.list_tools()
        for name in names:
            for tv in listed.get(name, []):
                try:
                    files.append((tv.path, os.stat(tv.path).st_mtime_ns))
                except OSError:
                    files.append((tv.path, None))
    return tuple(sorted(files))


#: this process's worker state (a local worker process or a Dask worker)
WORKER = WorkerState()


class _BatchHistory:
    """The run records of a worker's batch of steps, written to the store together when the batch ends (one
    short write transaction instead of one per step; in a local batch, the batch's write group, with the data).
    ``owner``: the step (index in the batch) whose runs are being recorded; :meth:`failed` turns the records of
    a step whose data could not be stored into errors (also once handed to the store: a write group encodes them
    when it commits)."""

    def __init__(self, target):
        self.target, self.records = target, []
        self.owner = None
        self._sent: dict = {}   # owner -> the dicts of its records handed to the store

    #: written at the latest after this many (a long Dask group keeps few records in memory only)
    FLUSH_EVERY = 32

    def record(self, run) -> None:
        self.records.append((self.owner, run))
        if len(self.records) >= self.FLUSH_EVERY:
            self.flush()

    def list(self, limit=None):
        return self.target.list(limit)

    def failed(self, owner, text: str) -> None:
        """The data of step ``owner`` was not stored: its records say so (error ``text``)."""
        for run in [r for o, r in self.records if o == owner] + self._sent.get(owner, []):
            if isinstance(run, dict):
                run["outcome"], run["error"] = "error", text
            else:
                run.outcome, run.error = "error", text

    def flush(self) -> None:
        records, self.records = self.records, []
        if not records:
            return
        store = getattr(self.target, "store", None)
        if store is not None and hasattr(store, "record_runs"):
            dicts = []
            for owner, r in records:
                dicts.append(r.to_dict())
                self._sent.setdefault(owner, []).append(dicts[-1])
            store.record_runs(dicts)
        else:
            for _owner, r in records:
                self.target.record(r)


def _prepare(manager, workflow, specs, refresh=True, create=True) -> None:
    """Before a worker runs steps: what other processes wrote in this run and they read is re-read (``refresh``),
    one store read per channel; their outputs that do not exist yet are created (``create``), in the caller's
    write group (committed with the steps' data). The rest is read when a step first needs it (a sink is written by its step alone,
    so this worker's copy of it stays true)."""
    from ..database_channel import DatabaseChannel
    fresh, outputs = {}, {}
    for spec in specs:
        index, _pv, _sources, sink, _alignment, sinks, _mid, _values, fresh_ids = spec
        for cid, sid in fresh_ids if refresh else ():
            fresh.setdefault(cid, []).append(sid)
        multi = workflow.factors[index].factor_type == "MultiOutputFactor"
        for cid, sid in (sinks if multi else [sink] if sink else []) if create else ():
            outputs.setdefault(cid, []).append(sid)
    for group, act in ((fresh, "refresh_streams"), (outputs, "create_streams")):
        for cid, sids in group.items():
            channel = manager.get_channel(cid)
            if isinstance(channel, DatabaseChannel):
                getattr(channel, act)(sids)


def _run_in_worker(state, spec, history=None, refresh=True):
    """Run one step (``spec`` from :func:`_spec`), first re-reading what it reads that other steps of this run
    wrote (``refresh``); returns ("ok", RunRecord | None) or ("error"/"cancelled", text)."""
    from .code_params import check_factor, tool_for
    from .steps import Step, run_step
    setup, manager, workflow = state["setup"], state["manager"], state["workflow"]
    index, pv, sources, sink, alignment, sinks, meta_data_id, values, _fresh = spec
    try:
        if refresh:
            _prepare(manager, workflow, [spec], create=False)
        tools = state["tools"]
        if index not in tools:
            check = check_factor(manager, workflow, index, state["bindings"], setup.allow_stored_code)
            if not check.runnable:
                return "error", "; ".join(check.problems)
            tools[index] = tool_for(check)
            start = state.get("start_chunks", {}).get(index)
            if start is not None and not getattr(tools[index], "_learned_chunk", None):
                tools[index]._learned_chunk = start   # where another worker's chunks of this factor had grown to
        step = Step(workflow.factors[index], pv, sources, sink, alignment, sinks, meta_data_id, values)
        return "ok", run_step(manager, workflow, step, tools[index], setup.interval, None, state["cancel"],
                               setup.chunk, history)
    except CancelledError as e:
        return "cancelled", str(e)
    except BaseException as e:  # noqa: BLE001 - tools (and consented code) may raise anything: report it by name
        return "error", f"{type(e).__name__}: {e}"


#: at most this many ready steps go to a local worker in one task
BATCH_MAX = 32


def learned_chunks(state) -> dict:
    """``{factor index: chunk length}`` the tools of this worker's run have grown their chunks to (see
    :meth:`channels.tools.Tool.execute`): other workers of the run start there instead of learning it again."""
    return {i: tool._learned_chunk for i, tool in state["tools"].items() if getattr(tool, "_learned_chunk", None)}


def _start_chunks(state, chunks) -> None:
    """The tools of this run that have not learned a chunk length yet start at ``chunks`` (another worker's)."""
    tools = state["tools"]
    for i, length in (chunks or {}).items():
        tool = tools.get(i)
        if tool is not None and not getattr(tool, "_learned_chunk", None):
            tool._learned_chunk = length
    state["start_chunks"] = chunks or {}


def _run_in_order(state, specs, independent=False) -> list:
    """Steps one after another on this worker; stops at the first that does not finish. ``independent``: no
    step reads what another of them writes (a local batch of ready steps), so what they read is re-read once for
    all (else before each step, as a Dask group's steps depend on each other). Their writes and run records go
    in one write group of the store (see :meth:`~channels.stores.base.Store.write_group`): one transaction for a
    local batch; in a Dask group, one each time a step reads what earlier steps of the group wrote (the group
    commits first, so a step always reads its inputs whole). A step whose write fails there is reported as an
    error, the others' data is stored; in a Dask group, the step that was reading when it failed stores nothing
    either, and the group stops there. Their outputs are created together first, in the same group (a local
    batch's outputs are made in the transaction that writes their data: a crash leaves neither or both)."""
    outcomes = []
    try:
        _run_grouped(state, specs, independent, outcomes)
    except Exception as e:  # noqa: BLE001 - a write of no one step (outputs, run records) could not be stored
        text = f"the batch's writes could not be stored: {_error_text(e)}"
        return [("error", text) if kind == "ok" else (kind, v) for kind, v in outcomes] or [("error", text)]
    return outcomes


def _run_grouped(state, specs, independent, outcomes) -> None:
    """:func:`_run_in_order` in the store's write group; appends each step's outcome to ``outcomes``."""
    manager, workflow = state["manager"], state["workflow"]
    history = _BatchHistory(manager.run_history)
    with manager.store.write_group() as writes:
        try:
            _prepare(manager, workflow, specs, refresh=independent)
        except Exception as e:  # noqa: BLE001 - reported on the batch's first step
            outcomes.append(("error", _error_text(e)))
            return

        def on_failure(owner, e):
            history.failed(owner, _error_text(e))
            reading = writes.owner
            if not independent and reading is not None and reading != owner and reading not in writes.failures:
                # a later step of a Dask group was reading what could not be stored: what it computes is not stored
                writes.failures[reading] = WorkflowExecutionError(
                    f"an input it reads could not be stored ({_error_text(e)})")
        writes.on_failure = on_failure
        try:
            for i, spec in enumerate(specs):
                writes.owner = history.owner = i
                outcomes.append(_run_in_worker(state, spec, history, refresh=not independent))
                if i in writes.failures:
                    history.failed(i, _error_text(writes.failures[i]))
                if outcomes[-1][0] != "ok" or (not independent and writes.failures):
                    break
        finally:
            writes.owner = history.owner = None
            history.flush()
    for i, e in writes.failures.items():   # data a step computed that could not be stored: never "ok"
        if i < len(outcomes) and outcomes[i][0] == "ok":
            outcomes[i] = ("error", _error_text(e))


def _error_text(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


def _spec(index_of, step, fresh) -> tuple:
    """A step as a small tuple for a worker; ``fresh``: the streams it reads that another process wrote in this run
    (the worker re-reads their definitions first)."""
    return (index_of[id(step.factor)], step.plate_value, list(step.sources), step.sink, step.alignment,
            list(step.sinks), step.meta_data_id, list(step.output_values), fresh)


def _produced(steps) -> set:
    return {out for step in steps for out in step_outputs(step)}


# -- the calling side --------------------------------------------------------------------------------------------
def store_target(manager) -> str:
    """How another process opens ``manager``'s store (kept in memory only: a URI may hold a password)."""
    target = getattr(manager, "open_target", None) or getattr(manager.store, "path", None)
    if not target:
        raise WorkflowExecutionError(f"this store ({getattr(manager.store, 'description', manager.store)!r}) cannot "
                                     f"be opened by a worker process: connect to an embedded store file or a "
                                     f"MongoDB URI")
    return target


def _setup(manager, workflow, interval, chunk, bindings, allow_stored_code) -> _Setup:
    return _Setup(uuid.uuid4().hex, store_target(manager), manager.config, workflow.to_document(),
                  allow_stored_code if isinstance(allow_stored_code, bool) else set(allow_stored_code or ()),
                  bindings.list(workflow.workflow_id) if bindings is not None else [], interval, chunk)


def shareable(manager, workflow) -> str | None:
    """Why ``workflow`` cannot run on worker processes (None when it can)."""
    memory = [n.stream_name for n in workflow.nodes.values() if n.channel_id == "memory"]
    if memory:
        return f"nodes {', '.join(memory)} are in the memory channel"
    if any(f.tool_instance is not None for f in workflow.factors):
        return "it runs a script's own tool objects"
    if not (getattr(manager, "open_target", None) or getattr(manager.store, "path", None)):
        return "its store cannot be opened by another process"
    return None


def _refresh_outputs(manager, steps) -> None:
    """Workers wrote the steps' outputs: this process re-reads their definitions (one read per channel), so its
    channels show them while the run goes on."""
    from ..database_channel import DatabaseChannel
    by_channel = {}
    for step in steps:
        for cid, sid in step_outputs(step):
            by_channel.setdefault(cid, []).append(sid)
    for cid, sids in by_channel.items():
        channel = manager.get_channel(cid)
        if isinstance(channel, DatabaseChannel):
            channel.refresh_streams(sids)


class _OutputRefresh:
    """``finished(steps)``: :func:`_refresh_outputs` of the steps workers finished, gathered and read at most every
    ``EVERY_S`` (a run of thousands of steps costs this process a few reads a second, not one per batch)."""

    EVERY_S = 0.5

    def __init__(self, manager):
        self.manager, self.steps, self.last = manager, [], time.monotonic()

    def __call__(self, steps) -> None:
        self.steps += steps
        if time.monotonic() - self.last >= self.EVERY_S:
            steps, self.steps, self.last = self.steps, [], time.monotonic()
            _refresh_outputs(self.manager, steps)


def _label(step) -> str:
    return f"{step.factor.tool.name}, {pv_text(step.plate_value)}"


class _Scheduler:
    """Which steps are ready (their dependencies finished), and the answers collected."""

    def __init__(self, workflow, steps, deps, result, report, finished=None, slots=1):
        self.workflow, self.steps, self.result, self.report = workflow, steps, result, report
        self.finished = finished   # finished(steps): these steps' outputs were committed by a worker
        self.waiting = [len(d) for d in deps]
        self.readers = [[] for _ in steps]
        for i, d in enumerate(deps):
            for j in d:
                self.readers[j].append(i)
        # a slot per worker: the steps of a top-level plate value (a house) go to the same worker where they can,
        # which then reads what it wrote itself, not what another process wrote
        keys: dict = {}
        self.slot_of = [keys.setdefault(s.plate_value[0] if s.plate_value else None, len(keys)) % slots
                        for s in steps]
        self.ready = [[] for _ in range(slots)]   # stacks: pop() takes plan order first, then what just got ready
        for i in range(len(steps) - 1, -1, -1):
            if self.waiting[i] == 0:
                self.ready[self.slot_of[i]].append(i)
        self.done = 0
        self.answered = [False] * len(steps)
        self.error = None

    @property
    def ready_count(self) -> int:
        return sum(map(len, self.ready))

    def take(self, slot: int, n: int) -> list[int]:
        """Up to ``n`` ready steps for the worker of ``slot``: its own, else those of the slot with the most."""
        stack = self.ready[slot] or max(self.ready, key=len)
        return [stack.pop() for _ in range(min(n, len(stack)))]

    def answers(self, indexes, outcomes):
        """The outcomes of one task's steps (a worker ran them in this order); progress is reported once."""
        pairs = list(zip(indexes, outcomes))
        if self.finished is not None:
            self.finished([self.steps[i] for i, (kind, _) in pairs if kind == "ok"])
        last = None
        for i, outcome in pairs:
            if self.answer(i, outcome):
                last = i
        if last is not None:
            self.report(self.done / len(self.steps), f"{self.done}/{len(self.steps)} steps; {_label(self.steps[last])}")

    def answer(self, i, outcome) -> bool:
        """Take one step's outcome; whether it finished."""
        kind, value = outcome
        self.done += 1
        self.answered[i] = True
        if kind == "ok":
            if value is not None:
                self.result.records.append(value)
            for j in self.readers[i]:
                self.waiting[j] -= 1
                if self.waiting[j] == 0:
                    self.ready[self.slot_of[j]].append(j)
            return True
        if self.error is None:
            self.error = (kind, f"{_label(self.steps[i])}: {value}")
        return False


def _finish(workflow, sched, cancel):
    if sched.error is not None:
        kind, text = sched.error
        if kind == "cancelled":
            raise CancelledError(f"workflow {workflow.workflow_id!r} cancelled: {text}")
        raise WorkflowExecutionError(f"workflow {workflow.workflow_id!r}: {text}")
    if sched.done < len(sched.steps):
        if cancel is not None and cancel.is_set():
            raise CancelledError(f"workflow {workflow.workflow_id!r} cancelled after {sched.done} of "
                                 f"{len(sched.steps)} steps")
        # never a silent gap: every step answers, or the run says which did not
        missing = [_label(sched.steps[i]) for i, n in enumerate(sched.answered) if not n][:5]
        raise WorkflowExecutionError(f"workflow {workflow.workflow_id!r}: {len(sched.steps) - sched.done} step(s) "
                                     f"did not report back (e.g. {'; '.join(missing)})")


# -- Dask -------------------------------------------------------------------------------------------------------
class _DaskCancel:
    """``is_set()`` over a distributed.Event (checked between chunks; a running task cannot be killed)."""

    def __init__(self, name):
        self.name, self._event, self._checked, self._value = name, None, 0.0, False

    def is_set(self):
        now = time.monotonic()
        if not self._value and now - self._checked > 0.2:   # at most 5 round trips a second
            from distributed import Event
            if self._event is None:
                self._event = Event(self.name)
            self._value = self._event.is_set()
            self._checked = now
        return self._value


@functools.lru_cache(maxsize=1)
def _local_addresses() -> frozenset:
    names = {"127.0.0.1", "localhost", "::1", socket.gethostname()}
    try:
        names |= {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None)}
    except OSError:
        pass
    return frozenset(names)


def is_local_address(address: str) -> bool:
    """Whether a ``tcp://host:port`` (or bare host) address names this machine."""
    host = str(address).split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    return host in _local_addresses()


def dask_client(scheduler):
    """A ``distributed.Client`` for ``scheduler`` (an address, or a Client / LocalCluster given directly)."""
    try:
        from distributed import Client
    except ImportError:
        raise ChannelsError('the Dask engine needs the "dask" extra: pip install "hyperstream-studio[dask]"') from None
    if isinstance(scheduler, Client):
        return scheduler, False
    if scheduler is None:
        raise ChannelsError("the Dask engine needs a scheduler address (e.g. tcp://host:8786)")
    if hasattr(scheduler, "scheduler_address"):   # a LocalCluster
        return Client(scheduler), True
    return Client(str(scheduler), timeout=10), True


def check_store_for_cluster(manager, client) -> None:
    """An embedded store file can be shared only with workers on this machine: say so, naming both."""
    path = getattr(manager.store, "path", None)
    if not path:
        return
    remote = sorted({w.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
                     for w in client.scheduler_info().get("workers", {}) if not is_local_address(w)})
    if remote:
            raise WorkflowExecutionError(f"the embedded store file {path} cannot be shared with remote Dask workers "
                                     f"({', '.join(remote)}): connect to a MongoDB store to run on this cluster")


def step_groups(steps, deps) -> tuple[list[list[int]], list[list[int]]]:
    """Steps batched by their top-level plate value (a house with everything under it; steps on no plate form
    one group), each group in plan order, and the groups each group waits for. Where groups would wait for
    each other in a circle, every step is its own group. Returns ``(groups in a dependency order, deps)``."""
    key_of, groups = [], {}
    for i, step in enumerate(steps):
        key = step.plate_value[0] if step.plate_value else None
        key_of.append(key)
        groups.setdefault(key, []).append(i)
    keys = list(groups)
    gid = {k: n for n, k in enumerate(keys)}
    gdeps = [set() for _ in keys]
    for i, d in enumerate(deps):
        for j in d:
            if key_of[j] != key_of[i]:
                gdeps[gid[key_of[i]]].add(gid[key_of[j]])
    order, waiting = [], [len(d) for d in gdeps]
    readers = [[] for _ in keys]
    for g, d in enumerate(gdeps):
        for h in d:
            readers[h].append(g)
    ready = [g for g, n in enumerate(waiting) if n == 0]
    while ready:
        g = ready.pop(0)
        order.append(g)
        for r in readers[g]:
            waiting[r] -= 1
            if waiting[r] == 0:
                ready.append(r)
    if len(order) < len(keys):   # a circle between groups: no batching
        return [[i] for i in range(len(steps))], [list(d) for d in deps]
    renum = {g: n for n, g in enumerate(order)}
    return [groups[keys[g]] for g in order], [sorted(renum[h] for h in gdeps[g]) for g in order]


def _dask_group(setup, specs, *dep_outcomes):
    """One Dask task: a group's steps in order, on this worker; stops at the first that does not finish."""
    if any(o[0] != "ok" for outcomes in dep_outcomes for o in outcomes):
        return [("cancelled", "a step it depends on did not finish")]
    return _run_in_order(WORKER.run(setup, _DaskCancel(f"hsgui-cancel-{setup.run_id}")), specs)


def _run_dask(manager, workflow, steps, deps, setup, result, report, cancel, scheduler, finished):
    """Steps go to the cluster batched by top-level plate value (a house), so a 77,000-step run is a few
    hundred tasks, not 77,000; a group waits for the groups that write its inputs."""
    from distributed import Event, TimeoutError as DaskTimeout, wait as dask_wait
    client, own = dask_client(scheduler)
    try:
        check_store_for_cluster(manager, client)
        stop = Event(f"hsgui-cancel-{setup.run_id}", client=client)
        shared = client.scatter(setup, broadcast=True)
        sched = _Scheduler(workflow, steps, deps, result, report, finished)
        index_of = {id(f): i for i, f in enumerate(workflow.factors)}
        groups, gdeps = step_groups(steps, deps)
        produced = _produced(steps)
        futures = []
        for g, members in enumerate(groups):
            specs = [_spec(index_of, steps[i], [s for s in step_inputs(steps[i]) if s in produced]) for i in members]
            futures.append(client.submit(_dask_group, shared, specs,
                                         *[futures[h] for h in gdeps[g]], key=f"steps-{setup.run_id}-{g}",
                                         pure=False))
        group_of = {f.key: g for g, f in enumerate(futures)}
        pending = set(futures)
        while pending:
            if (sched.error is not None or (cancel is not None and cancel.is_set())) and not stop.is_set():
                stop.set()   # running groups stop within a chunk; the others are not started
                waiting = {f for f in pending if f.status == "pending"}
                client.cancel(list(waiting))
                pending -= waiting   # waiting on a cancelled future raises (FuturesCancelledError): never answered
            try:
                done, pending = dask_wait(list(pending), timeout=0.2, return_when="FIRST_COMPLETED")
            except DaskTimeout:
                continue
            for fut in done:
                members = groups[group_of[fut.key]]
                if fut.cancelled():
                    continue
                try:
                    outcomes = fut.result()
                except Exception as e:  # noqa: BLE001 - a lost worker or a task that did not start
                    outcomes = [("error", f"{type(e).__name__}: {e}")]
                sched.answers(members, outcomes)
            pending = set(pending)
        _finish(workflow, sched, cancel)
    finally:
        if own:
            client.close()


__all__ = ["ENGINES", "store_target", "step_dependencies", "step_groups", "step_inputs", "step_outputs", "shareable", "dask_client",
           "check_store_for_cluster"]
