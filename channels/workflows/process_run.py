"""Workflow steps on local worker processes: a warm pool of workers and the local engine's run (a whole run
whose consented stored code must not run in the calling process is :func:`.execution.run_workflow_in_process`).

**The pool** (:class:`WorkerPool`; :func:`worker_pool` is this process's, which the ``local`` engine uses unless it is
given another). Worker processes (``spawn``) stay between runs: a worker is started when a run needs one more than
are idle, imports the package and loads its tools once, keeps the store open and, at each run's start, checks that
it is still the same file (reopened if it was replaced) and reads stream definitions afresh. A worker idle for
``idle_timeout`` seconds exits by itself; :meth:`WorkerPool.close` (also at interpreter exit) stops them all. A run
checks workers out (two runs at the same time get different workers) and back in; :attr:`~.execution.WorkflowRun.
worker_pids` and ``workers_started`` say which ran it and how many had to be started.

Each worker has a pipe and its own cancel event. Messages: ``("run", setup)`` (the workflow's document, bindings,
consent; answered ``("ready", run id, error or None)``), ``("batch", id, specs, chunks)`` (ready steps, independent of
each other; answered ``("done", id, outcomes, learned)``), ``("end",)``, ``("stop",)``. ``learned``: the chunk length
each factor's tool grew to on that worker (see :meth:`channels.tools.Tool.execute`); the next batches carry them as
``chunks``, so each worker does not learn them again. A run keeps at most two batches per worker in
flight, so a worker has its next batch when it finishes one. A cancel sets the events of the run's workers, which
stop within one chunk; a worker that does not answer ``CANCEL_GRACE_S`` after a cancel is stopped. A worker that
dies (killed, crashed) is replaced; the steps of its batches are reported failed, naming the process and how it
ended — never lost.
"""
from __future__ import annotations

import itertools
import os
import sys
import threading
import time
from contextlib import contextmanager

from .engines import WORKER, _Scheduler, _finish, _run_in_order, _spec, _start_chunks, learned_chunks, step_inputs
from .steps import WorkflowExecutionError

#: a worker idle (no run) for this many seconds exits by itself
IDLE_TIMEOUT_S = 300.0
#: workers run this much "nicer" than the process that started them: when the cores are all busy, the app's window
#: (and whatever else the user runs) gets one first; alone on the machine they run at full speed
WORKER_NICE = 10
#: after a cancel, a worker whose batch has not answered within this many seconds is stopped
CANCEL_GRACE_S = 30.0
#: at most this many ready steps go to a worker in one batch
BATCH_MAX = 32
#: a worker idle for less than ``idle_timeout`` minus this is taken for a run (an older one may be exiting)
_EXPIRY_MARGIN_S = 5.0


# -- the worker process ------------------------------------------------------------------------------------------
def lower_priority(nice: int) -> None:
    """This process is scheduled as a batch job (Linux ``SCHED_BATCH``: a fair share of the cores, but a process
    that wakes up — the app's window — runs first) and ``nice`` lower (nothing where the system has no such
    thing)."""
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except (AttributeError, OSError):
        pass
    if nice:
        try:
            os.nice(nice)
        except (AttributeError, OSError):
            pass


def _worker_main(conn, cancel, idle_timeout, nice=0) -> None:
    """A worker process: runs the batches of one run at a time; exits when idle for ``idle_timeout`` seconds, told
    to stop, or when the pool's end of the pipe is gone."""
    lower_priority(nice)
    setup, problem = None, None
    try:
        while True:
            if setup is None and not conn.poll(idle_timeout):
                return
            try:
                message = conn.recv()
            except (EOFError, OSError):   # the pool's process is gone
                return
            kind = message[0]
            if kind == "run":
                setup, problem = message[1], None
                try:
                    WORKER.run(setup, cancel)
                except Exception as e:  # noqa: BLE001 - e.g. the store cannot be opened: every batch says why
                    problem = f"the worker could not start the run: {type(e).__name__}: {e}"
                conn.send(("ready", setup.run_id, problem))
            elif kind == "batch":
                _, batch_id, specs, chunks = message
                learned = {}
                if problem is not None:
                    outcomes = [("error", problem)] * len(specs)
                else:
                    state = WORKER.run(setup, cancel)
                    _start_chunks(state, chunks)
                    outcomes = _run_in_order(state, specs, independent=True)
                    learned = learned_chunks(state)
                conn.send(("done", batch_id, outcomes, learned))
            elif kind == "end":
                setup = None
                WORKER.end_runs()
            elif kind == "stop":
                return
    except (BrokenPipeError, ConnectionResetError):   # the pool's process is gone: nobody to answer
        return
    finally:
        WORKER.close()


