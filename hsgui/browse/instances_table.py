"""The instances table: timestamp | value of one stream over the current range.

Opening a million-instance stream must be instant and scrolling anywhere
smooth, so rows are never read from the start. :class:`RowIndex` finds row
``r`` by descending a tree of time segments with *exact* counts
(``window(segment).count()``, answered from the aggregates on the SQLite store
and by bisection on memory channels), splitting a segment into ``SPLIT`` equal
time segments until it holds at most ``LEAF`` rows, and reads only that leaf.
Store summaries are not used for this: their per-bucket counts are approximate
near bucket edges (only their total is exact), which would shift rows. Jumping
to row 900,000 costs a few dozen counts and one leaf read, not 900,000 rows.

:class:`InstancesModel` shows "…" for rows not yet loaded and asks for their
pages; one background job at a time loads the most recently asked pages.
"""
from __future__ import annotations

import csv
import json
import os
import threading
from collections import OrderedDict
from datetime import datetime

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QFontDatabase, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QPlainTextEdit,
                               QSplitter, QTableView, QToolButton, QVBoxLayout, QWidget)

from channels.time_interval import TimeInterval
from channels.utils import UTC, from_ms, to_ms

from hsgui.common.background import JobKind
from hsgui.common.timefmt import format_time

LEAF = 2000              # a segment with at most this many rows is read whole
SPLIT = 32               # children per split segment (each counted exactly)
PAGE = 256
MAX_PAGES = 400          # pages kept (about 100,000 rows)
MAX_LEAVES = 64          # leaf buckets whose rows are kept by the row index
PAGES_PER_JOB = 4
VALUE_TEXT_MAX = 300


def _json_default(o):
    if isinstance(o, datetime):
        return o.isoformat()
    if isinstance(o, TimeInterval):
        return {"start": o.start.isoformat(), "end": o.end.isoformat()}
    return str(o)


def value_text(value) -> str:
    """Short one-line text for a cell."""
    if isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, default=_json_default, ensure_ascii=False, separators=(", ", ": "))
    elif isinstance(value, float):
        text = repr(value)
    elif isinstance(value, datetime):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= VALUE_TEXT_MAX else text[:VALUE_TEXT_MAX] + "…"


def value_detail(value) -> str:
    """Readable multi-line text for the detail view."""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=_json_default, ensure_ascii=False, indent=2)
    return value_text(value) if not isinstance(value, str) else value


def format_timestamp(ts: datetime, tz=UTC) -> str:
    return format_time(ts, tz, with_ms=True)


class _Segment:
    __slots__ = ("start_ms", "end_ms", "count", "children", "cum", "rows")

    def __init__(self, start_ms, end_ms, count):
        self.start_ms = int(start_ms)
        self.end_ms = int(end_ms)
        self.count = int(count)
        self.children = None
        self.cum = None
        self.rows = None


