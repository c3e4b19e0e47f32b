"""A reachable but slow MongoDB server: the failure names the timeout that expired, a retry with longer
timeouts (written into the URI) succeeds, options written in the URI win, and the failure banner goes away."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from hsgui import settings as hs_settings
from hsgui.common.background import JobState
from hsgui.common.connection import explain_timeout, expired_timeout, longer_timeouts, uri_timeouts
from hsgui.connection.dialog import MONGO, ConnectDialog
from hsgui.main_window import MainWindow

from hsgui_test_stores import make_sqlite_store
from slow_mongo import SlowMongoServer

#: each handshake is answered after this long: more than the timeouts the tests write into the URI, far less
#: than the default 3 s and the 30 s of a retry
HELLO_DELAY = 0.8


@pytest.fixture
def slow_server():
    server = SlowMongoServer(HELLO_DELAY)
    yield server
    server.close()


@pytest.fixture
def window(qtbot):
    w = MainWindow(restore=False)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()   # closes the connection too


def test_timeouts_written_in_the_uri_win_and_a_retry_only_lengthens_them():
    uri = "mongodb://ann:pw@db.example:27017/hs?replicaSet=rs0&connecttimeoutms=60000"
    assert uri_timeouts(uri) == {"serverSelectionTimeoutMS": (3000, False), "connectTimeoutMS": (60000, True)}
    longer = longer_timeouts(uri)
    assert longer == ("mongodb://ann:pw@db.example:27017/hs?replicaSet=rs0"
                      "&serverSelectionTimeoutMS=30000&connectTimeoutMS=60000")
    assert longer_timeouts(longer) is None                     # already that long: nothing more to offer
    assert longer_timeouts("mongodb://db.example") == \
        "mongodb://db.example/?serverSelectionTimeoutMS=30000&connectTimeoutMS=30000"
    refused = "cannot reach MongoDB db.example: the server refused the connection (gave up after 3 s)"
    assert expired_timeout(refused) is None and explain_timeout(refused, uri) == refused
    cancelled = "cannot reach MongoDB db.example (database 'hs'): db.example:27017: operation cancelled " \
                "(gave up after 3 s)"
    assert explain_timeout(cancelled, "mongodb://db.example/hs").endswith(
        "The connect timeout expired (connectTimeoutMS = 3 s, the default): the server may be reachable but "
        "slow; retry with 30 s timeouts, or write longer ones in the URI")


def test_dialog_names_the_expired_timeout_and_a_retry_with_longer_ones_connects(qtbot, runner, slow_server):
    dlg = ConnectDialog(runner, None)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.activateWindow()
    qtbot.waitExposed(dlg)
    dlg.tabs.setCurrentIndex(MONGO)
    dlg.accept()                                             # Connect with no URI: a red message
    assert dlg.error_label.text() == "Enter a target first."
    dlg.uri_edit.setFocus()
    uri = slow_server.uri + "?serverSelectionTimeoutMS=500&connectTimeoutMS=5000"   # selection gives up first
    qtbot.keyClicks(dlg.uri_edit, uri)
    with qtbot.waitSignal(dlg.testFinished, timeout=15000) as failed:
        qtbot.mouseClick(dlg.test_btn, Qt.MouseButton.LeftButton)
    assert failed.args[0] is False
    assert "The server selection timeout expired (serverSelectionTimeoutMS = 0.5 s, written in the URI)" \
        in dlg.test_label.text()
    assert dlg.retry_btn.isVisible() and dlg.retry_btn.text() == "Retry with 30 s timeouts"
    with qtbot.waitSignal(dlg.testFinished, timeout=20000) as retried:
        qtbot.mouseClick(dlg.retry_btn, Qt.MouseButton.LeftButton)
    assert retried.args[0] is True, retried.args[1]
    assert dlg.test_label.text().startswith("OK: MongoDB") and dlg.test_label.styleSheet() == ""
    assert dlg.error_label.text() == "" and not dlg.retry_btn.isVisible()
    assert dlg.target() == slow_server.uri + "?serverSelectionTimeoutMS=30000&connectTimeoutMS=30000"
    assert dlg.tabs.currentIndex() == MONGO
    dlg.reject()


def test_window_offers_a_retry_with_longer_timeouts_and_the_banner_goes_on_success(qtbot, window, slow_server):
    uri = slow_server.uri + "?serverSelectionTimeoutMS=1500&connectTimeoutMS=500"
    job = window.open_target(uri)
    qtbot.waitUntil(lambda: job.is_finished and window.error_bar.text() != "", timeout=15000)
    assert job.state == JobState.FAILED
    text = window.error_bar.text()
    assert "The connect timeout expired (connectTimeoutMS = 0.5 s, written in the URI)" in text, text
    assert window.offer_bar.isVisible() and window.offer_bar.accept_button.text() == "Retry with longer timeouts"
    qtbot.mouseClick(window.offer_bar.accept_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.manager is not None, timeout=20000)
    # the retry offer is gone (the bar may now offer this index-less database its indexes instead)
    assert window.error_bar.text() == ""
    assert not window.offer_bar.isVisible() or "did not answer" not in window.offer_bar.label.text()
    longer = slow_server.uri + "?serverSelectionTimeoutMS=30000&connectTimeoutMS=30000"
    assert window.target == longer and hs_settings.recent_connections()[0] == longer


def test_failure_banner_goes_when_a_later_connect_succeeds(qtbot, window, tmp_path):
    job = window.open_target(str(tmp_path / "missing.sqlite"))
    qtbot.waitUntil(lambda: job.is_finished and window.error_bar.text() != "", timeout=10000)
    assert "does not exist" in window.error_bar.text()
    assert not window.offer_bar.isVisible()                  # waiting longer would not help
    good = make_sqlite_store(tmp_path / "good.sqlite")
    job = window.open_target(good)
    qtbot.waitUntil(lambda: window.manager is not None, timeout=10000)
    assert window.error_bar.text() == "" and window.target == good
