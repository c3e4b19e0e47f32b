"""The Annotations dock: the current store's annotations (those in the visible range, or all), jump to one,
add, edit (label in place with F2, or everything in the dialog), delete (Delete key or menu; Undo puts it back).

Reads and writes run as jobs on the window's JobRunner (writes of kind ``write``); after each, the list is read
again and :attr:`AnnotationsDock.sigAnnotationsLoaded` hands every annotation to whoever draws them.
"""
from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QStyledItemDelegate,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from channels.annotations import AnnotationError, AnnotationSet
from channels.time_interval import TimeInterval
from channels.utils import UTC, utcnow
from hsgui.common.background import JobKind
from hsgui.common.timefmt import format_time, readable_times

COL_LABEL, COL_TIME, COL_COLOUR, COL_NOTE = range(4)
SCOPE_VISIBLE, SCOPE_ALL = "In the visible range", "All"
#: the titles of this dock's write jobs start so (the window re-reads the annotations after any other write)
JOB_PREFIX = "Annotations: "


def describe_time(a, tz) -> str:
    """``start – end`` of a range, the time of an instant (in ``tz``, ms when not zero)."""
    if a.start is None:
        return format_time(a.end, tz, None)
    start, end = format_time(a.start, tz, None), format_time(a.end, tz, None)
    return f"{start} – {end[11:] if end[:10] == start[:10] else end}"   # the date once when it is one day


def _read_all(ctx, aset):
    return aset.list()


class _LabelOnlyDelegate(QStyledItemDelegate):
    """Only the label column is edited in place."""

    def createEditor(self, parent, option, index):
        return super().createEditor(parent, option, index) if index.column() == COL_LABEL else None


class _AnnotationList(QTreeWidget):
    """Delete removes the selected annotations, Enter jumps to the current one."""

    deletePressed = Signal()
    enterPressed = Signal()

    def keyPressEvent(self, event):
        if self.state() != QAbstractItemView.State.EditingState:
            if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                self.deletePressed.emit()
                return
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.enterPressed.emit()
                return
        super().keyPressEvent(event)