class RowIndex:
    """Random access to row ``r`` of ``stream.window(interval)`` (used from jobs; thread-safe).

    A tree of time segments ``(start_ms, end_ms]`` with *exact* counts: a
    segment holding more than ``LEAF`` rows is split into up to ``SPLIT`` equal
    time segments, each counted with ``window(segment).count()`` (exact; cheap
    on the stores and memory channels). Row ``r`` descends by cumulative counts
    to a leaf, whose rows (at most ``LEAF``) are read once and kept in an LRU.
    Store summaries are not used: their per-bucket counts are approximate.
    """

    def __init__(self, stream, interval: TimeInterval):
        self.stream = stream
        self.interval = interval
        self.view = stream.window(interval)
        self.total: int | None = None
        self.root: _Segment | None = None
        self._lock = threading.Lock()
        self._leaves: OrderedDict = OrderedDict()
        self._start_ms = to_ms(interval.start)
        self._end_ms = to_ms(interval.end)
        self.count_calls = 0
        self.rows_read = 0

    def prepare(self) -> int:
        """Count the rows and find the data's extent (one count, first and last)."""
        with self._lock:
            total = self.view.count()
            self.total = total
            if total:
                first, last = self.view.first(), self.view.last()
                if first is None or last is None:   # emptied meanwhile
                    self.total = total = 0
                else:
                    # one ms of margin on each side: timestamps may carry sub-millisecond parts
                    self.root = _Segment(to_ms(first.timestamp) - 1, to_ms(last.timestamp) + 1, total)
            return total

    def rows(self, start: int, stop: int, ctx=None) -> list:
        """Instances ``start <= row < stop`` (fewer if the data shrank meanwhile)."""
        if self.total is None:
            self.prepare()
        start = max(0, start)
        stop = min(stop, self.total or 0)
        out = []
        with self._lock:
            r = start
            while r < stop:
                if ctx is not None:
                    ctx.check()
                located = self._locate(r)
                if located is None:
                    break
                leaf, offset = located
                take = leaf.rows[offset: offset + (stop - r)]
                if not take:
                    break
                out.extend(take)
                r += len(take)
        return out

    # -- internals (under the lock) ------------------------------------------------------------
    def _window(self, a_ms: int, b_ms: int):
        """The view of ``(a_ms, b_ms]`` clipped to the interval (None when empty)."""
        iv = self.interval
        s = iv.start if a_ms <= self._start_ms else from_ms(a_ms)
        e = iv.end if b_ms > self._end_ms else from_ms(b_ms)
        if s >= e:
            return None
        return self.stream.window(TimeInterval(s, e))

    def _locate(self, r: int):
        seg = self.root
        if seg is None:
            return None
        while True:
            if seg.count <= LEAF or seg.end_ms - seg.start_ms <= 1:
                if seg.rows is None:
                    view = self._window(seg.start_ms, seg.end_ms)
                    seg.rows = view.items() if view is not None else []
                    self.rows_read += len(seg.rows)
                    self._leaves[id(seg)] = seg
                    while len(self._leaves) > MAX_LEAVES:
                        _, old = self._leaves.popitem(last=False)
                        old.rows = None
                else:
                    self._leaves.move_to_end(id(seg), last=True)
                if r >= len(seg.rows):
                    return None   # the data changed since it was counted: give up on this row
                return seg, r
            if seg.children is None:
                self._split(seg)
                if not seg.children:
                    return None
            i = int(np.searchsorted(seg.cum, r, side="right"))
            if i >= len(seg.children):
                return None
            r -= int(seg.cum[i - 1]) if i else 0
            seg = seg.children[i]

    def _split(self, seg: _Segment) -> None:
        width = seg.end_ms - seg.start_ms
        k = int(min(SPLIT, max(2, -(-seg.count // (LEAF // 2))), width))
        edges = sorted({seg.start_ms + (width * i) // k for i in range(k + 1)})
        children = []
        for a, b in zip(edges[:-1], edges[1:]):
            view = self._window(a, b)
            n = view.count() if view is not None else 0
            self.count_calls += 1
            if n > 0:
                children.append(_Segment(a, b, n))
        seg.children = children
        seg.cum = np.cumsum([c.count for c in children]) if children else np.zeros(0, dtype=np.int64)


class InstancesModel(QAbstractTableModel):
    """Paged model over a stream window; rows arrive from background jobs."""

    loadingChanged = Signal(bool)
    statusChanged = Signal(str)
    totalKnown = Signal(int)

    HEADERS = ("Timestamp", "Value")

    def __init__(self, runner, parent=None):
        super().__init__(parent)
        self.runner = runner
        self.stream = None
        self.interval: TimeInterval | None = None
        self.time_zone = UTC
        self.index_: RowIndex | None = None
        self._rows = 0
        self._pages: OrderedDict = OrderedDict()
        self._wanted: OrderedDict = OrderedDict()
        self._opening = (self, "open")   # JobRunner.latest keys: the newest count, the newest pages
        self._paging = (self, "pages")
        self.error: str | None = None

    # -- inputs -----------------------------------------------------------------------
    def set_stream(self, stream, interval: TimeInterval | None) -> None:
        self.runner.cancel_latest(self._opening)
        self.runner.cancel_latest(self._paging)
        self.beginResetModel()
        self.stream = stream
        self.interval = interval
        self._rows = 0
        self._pages.clear()
        self._wanted.clear()
        self.index_ = None
        self.error = None
        self.endResetModel()
        if stream is None:
            self.statusChanged.emit("")
            return
        interval = interval or TimeInterval.all_time()
        self.interval = interval
        index = RowIndex(stream, interval)
        self.loadingChanged.emit(True)
        self.statusChanged.emit(f"{stream.stream_id}: counting…")
        self.runner.latest(self._opening, f"Open instances of {stream.stream_id}", _prepare, index,
                           kind=JobKind.READ, owner=self, on_result=lambda total: self._prepared(index, total),
                           on_error=self._failed)

    def set_time_zone(self, tz) -> None:
        self.time_zone = tz
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(self._rows - 1, 0))

    def reload(self) -> None:
        self.set_stream(self.stream, self.interval)

    def _prepared(self, index, total):
        self.index_ = index
        if total:
            self.beginInsertRows(QModelIndex(), 0, total - 1)
            self._rows = total
            self.endInsertRows()
        self.loadingChanged.emit(False)
        self.totalKnown.emit(total)
        self.statusChanged.emit(f"{total:,} instances")

    def _failed(self, msg):
        self.error = msg
        self.loadingChanged.emit(False)
        self.statusChanged.emit(f"Could not read {self.stream.stream_id}: {msg}")

    # -- pages -------------------------------------------------------------------------
    def _instance(self, row):
        page = row // PAGE
        rows = self._pages.get(page)
        if rows is None:
            self._want(page)
            return None
        i = row - page * PAGE
        return rows[i] if i < len(rows) else None

    def instance(self, row):
        """The loaded instance at ``row`` or None (asks for it)."""
        return self._instance(row)

    def is_loaded(self, row) -> bool:
        return (row // PAGE) in self._pages

    def _want(self, page):
        self._wanted[page] = None
        self._wanted.move_to_end(page)
        while len(self._wanted) > 64:
            self._wanted.popitem(last=False)
        self._schedule()

    def _schedule(self):
        if self.runner.pending(self._paging) or self.index_ is None or not self._wanted:
            return
        pages = list(reversed(self._wanted))[:PAGES_PER_JOB]
        for p in pages:
            self._wanted.pop(p, None)
        first = pages[0] * PAGE
        self.runner.latest(self._paging, f"Read rows {first:,}… of {self.stream.stream_id}", _load_pages,
                           self.index_, pages, kind=JobKind.READ, owner=self, on_result=self._pages_loaded,
                           on_error=self._failed, on_cancel=lambda: self._pages_loaded({}))

    def _pages_loaded(self, result: dict):
        for page, rows in result.items():
            self._pages[page] = rows
            self._pages.move_to_end(page)
            self._wanted.pop(page, None)
            first = page * PAGE
            last = min(self._rows, first + PAGE) - 1
            if last >= first:
                self.dataChanged.emit(self.index(first, 0), self.index(last, 1))
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        self._schedule()

    def pending(self) -> bool:
        return self.runner.pending(self._opening) or self.runner.pending(self._paging) or bool(self._wanted)

    # -- Qt model API ---------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent=QModelIndex()):
        return 2

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            if section == 0:
                name = getattr(self.time_zone, "zone", None) or str(self.time_zone)
                return f"Timestamp ({name})"
            return "Value"
        return f"{section + 1:,}"

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            inst = self._instance(index.row())
            if inst is None:
                return "…"
            if index.column() == 0:
                return format_timestamp(inst.timestamp, self.time_zone)
            return value_text(inst.value)
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 1:
            inst = self._instance(index.row())
            if inst is not None and isinstance(inst.value, (dict, list)):
                return value_detail(inst.value)[:4000]
        return None


def _prepare(ctx, index: RowIndex) -> int:
    return index.prepare()


def _load_pages(ctx, index: RowIndex, pages) -> dict:
    out = {}
    for i, p in enumerate(pages):
        ctx.check()
        out[p] = index.rows(p * PAGE, (p + 1) * PAGE, ctx)
        ctx.report((i + 1) / len(pages))
    return out


def _read_rows(ctx, index: RowIndex, ranges) -> list:
    out = []
    for a, b in ranges:
        out.extend(index.rows(a, b, ctx))
    return out


def export_stream(ctx, stream, interval, path: str, fmt: str, total: int | None = None, tz=UTC) -> int:
    """Job: write the instances of ``stream`` in ``interval`` to ``path`` (csv or json).

    Writes to a temporary file and renames it at the end, so a cancel or an
    error never leaves a half-written export behind.
    """
    view = stream.window(interval)
    if total is None:
        total = view.count()
    tmp = path + ".part"
    n = 0
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            if fmt == "csv":
                w = csv.writer(f)
                w.writerow(["timestamp", "value"])
                for inst in view:
                    v = inst.value
                    w.writerow([inst.timestamp.isoformat(),
                                json.dumps(v, default=_json_default) if isinstance(v, (dict, list)) else v])
                    n += 1
                    if n % 5000 == 0:
                        ctx.check()
                        ctx.report(n / max(total, 1), f"{n:,} rows")
            else:
                f.write("[\n")
                for inst in view:
                    if n:
                        f.write(",\n")
                    f.write(json.dumps({"timestamp": inst.timestamp.isoformat(), "value": inst.value},
                                       default=_json_default, ensure_ascii=False))
                    n += 1
                    if n % 5000 == 0:
                        ctx.check()
                        ctx.report(n / max(total, 1), f"{n:,} rows")
                f.write("\n]\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return n


class InstancesTable(QWidget):
    """Table + detail view + copy/export actions for the selected stream."""

    exportFinished = Signal(str)

    def __init__(self, runner, parent=None):
        super().__init__(parent)
        self.runner = runner
        self.model = InstancesModel(runner, self)
        self.view = QTableView(self)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setWordWrap(False)
        vh = self.view.verticalHeader()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(20)
        hh = self.view.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        hh.resizeSection(0, 200)
        hh.setStretchLastSection(True)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.view.setFont(mono)
        self.detail = QPlainTextEdit(self)
        self.detail.setReadOnly(True)
        self.detail.setFont(mono)
        self.detail.setPlaceholderText("Select a row to see its full value")
        self.status = QLabel("No stream selected", self)
        self.copy_action = QAction("Copy rows", self)
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.copy_action.triggered.connect(self.copy_selection)
        self.addAction(self.copy_action)
        self.view.addAction(self.copy_action)
        buttons = []
        for text, slot in (("Copy", self.copy_selection), ("Export CSV…", lambda: self.export_dialog("csv")),
                           ("Export JSON…", lambda: self.export_dialog("json"))):
            b = QToolButton(self)
            b.setText(text)
            b.clicked.connect(slot)
            buttons.append(b)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.status, 1)
        for b in buttons:
            bar.addWidget(b)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.view)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        self.model.statusChanged.connect(self._status)
        self.model.dataChanged.connect(self._maybe_detail)
        self.view.selectionModel().currentRowChanged.connect(lambda cur, _p: self._show_detail(cur.row()))
        self._detail_row = -1
        self._status_text = ""

    def _status(self, text):
        self._status_text = text   # the model's own text, rebuilt with the range when the time zone changes
        if self.model.stream is not None and self.model.interval is not None and text:
            iv = self.model.interval
            tz = self.model.time_zone
            text = (f"{self.model.stream.stream_id} — {text} in "
                    f"{format_timestamp(iv.start, tz)[:16]} → {format_timestamp(iv.end, tz)[:16]}") \
                if not text.startswith(str(self.model.stream.stream_id)) and not text.startswith("Could not") else text
        self.status.setText(text or "No stream selected")

    def set_stream(self, stream, interval=None) -> None:
        self._detail_row = -1
        self.detail.clear()
        self.model.set_stream(stream, interval if interval is not None else self.model.interval)

    def set_interval(self, interval) -> None:
        if interval != self.model.interval:
            self.model.interval = interval
            if self.model.stream is not None:
                self.model.set_stream(self.model.stream, interval)

    def set_time_zone(self, tz) -> None:
        self.model.set_time_zone(tz)
        self.model.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, 0)
        if self._status_text:
            self._status(self._status_text)
        if self._detail_row >= 0:
            self._show_detail(self._detail_row)

    def _show_detail(self, row):
        self._detail_row = row
        if row < 0:
            self.detail.clear()
            return
        inst = self.model.instance(row)
        if inst is None:
            self.detail.setPlainText("loading…")
            return
        self.detail.setPlainText(f"{format_timestamp(inst.timestamp, self.model.time_zone)}\n\n"
                                 f"{value_detail(inst.value)}")

    def _maybe_detail(self, top, bottom, _roles=()):
        if top.row() <= self._detail_row <= bottom.row():
            self._show_detail(self._detail_row)

    # -- copy / export -----------------------------------------------------------------
    def _selected_ranges(self) -> list[tuple[int, int]]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        if not rows and self.view.currentIndex().isValid():
            rows = [self.view.currentIndex().row()]
        ranges = []
        for r in rows:
            if ranges and ranges[-1][1] == r:
                ranges[-1] = (ranges[-1][0], r + 1)
            else:
                ranges.append((r, r + 1))
        return ranges

    def copy_selection(self):
        """Copy the selected rows as tab-separated text (read in a job when not loaded yet)."""
        ranges = self._selected_ranges()
        index = self.model.index_
        if not ranges or index is None:
            return None
        tz = self.model.time_zone

        def to_clipboard(instances):
            text = "\n".join(f"{format_timestamp(i.timestamp, tz)}\t{value_text(i.value)}" for i in instances)
            QGuiApplication.clipboard().setText(text)
            self.status.setText(f"Copied {len(instances):,} row{'s' if len(instances) != 1 else ''}")

        n = sum(b - a for a, b in ranges)
        return self.runner.submit(f"Copy {n:,} rows", _read_rows, index, ranges, kind=JobKind.READ, owner=self,
                                  on_result=to_clipboard)

    def export_dialog(self, fmt):
        if self.model.stream is None:
            return None
        name = self.model.stream.stream_id.name
        path, _ = QFileDialog.getSaveFileName(self, f"Export {fmt.upper()}", f"{name}.{fmt}",
                                              "CSV (*.csv)" if fmt == "csv" else "JSON (*.json)")
        if not path:
            return None
        return self.export_to(path, fmt)

    def export_to(self, path: str, fmt: str):
        """Export the current stream over the current range (a job; returns it)."""
        stream, interval = self.model.stream, self.model.interval or TimeInterval.all_time()
        if stream is None:
            return None
        total = self.model.rowCount() or None
        def done(n):
            self.status.setText(f"Exported {n:,} rows to {path}")
            self.exportFinished.emit(path)

        return self.runner.submit(f"Export {stream.stream_id} to {os.path.basename(path)}", export_stream, stream,
                                  interval, path, fmt, total, kind=JobKind.EXPORT, owner=self, on_result=done)
