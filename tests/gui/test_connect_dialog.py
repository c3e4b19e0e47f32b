"""The Connect dialog driven by keys and clicks: the target changes only when the user chooses one."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from hsgui import settings as hs_settings
from hsgui.connection.dialog import EMBEDDED, MONGO, ConnectDialog


@pytest.fixture
def dialog(qtbot, runner, tmp_path):
    recent_store = str(tmp_path / "recent.sqlite")
    hs_settings.add_recent_connection(recent_store)   # a recent SQLite store is listed
    dlg = ConnectDialog(runner, None)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.activateWindow()
    qtbot.waitExposed(dlg)
    dlg.recent_store = recent_store
    yield dlg
    dlg.reject()


def test_test_connection_keeps_the_mongodb_tab_and_the_typed_uri(qtbot, dialog):
    dlg = dialog
    tab_bar = dlg.tabs.tabBar()
    qtbot.mouseClick(tab_bar, Qt.MouseButton.LeftButton, pos=tab_bar.tabRect(MONGO).center())
    assert dlg.tabs.currentIndex() == MONGO
    dlg.uri_edit.setFocus()
    uri = "mongodb://127.0.0.1:9/hyperstream"
    qtbot.keyClicks(dlg.uri_edit, uri)
    qtbot.mouseClick(dlg.test_btn, Qt.MouseButton.LeftButton)   # the button takes focus, then is disabled
    with qtbot.waitSignal(dlg.testFinished, timeout=15000):
        pass
    assert dlg.tabs.currentIndex() == MONGO
    assert dlg.target() == uri
    assert dlg.file_edit.text() == ""


def test_choosing_a_recent_connection_sets_the_target(qtbot, dialog):
    dlg = dialog
    row = [dlg.recent.item(i).text() for i in range(dlg.recent.count())].index(dlg.recent_store)
    rect = dlg.recent.visualItemRect(dlg.recent.item(row))
    qtbot.mouseClick(dlg.recent.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert dlg.tabs.currentIndex() == EMBEDDED and dlg.target() == dlg.recent_store


def test_focus_entering_the_recent_list_chooses_nothing_but_a_key_does(qtbot, dialog):
    dlg = dialog
    dlg.tabs.setCurrentIndex(MONGO)
    dlg.uri_edit.setFocus()
    qtbot.keyClicks(dlg.uri_edit, "mongodb://db.example/hs")
    dlg.recent.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(dlg.recent.hasFocus)
    assert dlg.tabs.currentIndex() == MONGO and dlg.target() == "mongodb://db.example/hs"
    qtbot.keyClick(dlg.recent, Qt.Key.Key_Space)    # selects the current item: a choice
    chosen = dlg.recent.currentItem().text()
    assert dlg.target() == (hs_settings.session_target(chosen) or chosen)
