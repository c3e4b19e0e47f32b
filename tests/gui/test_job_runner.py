"""The job runner owns cancel and "newest wins": after cancel() a job answers only ``cancelled``, a job cancelled
before it started never runs, ``latest()`` delivers only the newest request's answer, and nothing reaches the
callbacks of a deleted owner."""
from __future__ import annotations

import os
import threading

import pytest
import shiboken6
from PySide6.QtCore import QObject

from hsgui.common.background import JobKind, JobRunner, JobState


class Answers:
    """Records every callback a job calls."""

    def __init__(self):
        self.calls: list = []

    def options(self, tag=""):
        return dict(on_result=lambda r: self.calls.append((tag, "result", r)),
                    on_error=lambda msg: self.calls.append((tag, "error", msg)),
                    on_cancel=lambda: self.calls.append((tag, "cancel")),
                    on_finished=lambda: self.calls.append((tag, "finished")))


def test_a_result_queued_before_the_cancel_is_not_delivered(qtbot, runner):
    answers = Answers()
    job = runner.submit("quick", lambda ctx: 42, **answers.options())
    assert job.wait(5)          # the function returned; its answer waits in the event queue
    job.cancel()
    qtbot.waitUntil(lambda: job.is_finished, timeout=5000)
    qtbot.wait(20)
    assert answers.calls == [("", "cancel"), ("", "finished")]
    assert job.state is JobState.CANCELLED and job.result is None


def test_a_failure_after_the_cancel_is_not_delivered(qtbot, runner):
    answers = Answers()
    go = threading.Event()

    def fails_late(ctx):
        go.wait(5)
        raise RuntimeError("Cannot use MongoClient after close")

    job = runner.submit("fails late", fails_late, kind=JobKind.TOOL, **answers.options())
    with qtbot.waitSignal(job.cancelled, timeout=5000), qtbot.assertNotEmitted(job.failed):
        job.cancel()
        go.set()
        job.wait(5)
    assert answers.calls == [("", "cancel"), ("", "finished")]
    assert job.state is JobState.CANCELLED and job.error is None


def test_a_job_cancelled_before_it_started_never_runs(qtbot):
    runner = JobRunner(max_threads=1)
    gate, ran = threading.Event(), []
    blocker = runner.submit("block", lambda ctx: gate.wait(5))
    answers = Answers()
    job = runner.submit("queued", lambda ctx: ran.append(True), **answers.options())
    job.cancel()
    assert job.wait(0)          # nothing to wait for: it will never run (closing a store need not wait)
    qtbot.waitUntil(lambda: job.is_finished, timeout=5000)
    assert job.state is JobState.CANCELLED
    gate.set()
    qtbot.waitUntil(lambda: blocker.is_finished, timeout=5000)
    assert runner.shutdown(5000)
    qtbot.wait(20)
    assert ran == [] and answers.calls == [("", "cancel"), ("", "finished")]


def test_latest_delivers_only_the_newest_of_three_quick_requests(qtbot, runner):
    gate = threading.Event()
    answers = Answers()
    key = ("curve", 1)

    def read(ctx, n):
        gate.wait(5)
        return n * 10

    first = runner.latest(key, "read 1", read, 1, **answers.options(1))
    second = runner.latest(key, "read 2", read, 2, **answers.options(2))
    third = runner.latest(key, "read 3", read, 3, **answers.options(3))
    assert runner.pending(key)
    gate.set()
    qtbot.waitUntil(lambda: not runner.pending(key), timeout=5000)
    qtbot.waitUntil(lambda: all(j.is_finished for j in (first, second, third)), timeout=5000)
    assert answers.calls == [(3, "result", 30), (3, "finished")]
    assert first.state is second.state is JobState.CANCELLED
    assert third.state is JobState.DONE and third.result == 30


def test_latest_drops_an_answer_already_queued_when_a_newer_request_comes(qtbot, runner):
    answers = Answers()
    key = "inspector"
    old = runner.latest(key, "old", lambda ctx: "old", **answers.options("old"))
    assert old.wait(5)          # answered, but not delivered yet
    runner.latest(key, "new", lambda ctx: "new", **answers.options("new"))
    qtbot.waitUntil(lambda: not runner.pending(key), timeout=5000)
    qtbot.wait(20)
    assert answers.calls == [("new", "result", "new"), ("new", "finished")]
    assert old.state is JobState.CANCELLED


def test_cancel_latest_drops_the_request_and_ends_pending(qtbot, runner):
    answers = Answers()
    gate = threading.Event()
    job = runner.latest("table", "pages", lambda ctx: gate.wait(5), **answers.options())
    runner.cancel_latest("table")
    assert not runner.pending("table")
    gate.set()
    qtbot.waitUntil(lambda: job.is_finished, timeout=5000)
    qtbot.wait(20)
    assert answers.calls == [] and job.state is JobState.CANCELLED


def test_a_newest_job_cancelled_from_elsewhere_answers_cancelled(qtbot, runner):
    """The Jobs dock's Cancel or a store switch cancels the newest request: the asker hears ``cancelled``."""
    answers = Answers()
    gate = threading.Event()
    job = runner.latest("table", "pages", lambda ctx: gate.wait(5), **answers.options())
    job.cancel()
    gate.set()
    qtbot.waitUntil(lambda: not runner.pending("table"), timeout=5000)
    assert answers.calls == [("", "cancel"), ("", "finished")]


