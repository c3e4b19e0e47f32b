"""One job runner for all background work: store reads, counts, tool runs, purges.

A job is a plain Python callable ``fn(ctx, *args, **kwargs)`` run on a
``QThreadPool`` thread. ``ctx`` (a :class:`JobContext`) lets it report progress
and check for cancellation; it never touches widgets. Results come back through
the :class:`Job`'s signals, which live in the GUI thread, so connected slots run
there (queued). Pattern after superqt's ``_qthreading``: a ``QRunnable`` does the
work, a separate ``QObject`` carries the signals.
"""
from __future__ import annotations

import enum
import logging
import os
import threading
import time
import traceback

import shiboken6
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal


from channels.errors import CancelledError, ChannelsError

from . import gc_policy

log = logging.getLogger(__name__)


class JobState(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobKind(str, enum.Enum):
    """What a job does, which decides how the window treats it. A ``str`` enum: ``kind="read"`` still works
    (any other string is refused with a ValueError naming the kinds).

    * ``writes_data`` — it may change stored data: when it ends (done, failed or cancelled alike — a cancelled
      run keeps what it finished) every view that shows data re-reads it, and a purge is refused while one
      runs that declared no ``writes`` (:meth:`JobRunner.writers_of`);
    * ``quiet`` — its failure is not put in the error bar: the widget that asked shows it in place;
    * ``user_cancels`` — the user's "Cancel newest job" (Ctrl+.) targets it (background reads are not);
    * ``uses_store`` — it uses the open store, so it must end before that store is closed
      (:meth:`JobRunner.cancel_store_jobs`).
    """

    #          value      writes_data quiet  user_cancels uses_store
    READ = "read", False, True, False, True            # a view reads what it shows
    COUNT = "count", False, True, False, True          # background counts, auto refresh (the Jobs dock hides them)
    REFRESH = "refresh", False, False, True, True      # the user's Refresh of the stream definitions
    EXPORT = "export", False, False, True, True        # data written to a file
    TOOL = "tool", True, False, True, True             # a tool or workflow run
    PURGE = "purge", True, False, True, True
    WRITE = "write", True, False, True, True           # an import, an asset or annotation saved, a binding
    CONNECT = "connect", False, False, True, False     # opens a store (not the open one)
    TEST = "test", False, True, True, False            # tries a store for a dialog, which shows the answer
    CLOSE = "close", False, True, False, False         # closes the previous store once its jobs ended

    def __new__(cls, value, writes_data, quiet, user_cancels, uses_store):
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.writes_data, obj.quiet, obj.user_cancels, obj.uses_store = writes_data, quiet, user_cancels, uses_store
        return obj

    @classmethod
    def _missing_(cls, value):
        raise ValueError(f"unknown job kind {value!r}: expected one of {', '.join(k.value for k in cls)}")

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__


class JobContext:
    """Handed to the job function: progress reporting and cooperative cancel."""

    #: seconds between two progress signals: a job may report thousands of times a second, and each signal
    #: sent across threads costs the window a pass (105 reports in 45 ms of a read held its event loop for all
    #: 45 ms); the fraction itself is always current (``Job.fraction``), and the last report of a text or of
    #: completion is never dropped
    REPORT_EVERY_S = 0.05

    def __init__(self, job: "Job"):
        self._job = job
        self.cancel_event = job.cancel_event
        self._sent = (-1.0, None)      # (when, text) of the last progress signal

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check(self) -> None:
        """Raise CancelledError if the user cancelled (call between units of work)."""
        if self.cancel_event.is_set():
            raise CancelledError(f"{self._job.title}: cancelled")

    def report(self, fraction: float, text: str = "") -> None:
        self._job.fraction = f = max(0.0, min(1.0, float(fraction)))
        now = time.monotonic()
        if f >= 1.0 or text != self._sent[1] or now - self._sent[0] >= self.REPORT_EVERY_S:
            self._sent = (now, text)
            self._job.progress.emit(f, text)


def describe_error(exc: BaseException) -> str:
    """A readable one-line message: our errors carry their own, others get their type."""
    if isinstance(exc, ChannelsError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class Job(QObject):
    """One piece of background work. Its answer — ``succeeded``, ``failed`` or ``cancelled``, then ``finished``
    — is emitted once, on the GUI thread. After :meth:`cancel` the answer is ``cancelled``, even when the
    function had already returned or failed and only its answer was still queued."""

    progress = Signal(float, str)   # fraction 0..1, text
    succeeded = Signal(object)      # the function's return value
    failed = Signal(str)            # readable message
    cancelled = Signal()
    finished = Signal()             # always, after one of the three above
    stateChanged = Signal()
    _ended = Signal(object, object)  # (JobState, result or (message, traceback)): to the GUI thread, queued

    _ids = 0

    def __init__(self, title: str, fn, args=(), kwargs=None, kind: JobKind | str = JobKind.READ):
        super().__init__()
        Job._ids += 1
        self.id = Job._ids
        self.title = title
        self.kind = JobKind(kind)
        self.fn = fn
        self.args = args
        self.kwargs = kwargs or {}
        self.writes: frozenset | None = None
        self.owner: QObject | None = None      # nothing is delivered to callbacks once it is deleted
        self.dispose = None                    # called with a result nobody takes (see JobRunner.submit)
        self.cancel_event = threading.Event()
        self.state = JobState.QUEUED
        self.fraction = 0.0
        self.result = None
        self.error: str | None = None
        self.traceback: str | None = None
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._claimed = False          # by the worker starting the function, or by a cancel before that
        self._series: dict | None = None   # JobRunner.latest: the runner's newest job per key
        self._key = None
        self._answer = False           # whether this answer goes to the callbacks (decided on delivery)
        self._ended.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def cancel(self) -> None:
        """Ask the function to stop; its answer will be ``cancelled``. A job not started yet never starts."""
        if self.is_finished:
            return
        self.cancel_event.set()
        with self._lock:
            if self._claimed:
                return
            self._claimed = True
        self.ended_at = time.monotonic()
        self._done.set()
        self._ended.emit(JobState.CANCELLED, None)

    @property
    def is_finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)

    @property
    def elapsed(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.ended_at or time.monotonic()) - self.started_at

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job's function returned, or it was cancelled before it started (for tests, the
        close of a store and shutdown)."""
        return self._done.wait(timeout)

    def _set_state(self, state):
        self.state = state
        self.stateChanged.emit()

    def _run(self):
        """On a pool thread."""
        with self._lock:
            if self._claimed:
                return              # cancelled before it started
            self._claimed = True
        if self.cancel_event.is_set():
            outcome = (JobState.CANCELLED, None)
        else:
            self.started_at = time.monotonic()
            self._set_state(JobState.RUNNING)
            try:
                outcome = (JobState.DONE, self.fn(JobContext(self), *self.args, **self.kwargs))
            except CancelledError:
                outcome = (JobState.CANCELLED, None)
            except Exception as exc:  # noqa: BLE001 - every failure becomes a message, never a crash
                outcome = (JobState.FAILED, (describe_error(exc), traceback.format_exc()))
        self.ended_at = time.monotonic()
        self.fn = self.args = self.kwargs = None   # what it was given may be large: not kept by the Jobs list
        self._done.set()
        self._ended.emit(*outcome)

    def _deliver(self, state, payload):
        """On the GUI thread, once: the job's answer. A job cancelled meanwhile answers ``cancelled``."""
        if self.cancel_event.is_set() and state is not JobState.CANCELLED:
            log.debug("job %r was cancelled: its late %s is dropped", self.title, state.value)
            if state is JobState.DONE:
                self._drop(payload)
            state, payload = JobState.CANCELLED, None
        self._answer = self._take_answer()
        if state is JobState.DONE:
            self.result, self.fraction = payload, 1.0
            if not self._answer:
                self._drop(payload)
        elif state is JobState.FAILED:
            self.error, self.traceback = payload
            log.error("job %r failed: %s", self.title, self.error)
        self._set_state(state)
        if state is JobState.DONE:
            self.succeeded.emit(payload)
        elif state is JobState.FAILED:
            self.failed.emit(self.error)
        else:
            self.cancelled.emit()
        self.finished.emit()
        self._answer = False
        self.owner = self.dispose = None

    def _drop(self, result):
        if self.dispose is not None and result is not None:
            self.dispose(result)

    def _take_answer(self) -> bool:
        """Whether the answer goes to the callbacks: the owner is alive and, for a job of
        :meth:`JobRunner.latest`, it is still its key's newest (which it then stops being: the key is idle)."""
        if self._series is not None:
            if self._series.get(self._key) is not self:
                return False
            del self._series[self._key]
        return self.owner is None or shiboken6.isValid(self.owner)

    def _wanted_progress(self) -> bool:
        return (not self.cancel_event.is_set() and (self.owner is None or shiboken6.isValid(self.owner))
                and (self._series is None or self._series.get(self._key) is self))

    def _callback(self, fn):
        """``fn`` as a slot of an answer signal: called only when the answer is for it (see _take_answer), and,
        as Qt does for a method of a QObject, not once that object is deleted."""
        alive = _receiver_check(fn)

        def call(*args):
            if self._answer and alive():
                fn(*args)
        return call


