"""The main window from the keyboard: shortcuts, Tab order, Help; plots go to the selected pane."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTextBrowser

from channels.stream import StreamId
from channels.time_interval import TimeInterval

from hsgui_test_stores import HOUR, T0, make_sqlite_store


@pytest.fixture
def window(make_main_window, tmp_path):
    return make_main_window(make_sqlite_store(tmp_path / "store.sqlite"), size=(1400, 900), active=True,
                            interval=TimeInterval(T0, T0 + 48 * HOUR))


def key(qtbot, window, k, mods=Qt.KeyboardModifier.NoModifier):
    target = QApplication.focusWidget() or window
    qtbot.keyClick(target, k, mods)


def test_ctrl_f_goes_to_the_filter_and_enter_in_the_tree_plots(qtbot, window):
    window.plot_area.panes[0].plot_widget.setFocus()
    key(qtbot, window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is window.tree.filter_edit
    qtbot.keyClicks(window.tree.filter_edit, "events")
    qtbot.keyClick(window.tree.filter_edit, Qt.Key.Key_Return)
    qtbot.keyClick(window.tree.filter_edit, Qt.Key.Key_Down)          # into the tree
    assert QApplication.focusWidget() is window.tree.view
    window.tree.select_stream("mongo", StreamId("events"))
    qtbot.keyClick(window.tree.view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: [c.stream.stream_id for c in window.plot_area.curves()] == [StreamId("events")],
                    timeout=10000)


def test_pane_shortcuts_new_maximise_and_the_selected_pane(qtbot, window):
    key(qtbot, window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    key(qtbot, window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    area = window.plot_area
    assert len(area.panes) == 3 and area.current_pane is area.panes[2]
    # three panes in a 900 px window: the bottom docks give them room, every pane stays readable
    qtbot.wait(50)
    assert window.docks["instances"].height() <= 160
    assert all(p.height() >= 170 for p in area.panes), [p.height() for p in area.panes]
    key(qtbot, window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert [p.isVisible() for p in area.panes] == [False, False, True]
    key(qtbot, window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert all(p.isVisible() for p in area.panes)
    # a click selects a pane; new plots go there
    area.set_current_pane(area.panes[1])
    events = window.manager.get_channel("mongo")[StreamId("events")]
    window.tree.select_stream("mongo", events.stream_id)
    key(qtbot, window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(area.panes[1].curves) == 1, timeout=10000)
    assert not area.panes[0].curves


def test_a_stream_of_another_name_is_offered_a_pane_of_its_own(qtbot, window):
    mongo = window.manager.get_channel("mongo")
    temp = mongo[StreamId("temperature", {"house": 1, "resident": "alice"})]
    env = mongo[StreamId("hourly_mean", {"house": 1})]
    window.plot_streams([temp])
    qtbot.waitUntil(lambda: len(window.plot_area.curves()) == 1, timeout=10000)
    window.plot_streams([env])
    qtbot.waitUntil(lambda: len(window.plot_area.curves()) == 2, timeout=10000)
    assert window.offer_bar.isVisible() and "hourly_mean" in window.offer_bar.label.text()
    qtbot.mouseClick(window.offer_bar.accept_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(window.plot_area.panes) == 2 and len(window.plot_area.panes[1].curves) == 1,
                    timeout=10000)
    assert [c.stream for c in window.plot_area.panes[0].curves] == [temp]
    assert not window.offer_bar.isVisible()


def test_range_back_forward_and_fit_keys(qtbot, window):
    picker = window.picker
    first = picker.interval()
    picker.set_interval(TimeInterval(T0, T0 + 6 * HOUR), emit=True)
    key(qtbot, window, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert picker.interval() == first
    key(qtbot, window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert picker.interval() == TimeInterval(T0, T0 + 6 * HOUR)
    window.plot_streams([window.manager.get_channel("mongo")[StreamId("events")]])
    qtbot.waitUntil(lambda: len(window.plot_area.curves()) == 1 and not window.plot_area.busy, timeout=10000)
    with qtbot.waitSignal(window.plot_area.sigRangeChanged, timeout=5000):
        key(qtbot, window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)


def test_cancel_job_key(qtbot, window):
    import threading
    gate = threading.Event()

    def slow(ctx):
        while not ctx.cancel_event.is_set() and not gate.wait(0.02):
            pass
        ctx.check()
    job = window.runner.submit("slow thing", slow, kind="tool")
    qtbot.waitUntil(lambda: job.started_at is not None, timeout=5000)
    key(qtbot, window, Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: job.is_finished, timeout=5000)
    assert job.state.name == "CANCELLED"
    gate.set()


def test_tab_walks_the_window_and_leaves_the_table(qtbot, window):
    window.tree.select_stream("mongo", StreamId("events"))
    window.tree.filter_edit.setFocus()
    seen = [QApplication.focusWidget()]
    for _ in range(10):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget())
    names = [type(w).__name__ for w in seen]
    assert seen[1] is window.tree.view
    assert window.picker.start_edit in seen and window.picker.end_edit in seen
    assert window.plot_area.panes[0].plot_widget in seen
    table = window.instances.view
    assert table in seen
    after = seen[seen.index(table) + 1]
    assert after is not table, names                                 # the table hands focus on


def _menu_entries(window):
    """Every entry of every menu of the menu bar (menus fill themselves as they open)."""
    out = []
    for menu in window.menus.values():
        menu.aboutToShow.emit()
        out += [a for a in menu.actions() if a.text()]
    return out


def test_help_has_getting_started_and_lists_every_shortcut_of_the_menus_and_no_other(qtbot, window):
    help_menu = window.menus["help"]
    help_menu.aboutToShow.emit()
    entries = [a.text() for a in help_menu.actions() if a.text()]
    assert entries[:2] == ["Getting started", "Keyboard shortcuts"]
    keys = next(a for a in help_menu.actions() if a.text() == "Keyboard shortcuts")
    keys.trigger()
    dlg = next(d for d in QApplication.topLevelWidgets() if d.windowTitle() == "Keyboard shortcuts" and d.isVisible())
    qtbot.addWidget(dlg)
    commands, _, inside = dlg.findChild(QTextBrowser).toPlainText().partition("Inside a view")
    in_menus = {a.shortcut().toString() for a in _menu_entries(window) if not a.shortcut().isEmpty()}
    assert {"Ctrl+I", "Ctrl+O", "F5", "Ctrl+Q", "Ctrl+S", "Ctrl+P", "Ctrl+.", "F1"} <= in_menus
    cells = [line.strip() for line in commands.splitlines()[1:] if line.strip()]
    listed = set(cells[0::2])          # key, what it does, key, …
    assert listed == in_menus          # every key of a menu is in Help, and Help lists no key no menu has
    for k in ("Shift+F10", "Esc"):
        assert k in inside
    start_action = next(a for a in help_menu.actions() if a.text() == "Getting started")
    start_action.trigger()
    start = next(d for d in QApplication.topLevelWidgets() if d.windowTitle() == "Getting started" and d.isVisible())
    qtbot.addWidget(start)
    body = start.findChild(QTextBrowser).toPlainText()
    for word in ("Channels", "streams", "calculated intervals", "Tools", "five main actions"):
        assert word in body
