"""The channel/stream tree: channel -> stream name -> meta-data variant.

``StreamTreeModel`` (:mod:`.tree_model`) is a real ``QAbstractItemModel`` over the channel
manager's channels (no copy into a QStandardItemModel):

* nodes are created lazily: a channel's name rows when it is first expanded, and
  rows are handed to the view in batches through ``canFetchMore``/``fetchMore``,
  so a 150,000-stream channel costs one small batch to show;
* each channel has a :class:`~hsgui.common.stream_filter.StreamIndex`: its streams grouped by
  name and its distinct meta-data texts, built once per stream list (a channel of more than
  ``SYNC_INDEX`` streams in slices of a few ms between events, names first); the filter
  (substring, or glob when the text has ``* ? [``; several words must all match) is a numpy
  mask over it, and a filter change rebuilds only the top level, so a keystroke over 150,000
  streams takes milliseconds, not a freeze (bench/bench_gui_responsiveness.py, step 3);
* instance counts are asked for only for rows the view actually paints, and
  computed in background jobs in batches; the cell shows "…" until they arrive.

Reading ``channel.streams`` (already-loaded definitions) is an in-memory
lookup and happens on the GUI thread; every count goes through the JobRunner.
"""
from __future__ import annotations

import logging

import shiboken6
from PySide6.QtCore import QEvent, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMenu, QPushButton,
                               QTreeView, QVBoxLayout, QWidget)



from .tree_model import CHANNEL, COL_CALC, COL_COUNT, COL_NAME, COL_UPDATED, StreamTreeModel, stream_key

log = logging.getLogger(__name__)


class StreamTreeView(QTreeView):
    """Tree view that drags streams out and asks for a context menu on the right row.

    ``sigMenuRequested(index, viewport_pos, keyboard)``: by mouse, ``index`` is the row under
    the pointer; by keyboard (Menu key, Shift+F10) it is the current row and the menu opens on
    it. (Qt's own ``customContextMenuRequested`` gives a keyboard position in the view's
    coordinates, not the viewport's, which maps to the row below the selection.)
    Enter on a row emits ``sigActivated(index)``.
    """

    sigMenuRequested = Signal(object, object, bool)
    sigActivated = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.DefaultContextMenu)
        self.setAlternatingRowColors(True)
        self.setAnimated(False)
        self.menu_open = None      # the QMenu shown now (one at a time: the Menu key may come twice)

    def contextMenuEvent(self, event):
        if event.reason() == QContextMenuEvent.Reason.Keyboard:
            self.request_keyboard_menu()
        else:
            self.sigMenuRequested.emit(self.indexAt(event.pos()), event.pos(), False)
        event.accept()

    def request_keyboard_menu(self):
        if self.menu_open is not None and shiboken6.isValid(self.menu_open) and self.menu_open.isVisible():
            return
        idx = self.currentIndex()
        if idx.isValid():
            self.scrollTo(idx)
            rect = self.visualRect(idx)
            pos = QPoint(min(rect.left() + 40, rect.center().x()), rect.center().y())
        else:
            pos = QPoint(10, 10)
        self.sigMenuRequested.emit(idx, pos, True)

    def keyPressEvent(self, event):
        key, mods = event.key(), event.modifiers()
        if key == Qt.Key.Key_Menu or (key == Qt.Key.Key_F10 and mods & Qt.KeyboardModifier.ShiftModifier):
            self.request_keyboard_menu()
            event.accept()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.state() != QAbstractItemView.State.EditingState:
            if self.currentIndex().isValid():
                self.sigActivated.emit(self.currentIndex())
                event.accept()
                return
        super().keyPressEvent(event)