class AnnotationsDock(QWidget):
    """See the module docstring."""

    sigAnnotationsLoaded = Signal(list)      # every annotation of the store (for the bands on the panes)
    sigJumpRequested = Signal(object)        # TimeInterval to show
    sigStatus = Signal(str)

    def __init__(self, runner, parent=None):
        super().__init__(parent)
        self.runner = runner
        self.aset: AnnotationSet | None = None
        self.reason = "Not connected."
        self.annotations: list = []
        self.interval: TimeInterval | None = None
        self.tz = UTC
        self.deleted: list = []          # the last deletion, for Undo
        self._reading = (self, "read")   # JobRunner.latest key: only the newest read is shown
        self._filling = False
        self.notice = ""                 # the outcome of the last change, kept under the counts

        self.scope_box = QComboBox()
        self.scope_box.addItems([SCOPE_VISIBLE, SCOPE_ALL])
        self.scope_box.currentIndexChanged.connect(lambda _i: self._fill())
        self.add_button = QPushButton("Add…")
        self.add_button.setToolTip("Annotate the visible range (or Shift+drag on a pane)")
        self.add_button.clicked.connect(lambda: self.ask_new())
        self.edit_button = QPushButton("Edit…")
        self.edit_button.clicked.connect(self.edit_current)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.delete_selected)
        self.undo_button = QPushButton("Undo delete")
        self.undo_button.clicked.connect(self.undo_delete)
        self.undo_button.setVisible(False)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #555;")
        self.list = _AnnotationList()
        self.list.setColumnCount(4)
        self.list.setHeaderLabels(["Label", "Time", "Colour", "Note"])
        self.list.setRootIsDecorated(False)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed
                                  | QAbstractItemView.EditTrigger.SelectedClicked)
        self.list.setItemDelegate(_LabelOnlyDelegate(self.list))
        self.list.setColumnWidth(COL_LABEL, 170)
        self.list.setColumnWidth(COL_TIME, 240)
        self.list.setColumnWidth(COL_COLOUR, 70)
        self.list.itemDoubleClicked.connect(lambda item, _c: self.jump_to(item.data(0, Qt.ItemDataRole.UserRole)))
        self.list.itemChanged.connect(self._item_changed)
        self.list.deletePressed.connect(self.delete_selected)
        self.list.enterPressed.connect(lambda: self.jump_to(self.current()))
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        undo = QShortcut(QKeySequence.StandardKey.Undo, self)
        undo.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        undo.activated.connect(self.undo_delete)

        top = QHBoxLayout()
        top.addWidget(self.scope_box)
        top.addStretch(1)
        for b in (self.add_button, self.edit_button, self.delete_button, self.undo_button):
            top.addWidget(b)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.message)
        lay.addWidget(self.list, 1)
        self._update_buttons()

    # -- inputs from the window --------------------------------------------------------------------------
    def set_manager(self, manager) -> None:
        self.aset, self.reason = None, ""
        self.deleted = []
        self.notice = ""
        self.undo_button.setVisible(False)
        if manager is None:
            self.reason = "Not connected."
        else:
            try:
                self.aset = AnnotationSet.of(manager)
            except AnnotationError as e:
                self.reason = f"Annotations cannot be added: {e}."
            else:
                if self.aset.read_only:
                    self.reason = "This store is read-only: annotations are shown but cannot be added or changed."
        self.annotations = []
        self._fill()
        self.sigAnnotationsLoaded.emit([])
        self.reload()

    @property
    def writable(self) -> bool:
        return self.aset is not None and not self.aset.read_only

    def set_interval(self, iv) -> None:
        self.interval = iv
        if self.scope_box.currentText() == SCOPE_VISIBLE:
            self._fill()

    def set_time_zone(self, tz) -> None:
        self.tz = tz
        self._fill()

    # -- reading ---------------------------------------------------------------------------------------
    def reload(self):
        """Read every annotation again (a job); returns it (None when there is no store)."""
        if self.aset is None:
            self.runner.cancel_latest(self._reading)   # one of the previous store's
            return None

        def done(result):
            self.annotations = result
            self._fill()
            self.sigAnnotationsLoaded.emit(list(result))

        return self.runner.latest(self._reading, "Read annotations", _read_all, self.aset, kind=JobKind.READ,
                                  owner=self, on_result=done,
                                  on_error=lambda msg: self._say(f"Annotations could not be read: {msg}"))

    def shown(self) -> list:
        """The annotations the list shows now (in order)."""
        return [self.list.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)
                for i in range(self.list.topLevelItemCount())]

    def _fill(self):
        keep = {a.end for a in self.selected()}
        cur = self.current()
        self._filling = True
        try:
            self.list.clear()
            items = self.annotations
            if self.scope_box.currentText() == SCOPE_VISIBLE and self.interval is not None:
                items = [a for a in items if a.overlaps(self.interval)]
            for a in items:
                item = QTreeWidgetItem([a.label, describe_time(a, self.tz), a.colour or "", a.note or ""])
                item.setData(0, Qt.ItemDataRole.UserRole, a)
                if a.colour:
                    item.setBackground(COL_COLOUR, QColor(a.colour))
                item.setToolTip(COL_LABEL, a.note or a.label)
                if self.writable:
                    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                self.list.addTopLevelItem(item)
                if a.end in keep:
                    item.setSelected(True)
                if cur is not None and a.end == cur.end:
                    self.list.setCurrentItem(item, 0, QItemSelectionModel.SelectionFlag.NoUpdate)
        finally:
            self._filling = False
        hidden = len(self.annotations) - len(items)
        if self.reason:
            self.message.setText(self.reason)
        elif not self.annotations:
            self.message.setText("No annotations yet: Add… or Shift+drag on a pane marks a range.")
        else:
            self.message.setText(f"{len(items)} shown" + (f", {hidden} outside the visible range" if hidden else "")
                                 + (f". {self.notice}" if self.notice else ""))
        self._update_buttons()

    def selected(self) -> list:
        return [i.data(0, Qt.ItemDataRole.UserRole) for i in self.list.selectedItems()]

    def current(self):
        item = self.list.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def _update_buttons(self):
        self.add_button.setEnabled(self.writable)
        self.edit_button.setEnabled(self.writable and self.current() is not None)
        self.delete_button.setEnabled(self.writable and bool(self.selected()))

    def _say(self, text):
        """Say ``text`` in the dock (it stays under the counts until the next change) and the status bar."""
        self.notice = readable_times(text, self.tz)
        self.message.setText(self.notice)
        self.sigStatus.emit(readable_times(text, self.tz))

    # -- actions -------------------------------------------------------------------------------------------
    def jump_to(self, a) -> None:
        """Show ``a`` on the plots: its range with a margin, or the current width centred on an instant."""
        if a is None:
            return
        if a.start is not None:
            pad = max((a.end - a.start) * 0.1, timedelta(seconds=1))
            self.sigJumpRequested.emit(TimeInterval(a.start - pad, a.end + pad))
        else:
            half = (self.interval.end - self.interval.start) / 2 if self.interval is not None else timedelta(hours=1)
            self.sigJumpRequested.emit(TimeInterval(a.end - half, a.end + half))

    def ask_new(self, start=None, end=None):
        """The dialog for a new annotation (default: the visible range); writes it when accepted. Returns the
        dialog (already closed)."""
        if not self.writable:
            self._say(self.reason or "Annotations cannot be added here.")
            return None
        if end is None:
            iv = self.interval
            if iv is None:
                self._say("Choose a time range first.")
                return None
            start, end = iv.start, iv.end
        end = min(end, utcnow())
        if start is not None and start >= end:
            start = None
        from .dialog import AnnotationDialog   # imported when first used: not on the start path
        dlg = AnnotationDialog(self.tz, end, start, parent=self)
        self.dialog = dlg
        if dlg.exec():
            v = dlg.values()
            self._write(f"add {v['label']!r}", lambda aset: aset.add(**v))
        return dlg

    def edit_current(self):
        a = self.current()
        if a is None or not self.writable:
            return None
        from .dialog import AnnotationDialog
        dlg = AnnotationDialog(self.tz, a.end, a.start, a.label, a.colour, a.note, title="Edit annotation",
                               parent=self)
        self.dialog = dlg
        if dlg.exec():
            v = dlg.values()
            self._write(f"edit {a.label!r}", lambda aset: aset.edit(a, **v))
        return dlg

    def _item_changed(self, item, column):
        if self._filling or column != COL_LABEL:
            return
        a = item.data(0, Qt.ItemDataRole.UserRole)
        text = item.text(COL_LABEL)
        if text == a.label:
            return
        self._write(f"rename {a.label!r}", lambda aset: aset.edit(a, label=text))

    def delete_selected(self):
        items = self.selected()
        if not items or not self.writable:
            return None

        def work(aset):
            return [aset.delete(a) for a in items]

        def done(deleted):
            self.deleted = deleted
            self.undo_button.setVisible(True)
            self._say(f"Deleted {len(deleted)} annotation{'s' if len(deleted) != 1 else ''} "
                      f"({', '.join(repr(a.label) for a in deleted[:3])}): Undo delete (Ctrl+Z) puts "
                      f"{'them' if len(deleted) != 1 else 'it'} back.")
        return self._write(f"delete {len(items)}", work, done)

    def undo_delete(self):
        deleted, self.deleted = self.deleted, []
        self.undo_button.setVisible(False)
        if not deleted or not self.writable:
            return None
        return self._write("undo delete",
                           lambda aset: [aset.add(a.label, a.end, a.start, a.colour, a.note, nudge=False)
                                         for a in deleted])

    def _context_menu(self, pos):
        item = self.list.itemAt(pos)
        m = QMenu(self)
        if item is not None:
            a = item.data(0, Qt.ItemDataRole.UserRole)
            m.addAction("Show on the plots", lambda: self.jump_to(a))
            m.addAction("Edit…", self.edit_current).setEnabled(self.writable)
            m.addAction("Rename (F2)", lambda: self.list.editItem(item, COL_LABEL)).setEnabled(self.writable)
            m.addAction("Delete", self.delete_selected).setEnabled(self.writable)
            m.addSeparator()
        m.addAction("Add…", lambda: self.ask_new()).setEnabled(self.writable)
        self.menu = m
        m.popup(self.list.viewport().mapToGlobal(pos))
        return m

    def _write(self, title, fn, on_done=None):
        aset = self.aset
        self.notice = ""

        def done(result):
            if on_done is not None:
                on_done(result)

        def finished():
            if aset is self.aset:
                self.reload()

        return self.runner.submit(JOB_PREFIX + title, lambda ctx: fn(aset), kind=JobKind.WRITE, owner=self,
                                  on_result=done, on_finished=finished,
                                  on_error=lambda msg: self._say(f"{title} failed: {msg}"))
