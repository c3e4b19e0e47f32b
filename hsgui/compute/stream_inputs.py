"""Small widgets of the Run Tool dialog: the input-stream list (accepts drags from the tree), the
stream picker (search over every stream) and the ``(start, end]`` interval editor."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelectionModel, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QFormLayout,
                               QLabel, QLineEdit, QListView, QListWidget, QListWidgetItem,
                               QVBoxLayout, QWidget)

from channels.stream import StreamId
from channels.tool_channel import ToolChannel
from channels.time_interval import TimeInterval
from channels.utils import UTC

from hsgui.common.mime import STREAM_MIME, streams_from_mime
from hsgui.common.stream_filter import StreamFilter
from hsgui.common.timefmt import as_zone as _tz
from hsgui.forms.datetime_edit import DateTimeEdit

from .param_form import qdatetime_from_utc, utc_from_qdatetime

ROLE_STREAM = Qt.ItemDataRole.UserRole  # (channel_id, StreamId)


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


class _StreamFilterProxy(QSortFilterProxyModel):
    """Rows whose stream matches the Streams dock's filter (words, ``key=value``, globs); the channel id
    and the row's text count as more tokens."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._filter = StreamFilter("")

    def set_filter_text(self, text: str) -> None:
        self.beginFilterChange()
        self._filter = StreamFilter(text)
        self.endFilterChange()

    def filterAcceptsRow(self, row, parent):
        if not self._filter:
            return True
        item = self.sourceModel().index(row, 0, parent)
        channel_id, sid = item.data(ROLE_STREAM)
        # the shown "channel / stream" line too, so a pasted row text matches
        text = item.data(Qt.ItemDataRole.DisplayRole) + "\n" + channel_id + "\n" + StreamFilter.search_text(sid)
        return self._filter.matches(text, text.casefold())


class StreamPickerDialog(QDialog):
    """Pick streams from every non-tool channel. The search box is the Streams dock's filter (name,
    ``key=value``, globs ``* ? [..]``, several words must all match); Up/Down in it move through the
    matches, Enter takes the highlighted one (the only match, or the first), and OK with nothing chosen
    says so instead of closing."""

    def __init__(self, manager, parent=None, title="Pick input streams"):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(520, 420)
        lay = QVBoxLayout(self)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("search: name or key=value, globs * ? allowed (e.g. house=1 temp*)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.installEventFilter(self)
        lay.addWidget(self.filter_edit)
        self.model = QStandardItemModel(self)
        for channel in manager:
            if isinstance(channel, ToolChannel):
                continue
            for sid in sorted(channel.streams):
                item = QStandardItem(f"{channel.channel_id} / {sid}")
                item.setData((channel.channel_id, sid), ROLE_STREAM)
                item.setEditable(False)
                self.model.appendRow(item)
        self.proxy = _StreamFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.filter_edit.textChanged.connect(self._filter_changed)
        self.view = QListView()
        self.view.setModel(self.proxy)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.doubleClicked.connect(lambda _i: self.accept())
        lay.addWidget(self.view, 1)
        self.count_label = QLabel()
        lay.addWidget(self.count_label)
        self.proxy.rowsInserted.connect(self._count)
        self.proxy.rowsRemoved.connect(self._count)
        self.proxy.modelReset.connect(self._count)
        self.proxy.layoutChanged.connect(self._count)
        self._count()
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        bb.accepted.connect(self.accept)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)

    def _filter_changed(self, text):
        self.proxy.set_filter_text(text)
        self._count()

    def _count(self, *_):
        self.count_label.setStyleSheet("")
        self.count_label.setText(f"{self.proxy.rowCount()} of {self.model.rowCount()} streams")

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


__all__ = ["StreamListWidget", "StreamPickerDialog", "IntervalEdit", "ROLE_STREAM"]
