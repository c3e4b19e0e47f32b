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
import threading
import time
import traceback

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


from channels.errors import CancelledError, ChannelsError

from . import gc_policy

log = logging.getLogger(__name__)


class JobState(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobContext:
    """Handed to the job function: progress reporting and cooperative cancel."""

    def __init__(self, job: "Job"):
        self._job = job
        self.cancel_event = job.cancel_event

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check(self) -> None:
        """Raise CancelledError if the user cancelled (call between units of work)."""
        if self.cancel_event.is_set():
            raise CancelledError(f"{self._job.title}: cancelled")

    def report(self, fraction: float, text: str = "") -> None:
        self._job.fraction = max(0.0, min(1.0, float(fraction)))
        self._job.progress.emit(self._job.fraction, text)


def describe_error(exc: BaseException) -> str:
    """A readable one-line message: our errors carry their own, others get their type."""
    if isinstance(exc, ChannelsError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class Job(QObject):
    progress = Signal(float, str)   # fraction 0..1, text
    succeeded = Signal(object)      # the function's return value
    failed = Signal(str)            # readable message
    cancelled = Signal()
    finished = Signal()             # always, after one of the three above
    stateChanged = Signal()

    _ids = 0

    def __init__(self, title: str, fn, args=(), kwargs=None, kind: str = "read"):
        super().__init__()
        Job._ids += 1
        self.id = Job._ids
        self.title = title
        self.kind = kind
        self.fn = fn
        self.args = args
        self.kwargs = kwargs or {}
        self.cancel_event = threading.Event()
        self.state = JobState.QUEUED
        self.fraction = 0.0
        self.result = None
        self.error: str | None = None
        self.traceback: str | None = None
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self._done = threading.Event()

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def is_finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)

    @property
    def elapsed(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.ended_at or time.monotonic()) - self.started_at

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job's function returned (for tests and shutdown)."""
        return self._done.wait(timeout)

    def _set_state(self, state):
        self.state = state
        self.stateChanged.emit()

    def _run(self):
        if self.cancel_event.is_set():
            self.ended_at = time.monotonic()
            self._set_state(JobState.CANCELLED)
            self._done.set()
            self.cancelled.emit()
            self.finished.emit()
            return
        self.started_at = time.monotonic()
        self._set_state(JobState.RUNNING)
        try:
            result = self.fn(JobContext(self), *self.args, **self.kwargs)
        except CancelledError:
            self.ended_at = time.monotonic()
            self._set_state(JobState.CANCELLED)
            self._done.set()
            self.cancelled.emit()
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message, never a crash
            self.ended_at = time.monotonic()
            self.error = describe_error(exc)
            self.traceback = traceback.format_exc()
            log.error("job %r failed: %s", self.title, self.error)
            self._set_state(JobState.FAILED)
            self._done.set()
            self.failed.emit(self.error)
        else:
            self.ended_at = time.monotonic()
            self.result = result
            self.fraction = 1.0
            self._set_state(JobState.DONE)
            self._done.set()
            self.succeeded.emit(result)
        self.finished.emit()


class _Runnable(QRunnable):
    def __init__(self, job: Job):
        super().__init__()
        self.job = job
        self.setAutoDelete(True)

    def run(self):
        self.job._run()


def guarded(owner: QObject, fn):
    """``fn`` wrapped so it does nothing once ``owner``'s C++ object is gone.

    Job signals are delivered later, on the GUI thread; by then the widget that
    asked may have been closed and deleted. Wrap ``on_result``/``on_error``
    callbacks that touch a widget or model with this.
    """
    import shiboken6

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
        self.pool = QThreadPool()
        if max_threads:
            self.pool.setMaxThreadCount(max_threads)
        else:
            self.pool.setMaxThreadCount(max(4, self.pool.maxThreadCount()))
        self.jobs: list[Job] = []

    #: job kinds that write streams; such a job that declares no ``writes`` may write any stream
    WRITING_KINDS = frozenset({"tool", "write", "import", "workflow"})

    def submit(self, title: str, fn, *args, kind: str = "read", on_result=None, on_error=None, on_cancel=None,
               on_progress=None, on_finished=None, owner: QObject | None = None, writes=None, **kwargs) -> Job:
        """Start ``fn(ctx, *args, **kwargs)`` on the pool.

        ``writes``: the ``(channel_id, StreamId)`` pairs the job writes, so a purge of those streams can be
        refused while it runs (:meth:`writers_of`); a writing job (:attr:`WRITING_KINDS`) that declares none
        counts as writing every stream.

        Pass callbacks here rather than connecting to the returned job's signals
        afterwards: a fast job may finish before a later ``connect`` happens.
        With ``owner`` (the widget that asked), every callback is skipped once
        the owner is deleted — a job often outlives the dialog that started it.
        """
        job = Job(title, fn, args, kwargs, kind)
        job.writes = None if writes is None else frozenset((str(c), s) for c, s in writes)
        for signal, slot in ((job.succeeded, on_result), (job.failed, on_error), (job.cancelled, on_cancel),
                             (job.progress, on_progress), (job.finished, on_finished)):
            if slot is not None:
                signal.connect(guarded(owner, slot) if owner is not None else slot)
        job.finished.connect(guarded(self, lambda j=job: self._on_finished(j)))  # a job may outlive its runner
        job.finished.connect(gc_policy.work_ended)   # not guarded: the count must come down whoever is gone
        gc_policy.work_started()
        self.jobs.append(job)
        if len(self.jobs) > 500:  # keep the list bounded: drop the oldest finished ones
            self.jobs = [j for j in self.jobs[:-400] if not j.is_finished] + self.jobs[-400:]
        self.jobAdded.emit(job)
        self.pool.start(_Runnable(job))
        return job

    def _on_finished(self, job):
        self.jobFinished.emit(job)

    @property
    def active(self) -> list[Job]:
        return [j for j in self.jobs if not j.is_finished]

    def writers_of(self, streams) -> list[Job]:
        """The unfinished jobs that write any of ``streams`` (``(channel_id, StreamId)`` pairs): those that
        declared one of them, and writing jobs that declared nothing."""
        wanted = {(str(c), s) for c, s in streams}
        out = []
        for job in self.active:
            writes = getattr(job, "writes", None)
            if writes is None:
                if job.kind in self.WRITING_KINDS:
                    out.append(job)
            elif writes & wanted:
                out.append(job)
        return out

    def cancel_all(self) -> None:
        for job in self.active:
            job.cancel()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel running jobs and wait for them (called on quit)."""
        self.cancel_all()
        return self.pool.waitForDone(timeout_ms)
