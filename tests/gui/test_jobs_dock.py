"""Jobs dock: reads are listed while they run and briefly after; failed reads and other jobs stay (headless)."""
from __future__ import annotations

import threading

import pytest

from hsgui.common.background import JobState
from hsgui.jobs.jobs_dock import READ_LINGER_S, JobsDock


@pytest.fixture
def dock(qtbot, runner):
    d = JobsDock(runner)
    qtbot.addWidget(d)
    d.show()
    return d


def finish(qtbot, *jobs):
    qtbot.waitUntil(lambda: all(j.is_finished for j in jobs), timeout=5000)
    qtbot.wait(20)   # the queued state signals reach the model


def age(job, seconds=READ_LINGER_S + 1):
    """Pretend ``job`` finished ``seconds`` ago."""
    job.ended_at -= seconds
    job.started_at -= seconds


def test_finished_reads_leave_the_list_failed_reads_and_tool_runs_stay(qtbot, dock, runner):
    assert not dock.show_reads.isChecked()
    tool = runner.submit("run clock → memory/ticks", lambda ctx: 1, kind="tool")
    gate = threading.Event()
    slow = runner.submit("Read rows 0… of big", lambda ctx: gate.wait(5), kind="read")
    quick = runner.submit("Inspect houses", lambda ctx: 2, kind="read")
    broken = runner.submit("Span of x", lambda ctx: 1 / 0, kind="read")
    count = runner.submit("count memory", lambda ctx: 3, kind="count")
    finish(qtbot, tool, quick, broken, count)
    qtbot.waitUntil(lambda: slow.state == JobState.RUNNING, timeout=5000)
    # just finished or running: listed (newest first); tree counts never
    assert dock.visible_jobs() == [broken, quick, slow, tool]
    age(quick)
    age(broken)
    age(tool)
    qtbot.waitUntil(lambda: quick not in dock.visible_jobs(), timeout=3000)   # the dock's timer re-filters
    assert dock.visible_jobs() == [broken, slow, tool]   # a failed read stays; a running read stays
    gate.set()
    finish(qtbot, slow)
    assert slow in dock.visible_jobs()
    age(slow)
    qtbot.waitUntil(lambda: dock.visible_jobs() == [broken, tool], timeout=3000)
    assert "2 reads hidden" in dock.summary.text()
    # what is listed is what the view shows
    assert [dock.proxy.index(r, 0).data() for r in range(dock.proxy.rowCount())] == [broken.title, tool.title]
    dock.show_reads.setChecked(True)
    assert dock.visible_jobs() == [broken, quick, slow, tool]
    assert "hidden" not in dock.summary.text()
    dock.show_counts.setChecked(True)
    assert dock.visible_jobs() == [count, broken, quick, slow, tool]
    dock.show_reads.setChecked(False)
    assert dock.visible_jobs() == [count, broken, tool]
