"""The key/value meta-data editor shared by the Run Tool dialog (output stream) and the New Asset dialog.

Both dialogs name a stream the same way, so they share one editor and one rule:
whatever :class:`channels.stream.StreamId` accepts.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from channels.errors import StreamIdError

MIN_VISIBLE_ROWS = 3
MAX_VISIBLE_ROWS = 5


class MetaDataEditor(QWidget):
    """Key/value pairs of a stream's meta-data: a two-column table with + / − buttons.

    The table always shows at least :data:`MIN_VISIBLE_ROWS` rows (a crowded
    dialog must not squeeze it to one) and grows to :data:`MAX_VISIBLE_ROWS`
    before it scrolls.
    """

    sigChanged = Signal()

    def __init__(self, parent=None, headers=("key", "value")):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(list(headers))
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._row_h = self.fontMetrics().height() + 8
        self.table.verticalHeader().setDefaultSectionSize(self._row_h)
        self._fit_height()
        self.table.itemChanged.connect(lambda *_: self.sigChanged.emit())
        self.table.model().rowsInserted.connect(self._fit_height)
        self.table.model().rowsRemoved.connect(self._fit_height)
        lay.addWidget(self.table, 1)
        col = QVBoxLayout()
        self.add_button = QPushButton("+")
        self.add_button.setToolTip("add a meta-data pair")
        self.add_button.setFixedWidth(28)
        self.add_button.clicked.connect(self._add_empty_row)
        self.remove_button = QPushButton("−")
        self.remove_button.setToolTip("remove the selected pair")
        self.remove_button.setFixedWidth(28)
        self.remove_button.clicked.connect(self.remove_selected)
        col.addWidget(self.add_button)
        col.addWidget(self.remove_button)
        col.addStretch(1)
        lay.addLayout(col)

    def _fit_height(self, *_) -> None:
        """As tall as its rows, between MIN_VISIBLE_ROWS and MAX_VISIBLE_ROWS rows (then it scrolls)."""
        chrome = self.table.horizontalHeader().sizeHint().height() + 2 * self.table.frameWidth() + 2
        rows = min(max(self.table.rowCount(), MIN_VISIBLE_ROWS), MAX_VISIBLE_ROWS)
        self.table.setFixedHeight(chrome + rows * self._row_h)

    def visible_row_capacity(self) -> int:
        """How many whole rows the table shows without scrolling."""
        viewport = self.table.viewport().height() if self.table.isVisible() else (
            self.table.height() - self.table.horizontalHeader().sizeHint().height() - 2 * self.table.frameWidth())
        return viewport // self._row_h

    def _add_empty_row(self) -> None:
        self.add_pair("", "")
        r = self.table.rowCount() - 1
        self.table.setCurrentCell(r, 0)
        self.table.editItem(self.table.item(r, 0))

    def add_pair(self, key: str, value: str) -> None:
        self.table.blockSignals(True)
        r = self.table.rowCount()
        self.table.insertRow(r)
        self.table.setItem(r, 0, QTableWidgetItem(str(key)))
        self.table.setItem(r, 1, QTableWidgetItem(str(value)))
        self.table.blockSignals(False)
        self.sigChanged.emit()

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()} or {self.table.currentRow()}, reverse=True)
        for r in rows:
            if r >= 0:
                self.table.removeRow(r)
        self.sigChanged.emit()

    def set_pairs(self, pairs) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        self.table.blockSignals(False)
        for k, v in (pairs.items() if isinstance(pairs, dict) else pairs):
            self.add_pair(k, v)
        self.sigChanged.emit()

    def _texts(self):
        """(table row, key, value) of every row that is not blank, stripped and unchecked."""
        for r in range(self.table.rowCount()):
            k = (self.table.item(r, 0).text() if self.table.item(r, 0) else "").strip()
            v = (self.table.item(r, 1).text() if self.table.item(r, 1) else "").strip()
            if k or v:
                yield r, k, v

    def rows(self) -> list[tuple[str, str]]:
        """Every row that is not blank, as (key, value) text, unchecked (a key may be empty)."""
        return [(k, v) for _r, k, v in self._texts()]

    def pairs(self) -> list[tuple[str, str]]:
        """Non-empty rows as (key, value); a row with a value but no key is a StreamIdError."""
        out = []
        for r, k, v in self._texts():
            if not k:
                raise StreamIdError(f"meta-data row {r + 1} has a value ({v!r}) but no key")
            out.append((k, v))
        return out


__all__ = ["MetaDataEditor", "MIN_VISIBLE_ROWS", "MAX_VISIBLE_ROWS"]
