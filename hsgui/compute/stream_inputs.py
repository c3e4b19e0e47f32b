"""Small widgets of the Run Tool dialog: the input-stream list (accepts drags from the tree), the
stream picker (search over every stream) and the ``(start, end]`` interval editor."""
from __future__ import annotations

import logging
from operator import attrgetter

import numpy as np
from PySide6.QtCore import QAbstractListModel, QEvent, QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QFormLayout,
                               QHeaderView, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QTableView, QVBoxLayout, QWidget)

from channels.stream import StreamId
from channels.tool_channel import ToolChannel
from channels.time_interval import TimeInterval
from channels.utils import UTC

from hsgui.common.mime import STREAM_MIME, streams_from_mime
from hsgui.common.background import JobKind
from hsgui.common.stream_filter import StreamFilter, StreamIndex, list_streams
from hsgui.common.timefmt import as_zone as _tz
from hsgui.forms.datetime_edit import DateTimeEdit

from .param_form import qdatetime_from_utc, utc_from_qdatetime

log = logging.getLogger(__name__)

ROLE_STREAM = Qt.ItemDataRole.UserRole  # (channel_id, StreamId)
SYNC_INDEX = 10_000      # a channel with more streams is indexed in slices between events (as the Streams tree)
BUILD_SLICE_S = 0.004    # how long one slice of that indexing may take


class StreamListWidget(QListWidget):
    """A list of (channel_id, StreamId) that accepts streams dragged from the stream tree."""

    sigChanged = Signal()

    def __init__(self, max_items: int | None = None, parent=None):
        super().__init__(parent)
        self.max_items = max_items
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def streams(self) -> list[tuple[str, StreamId]]:
        return [self.item(i).data(ROLE_STREAM) for i in range(self.count())]

    def add_streams(self, streams) -> None:
        for cid, sid in streams:
            if self.max_items is not None and self.count() >= self.max_items:
                if self.max_items == 1:
                    self.clear()
                else:
                    break
            item = QListWidgetItem(f"{cid} / {sid}")
            item.setData(ROLE_STREAM, (cid, sid))
            item.setToolTip(f"channel {cid}, stream {sid}")
            self.addItem(item)
        self.sigChanged.emit()

    def set_streams(self, streams) -> None:
        self.clear()
        self.add_streams(streams)

    def remove_selected(self) -> None:
        for item in self.selectedItems():
            self.takeItem(self.row(item))
        self.sigChanged.emit()

    def move_selected(self, delta: int) -> None:
        row = self.currentRow()
        new = row + delta
        if row < 0 or not (0 <= new < self.count()):
            return
        item = self.takeItem(row)
        self.insertItem(new, item)
        self.setCurrentRow(new)
        self.sigChanged.emit()

    # drops from the stream tree
    def dragEnterEvent(self, e):
        if e.mimeData().hasFormat(STREAM_MIME):
            e.acceptProposedAction()
        else:
            e.ignore()

    def dragMoveEvent(self, e):
        if e.mimeData().hasFormat(STREAM_MIME):
            e.acceptProposedAction()
        else:
            e.ignore()

    def dropEvent(self, e):
        streams = streams_from_mime(e.mimeData())
        if streams:
            self.add_streams(streams)
            e.acceptProposedAction()
        else:
            e.ignore()


class _Part:
    """One channel's rows in the picker: its StreamIndex, the filter's mask over it, and the rows that shows (name
    groups in name order, each group's streams in StreamId order, as ``sorted(channel.streams)`` gives)."""

    def __init__(self, cid: str, index: StreamIndex):
        self.cid, self.index = cid, index
        names = index.names
        self.group_order = np.array(sorted(range(len(names)), key=names.__getitem__), dtype=np.int64)
        self._sorted: dict = {}      # group -> its positions in StreamId order (made when a row of it is shown)
        self.set_mask(None)

    def set_mask(self, mask) -> None:
        self.mask = mask
        self.counts = self.index.group_counts(mask)[self.group_order] if len(self.group_order) else \
            np.zeros(0, dtype=np.int64)
        self.ends = np.cumsum(self.counts)
        self.total = int(self.ends[-1]) if len(self.ends) else 0
        self._shown: dict = {}       # group -> its positions the mask keeps, in order

    def stream(self, row: int):
        """The Stream on ``row`` (0 .. total-1) of this channel."""
        k = int(np.searchsorted(self.ends, row, side="right"))
        group = int(self.group_order[k])
        shown = self._shown.get(group)
        if shown is None:
            order = self._sorted.get(group)
            if order is None:
                positions = self.index.positions(group)
                keys = list(map(_ORDER, self.index.streams[positions].tolist()))
                order = self._sorted[group] = positions[np.array(sorted(range(len(keys)), key=keys.__getitem__),
                                                                 dtype=np.int64)]
            shown = self._shown[group] = order if self.mask is None else order[self.mask[order]]
        return self.index.streams[shown[row - (int(self.ends[k - 1]) if k else 0)]]


