"""The Import dialog (File › Import…, or a file dropped on the window).

Reading the first rows and the import itself run as jobs; the dialog only shows and asks. The file is
typed, pasted or chosen (the chooser opens in the folder of the last import, else the home folder); the
first rows are shown numbered by file line, those the import will not take marked with the reason. What it
will write is spelled out before the user starts ("3 streams: temperature: [house=1], …"), and the report
afterwards lists malformed rows by line.
"""
from __future__ import annotations

import os

import pytz
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QListWidget, QListWidgetItem, QPlainTextEdit, QProgressBar, QPushButton,
                               QRadioButton, QTableWidget, QTableWidgetItem, QVBoxLayout)

from channels.errors import ChannelsError, StreamIdError

from hsgui import settings as hs_settings
from hsgui.common.background import JobKind
from hsgui.forms.meta_editor import MetaDataEditor

UNITS = [("iso", "date-time text (ISO 8601)"), ("s", "epoch seconds"), ("ms", "epoch milliseconds"),
         ("us", "epoch microseconds"), ("ns", "epoch nanoseconds")]
FILE_FILTER = "Data files (*.csv *.tsv *.parquet *.pq *.jsonl *.ndjson *.json);;All files (*)"
#: a typed or pasted path is read this long after the last key (Enter or leaving the field reads it at once)
TYPING_PAUSE_MS = 400
BAD_ROW = QColor("#c62828")


def inspect_job(ctx, path):
    from channels.importing import inspect_file
    return inspect_file(path)


def import_job(ctx, channel, spec):
    from channels.importing import import_file
    return import_file(channel, spec, cancel=ctx.cancel_event,
                       progress=lambda f, r: ctx.report(f, f"{r.rows_read:,} rows, {r.rows_malformed:,} malformed"))


