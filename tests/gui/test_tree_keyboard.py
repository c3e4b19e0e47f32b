"""The stream tree driven from the keyboard: Menu key / Shift+F10 menus act on the selection, Enter plots."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu

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
    w.purged = []

    def provider(scope, streams, channel):    # what the window's action registry gives: here one entry
        menu = QMenu(w)
        menu.addAction("Purge…").triggered.connect(lambda: w.purged.append(list(streams)))
        return menu

    w.menu_provider = provider
    yield w
    if w.view.menu_open is not None:
        w.view.menu_open.close()
    runner.shutdown()


def _open_menu(qtbot, tree):
    qtbot.waitUntil(lambda: tree.view.menu_open is not None and tree.view.menu_open.isVisible(), timeout=2000)
    return tree.view.menu_open


def _purge_from(qtbot, tree, menu):
    action = next(a for a in menu.actions() if a.text().startswith("Purge"))
    action.trigger()
    menu.close()
    return tree.purged[-1]


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


def test_esc_clears_the_filter_and_the_tree_keeps_its_expansion(qtbot, tree):
    from PySide6.QtCore import QModelIndex
    m = tree.model
    memory = m.index(0, 0, QModelIndex())
    tree.view.expand(memory)
    temp = tree.model.find_index("memory", name="temperature")
    tree.view.expand(temp)
    assert tree.view.isExpanded(memory) and tree.view.isExpanded(temp)
    tree.filter_edit.setFocus()
    qtbot.keyClicks(tree.filter_edit, "events")
    qtbot.keyClick(tree.filter_edit, Qt.Key.Key_Return)
    assert m.matched == 1
    qtbot.keyClick(tree.filter_edit, Qt.Key.Key_Escape)
    assert tree.filter_edit.text() == "" and m.filter_text == ""
    memory = m.index(0, 0, QModelIndex())
    temp = tree.model.find_index("memory", name="temperature")
    assert tree.view.isExpanded(memory) and tree.view.isExpanded(temp)   # as the user left it
    # Down from the filter goes into the tree
    qtbot.keyClick(tree.filter_edit, Qt.Key.Key_Down)
    assert tree.view.hasFocus() or QApplication.focusWidget() is tree.view


def test_group_counts_show_without_opening_the_group(qtbot, tree):
    from hsgui.browse.tree_model import COL_COUNT
    temp = tree.model.find_index("memory", name="temperature")
    tree.view.collapse(temp)
    idx = temp.siblingAtColumn(COL_COUNT)
    tree.model.data(idx)                      # painted once: asks for the variants' counts
    qtbot.waitUntil(lambda: tree.model.data(idx) not in ("…", ""), timeout=5000)
    assert tree.model.data(idx) == "192"      # 4 variants x 48
    assert not tree.view.isExpanded(temp)


def test_variant_rows_show_what_tells_them_apart(qtbot, tree):
    from hsgui.browse.tree_model import variant_label, common_pairs
    from channels.stream import StreamId
    a, b = StreamId("t", {"site": "lab", "room": "1"}), StreamId("t", {"site": "lab", "room": "2"})

    class S:
        def __init__(self, sid):
            self.stream_id = sid
    common = common_pairs([S(a), S(b)])
    assert variant_label(a, common) == "room=1" and variant_label(b, common) == "room=2"
    assert variant_label(a, common_pairs([S(a)])) == "site=lab, room=1"


def test_variant_names_are_not_cut(qtbot, tree):
    from PySide6.QtCore import QModelIndex
    tree.view.expand(tree.model.index(0, 0, QModelIndex()))
    temp = tree.model.find_index("memory", name="temperature")
    tree.view.expand(temp)
    row = tree.model.index(0, 0, temp)
    assert row.data() == "house=1, resident=alice"
    qtbot.waitUntil(lambda: tree.view.header().sectionSize(0) >=
                    tree.view.visualRect(row).left() + tree.view.fontMetrics().horizontalAdvance(row.data()),
                    timeout=2000)
