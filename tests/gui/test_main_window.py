"""The main window on a prepared store: connection, jobs, errors, bad input, persistence."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from channels.channel_manager import ChannelManager
from channels.stream import StreamId
from channels.time_interval import TimeInterval
from hsgui import settings as hs_settings
from hsgui.common.background import JobState

from hsgui_test_stores import HOUR, T0, make_sqlite_store


@pytest.fixture(scope="module")
def store_file(tmp_path_factory):
    return make_sqlite_store(tmp_path_factory.mktemp("store") / "store.sqlite")


@pytest.fixture
def window(make_main_window):
    return make_main_window()


def connect(qtbot, window, target, **kw):
    """Open ``target`` and wait until the window has taken the outcome in (tree rebuilt or error shown)."""
    job = window.open_target(target, **kw)
    qtbot.waitUntil(lambda: job.is_finished and window.state.opening is None, timeout=15000)
    if job.state == JobState.FAILED:
        qtbot.waitUntil(lambda: window.error_bar.text() != "", timeout=2000)
    return job


def test_window_shows_the_store_and_selecting_fills_inspector_and_table(qtbot, window, store_file):
    job = connect(qtbot, window, store_file)
    assert job.state == JobState.DONE and window.manager is not None
    m = window.tree.model
    top = [m.index(r, 0).data() for r in range(m.rowCount())]
    assert top[:3] == ["memory", "mongo", "assets"] and "tools" in top
    assert window.connection_label.text().endswith("store.sqlite")
    window.picker.set_interval(TimeInterval(T0, T0 + 48 * HOUR), emit=True)
    assert window.tree.select_stream("mongo", StreamId("hourly_mean", {"house": 1}))
    qtbot.waitUntil(lambda: window.inspector.fields["count"].text().startswith("20 instances"), timeout=5000)
    assert window.inspector.fields["calculated"].text() == "2 intervals, 20 h (1 gap)"
    qtbot.waitUntil(lambda: window.instances.model.rowCount() == 20, timeout=5000)
    qtbot.waitUntil(lambda: window.instances.model.index(19, 1).data() == "9.0", timeout=5000)
    # changing the range re-reads the table and the inspector's count
    window.picker.set_interval(TimeInterval(T0, T0 + 5 * HOUR), emit=True)
    qtbot.waitUntil(lambda: window.instances.model.rowCount() == 5, timeout=5000)
    qtbot.waitUntil(lambda: window.inspector.fields["count"].text().startswith("5 instances"), timeout=5000)


def test_a_read_job_is_listed_as_done_and_an_endless_job_cancels_from_the_jobs_dock(qtbot, window):
    # how long the event loop is blocked meanwhile: bench/bench_gui_responsiveness.py (1. and 4.)
    from hsgui_test_stores import memory_manager
    manager, made = memory_manager(big=30_000)
    window.set_manager(manager)
    big = made["big"]

    def read_all(ctx, stream):
        n = 0
        for i, _inst in enumerate(stream.window()):
            n += 1
            if i % 10_000 == 0:
                ctx.check()
                ctx.report(i / 30_000, f"{i:,}")
        return n

    job = window.runner.submit("Read 30,000 instances", read_all, big, kind="read")
    qtbot.waitUntil(lambda: job.is_finished, timeout=20000)
    assert job.result == 30_000
    # the Jobs dock lists it as done once reads are shown (a finished read is hidden otherwise); a cancelled job
    # shows as cancelled
    window.jobs.show_reads.setChecked(True)
    assert window.jobs.visible_jobs()[0] is job and job.state == JobState.DONE

    def forever(ctx):
        while True:
            ctx.check()
            time.sleep(0.01)

    job = window.runner.submit("Endless job", forever, kind="tool")
    qtbot.waitUntil(lambda: job.state == JobState.RUNNING, timeout=5000)
    assert "Endless job" in window.job_status.label.text()
    row = window.jobs.visible_jobs().index(job)
    cancel_cell = window.jobs.proxy.index(row, 4)
    window.jobs._clicked(cancel_cell)     # what a click on the Cancel button does
    qtbot.waitUntil(lambda: job.state == JobState.CANCELLED, timeout=5000)
    row = window.jobs.visible_jobs().index(job)  # jobs started since (views re-read after a tool job) shift rows
    assert window.jobs.proxy.index(row, 1).data() == "cancelled"
    assert window.error_bar.text() == ""


def test_failing_job_shows_a_readable_error_and_a_log_entry(qtbot, window):
    def broken(ctx):
        raise ValueError("the sensor file has no header row")

    job = window.runner.submit("Import sensors", broken, kind="tool")
    qtbot.waitUntil(lambda: job.is_finished, timeout=5000)
    qtbot.waitUntil(lambda: window.error_bar.text() != "", timeout=2000)
    assert window.error_bar.text() == "Import sensors failed: ValueError: the sensor file has no header row"
    qtbot.waitUntil(lambda: "the sensor file has no header row" in window.log_view.plain_text(), timeout=2000)
    assert window.isVisible()


def test_unreachable_mongodb_is_reported_without_the_password(qtbot, window):
    # how long it takes and how long the event loop is blocked meanwhile: bench/bench_connect_failures.py
    job = connect(qtbot, window, "mongodb://hsgui:secret@127.0.0.1:9/hyperstream")
    assert job.state == JobState.FAILED
    text = window.error_bar.text()
    assert text.startswith("Open mongodb://hsgui:***@127.0.0.1:9/hyperstream failed: cannot reach MongoDB"), text
    assert "secret" not in text and "secret" not in window.log_view.plain_text()
    assert window.manager is None and window.isVisible()


@pytest.mark.parametrize("case", ["missing", "corrupt", "config"])
def test_bad_targets_give_clear_messages(qtbot, window, tmp_path, store_file, case):
    connect(qtbot, window, store_file)
    before = window.manager
    if case == "missing":
        target = str(tmp_path / "nope.sqlite")
        expected = "does not exist"
    elif case == "corrupt":
        target = str(tmp_path / "corrupt.sqlite")
        with open(target, "wb") as f:
            f.write(b"this is not a database" * 100)
        expected = "corrupt.sqlite"
    else:
        target = str(tmp_path / "hyperstream_config.json")
        with open(target, "w") as f:
            json.dump({"mongo": {"host": "localhost", "port": "27017"}}, f)
        expected = "mongo.port"
    job = connect(qtbot, window, target)
    assert job.state == JobState.FAILED
    assert expected in window.error_bar.text()
    assert window.manager is before and window.tree.model.rowCount() > 0   # still on the old store
    assert not os.path.exists(tmp_path / "nope.sqlite")


def test_stream_deleted_by_another_process_while_shown(qtbot, window, tmp_path):
    path = make_sqlite_store(tmp_path / "shared.sqlite")
    connect(qtbot, window, path)
    sid = StreamId("events")
    assert window.tree.select_stream("mongo", sid)
    qtbot.waitUntil(lambda: window.inspector.fields["first"].text() not in ("", "…"), timeout=5000)
    other = ChannelManager.open(path)               # "another process"
    other.channels["mongo"].purge_stream(sid, remove_definition=True)
    other.close()
    job = window.features["browse"].refresh()
    qtbot.waitUntil(lambda: job.is_finished, timeout=5000)
    qtbot.waitUntil(lambda: window.inspector.message.isVisible(), timeout=5000)
    assert "no longer exists" in window.inspector.message.text()
    mongo = window.tree.model.find_index("mongo")
    names = [window.tree.model.index(r, 0, mongo).data() for r in range(window.tree.model.rowCount(mongo))]
    assert "events" not in names and "temperature" in names
    assert window.isVisible()


def test_layout_range_and_recent_connections_persist_without_passwords(qtbot, make_main_window, store_file):
    w = make_main_window(target=store_file, persist=True)
    w.docks["log"].hide()
    iv = TimeInterval(T0, T0 + 7 * HOUR)
    w.picker.set_interval(iv, emit=True)
    w.picker.set_time_zone("Asia/Kolkata")
    hs_settings.add_recent_connection("mongodb://ann:hunter2@db.example:27017/hs")
    w.close()
    # the range, zone and docks have one owner: the last workspace (QSettings keeps the geometry)
    from hsgui.workspace.controller import last_workspace_path
    saved = w.workspaces.read(last_workspace_path())
    assert (saved.start, saved.end, saved.zone) == (iv.start, iv.end, "Asia/Kolkata")
    assert hs_settings.settings().value("time_range/start") is None
    assert not any("hunter2" in t for t in hs_settings.recent_connections())
    assert hs_settings.recent_connections()[:2] == ["mongodb://ann:***@db.example:27017/hs", store_file]
    w2 = make_main_window(restore=True, shown=False)
    assert w2.picker.interval() == iv
    assert str(w2.picker.time_zone()) == "Asia/Kolkata"
    assert w2.docks["log"].isHidden()


def test_command_line_screenshot(tmp_path, store_file):
    png = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-m", "hsgui", store_file, "--screenshot", str(png)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert png.exists() and png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_connect_dialog_tests_an_unreachable_server_and_lists_recent_without_passwords(qtbot, window):
    from hsgui.connection.dialog import CONFIG, MONGO, ConnectDialog
    hs_settings.add_recent_connection("mongodb://ann:hunter2@db.example:27017/hs")
    dlg = ConnectDialog(window.runner, None, window)
    qtbot.addWidget(dlg)
    recent = [dlg.recent.item(i).text() for i in range(dlg.recent.count())]
    assert "mongodb://ann:***@db.example:27017/hs" in recent and not any("hunter2" in t for t in recent)
    dlg.tabs.setCurrentIndex(MONGO)
    dlg.uri_edit.setText("not a uri")
    assert "is not a MongoDB URI" in dlg.validate()
    dlg.uri_edit.setText("mongodb://127.0.0.1:9/hyperstream")
    with qtbot.waitSignal(dlg.testFinished, timeout=12000) as sig:   # its duration: bench_connect_failures.py
        dlg.test_connection()
        assert not dlg.test_btn.isEnabled()
    assert sig.args[0] is False and "cannot reach MongoDB" in sig.args[1]
    assert dlg.test_label.text() == sig.args[1] and dlg.test_btn.isEnabled()
    dlg.tabs.setCurrentIndex(CONFIG)
    dlg.config_edit.setText("/nonexistent/hyperstream_config.json")
    assert "does not exist" in dlg.validate()


def test_a_new_connection_is_listed_at_once_and_written_after_the_pass_that_connects(qtbot, window, tmp_path):
    """Issue 23: the settings file is not written (with its fsync) inside the event-loop pass that connects a
    store — already the longest pass of an open — but the recent list has the store at once, and the file has it
    after that pass."""
    path = hs_settings.settings().fileName()
    target = str(tmp_path / "other.sqlite")

    def on_disk() -> str:
        return open(path).read() if os.path.exists(path) else ""
    hs_settings.add_recent_connection(target)
    assert target not in on_disk()
    assert hs_settings.recent_connections()[0] == target
    qtbot.waitUntil(lambda: target in on_disk(), timeout=2000)