_ORDER = attrgetter("stream_id._key")   # what StreamId.__lt__ compares: (name, sorted meta-data pairs)


def _channel_filter(words: list[str], cid: str) -> StreamFilter:
    """The filter one channel's streams must match: the words the row's channel part ("cid / ") does not already
    match (the channel id counts as one more token, as in the rows' text); a plain word loses the ``: , ]`` a
    pasted row text puts around names and ``key=value`` tokens."""
    head = cid + " /"
    rest = []
    for word in words:
        f = StreamFilter(word)
        if f.matches(head, head.casefold()) or (f.globs and f.globs[0].search(cid)):
            continue
        rest.append(word if f.globs else (word.rstrip(":,]") or word))
    return StreamFilter(" ".join(rest))


class StreamListModel(QAbstractListModel):
    """Every stream of the non-tool channels as one list, "channel / stream" per row, filtered with the Streams
    dock's filter: rows are computed on demand from each channel's :class:`StreamIndex` (no item per stream),
    the filter is numpy masks. A small channel is indexed at once; a large one in slices between events (its rows
    appear when its index can be searched); a channel not listed yet is listed in a job (with a runner) first."""

    progressChanged = Signal()      # a channel started or ended being listed or indexed

    def __init__(self, manager, runner=None, parent=None):
        super().__init__(parent)
        self.runner = runner
        self._words: list[str] = []
        self._parts: list = []                       # _Part of each channel whose index is complete, in order
        self._order = [ch.channel_id for ch in manager if not isinstance(ch, ToolChannel)]
        self._ready: dict = {}                       # channel_id -> _Part
        self._building: dict = {}                    # channel_id -> StreamIndex being built
        self.listing: dict = {}                      # channel_id -> "listing N streams…" (a job lists it)
        self.unlisted: dict = {}                     # channel_id -> why its listing failed
        self._ends = np.zeros(0, dtype=np.int64)
        self.total = 0
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._build_step)
        for ch in manager:
            if isinstance(ch, ToolChannel):
                continue
            if ch.listed or runner is None:
                self._index(ch)
            else:
                self._list(ch)
        self._layout()

    # -- listing and indexing ---------------------------------------------------------------------------
    def _index(self, channel, arrived: bool = False) -> None:
        """Index ``channel`` (a large one in slices); ``arrived``: its rows are added to the rows shown."""
        cid = channel.channel_id
        index = StreamIndex(list(channel.streams.values()))
        if len(index) <= SYNC_INDEX:
            part = _Part(cid, index.complete())
            if arrived:
                self._insert(part)
            else:
                self._ready[cid] = part
        else:
            self._building[cid] = index
            self._timer.start()

    def _build_step(self) -> None:
        per = BUILD_SLICE_S / max(1, len(self._building))
        for cid, index in list(self._building.items()):
            try:
                done = index.advance(per)
            except Exception:  # noqa: BLE001 - a bad stream list must not spin this timer forever
                log.exception("indexing the streams of channel %s failed", cid)
                del self._building[cid]
                self.unlisted[cid] = "could not index its streams"
                continue
            if done:
                del self._building[cid]
                self._insert(_Part(cid, index))
        if not self._building:
            self._timer.stop()
            self.progressChanged.emit()

    def _list(self, channel) -> None:
        cid = channel.channel_id
        self.listing[cid] = "listing streams…"

        def progress(_fraction, text):
            if cid in self.listing and text:
                self.listing[cid] = text
                self.progressChanged.emit()

        def ended(failure=None):
            if self.listing.pop(cid, None) is not None:
                if failure is not None:
                    self.unlisted[cid] = failure
                else:
                    self._index(channel, arrived=True)
                self.progressChanged.emit()

        self.runner.latest((self, "list", cid), f"List the streams of {cid}", list_streams, channel,
                           kind=JobKind.READ, owner=self, on_progress=progress, on_result=lambda _r: ended(),
                           on_error=lambda msg: ended(f"could not list its streams: {msg}"),
                           on_cancel=lambda: ended("not listed (cancelled)"))

    def stop(self) -> None:
        """Stop indexing and cancel the listings (the dialog closed)."""
        self._timer.stop()
        if self.runner is not None:
            for cid in list(self.listing):
                self.runner.cancel_latest((self, "list", cid))

    @property
    def pending(self) -> str:
        """What is still being listed or indexed, e.g. "listing 136,103 streams of mongo…" ("" when nothing)."""
        parts = [f"{text.rstrip('…')} of {cid}…" for cid, text in self.listing.items()]
        parts += [f"indexing {len(index):,} streams of {cid}…" for cid, index in self._building.items()]
        parts += [f"{cid}: {why}" for cid, why in self.unlisted.items()]
        return "; ".join(parts)

    # -- filter and rows --------------------------------------------------------------------------------
    def set_filter_text(self, text: str) -> None:
        self.beginResetModel()
        self._words = text.split()
        self._layout()
        self.endResetModel()

    def _insert(self, part: _Part) -> None:
        """A channel's rows arrive: inserted where its channel comes, so the rows chosen meanwhile stay chosen."""
        part.set_mask(part.index.mask(_channel_filter(self._words, part.cid)) if self._words else None)
        self._ready[part.cid] = part
        k = sum(1 for p in self._parts if self._order.index(p.cid) < self._order.index(part.cid))
        first = int(self._ends[k - 1]) if k else 0
        if part.total:
            self.beginInsertRows(QModelIndex(), first, first + part.total - 1)
        self._parts.insert(k, part)
        self._ends = np.cumsum([p.total for p in self._parts], dtype=np.int64)
        self._rows = int(self._ends[-1])
        self.total += len(part.index)
        if part.total:
            self.endInsertRows()

    def _layout(self) -> None:
        self._parts = [self._ready[cid] for cid in self._order if cid in self._ready]
        for part in self._parts:
            part.set_mask(part.index.mask(_channel_filter(self._words, part.cid)) if self._words else None)
        self._ends = np.cumsum([p.total for p in self._parts], dtype=np.int64)
        self._rows = int(self._ends[-1]) if len(self._ends) else 0
        self.total = sum(len(p.index) for p in self._parts)

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else self._rows

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, ROLE_STREAM, Qt.ItemDataRole.ToolTipRole):
            return None
        row = index.row()
        k = int(np.searchsorted(self._ends, row, side="right"))
        if k >= len(self._parts):
            return None
        part = self._parts[k]
        sid = part.stream(row - (int(self._ends[k - 1]) if k else 0)).stream_id
        if role == ROLE_STREAM:
            return part.cid, sid
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"channel {part.cid}, stream {sid}"
        return f"{part.cid} / {sid}"

    def flags(self, index):
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable if index.isValid() else Qt.ItemFlag.NoItemFlags