# -- the pool ----------------------------------------------------------------------------------------------------
@contextmanager
def _script_main_hidden():
    """While worker processes start, hide a script's ``__main__`` file from ``spawn``: the workers then do not
    re-run the script that called us (a script without ``if __name__ == "__main__":`` would otherwise start the
    workflow again in every worker). Modules run with ``-m`` keep their name and are imported as usual."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None) if main is not None and getattr(main, "__spec__", None) is None else None
    if path is None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


class _Worker:
    """The pool's end of one worker process."""

    def __init__(self, ctx, idle_timeout, nice):
        self.conn, child = ctx.Pipe()
        self.cancel = ctx.Event()
        self.process = ctx.Process(target=_worker_main, args=(child, self.cancel, idle_timeout, nice),
                                   name="workflow-worker", daemon=False)
        with _script_main_hidden():
            self.process.start()
        child.close()
        self.pid = self.process.pid
        self.idle_since = time.monotonic()
        self.killed = False   # ended by its run (no answer after a cancel)

    def send(self, message) -> bool:
        try:
            self.conn.send(message)
            return True
        except (OSError, ValueError):   # the process is gone (its answer, EOF, tells the run)
            return False

    def how_it_ended(self) -> str:
        self.process.join(timeout=1.0)
        code = self.process.exitcode
        if code is None:
            return "stopped answering"
        if code < 0:
            import signal
            try:
                return f"was ended by signal {signal.Signals(-code).name}"
            except ValueError:
                return f"was ended by signal {-code}"
        return f"exited with code {code}"

    def stop(self, wait: float = 1.0) -> None:
        """Ask the process to stop; end it if it has not within ``wait`` seconds."""
        self.send(("stop",))
        self.process.join(timeout=wait)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5.0)
        self.conn.close()