def _receiver_check(fn):
    """A test that ``fn``'s object still exists when ``fn`` is a method of a QObject (else always true)."""
    receiver = getattr(fn, "__self__", None)
    if isinstance(receiver, QObject):
        return lambda: shiboken6.isValid(receiver)
    return lambda: True


class _Runnable(QRunnable):
    def __init__(self, job: Job):
        super().__init__()
        self.job = job
        self.setAutoDelete(True)

    def run(self):
        _lower_this_thread()
        self.job._run()


#: the nice of the job threads (Linux: per thread). The GUI thread keeps 0, so when the cores are busy the
#: scheduler runs it first: with the job threads at +10 the largest event-loop gap while opening a 10-home
#: deployment store went from 37-159 ms to 24-46 ms (load 0.9-1.1). An unprivileged thread cannot lower its nice
#: again, so a pool thread stays at +10 for every later job -- which is what a background thread is for.
JOB_NICE = 10
_lowered = threading.local()


def _lower_this_thread() -> None:
    if getattr(_lowered, "done", False):
        return
    _lowered.done = True
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), JOB_NICE)
    except (AttributeError, OSError):   # not Linux/Unix, or not allowed: the thread keeps the process's nice
        pass


def guarded(owner: QObject, fn):
    """``fn`` wrapped so it does nothing once ``owner``'s C++ object is gone.

    For slots of signals other than a job's answer (those take ``owner=`` in :meth:`JobRunner.submit`):
    e.g. the runner's ``jobAdded`` in a dock that may be closed first.
    """
    def call(*args):
        if shiboken6.isValid(owner):
            return fn(*args)
        return None
    return call