class _ListTable(QTableView):
    """A one-column table without headers or grid that looks like a list: unlike QListView and QTreeView, whose
    layout asks the model for every row (150,000 Python calls per filter keystroke), a table with fixed-height rows
    lays out from the row count alone."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTabKeyNavigation(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.horizontalHeader().hide()
        self.horizontalHeader().setStretchLastSection(True)
        rows = self.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)


class StreamPickerDialog(QDialog):
    """Pick streams from every non-tool channel. The search box is the Streams dock's filter (name,
    ``key=value``, globs ``* ? [..]``, several words must all match); Up/Down in it move through the
    matches, Enter takes the highlighted one (the only match, or the first), and OK with nothing chosen
    says so instead of closing. The list is a :class:`StreamListModel` (no item per stream); with ``runner``, a
    channel whose streams are not listed yet is listed in a job while the count line says so."""

    def __init__(self, manager, parent=None, title="Pick input streams", runner=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(520, 420)
        lay = QVBoxLayout(self)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("search: name or key=value, globs * ? allowed (e.g. house=1 temp*)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.installEventFilter(self)
        lay.addWidget(self.filter_edit)
        # rows computed on demand over each channel's StreamIndex; ``proxy`` is the same model (the filtered rows)
        self.model = self.proxy = StreamListModel(manager, runner, self)
        self.filter_edit.textChanged.connect(self._filter_changed)
        self.view = _ListTable()
        self.view.setModel(self.model)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.doubleClicked.connect(lambda _i: self.accept())
        lay.addWidget(self.view, 1)
        self.count_label = QLabel()
        lay.addWidget(self.count_label)
        self.model.modelReset.connect(self._count)
        self.model.rowsInserted.connect(self._count)
        self.model.progressChanged.connect(self._count)
        self._count()
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        bb.accepted.connect(self.accept)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)
        self.finished.connect(lambda _r: self.model.stop())

    def _filter_changed(self, text):
        self.model.set_filter_text(text)
        self._count()

    def _count(self, *_):
        self.count_label.setStyleSheet("")
        pending = self.model.pending
        self.count_label.setText(f"{self.model.rowCount()} of {self.model.total} streams"
                                 + (f" ({pending})" if pending else ""))

    def _say(self, text: str) -> None:
        self.count_label.setStyleSheet("color: #c62828;")
        self.count_label.setText(text)

    def eventFilter(self, obj, event):
        if obj is self.filter_edit and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                self._move(1 if key in (Qt.Key.Key_Down, Qt.Key.Key_PageDown) else -1)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if not self.view.selectionModel().selectedRows() and self.proxy.rowCount():
                    self.select_row(max(0, self.view.currentIndex().row()))
                self.accept()
                return True
        return super().eventFilter(obj, event)

    def _move(self, delta: int) -> None:
        n = self.proxy.rowCount()
        if not n:
            return
        cur = self.view.currentIndex()
        row = 0 if not cur.isValid() or not self.view.selectionModel().selectedRows() \
            else min(max(cur.row() + delta, 0), n - 1)
        self.view.selectionModel().setCurrentIndex(
            self.proxy.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def accept(self) -> None:
        if not self.selected():
            self._say("No stream matches the search." if not self.proxy.rowCount() else
                      "Choose a stream: click one, or use Up/Down and Enter.")
            return
        super().accept()

    def select_row(self, row: int) -> None:
        self.view.selectionModel().setCurrentIndex(self.proxy.index(row, 0),
                                                   QItemSelectionModel.SelectionFlag.Select)

    def selected(self) -> list[tuple[str, StreamId]]:
        rows = sorted(self.view.selectionModel().selectedRows(), key=lambda i: i.row())
        return [self.proxy.data(i, ROLE_STREAM) for i in rows]


class IntervalEdit(QWidget):
    """Start and end of a ``(start, end]`` interval, shown as wall-clock time in a time zone."""

    sigChanged = Signal()

    def __init__(self, tz=UTC, parent=None):
        super().__init__(parent)
        self.tz = _tz(tz)
        lay = QFormLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.start_edit = self._edit()
        self.end_edit = self._edit()
        zone = getattr(self.tz, "zone", str(self.tz))
        lay.addRow(f"start ({zone}, exclusive)", self.start_edit)
        lay.addRow(f"end ({zone}, inclusive)", self.end_edit)

    def _edit(self):
        w = DateTimeEdit()       # type or paste a time; what is typed is what is used
        w.dateTimeChanged.connect(lambda *_: self.sigChanged.emit())
        w.textEdited.connect(lambda *_: self.sigChanged.emit())   # an invalid text is reported at once
        return w

    def set_interval(self, interval: TimeInterval) -> None:
        for w, dt in ((self.start_edit, interval.start), (self.end_edit, interval.end)):
            w.blockSignals(True)
            w.setDateTime(qdatetime_from_utc(dt, self.tz))
            w.blockSignals(False)
        self.sigChanged.emit()

    def _read(self, edit, which: str):
        if not edit.is_valid():
            raise ValueError(f"{which} {edit.text().strip()!r}: {edit.error()}")
        return utc_from_qdatetime(edit.dateTime(), self.tz)

    def start(self):
        return self._read(self.start_edit, "start")

    def end(self):
        return self._read(self.end_edit, "end")

    def interval(self) -> TimeInterval:
        """The interval; ValueError (TimeError) when start is not before end."""
        return TimeInterval(self.start(), self.end())


__all__ = ["StreamListWidget", "StreamPickerDialog", "StreamListModel", "IntervalEdit", "ROLE_STREAM"]
