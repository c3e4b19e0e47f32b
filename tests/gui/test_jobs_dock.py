"""Jobs dock: with "Show reads" off a read is listed only while it runs long; the header counts the finished
reads it hides; failed reads and other jobs stay (headless)."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from hsgui.common.background import JobState
from hsgui.jobs.jobs_dock import READ_LISTED_AFTER_S, JobsDock


@pytest.fixture
def dock(qtbot, runner):
    d = JobsDock(runner)
    qtbot.addWidget(d)
    d.show()
    return d


def finish(qtbot, *jobs):
    qtbot.waitUntil(lambda: all(j.is_finished for j in jobs), timeout=5000)
    qtbot.wait(20)   # the queued state signals reach the model


def age(job, seconds=READ_LISTED_AFTER_S + 1):
    """Pretend ``job`` started ``seconds`` earlier than it did."""
    job.started_at -= seconds


def shown_reads(dock):
    return [j for j in dock.visible_jobs() if j.kind == "read"]


def test_the_list_shows_no_finished_read_while_the_header_says_reads_are_hidden(qtbot, dock, runner):
    reads = [runner.submit(f"Read rows {i}… of big", lambda ctx: i, kind="read") for i in range(4)]
    tool = runner.submit("run clock → memory/ticks", lambda ctx: 1, kind="tool")
    finish(qtbot, tool, *reads)
    assert "4 finished reads hidden" in dock.summary.text()
    assert shown_reads(dock) == []
    assert [dock.proxy.index(r, 0).data() for r in range(dock.proxy.rowCount())] == [tool.title]


def test_a_long_read_is_listed_while_it_runs_a_failed_read_stays_tool_runs_stay(qtbot, dock, runner):
    assert not dock.show_reads.isChecked()
    tool = runner.submit("run clock → memory/ticks", lambda ctx: 1, kind="tool")
    gate = threading.Event()
    slow = runner.submit("Read rows 0… of big", lambda ctx: gate.wait(5), kind="read")
    quick = runner.submit("Inspect houses", lambda ctx: 2, kind="read")
    broken = runner.submit("Span of x", lambda ctx: 1 / 0, kind="read")
    count = runner.submit("count memory", lambda ctx: 3, kind="count")
    finish(qtbot, tool, quick, broken, count)
    qtbot.waitUntil(lambda: slow.state == JobState.RUNNING, timeout=5000)
    # a read that just started is not listed yet; one that ran long is (it may be worth cancelling)
    assert dock.visible_jobs() == [broken, tool]
    age(slow)
    qtbot.waitUntil(lambda: slow in dock.visible_jobs(), timeout=3000)
    assert dock.visible_jobs() == [broken, slow, tool]
    assert "1 finished read hidden" in dock.summary.text()
    gate.set()
    finish(qtbot, slow)
    qtbot.waitUntil(lambda: dock.visible_jobs() == [broken, tool], timeout=3000)
    assert "2 finished reads hidden" in dock.summary.text()
    dock.show_reads.setChecked(True)
    assert dock.visible_jobs() == [broken, quick, slow, tool]
    assert "hidden" not in dock.summary.text()
    dock.show_counts.setChecked(True)
    assert dock.visible_jobs() == [count, broken, quick, slow, tool]
    dock.show_reads.setChecked(False)
    assert dock.visible_jobs() == [count, broken, tool]


def test_tab_leaves_the_jobs_table(qtbot, dock, runner):
    runner.submit("run a", lambda ctx: 1, kind="tool")
    runner.submit("run b", lambda ctx: 1, kind="tool")
    qtbot.wait(50)
    dock.view.setFocus()
    qtbot.keyClick(dock.view, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is not dock.view