class WorkerPool:
    """Warm worker processes for the local engine (see the module's text)."""

    def __init__(self, idle_timeout: float = IDLE_TIMEOUT_S, nice: int = WORKER_NICE):
        import multiprocessing
        self.idle_timeout = float(idle_timeout)
        self.nice = int(nice)
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: list[_Worker] = []
        self._busy: set = set()
        self._lock = threading.Lock()
        self._closed = False
        #: worker processes started by this pool so far (a warm run starts none)
        self.started = 0

    @property
    def pids(self) -> list[int]:
        """The process ids of the pool's live workers, idle and running."""
        with self._lock:
            return sorted(w.pid for w in itertools.chain(self._idle, self._busy) if w.process.is_alive())

    def _start(self) -> _Worker:
        worker = _Worker(self._ctx, self.idle_timeout, self.nice)
        self.started += 1
        return worker

    def start(self, n: int) -> int:
        """Start workers now until ``n`` are idle (e.g. when a store with workflows opens), so the first run finds
        them warm; returns how many were started. It does not wait for them."""
        with self._lock:
            if self._closed:
                raise WorkflowExecutionError("the workflow worker pool is closed")
            live = [w for w in self._idle if w.process.is_alive()]
            fresh = [self._start() for _ in range(max(0, n - len(live)))]
            self._idle += fresh
            return len(fresh)

    def checkout(self, n: int) -> tuple[list[_Worker], int]:
        """``n`` workers for a run (idle ones first, then new ones) and how many were started."""
        with self._lock:
            if self._closed:
                raise WorkflowExecutionError("the workflow worker pool is closed")
            team, now = [], time.monotonic()
            while self._idle and len(team) < n:
                worker = self._idle.pop()
                margin = min(_EXPIRY_MARGIN_S, self.idle_timeout / 2)
                if worker.process.is_alive() and now - worker.idle_since < self.idle_timeout - margin:
                    team.append(worker)
                else:   # exited, or about to exit by its idle timeout
                    threading.Thread(target=worker.stop, daemon=True).start()
            started = n - len(team)
            team += [self._start() for _ in range(started)]
            self._busy.update(team)
            return team, started

    def checkin(self, team) -> None:
        """The run is over: its live workers wait for the next run (or stop, if the pool was closed)."""
        with self._lock:
            for worker in team:
                self._busy.discard(worker)
                if self._closed or not worker.send(("end",)):
                    threading.Thread(target=worker.stop, daemon=True).start()
                    continue
                worker.idle_since = time.monotonic()
                self._idle.append(worker)

    def replace(self, worker) -> _Worker | None:
        """``worker`` died or was stopped: a new one takes its place among the idle (started now, so it is warm
        by the next run)."""
        with self._lock:
            self._busy.discard(worker)
            if self._closed:
                return None
            fresh = self._start()
            self._idle.append(fresh)
            return fresh

    def close(self) -> None:
        """Stop every idle worker now; running ones stop when their run ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()

    @property
    def closed(self) -> bool:
        return self._closed


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()


def worker_pool() -> WorkerPool:
    """This process's worker pool (made at first use; stopped at interpreter exit)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL.closed:
            from multiprocessing.util import Finalize
            _POOL = WorkerPool()
            # at exit, before multiprocessing waits for its child processes (ours would wait for their idle timeout)
            Finalize(_POOL, _POOL.close, exitpriority=10)
        return _POOL


def close_worker_pool() -> None:
    """Stop this process's idle workers (the next local run starts new ones)."""
    with _POOL_LOCK:
        pool = _POOL
    if pool is not None:
        pool.close()


# -- a run on the pool -------------------------------------------------------------------------------------------
def run_local(workflow, steps, deps, writer, setup, result, report, cancel, workers, finished, pool=None) -> None:
    """Run ``steps`` on ``workers`` of ``pool`` (default: :func:`worker_pool`); ready steps go out in batches as
    the steps they depend on finish; the answers go to ``result`` and ``report``. ``writer``: which step writes
    each stream (:func:`~.engines.step_writers`)."""
    from multiprocessing.connection import wait
    pool = pool if pool is not None else worker_pool()
    team, result.workers_started = pool.checkout(min(workers, len(steps)))
    result.worker_pids = [w.pid for w in team]
    run = _LocalRun(workflow, steps, deps, writer, _Scheduler(workflow, steps, deps, result, report, finished,
                                                              slots=len(team)), team, setup.run_id)
    sched, flight = run.sched, run.flight
    stop_at = None
    for worker in team:
        worker.cancel.clear()
        worker.send(("run", setup))
    try:
        while True:
            stopping = sched.error is not None or (cancel is not None and cancel.is_set())
            if stopping and stop_at is None:
                for worker in flight:
                    worker.cancel.set()
                stop_at = time.monotonic() + CANCEL_GRACE_S
            if not stopping:
                run.dispatch()
            busy = {w.conn: w for w, b in flight.items() if b}
            if not busy:
                break
            for conn in wait(list(busy), timeout=0.2):
                _answer(pool, busy[conn], run)
            if stop_at is not None and time.monotonic() > stop_at:
                for worker in [w for w, b in flight.items() if b and not w.killed]:
                    worker.killed = True    # did not stop within the grace after a cancel: its answer is EOF
                    worker.process.kill()
    finally:   # a worker still busy (this run was interrupted) is not given to the next run
        pool.checkin([w for w, b in flight.items() if not b])
        for worker in [w for w, b in flight.items() if b]:
            worker.process.kill()
            pool.replace(worker)
    _finish(workflow, sched, cancel)