class ImportDialog(QDialog):
    sigImported = Signal(object)    # the ImportReport, after a finished (or cancelled) import

    def __init__(self, runner, manager, path: str | None = None, parent=None, zone: str = "UTC"):
        super().__init__(parent)
        self.setWindowTitle("Import file")
        self.resize(920, 720)
        self.runner, self.manager = runner, manager
        self.preview = None
        self.job = None
        self.report = None
        self._preview_path = None   # the path whose first rows are being read or shown
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("type or paste a path, or Choose…")
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(TYPING_PAUSE_MS)
        self._typing.timeout.connect(self._path_typed)
        self.path_edit.textEdited.connect(self._path_edited)
        self.path_edit.editingFinished.connect(self._path_typed)
        choose = QPushButton("Choose…")
        choose.clicked.connect(self.choose_file)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(choose)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setMinimumHeight(170)
        self.preview_note = QLabel("")
        self.preview_note.setWordWrap(True)
        self.preview_note.setStyleSheet("color: #c62828;")
        self.preview_note.setVisible(False)
        self.time_combo = QComboBox()
        self.unit_combo = QComboBox()
        for key, text in UNITS:
            self.unit_combo.addItem(text, key)
        self.zone_combo = QComboBox()
        self.zone_combo.setEditable(True)
        self.zone_combo.addItems(["UTC"] + [z for z in pytz.common_timezones if z != "UTC"])
        self.zone_combo.setCurrentText(zone)
        self.zone_label = QLabel("times without an offset are in")
        self.columns = QListWidget()
        self.columns.setMaximumHeight(110)
        self.per_column = QRadioButton("one stream per column")
        self.as_dict = QRadioButton("one stream of dicts")
        self.per_column.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.per_column)
        group.addButton(self.as_dict)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("prefix for the stream names (empty: the column names)")
        self.meta = MetaDataEditor()
        self.channel_combo = QComboBox()
        for ch in self._writable_channels():
            self.channel_combo.addItem(ch.channel_id, ch.channel_id)
        self.target_label = QLabel("")
        self.target_label.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.result = QPlainTextEdit()
        self.result.setReadOnly(True)
        self.result.setMaximumHeight(120)
        self.result.setVisible(False)
        self.import_button = QPushButton("Import")
        self.import_button.setDefault(True)
        self.import_button.clicked.connect(self.start_import)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_or_close)

        form = QFormLayout()
        form.addRow("File", row)
        form.addRow("Time column", self.time_combo)
        times = QHBoxLayout()
        times.addWidget(self.unit_combo)
        times.addWidget(self.zone_label)
        times.addWidget(self.zone_combo, 1)
        form.addRow("Time form", times)
        form.addRow("Value columns", self.columns)
        modes = QHBoxLayout()
        modes.addWidget(self.per_column)
        modes.addWidget(self.as_dict)
        modes.addStretch(1)
        form.addRow("Streams", modes)
        form.addRow("Name", self.name_edit)
        form.addRow("Meta-data", self.meta)
        form.addRow("Into channel", self.channel_combo)
        buttons = QHBoxLayout()
        buttons.addWidget(self.target_label, 1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("<b>First rows</b>"))
        lay.addWidget(self.table, 1)
        lay.addWidget(self.preview_note)
        lay.addLayout(form)
        lay.addWidget(self.progress)
        lay.addWidget(self.result)
        lay.addLayout(buttons)
        for w in (self.time_combo, self.unit_combo):
            w.currentIndexChanged.connect(self.update_state)
        self.zone_combo.currentTextChanged.connect(self.update_state)
        self.columns.itemChanged.connect(self.update_state)
        self.per_column.toggled.connect(self._mode_changed)
        self.name_edit.textChanged.connect(self.update_state)
        self.meta.sigChanged.connect(self.update_state)
        self.update_state()
        if path:
            self.set_path(path)
        else:
            self.path_edit.setFocus()

    def _writable_channels(self):
        if self.manager is None:
            return []
        out = [c for c in self.manager.database_channels if not getattr(c, "read_only", False)
               and c not in self.manager.asset_channels]
        mem = self.manager.channels.get("memory")
        return out + ([mem] if mem is not None else [])

    # -- file and preview ---------------------------------------------------------------------------------
    def choose_file(self):
        typed = os.path.dirname(os.path.expanduser(self.path_edit.text().strip()))
        start = typed if typed and os.path.isdir(typed) else hs_settings.last_folder("import")
        path, _ = QFileDialog.getOpenFileName(self, "Import file", start, FILE_FILTER)
        if path:
            hs_settings.save_last_folder("import", path)
            self.set_path(path)

    def _path_edited(self, _text):
        """A key or a paste in the File field: what was shown is no longer the file (Enter must not import
        it); the path is read when typing pauses."""
        self._preview_path = None
        self._clear_preview()
        self.import_button.setEnabled(False)
        self._typing.start()

    def _path_typed(self):
        self._typing.stop()
        path = os.path.expanduser(self.path_edit.text().strip())
        if not path:
            self.target_label.setText("Type or paste the path of a file, or choose one.")
        elif path != self._preview_path:
            self.set_path(path)

    def set_path(self, path: str) -> None:
        if self.path_edit.text() != path:
            self.path_edit.setText(path)
        self._preview_path = path
        self._clear_preview()
        self.target_label.setText("reading the first rows…")
        self.import_button.setEnabled(False)
        self.runner.submit(f"Preview {os.path.basename(path)}", inspect_job, path, kind=JobKind.READ, owner=self,
                           on_result=lambda pv: pv.path == self._preview_path and self._previewed(pv),
                           on_error=lambda msg: path == self._preview_path and self._preview_failed(msg))

    def _clear_preview(self):
        """Nothing of the previous file stays: its rows, its columns, the report of its import."""
        self.preview = None
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.preview_note.setVisible(False)
        self.columns.clear()
        self.report = None
        self.result.clear()
        self.result.setVisible(False)

    def _preview_failed(self, message: str) -> None:
        self.target_label.setText(f"<span style='color:#c62828'>{message}</span>")
        self.import_button.setEnabled(False)

    def _previewed(self, pv) -> None:
        self.preview = pv
        self.table.setColumnCount(len(pv.columns))
        self.table.setHorizontalHeaderLabels(pv.columns)
        self.table.setRowCount(len(pv.rows))
        word = "row" if pv.format == "parquet" else "line"
        self.table.setVerticalHeaderLabels([str(line) for line in pv.lines])
        for r, (line, row) in enumerate(zip(pv.lines, pv.rows)):
            why = pv.problems.get(line)
            self.table.verticalHeaderItem(r).setToolTip(f"{word} {line}" + (f": {why}" if why else ""))
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                if why:
                    item.setForeground(QBrush(BAD_ROW))
                    item.setToolTip(f"{word} {line} is not imported: {why}")
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        if pv.problems:
            self.preview_note.setText("Not imported: " + "; ".join(f"{word} {line}: {why}"
                                                                   for line, why in pv.problems.items()))
        self.preview_note.setVisible(bool(pv.problems))
        self.time_combo.blockSignals(True)
        self.time_combo.clear()
        self.time_combo.addItems(pv.columns)
        if pv.time_column:
            self.time_combo.setCurrentText(pv.time_column)
        self.time_combo.blockSignals(False)
        if pv.time_unit:
            self.unit_combo.setCurrentIndex(self.unit_combo.findData(pv.time_unit))
        self.columns.blockSignals(True)
        self.columns.clear()
        for c in pv.columns:
            item = QListWidgetItem(c + ("" if c in pv.numeric_columns else "  (text)"))
            item.setData(Qt.ItemDataRole.UserRole, c)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if c in pv.numeric_columns else Qt.CheckState.Unchecked)
            self.columns.addItem(item)
        self.columns.blockSignals(False)
        if not self.name_edit.text() and self.as_dict.isChecked():
            self.name_edit.setText(os.path.splitext(os.path.basename(pv.path))[0])
        self.update_state()

    # -- the spec ---------------------------------------------------------------------------------------------
    def _mode_changed(self, *_):
        if self.as_dict.isChecked():
            self.name_edit.setPlaceholderText("name of the stream")
            if not self.name_edit.text() and self.preview is not None:
                self.name_edit.setText(os.path.splitext(os.path.basename(self.preview.path))[0])
        else:
            self.name_edit.setPlaceholderText("prefix for the stream names (empty: the column names)")
        self.update_state()

    def value_columns(self) -> list[str]:
        out = []
        for i in range(self.columns.count()):
            item = self.columns.item(i)
            c = item.data(Qt.ItemDataRole.UserRole)
            if item.checkState() == Qt.CheckState.Checked and c != self.time_combo.currentText():
                out.append(c)
        return out

    def spec(self):
        """The ImportSpec of the form; ChannelsError/ValueError naming what is missing or wrong."""
        from channels.importing import ImportSpec
        if self.preview is None:
            raise ChannelsError("choose a file first")
        cols = self.value_columns()
        if not cols:
            raise ChannelsError("tick at least one value column")
        zone = self.zone_combo.currentText().strip()
        if zone not in pytz.all_timezones_set:
            raise ChannelsError(f"unknown time zone {zone!r}")
        spec = ImportSpec(self.preview.path, self.time_combo.currentText(), cols, self.unit_combo.currentData(), zone,
                          "dict" if self.as_dict.isChecked() else "columns", self.name_edit.text().strip(),
                          tuple(self.meta.pairs()), self.preview.format)
        spec.stream_ids()  # names and meta-data must make stream ids
        return spec

    def _hide_time_column(self) -> None:
        for i in range(self.columns.count()):
            item = self.columns.item(i)
            item.setHidden(item.data(Qt.ItemDataRole.UserRole) == self.time_combo.currentText())

    def update_state(self, *_):
        self._hide_time_column()
        zoned = self.preview is not None and self.preview.has_zone and self.unit_combo.currentData() == "iso"
        iso = self.unit_combo.currentData() == "iso"
        self.zone_combo.setEnabled(iso)
        self.zone_label.setText("times without an offset are in" if not zoned else "(times carry their offset; "
                                "others are in)")
        if self.job is not None:
            return
        try:
            spec = self.spec()
        except (ChannelsError, StreamIdError, ValueError) as e:
            if self.preview is not None:
                self.target_label.setText(f"<span style='color:#c62828'>{e}</span>")
            self.import_button.setEnabled(False)
            return
        ids = list(spec.stream_ids().values())
        shown = ", ".join(str(s) for s in ids[:4]) + (f" and {len(ids) - 4} more" if len(ids) > 4 else "")
        self.target_label.setText(f"Writes {len(ids)} stream{'s' if len(ids) != 1 else ''} into "
                                  f"{self.channel_combo.currentText()}: {shown}")
        self.import_button.setEnabled(bool(self.channel_combo.count()))

    # -- importing --------------------------------------------------------------------------------------------
    def start_import(self):
        try:
            spec = self.spec()
        except (ChannelsError, StreamIdError, ValueError) as e:
            self.target_label.setText(f"<span style='color:#c62828'>{e}</span>")
            return None
        channel = self.manager.get_channel(self.channel_combo.currentData())
        self.progress.setVisible(True)
        self.progress.setValue(0)
        self.import_button.setEnabled(False)
        self.cancel_button.setText("Stop")
        self.job = self.runner.submit(f"Import {os.path.basename(spec.path)}", import_job, channel, spec,
                                      kind=JobKind.WRITE, owner=self, on_result=self._done, on_error=self._failed,
                                      on_cancel=self._cancelled,
                                      on_progress=lambda f, text: (self.progress.setValue(int(f * 100)),
                                                                   self.progress.setFormat(f"%p %  {text}")))
        return self.job

    def _finish(self, text: str):
        self.job = None
        self.progress.setVisible(False)
        self.cancel_button.setText("Close")
        self.result.setVisible(True)
        self.result.setPlainText(text)
        self.update_state()

    def _done(self, report):
        self.report = report
        lines = [report.describe()] + [f"line {ln}: {why}" for ln, why in report.malformed]
        if report.rows_malformed > len(report.malformed):
            lines.append(f"… and {report.rows_malformed - len(report.malformed):,} more")
        self._finish("\n".join(lines))
        self.sigImported.emit(report)

    def _failed(self, message):
        self._finish(f"Import failed: {message}")

    def _cancelled(self):
        self._finish("Import stopped: what was imported before stopping stays, with calculated intervals that "
                     "match it.")
        self.sigImported.emit(None)

    def cancel_or_close(self):
        if self.job is not None:
            self.job.cancel()
        else:
            self.reject()


__all__ = ["ImportDialog", "FILE_FILTER"]