class JobRunner(QObject):
    """Starts jobs on a thread pool and keeps the list the Jobs dock shows."""

    jobAdded = Signal(object)
    jobFinished = Signal(object)

    def __init__(self, parent=None, max_threads: int | None = None):
        super().__init__(parent)
        gc_policy.end_of_start()   # jobs may start: the collector's thresholds are the ones they save and restore
        self.pool = QThreadPool()
        if max_threads:
            self.pool.setMaxThreadCount(max_threads)
        else:
            self.pool.setMaxThreadCount(max(4, self.pool.maxThreadCount()))
        self.jobs: list[Job] = []
        self._latest: dict = {}   # key -> its newest job, until that one answered (JobRunner.latest)

    def submit(self, title: str, fn, *args, kind: JobKind | str = JobKind.READ, on_result=None, on_error=None,
               on_cancel=None, on_progress=None, on_finished=None, owner: QObject | None = None, writes=None,
               dispose=None, **kwargs) -> Job:
        """Start ``fn(ctx, *args, **kwargs)`` on the pool.

        ``kind``: a :class:`JobKind` (or its value). ``writes``: the ``(channel_id, StreamId)`` pairs the job
        writes, so a purge of those streams can be refused while it runs (:meth:`writers_of`); a job whose
        kind writes data and that declares none counts as writing every stream.

        Pass callbacks here rather than connecting to the returned job's signals
        afterwards: a fast job may finish before a later ``connect`` happens.
        With ``owner`` (the widget that asked), no callback is called once
        the owner is deleted — a job often outlives the dialog that started it.
        After :meth:`Job.cancel` only ``on_cancel`` (then ``on_finished``) is called.
        ``dispose(result)`` is called with a result no callback took (the job was cancelled after its
        function returned, or its owner is gone), to release what it holds (e.g. a just opened store).
        """
        job = Job(title, fn, args, kwargs, kind)
        job.writes = None if writes is None else frozenset((str(c), s) for c, s in writes)
        job.owner, job.dispose = owner, dispose
        for signal, slot in ((job.succeeded, on_result), (job.failed, on_error), (job.cancelled, on_cancel),
                             (job.finished, on_finished)):
            if slot is not None:
                signal.connect(job._callback(slot))
        if on_progress is not None:
            alive = _receiver_check(on_progress)
            job.progress.connect(lambda f, text: on_progress(f, text) if job._wanted_progress() and alive() else None)
        job.finished.connect(guarded(self, lambda j=job: self._on_finished(j)))  # a job may outlive its runner
        job.finished.connect(gc_policy.work_ended)   # not guarded: the count must come down whoever is gone
        gc_policy.work_started()
        self.jobs.append(job)
        if len(self.jobs) > 500:  # keep the list bounded: drop the oldest finished ones
            self.jobs = [j for j in self.jobs[:-400] if not j.is_finished] + self.jobs[-400:]
        self.jobAdded.emit(job)
        self.pool.start(_Runnable(job))
        return job

    def latest(self, key, title: str, fn, *args, **kwargs) -> Job:
        """:meth:`submit` for a series of requests where the newest wins (a curve re-reading on every zoom, a
        table following the selection): the previous job of ``key`` is cancelled, and only the newest job's
        callbacks are called — none of a job that another one replaced, or that :meth:`cancel_latest`
        cancelled. ``key``: any hashable naming the series, e.g. ``(self, "pages")``; it is
        :meth:`pending` until the newest job answered."""
        previous = self._latest.get(key)
        job = self.submit(title, fn, *args, **kwargs)   # its answer is queued: none comes before we return
        job._series, job._key = self._latest, key
        self._latest[key] = job
        if previous is not None:
            previous.cancel()
        return job

    def pending(self, key) -> bool:
        """Whether the newest job of ``key`` (:meth:`latest`) has not answered yet (its answer may be queued)."""
        return key in self._latest

    def cancel_latest(self, key) -> None:
        """Cancel the newest job of ``key`` and drop whatever it still answers; ``key`` is no longer pending."""
        job = self._latest.pop(key, None)
        if job is not None:
            job.cancel()

    def _on_finished(self, job):
        self.jobFinished.emit(job)

    @property
    def active(self) -> list[Job]:
        return [j for j in self.jobs if not j.is_finished]

    def writers_of(self, streams) -> list[Job]:
        """The unfinished jobs that write any of ``streams`` (``(channel_id, StreamId)`` pairs): those that
        declared one of them, and jobs of a writing kind that declared nothing."""
        wanted = {(str(c), s) for c, s in streams}
        return [j for j in self.active if (j.kind.writes_data if j.writes is None else j.writes & wanted)]

    def cancel_store_jobs(self) -> list[Job]:
        """Cancel every unfinished job that uses the open store (:attr:`JobKind.uses_store`) and return them:
        the store may be closed once they ended (:meth:`Job.wait`). None of them answers anything but
        ``cancelled`` — not a late error of a store closed under it."""
        jobs = [j for j in self.active if j.kind.uses_store]
        for job in jobs:
            job.cancel()
        return jobs

    def cancel_all(self) -> None:
        for job in self.active:
            job.cancel()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel running jobs and wait for them (called on quit)."""
        self.cancel_all()
        return self.pool.waitForDone(timeout_ms)