#: batch ids, unique in this process (an answer is never taken for another run's batch)
_BATCH_IDS = itertools.count()


class _LocalRun:
    """The steps of one run on a team of workers: what is in flight where, and which worker ran each step."""

    def __init__(self, workflow, steps, deps, writer, sched, team, run_id):
        self.steps, self.deps, self.writer, self.sched, self.run_id = steps, deps, writer, sched, run_id
        self.index_of = {id(f): i for i, f in enumerate(workflow.factors)}
        self.flight = {w: [] for w in team}   # worker -> its batches in flight (ids), oldest first
        self.slot = {w: n for n, w in enumerate(team)}
        self.batches = {}                     # batch id -> (worker, step indexes)
        self.ran_on = {}                      # step index -> the worker that ran it
        self.chunks = {}                      # factor index -> the chunk length a worker's tool grew to

    def dispatch(self) -> None:
        """Give every worker with fewer than two batches in flight the next batch of ready steps (they do not
        depend on each other: several go in one batch, while every worker still gets work)."""
        sched = self.sched
        for worker, inflight in sorted(self.flight.items(), key=lambda item: len(item[1])):
            while len(inflight) < 2:
                count = sched.ready_count
                if not count:
                    return
                batch = sched.take(self.slot[worker], min(BATCH_MAX, max(1, count // (2 * len(self.flight)))))
                batch_id = next(_BATCH_IDS)
                self.batches[batch_id] = (worker, batch)
                inflight.append(batch_id)
                worker.send(("batch", batch_id, [_spec(self.index_of, self.steps[i], self._fresh(i, worker))
                                                 for i in batch], self.chunks))

    def _fresh(self, i, worker) -> list:
        """What step ``i`` reads that another worker wrote in this run (its own writes, ``worker`` knows)."""
        ran_on = self.ran_on
        if all(ran_on.get(j) is worker for j in self.deps[i]):
            return []
        return [s for s in step_inputs(self.steps[i]) if s in self.writer and ran_on.get(self.writer[s]) is not worker]

    def answers(self, batch_id, outcomes) -> None:
        worker, batch = self.batches.pop(batch_id)
        for i, (kind, _value) in zip(batch, outcomes):
            if kind == "ok":
                self.ran_on[i] = worker
        self.sched.answers(batch, outcomes)


def _answer(pool, worker, run) -> None:
    """Take one message from ``worker``; a worker that died has its batches' steps reported failed and is
    replaced."""
    flight = run.flight
    try:
        message = worker.conn.recv()
    except (EOFError, OSError):
        how = worker.how_it_ended()
        kind = "cancelled" if worker.killed else "error"
        for batch_id in flight.pop(worker):
            n = len(run.batches[batch_id][1])
            run.answers(batch_id, [(kind, f"the worker process {worker.pid} {how} while running it")] * n)
        worker.conn.close()
        pool.replace(worker)
        return
    if message[0] == "ready":   # (an earlier run's answer, if that run gave this worker no batch, is skipped)
        _, run_id, problem = message
        if problem is not None and run_id == run.run_id and run.sched.error is None:
            run.sched.error = ("error", problem)
        return
    _, batch_id, outcomes, learned = message
    run.chunks.update(learned)
    if batch_id not in flight[worker]:
        return
    flight[worker].remove(batch_id)
    n = len(run.batches[batch_id][1])
    if len(outcomes) < n:   # the batch stopped at a step that did not finish: the rest did not run
        outcomes = list(outcomes) + [("cancelled", "not run: an earlier step of its batch did not finish")] * (
            n - len(outcomes))
    run.answers(batch_id, outcomes)


__all__ = ["WorkerPool", "worker_pool", "close_worker_pool", "run_local",
           "IDLE_TIMEOUT_S", "WORKER_NICE", "lower_priority"]