def test_nothing_is_delivered_once_the_owner_is_deleted(qtbot, runner):
    owner = QObject()
    answers, released = Answers(), []
    gate = threading.Event()
    jobs = [runner.submit("read", lambda ctx: gate.wait(5) and "resource", owner=owner, dispose=released.append,
                          **answers.options("submit")),
            runner.latest((owner, "read"), "newest", lambda ctx: gate.wait(5), owner=owner,
                          **answers.options("latest"))]
    shiboken6.delete(owner)
    gate.set()
    qtbot.waitUntil(lambda: all(j.is_finished for j in jobs), timeout=5000)
    qtbot.wait(20)
    assert answers.calls == []
    assert released == ["resource"]     # a result nobody took is handed to dispose (e.g. a store to close)
    assert jobs[0].state is JobState.DONE


def test_a_method_of_a_deleted_qobject_is_not_called_as_qt_would_not(qtbot, runner):
    """Without ``owner``, a callback that is a method of a QObject is skipped once that object is deleted (a run
    dialog closed while its run ends)."""
    class Dialog(QObject):
        def __init__(self):
            super().__init__()
            self.heard = []

        def on_cancel(self):
            self.heard.append("cancel")

    dlg, gate = Dialog(), threading.Event()
    heard = dlg.heard
    job = runner.submit("run", lambda ctx: gate.wait(5), kind=JobKind.TOOL, on_cancel=dlg.on_cancel)
    job.cancel()
    shiboken6.delete(dlg)
    gate.set()
    qtbot.waitUntil(lambda: job.is_finished, timeout=5000)
    assert heard == [] and job.state is JobState.CANCELLED


def test_a_result_dropped_by_a_late_cancel_is_disposed(qtbot, runner):
    released = []
    job = runner.submit("open", lambda ctx: "store", dispose=released.append, on_result=lambda r: None)
    assert job.wait(5)
    job.cancel()
    qtbot.waitUntil(lambda: job.is_finished, timeout=5000)
    assert released == ["store"]


@pytest.mark.parametrize("kind, writes_data, quiet, user_cancels, uses_store", [
    ("read", False, True, False, True),
    ("count", False, True, False, True),
    ("refresh", False, False, True, True),
    ("export", False, False, True, True),
    ("tool", True, False, True, True),
    ("purge", True, False, True, True),
    ("write", True, False, True, True),
    ("connect", False, False, True, False),
    ("test", False, True, True, False),
    ("close", False, True, False, False),
])
def test_job_kinds_say_how_the_window_treats_them(kind, writes_data, quiet, user_cancels, uses_store):
    k = JobKind(kind)
    assert k == kind and str(k) == kind and f"{k}" == kind
    assert (k.writes_data, k.quiet, k.user_cancels, k.uses_store) == (writes_data, quiet, user_cancels, uses_store)


def test_the_kind_decides_what_a_store_switch_cancels_and_what_a_purge_waits_for(qtbot, runner):
    gate = threading.Event()
    jobs = {k: runner.submit(k, lambda ctx: gate.wait(5), kind=k) for k in ("read", "tool", "connect", "close")}
    try:
        assert [j.title for j in runner.writers_of([("ch", "s")])] == ["tool"]
        cancelled = runner.cancel_store_jobs()
        assert sorted(j.title for j in cancelled) == ["read", "tool"]
        assert not jobs["connect"].cancel_event.is_set() and not jobs["close"].cancel_event.is_set()
    finally:
        gate.set()
    qtbot.waitUntil(lambda: all(j.is_finished for j in jobs.values()), timeout=5000)
    assert jobs["read"].state is jobs["tool"].state is JobState.CANCELLED
    assert jobs["connect"].state is jobs["close"].state is JobState.DONE


def test_an_unknown_kind_is_refused_by_name(runner):
    ran = []
    with pytest.raises(ValueError, match=r"unknown job kind 'import': expected one of read, count, .*close"):
        runner.submit("Import data.csv", lambda ctx: ran.append(1), kind="import")
    assert runner.jobs == [] and ran == []


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="per-thread nice is a Unix feature")
def test_jobs_run_on_threads_the_scheduler_puts_after_the_window(qtbot, runner):
    """When the cores are busy the window's thread runs first: a job's thread has a higher nice."""
    window_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    job = runner.submit("nice", lambda ctx: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    qtbot.waitUntil(lambda: job.is_finished, timeout=5000)
    assert job.result > window_nice
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == window_nice


def test_a_job_reporting_thousands_of_times_sends_few_signals_but_its_last_word(qtbot, runner):
    """Progress bars see the newest fraction and every new text, not one signal per report (each one costs the
    window an event-loop pass)."""
    seen = []

    def work(ctx):
        for i in range(20_000):
            ctx.report(i / 20_000)
        ctx.report(0.5, "second phase")
        ctx.report(1.0, "second phase")

    job = runner.submit("chatty", work, on_progress=lambda f, text: seen.append((f, text)))
    qtbot.waitUntil(lambda: job.is_finished, timeout=10000)
    qtbot.wait(20)
    assert len(seen) < 200
    assert seen[-2:] == [(0.5, "second phase"), (1.0, "second phase")]
    assert job.fraction == 1.0