class StreamTreeWidget(QWidget):
    """Filter box + tree. Emits what the user wants done; the main window does it.

    Its context menus come from :attr:`menu_provider` ``(scope, streams, channel) -> QMenu | None`` (the
    window's action registry, see :mod:`hsgui.shell`).
    """

    currentStreamChanged = Signal(object)   # Stream or None
    plotRequested = Signal(list)            # [Stream]

    def __init__(self, runner=None, parent=None):
        super().__init__(parent)
        self.model = StreamTreeModel(runner, self)
        self.view = StreamTreeView(self)
        self.view.setModel(self.model)
        self.menu_provider = None            # (scope, streams, channel) -> QMenu | None
        header = self.view.header()
        header.setStretchLastSection(True)
        # meta-data variants differ at the end ("house=2, resident=alice"): elide in the middle, not the end
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header.setResizeContentsPrecision(0)     # fitting the name column looks at the rows shown, not 1,000 more
        for c, w in ((COL_NAME, 215), (COL_COUNT, 84), (COL_CALC, 145), (COL_UPDATED, 90)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(c, w)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter streams: name or key=value, globs * ? allowed")
        self.filter_edit.setClearButtonEnabled(True)
        self.match_label = QLabel("", self)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(150)
        self._filter_timer.timeout.connect(self.apply_filter)
        self.filter_edit.textChanged.connect(lambda _t: self._filter_timer.start())
        self.filter_edit.returnPressed.connect(self.apply_filter)
        self.filter_edit.installEventFilter(self)    # Esc clears it, Down goes into the tree
        self._unfiltered_expanded: set | None = None  # the tree's expansion before a filter was typed
        self._restriction_name: str | None = None     # what restricts the tree (a plate), None: nothing

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.match_label)
        # "Only streams of plate H.R (4 values)  [Show all]" while a plate restricts the tree
        self.restriction_label = QLabel("", self)
        self.restriction_clear = QPushButton("Show all", self)
        self.restriction_clear.clicked.connect(lambda: self.set_restriction(None))
        restriction = QHBoxLayout()
        restriction.setContentsMargins(0, 0, 0, 0)
        restriction.addWidget(self.restriction_label, 1)
        restriction.addWidget(self.restriction_clear)
        self.restriction_bar = QWidget(self)
        self.restriction_bar.setLayout(restriction)
        self.restriction_bar.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.restriction_bar)
        layout.addWidget(self.view, 1)

        self.view.sigMenuRequested.connect(self._context_menu)
        self.view.doubleClicked.connect(self._double_clicked)
        self.view.sigActivated.connect(self._activated)
        self._fit_timer = QTimer(self, singleShot=True, interval=0)   # once after a burst of expansions
        self._fit_timer.timeout.connect(self._fit_name_column)
        self.view.expanded.connect(lambda _i: self._fit_timer.start(0))
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.model.modelReset.connect(self._after_reset)
        self.model.listingChanged.connect(self._show_match_count)
        self.model.listingChanged.connect(lambda *_a: self._fit_timer.start(0))   # a count may have grown
        self._expanded_before: set = set()
        self._was_filtered = False
        self._shown_filter = ""       # the filter of what the tree shows (until the reset ends)
        self._current_before = None
        self.model.modelAboutToBeReset.connect(self._before_reset)

    # -- state across resets ----------------------------------------------------------
    def eventFilter(self, obj, event):
        if obj is self.filter_edit and event.type() == QEvent.Type.KeyPress:
            if event.key() == Qt.Key.Key_Escape and self.filter_edit.text():
                self.filter_edit.clear()
                self.apply_filter()
                return True
            if event.key() == Qt.Key.Key_Down:
                self.view.setFocus(Qt.FocusReason.TabFocusReason)
                if not self.view.currentIndex().isValid() and self.model.rowCount():
                    self.view.setCurrentIndex(self.model.index(0, 0))
                return True
        return super().eventFilter(obj, event)

    def _before_reset(self):
        self._was_filtered = bool(self._shown_filter)   # the model already holds the new filter text
        self._expanded_before = set()
        m = self.model
        for chan in m._root.children:
            ci = m.createIndex(chan.row, 0, chan)
            if self.view.isExpanded(ci):
                self._expanded_before.add((chan.label,))
                for name in chan.children:
                    if self.view.isExpanded(m.createIndex(name.row, 0, name)):
                        self._expanded_before.add((chan.label, name.name))
        cur = self.view.currentIndex()
        self._current_before = m.stream_for_index(cur) if cur.isValid() else None
        if not self._was_filtered:
            self._unfiltered_expanded = set(self._expanded_before)
        elif self._unfiltered_expanded is not None:
            # clearing the filter brings back the user's own expansion (plus the way to the selection)
            self._expanded_before = set(self._unfiltered_expanded)
            if self._current_before is not None:
                s = self._current_before
                label = next((c.label for c in m._root.children if c.channel is s.channel), None)
                if label is not None:
                    self._expanded_before |= {(label,), (label, s.stream_id.name)}

    def _after_reset(self):
        m = self.model
        self._shown_filter = m.filter_text
        # the selection model re-binds after the reset; reconnect is not needed (same model)
        few = m.all_rows_made       # a filter with few matches: the model made every row, all open
        for chan in list(m._root.children):
            ci = m.createIndex(chan.row, 0, chan)
            if few or (chan.label,) in self._expanded_before:
                self.view.expand(ci)
                if m.canFetchMore(ci):
                    m.fetchMore(ci)
                for name in list(chan.children):
                    if name.stream is None and (few or (chan.label, name.name) in self._expanded_before):
                        self.view.expand(m.createIndex(name.row, 0, name))
        wait = m.rest_ms()
        if wait:                   # a filter is being typed: fitted once it rests, not at every keystroke
            self._fit_timer.start(wait)
        else:                      # fitted now, before the first paint
            self._fit_timer.stop()
            self._fit_name_column()
        self._show_match_count()
        if self._restriction_name is not None:
            so_far = " so far (listing…)" if m.listing else " so far (indexing…)" if m.indexing else ""
            n = m.restricted or 0
            self.restriction_label.setText(f"Only {self._restriction_name}: {n:,} stream{'s' if n != 1 else ''}"
                                           f"{so_far}")
        prev = self._current_before
        self._current_before = None
        if prev is not None:
            idx = m.find_index(prev.channel.channel_id, prev.stream_id)
            if idx.isValid():
                self.view.setCurrentIndex(idx)
                return
            self.currentStreamChanged.emit(None)

    def _show_match_count(self):
        """Beside the filter: how many streams match (and whether more may come), or what is being listed."""
        m = self.model
        if m.filter_text:
            # a large channel's matches come when it is listed and indexed
            so_far = " so far (listing…)" if m.listing else " so far (indexing…)" if m.indexing else ""
            self.match_label.setText(f"{m.matched:,} match{'es' if m.matched != 1 else ''}{so_far}")
        else:
            self.match_label.setText(m.listing_text)

    # -- actions -----------------------------------------------------------------------
    def set_manager(self, manager):
        self.model.set_manager(manager)
        if manager is not None and len(manager.channels) <= 12:
            for chan in self.model._root.children:
                # open the data channels; tools and scratch memory stay folded
                if chan.label in ("mongo", "assets") or ((chan.count or chan.listing is not None)
                                                         and not chan.channel.read_only and chan.label != "memory"):
                    self.view.expand(self.model.createIndex(chan.row, 0, chan))

    def set_restriction(self, meta_sets, label: str = "") -> int:
        """Show only streams whose meta-data is one of ``meta_sets`` (e.g. a plate's values), or every
        stream for None; ``label`` names the restriction in the bar above the tree."""
        self._restriction_name = None if meta_sets is None else (label or "selected meta-data")
        if meta_sets is None:
            self.restriction_label.setText("")
        self.restriction_bar.setVisible(meta_sets is not None)
        return self.model.set_restriction(meta_sets)      # the label follows the reset (_after_reset)

    def apply_filter(self):
        self._filter_timer.stop()
        self.model.set_filter(self.filter_edit.text())

    def selected_streams(self) -> list:
        seen, out = set(), []
        rows = self.view.selectionModel().selectedRows(0)
        if not rows and self.view.currentIndex().isValid():
            rows = [self.view.currentIndex()]
        for idx in rows:
            for s in self.model.streams_for_index(idx):
                if stream_key(s) not in seen:
                    seen.add(stream_key(s))
                    out.append(s)
        return out

    def current_stream(self):
        idx = self.view.currentIndex()
        return self.model.stream_for_index(idx) if idx.isValid() else None

    def select_stream(self, channel_id, stream_id) -> bool:
        idx = self.model.find_index(channel_id, stream_id)
        if not idx.isValid():
            return False
        self.view.scrollTo(idx)
        self.view.setCurrentIndex(idx)
        return True

    def _current_changed(self, current, _previous):
        self.currentStreamChanged.emit(self.model.stream_for_index(current) if current.isValid() else None)

    def _double_clicked(self, index):
        s = self.model.stream_for_index(index)
        if s is not None:
            self.plotRequested.emit([s])

    def build_context_menu(self, streams, channel=None) -> QMenu | None:
        """The context menu for ``streams`` (and ``channel`` for a channel row): the window's actions of the
        ``streams``/``channel`` scopes (:attr:`menu_provider`), or None when none applies."""
        if self.menu_provider is None:
            return None
        return self.menu_provider("channel" if channel is not None else "streams", streams, channel)

    def _fit_name_column(self):
        """Widen the name column to its rows (never narrower than now, at most 60 % of the tree) so
        meta-data variants read whole instead of "house=1,…nt=alice"."""
        want = self.view.sizeHintForColumn(COL_NAME) + 12
        cap = max(215, int(self.view.viewport().width() * 0.6))
        header = self.view.header()
        cur = header.sectionSize(COL_NAME)
        if want > cur:
            header.resizeSection(COL_NAME, min(want, cap))
        # the channels' counts ("136,103 streams") read whole: the count column fits the top-level rows (a few)
        metrics = self.view.fontMetrics()
        count = max((metrics.horizontalAdvance(str(self.model.index(r, COL_COUNT).data() or ""))
                     for r in range(self.model.rowCount())), default=0) + 16
        if count > header.sectionSize(COL_COUNT):
            header.resizeSection(COL_COUNT, min(count, 160))
        self.view.updateGeometries()   # the scroll bar it may need shows in this paint, not in a second one

    def _activated(self, index):
        """Enter on a stream row plots the selected streams; on a channel or name group it opens/closes it."""
        if self.model.stream_for_index(index) is not None:
            self.plotRequested.emit(self.selected_streams())
        elif index.isValid():
            self.view.setExpanded(index, not self.view.isExpanded(index))

    def _context_menu(self, idx, pos, keyboard: bool = False):
        """The menu for the selection (by keyboard) or for the row under the pointer (by mouse:
        the selection if that row is in it, else that row alone)."""
        streams = self.selected_streams()
        if not keyboard and idx.isValid() and not self.view.selectionModel().isSelected(idx):
            streams = self.model.streams_for_index(idx)
        node = self.model._node(idx) if idx.isValid() else None
        if node is not None and node.kind == CHANNEL:
            menu = self.build_context_menu(streams, node.channel)
        else:
            menu = self.build_context_menu(streams) if streams else None
        if menu is not None:
            self.last_menu = self.view.menu_open = menu
            menu.popup(self.view.viewport().mapToGlobal(pos))


__all__ = ["StreamTreeView", "StreamTreeWidget"]
