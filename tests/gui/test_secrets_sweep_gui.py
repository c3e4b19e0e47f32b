"""Issue 27 / 24: the GUI places a URI is written or shown, swept with every secret form of
tests/secret_forms.py: the window title, the connection label, the Recent menu, the settings file's recent
list, saved and auto-saved workspaces, the "Copy as Python" snippet (clipboard), job titles and tracebacks
(Jobs dock), the error bar, the status bar, the Log dock, stderr, log records and the Connect dialog (its
URI field and its test label). Connections go to mongomock; failures are triggered on purpose."""
import logging
import os
import sys

import pytest

mongomock = pytest.importorskip("mongomock")
import pymongo  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402

from channels.stream import StreamId  # noqa: E402
from hsgui import settings as hs_settings  # noqa: E402
from hsgui.common.background import JobState  # noqa: E402
from hsgui.workspace.controller import last_workspace_path  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
from secret_forms import FORMS, IDS, SECRET, unreachable_client_class  # noqa: E402


Unreachable = unreachable_client_class()


def _recent_menu(w):
    """File › Recent connections, as it is when the File menu opens."""
    w.menus["file"].aboutToShow.emit()
    return next(a.menu() for a in w.menus["file"].actions() if a.text() == "Recent connections")


def _texts_of_window(w) -> list[str]:
    recent = _recent_menu(w)
    out = [w.windowTitle(), w.connection_label.text(), w.error_bar.label.text(), w.statusBar().currentMessage(),
           w.log_view.plain_text(), w.job_status.label.text()]
    out += [a.text() for a in recent.actions()]
    model = w.jobs.model   # every job, listed or not: titles, states, tracebacks (tooltips)
    assert model.rowCount() > 0
    if True:
        for r in range(model.rowCount()):
            for c in range(model.columnCount()):
                idx = model.index(r, c)
                out += [str(idx.data(Qt.ItemDataRole.DisplayRole)), str(idx.data(Qt.ItemDataRole.ToolTipRole))]
    out += [str(v) for v in hs_settings.settings().allKeys()]
    out += [str(hs_settings.settings().value(k)) for k in hs_settings.settings().allKeys()]
    return out


def _settings_file_bytes() -> bytes:
    hs_settings.settings().sync()
    path = hs_settings.settings().fileName()
    return open(path, "rb").read() if os.path.exists(path) else b""


def _assert_clean(texts, where=""):
    for t in texts:
        assert SECRET not in str(t) and SECRET[2:] not in str(t), (where, t)


def _wait_open(qtbot, w, uri):
    job = w.open_target(uri)
    qtbot.waitUntil(lambda: job.is_finished and w.state.opening is None, timeout=15000)
    return job


@pytest.mark.parametrize("uri, ok", [(f[1], f[2]) for f in FORMS], ids=IDS)
def test_secret_appears_in_no_place_the_gui_writes_or_shows(qtbot, make_main_window, runner, monkeypatch, tmp_path,
                                                            caplog, capsys, uri, ok):
    caplog.set_level(logging.INFO)
    stderr_handler = logging.StreamHandler(sys.stderr)   # what `hsgui` logs to stderr (logging.basicConfig)
    logging.getLogger().addHandler(stderr_handler)
    try:
        w = make_main_window(runner=runner, persist=True)
        monkeypatch.setattr(pymongo, "MongoClient", mongomock.MongoClient)
        job = _wait_open(qtbot, w, uri)
        if ok:
            assert job.state == JobState.DONE and w.manager is not None
            # the Recent menu reconnects with the real URI, kept in memory only
            assert hs_settings.session_target(hs_settings.recent_connections()[0]) == uri
            channel = w.manager.channels["mongo"]
            stream = channel.create_stream(StreamId("t"))
            menu = w.tree.build_context_menu([stream])
            copy = next(a for a in menu.actions() if a.text() == "Copy as Python")
            copy.trigger()
            snippet = QGuiApplication.clipboard().text()
            assert "ChannelManager.open(" in snippet and "***" in snippet
            _assert_clean([snippet], "snippet")
            ws = tmp_path / "ws.json"
            w.workspaces.save(str(ws))
            w.workspaces.save_last()
            _assert_clean([ws.read_text(), open(last_workspace_path()).read()], "workspace files")
            # a failure on the same URI: error bar, status bar, job traceback, Log dock
            monkeypatch.setattr(pymongo, "MongoClient", Unreachable)
            job = _wait_open(qtbot, w, uri)
        assert job.state == JobState.FAILED
        qtbot.waitUntil(lambda: w.error_bar.text() != "", timeout=5000)
        assert "***" in w.error_bar.text() or "percent-encoded" in w.error_bar.text()
        qtbot.waitUntil(lambda: "failed" in w.log_view.plain_text(), timeout=5000)
        _assert_clean(_texts_of_window(w), "window")
        _assert_clean([job.title], "job title")

        # the Connect dialog: the URI field, the recent list and the test label
        from hsgui.connection.dialog import ConnectDialog
        monkeypatch.setattr(pymongo, "MongoClient", mongomock.MongoClient if ok else Unreachable)
        dlg = ConnectDialog(runner, uri, w)
        qtbot.addWidget(dlg)
        assert dlg.target() == uri                        # the real URI is used, never shown
        with qtbot.waitSignal(dlg.testFinished, timeout=10000):
            dlg.test_connection()
        recent = [dlg.recent.item(i).text() for i in range(dlg.recent.count())]
        _assert_clean([dlg.uri_edit.text(), dlg.test_label.text(), dlg.error_label.text()] + recent, "dialog")
        dlg.close()
        w.close()
        _assert_clean([_settings_file_bytes().decode("utf-8", "replace")], "settings file")
        _assert_clean([r.getMessage() for r in caplog.records] + [caplog.text], "log records")
        out = capsys.readouterr()
        _assert_clean([out.out, out.err], "stdout/stderr")
    finally:
        logging.getLogger().removeHandler(stderr_handler)


def test_recent_entry_without_a_known_password_asks_for_it(make_main_window, runner, monkeypatch):
    """After a restart the real URI is gone (it was never written): the Connect dialog asks for the password."""
    w = make_main_window(runner=runner, shown=False)
    shown = "mongodb://zed:***@db.example:27017/hs"
    asked = {}
    monkeypatch.setattr(w.features["connection"], "show_connect_dialog",
                        lambda current=None, message="": asked.update(c=current, m=message))
    opened = []
    monkeypatch.setattr(w, "open_target", lambda t, **kw: opened.append(t))
    w.open_recent(shown)
    assert opened == [] and asked["c"] == shown and "password is not saved" in asked["m"]
