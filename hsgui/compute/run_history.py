"""The run history: every tool run the engine recorded, newest first, with "Run again".

The history is read from ``manager.run_history`` (a store table for the
embedded/MongoDB store) by a background job when a JobRunner is given, so a
long history never stalls the window; without a runner (tests, tiny memory
histories) it is read directly.
"""
from __future__ import annotations

import json

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPlainTextEdit,
                               QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from channels.utils import UTC

from hsgui.common.background import JobKind
from hsgui.common.timefmt import as_zone as _tz, format_interval as fmt_interval, format_time

COLUMNS = ["started", "tool", "version", "parameters", "inputs", "output", "interval", "instances", "duration",
           "outcome"]
_OUTCOME_COLOURS = {"ok": "#2e7d32", "error": "#c62828", "cancelled": "#b26a00", "running": "#1565c0"}


def _record_cells(rec, tz) -> list[str]:
    params = ", ".join(f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in (rec.parameters or {}).items())
    inputs = ", ".join(f"{c}/{s}" for c, s in zip(rec.input_channels or [], rec.input_streams or []))
    if rec.alignment_stream:
        inputs += (", " if inputs else "") + f"align: {rec.alignment_channel}/{rec.alignment_stream}"
    return [format_time(rec.started_at, tz, with_ms=None) if rec.started_at else "",
            rec.tool, rec.tool_version or "", params, inputs,
            f"{rec.output_channel}/{rec.output_stream}" if rec.output_stream else "",
            fmt_interval(rec.interval, tz) if rec.interval is not None else "",
            f"{rec.instances_written:,}", f"{rec.duration_s:.2f} s", rec.outcome]


class RunHistoryWidget(QWidget):
    """A table of runs (tool, version, parameters, inputs, output, interval, count, duration, outcome)."""

    sigRunAgain = Signal(object)   # the RunRecord to refill a RunToolDialog from

    def __init__(self, manager=None, runner=None, tz=UTC, limit: int = 1000, parent=None):
        super().__init__(parent)
        self.manager = manager
        self.runner = runner
        self.tz = _tz(tz)
        self.limit = limit
        self.records: list = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        top = QHBoxLayout()
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("filter runs (tool, stream, outcome…)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._apply_filter)
        top.addWidget(self.filter_edit, 1)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button)
        self.run_again_button = QPushButton("Run again…")
        self.run_again_button.setEnabled(False)
        self.run_again_button.clicked.connect(self.run_again)
        top.addWidget(self.run_again_button)
        lay.addLayout(top)
        split = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.doubleClicked.connect(lambda _i: self.run_again())
        split.addWidget(self.table)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(140)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)  # the runs get the room; the detail pane shows the selected one
        split.setStretchFactor(1, 1)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        lay.addWidget(split, 1)
        self.status_label = QLabel()
        lay.addWidget(self.status_label)
        self.refresh()

    # -- loading -------------------------------------------------------------------
    def set_manager(self, manager) -> None:
        """Show the runs of another connection (None: empty)."""
        self.manager = manager
        self.refresh()

    def refresh(self) -> None:
        if self.manager is None:
            self.set_records([])
            return
        history = self.manager.run_history
        if self.runner is None:
            self.set_records(history.list(self.limit))
            return
        self.status_label.setText("loading run history…")
        self.runner.submit("read run history", lambda ctx: history.list(self.limit), kind=JobKind.READ,
                           on_result=self.set_records,
                           on_error=lambda msg: self.status_label.setText(f"could not read the run history: {msg}"))

    def set_records(self, records) -> None:
        self.records = list(records)
        self.table.setRowCount(len(self.records))
        for r, rec in enumerate(self.records):
            for c, text in enumerate(_record_cells(rec, self.tz)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if COLUMNS[c] == "outcome":
                    item.setForeground(QColor(_OUTCOME_COLOURS.get(rec.outcome, "#000")))
                    if rec.error:
                        item.setToolTip(rec.error)
                if COLUMNS[c] in ("instances", "duration"):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        for c in (COLUMNS.index("parameters"), COLUMNS.index("inputs"), COLUMNS.index("output")):
            self.table.setColumnWidth(c, min(self.table.columnWidth(c), 260))
        self.status_label.setText(f"{len(self.records)} runs")
        self._apply_filter(self.filter_edit.text())
        self._on_selection()

    def _apply_filter(self, text):
        needle = text.strip().lower()
        for r in range(self.table.rowCount()):
            row_text = " ".join(self.table.item(r, c).text().lower() for c in range(self.table.columnCount()))
            self.table.setRowHidden(r, bool(needle) and needle not in row_text)

    # -- selection -----------------------------------------------------------------
    def selected_record(self):
        rows = self.table.selectionModel().selectedRows()
        return self.records[rows[0].row()] if rows else None

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)

    def _on_selection(self):
        rec = self.selected_record()
        self.run_again_button.setEnabled(rec is not None)
        if rec is None:
            self.details.clear()
            return
        d = rec.to_dict()
        lines = [f"{k}: {json.dumps(v) if not isinstance(v, str) else v}" for k, v in d.items() if v not in (None, [])]
        self.details.setPlainText("\n".join(lines))

    def run_again(self) -> None:
        rec = self.selected_record()
        if rec is not None:
            self.sigRunAgain.emit(rec)


__all__ = ["RunHistoryWidget"]
