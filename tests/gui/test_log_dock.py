"""The Log dock keeps a history of what happened: job ends at Info (reads at Debug), status-bar messages."""
from __future__ import annotations

import logging
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

from hsgui.jobs.log_dock import LogDock, log_status_messages


@pytest.fixture
def log_dock(qtbot, runner):
    dock = LogDock(runner=runner)
    qtbot.addWidget(dock)
    dock.show()
    yield dock
    dock.detach()


def choose_level(qtbot, dock, name):
    """What a user does: focus the level box and pick ``name`` with the keyboard."""
    dock.level.setFocus()
    while dock.level.currentText() != name:
        key = Qt.Key.Key_Down if dock.level.findText(name) > dock.level.currentIndex() else Qt.Key.Key_Up
        qtbot.keyClick(dock.level, key)


def test_after_a_job_ends_the_log_at_info_has_a_line_for_it(qtbot, log_dock, runner):
    assert log_dock.level.currentText() == "Info"
    gate = threading.Event()

    def tool(ctx):
        ctx.report(0.5, "1,440 instances written")
        return 1440

    done = runner.submit("run clock → memory/ticks", tool, kind="tool")
    broken = runner.submit("import sensors.csv", lambda ctx: 1 / 0, kind="write")
    stopped = runner.submit("purge 2 stream(s)", lambda ctx: (gate.wait(5), ctx.check()), kind="purge")
    stopped.cancel()
    gate.set()
    qtbot.waitUntil(lambda: all(j.is_finished for j in (done, broken, stopped)), timeout=5000)
    qtbot.waitUntil(lambda: "purge 2 stream(s)" in log_dock.plain_text(), timeout=3000)
    text = log_dock.plain_text()
    assert "INFO" in text and "done: run clock → memory/ticks" in text and "1,440 instances written" in text
    assert "failed: import sensors.csv" in text and "ZeroDivisionError" in text
    assert "cancelled: purge 2 stream(s)" in text


def test_reads_end_at_debug_which_the_level_box_shows(qtbot, log_dock, runner):
    read = runner.submit("plot temperature", lambda ctx: 1, kind="read")
    qtbot.waitUntil(lambda: read.is_finished, timeout=5000)
    qtbot.wait(50)
    assert "plot temperature" not in log_dock.plain_text()    # thousands of plot reads stay out of Info
    choose_level(qtbot, log_dock, "Debug")
    read = runner.submit("plot humidity", lambda ctx: 1, kind="read")
    qtbot.waitUntil(lambda: "done: plot humidity" in log_dock.plain_text(), timeout=3000)
    logging.getLogger("hsgui.plotting").debug("a debug detail")
    qtbot.waitUntil(lambda: "a debug detail" in log_dock.plain_text(), timeout=2000)
    choose_level(qtbot, log_dock, "Info")
    assert "a debug detail" not in log_dock.plain_text() and "plot humidity" not in log_dock.plain_text()
    assert logging.getLogger("hsgui").getEffectiveLevel() == logging.INFO


def test_status_bar_messages_stay_in_the_log(qtbot, log_dock):
    window = QMainWindow()
    qtbot.addWidget(window)
    log_status_messages(window.statusBar())
    window.statusBar().showMessage("Imported 1,000 rows; 3 malformed rows skipped", 100)
    qtbot.wait(200)
    assert window.statusBar().currentMessage() == ""
    assert "Imported 1,000 rows; 3 malformed rows skipped" in log_dock.plain_text()
