"""The plot widget of a pane: one Tab stop that shows when it has the focus.

A pane's header buttons (Curves, Options, Export, ⤢, ✕…) take no Tab stop of their own — Tab moves from pane
to pane — and the context-menu key (Menu, Shift+F10) on the focused plot opens the same entries as one menu,
so the keyboard reaches everything the header offers.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QContextMenuEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QMenu

FOCUS_FRAME_PX = 2


class FocusPlotWidget(pg.PlotWidget):
    """A ``PlotWidget`` reachable with Tab, framed in the highlight colour while it has the focus."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._buttons: list = []
        self.keyboard_menu: QMenu | None = None   # the last menu the context-menu key opened

    def set_header_buttons(self, buttons) -> None:
        """The pane's header buttons: no Tab stops of their own, offered by the context-menu key instead."""
        self._buttons = list(buttons)
        for b in self._buttons:
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def header_menu(self) -> QMenu:
        """One menu with every header button: a button's menu as a sub-menu, a plain button as an entry."""
        menu = QMenu(self)
        for b in self._buttons:
            name = b.toolTip().split(" — ")[0] if len(b.text()) <= 1 and b.toolTip() else b.text()
            if b.menu() is not None:
                sub = b.menu()
                sub.setTitle(name)
                menu.addMenu(sub)
            else:
                menu.addAction(name, b.click)
        return menu

    # -- focus -------------------------------------------------------------------------------------------
    def focusInEvent(self, ev):
        super().focusInEvent(ev)
        self.viewport().update()

    def focusOutEvent(self, ev):
        super().focusOutEvent(ev)
        self.viewport().update()

    def paintEvent(self, ev):
        super().paintEvent(ev)
        if self.hasFocus():
            p = QPainter(self.viewport())
            half = FOCUS_FRAME_PX // 2
            p.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), FOCUS_FRAME_PX))
            p.drawRect(self.viewport().rect().adjusted(half, half, -half - 1, -half - 1))
            p.end()

    # -- the context-menu key ---------------------------------------------------------------------------
    def open_header_menu(self) -> QMenu:
        self.keyboard_menu = self.header_menu()
        self.keyboard_menu.popup(self.mapToGlobal(self.rect().center()))
        return self.keyboard_menu

    def keyPressEvent(self, ev):
        menu_key = ev.key() == Qt.Key.Key_Menu or (
            ev.key() == Qt.Key.Key_F10 and ev.modifiers() == Qt.KeyboardModifier.ShiftModifier)
        if menu_key and self._buttons:
            ev.accept()          # handled here, so no context-menu event follows from the same key
            self.open_header_menu()
            return
        super().keyPressEvent(ev)

    def contextMenuEvent(self, ev):
        if ev.reason() == QContextMenuEvent.Reason.Keyboard and self._buttons:
            ev.accept()
            self.open_header_menu()
            return
        super().contextMenuEvent(ev)


__all__ = ["FocusPlotWidget", "FOCUS_FRAME_PX"]
