"""The stream tree driven from the keyboard: Menu key / Shift+F10 menus act on the selection, Enter plots."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication

from hsgui.common.background import JobRunner
from hsgui.browse.stream_tree import StreamTreeWidget

from hsgui_test_stores import memory_manager


@pytest.fixture
def tree(qtbot):
    runner = JobRunner()
    w = StreamTreeWidget(runner)
    qtbot.addWidget(w)
    w.resize(700, 500)
    w.show()
    qtbot.waitExposed(w)
    manager, made = memory_manager()
    w.set_manager(manager)
    w.made = made
    yield w
    if w.view.menu_open is not None:
        w.view.menu_open.close()
    runner.shutdown()


def _open_menu(qtbot, tree):
    qtbot.waitUntil(lambda: tree.view.menu_open is not None and tree.view.menu_open.isVisible(), timeout=2000)
    return tree.view.menu_open


def _purge_from(qtbot, tree, menu):
    action = next(a for a in menu.actions() if a.text().startswith("Purge"))
    assert action.text() == "Purge…"          # one stream, not "Purge 4 streams"
    with qtbot.waitSignal(tree.purgeRequested) as sig:
        action.trigger()
    menu.close()
    return sig.args[0]


@pytest.mark.parametrize("keys", [(Qt.Key.Key_Menu, Qt.KeyboardModifier.NoModifier),
                                  (Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)],
                         ids=["Menu", "Shift+F10"])
def test_keyboard_menu_acts_on_the_selected_stream(qtbot, tree, keys):
    gappy = tree.made["gappy"]
    assert tree.select_stream("memory", gappy.stream_id)
    tree.view.setFocus()
    qtbot.keyClick(tree.view, keys[0], keys[1])
    menu = _open_menu(qtbot, tree)
    # the menu opens on the selected row, not below it
    rect = tree.view.visualRect(tree.view.currentIndex())
    top_left = tree.view.viewport().mapFromGlobal(menu.pos())
    assert rect.top() <= top_left.y() <= rect.bottom() + 1
    assert _purge_from(qtbot, tree, menu) == [gappy]


def test_platform_keyboard_context_event_acts_on_the_selection(qtbot, tree):
    """What X11 sends for the Menu key: a keyboard ContextMenu event to the focused view, positioned
    at its input-method cursor rectangle (in the view's coordinates, a header's height above the row)."""
    events = tree.made["events"]
    tree.select_stream("memory", events.stream_id)
    pos = tree.view.inputMethodQuery(Qt.InputMethodQuery.ImCursorRectangle).center()
    pos += QPoint(0, tree.view.header().height() + 4)
    ev = QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, pos, tree.view.mapToGlobal(pos))
    QApplication.sendEvent(tree.view, ev)
    assert _purge_from(qtbot, tree, _open_menu(qtbot, tree)) == [events]


def test_mouse_menu_acts_on_the_row_under_the_pointer(qtbot, tree):
    tree.select_stream("memory", tree.made["gappy"].stream_id)
    events_idx = tree.model.find_index("memory", tree.made["events"].stream_id)
    pos = tree.view.visualRect(events_idx).center()
    ev = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, tree.view.viewport().mapToGlobal(pos))
    QApplication.sendEvent(tree.view.viewport(), ev)
    assert _purge_from(qtbot, tree, _open_menu(qtbot, tree)) == [tree.made["events"]]


def test_enter_on_a_stream_plots_it(qtbot, tree):
    events = tree.made["events"]
    tree.select_stream("memory", events.stream_id)
    tree.view.setFocus()
    with qtbot.waitSignal(tree.plotRequested, timeout=1000) as sig:
        qtbot.keyClick(tree.view, Qt.Key.Key_Return)
    assert sig.args == [[events]]
