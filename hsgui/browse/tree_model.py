"""The channel/stream tree model: channel -> stream name -> meta-data variant.

A real ``QAbstractItemModel`` over the channel manager's channels (no copy into
a QStandardItemModel); see :mod:`hsgui.browse.stream_tree` for how it stays
cheap on 50,000 streams (lazy nodes, batched ``fetchMore``, counts only for
painted rows, computed in background jobs).
"""
from __future__ import annotations

import logging
import time

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QStyle)

from channels.time_interval import TimeInterval
from channels.utils import UTC

from hsgui.common.background import JobKind
from hsgui.common.mime import STREAM_MIME, streams_to_mime
from hsgui.common.stream_filter import StreamFilter, search_entries
from hsgui.common.timefmt import describe_coverage, format_time, short_time

log = logging.getLogger(__name__)

CHANNEL, NAME, STREAM = 0, 1, 2
COL_NAME, COL_COUNT, COL_CALC, COL_UPDATED = range(4)
COLUMNS = ("Stream", "Count", "Calculated", "Last updated")
FETCH_BATCH = 500
COUNT_BATCH = 200
StreamRole = Qt.ItemDataRole.UserRole + 1
KeyRole = Qt.ItemDataRole.UserRole + 2


def stream_key(stream) -> tuple:
    return (stream.channel.channel_id, stream.stream_id)




def format_count(n) -> str:
    return f"{n:,}"


# -- nodes --------------------------------------------------------------------------
class Node:
    __slots__ = ("kind", "parent", "row", "label", "channel", "stream", "name", "children", "pending", "source",
                 "__weakref__")

    def __init__(self, kind, parent, row, label, channel=None, stream=None, name=None):
        self.kind = kind
        self.parent = parent
        self.row = row
        self.label = label
        self.channel = channel
        self.stream = stream          # the stream this row stands for (STREAM rows, single-variant NAME rows)
        self.name = name
        self.children: list[Node] = []
        self.pending = None           # list of items still to become children (None = not prepared yet)
        self.source = None            # CHANNEL: streams (filtered); NAME: its variants

    def streams(self) -> list:
        """Every stream under this node (for Plot / drag on a name or channel)."""
        if self.stream is not None:
            return [self.stream]
        if self.kind == NAME:
            return list(self.source or [])
        if self.kind == CHANNEL:
            return list(self.source or [])
        return []


def common_pairs(streams) -> set:
    """The ``(key, value)`` pairs every one of several variants has: they do not tell the rows apart."""
    if len(streams) < 2:
        return set()
    it = iter(streams)
    common = set(next(it).stream_id.meta_data)
    for s in it:
        common &= set(s.stream_id.meta_data)
        if not common:
            break
    return common


def variant_label(stream_id, common=frozenset()) -> str:
    """A variant row's text: its meta-data without the pairs all its siblings share (the part that tells
    it apart; the full id is in the tooltip)."""
    pairs = [(k, v) for k, v in stream_id.meta_data if (k, v) not in common] or list(stream_id.meta_data)
    return ", ".join(f"{k}={v}" for k, v in pairs) or "(no meta-data)"


class StreamTreeModel(QAbstractItemModel):
    """Channels -> stream names -> meta-data variants, with lazy counts."""

    countsUpdated = Signal()
    filterApplied = Signal(int, float)  # matching streams, seconds taken

    def __init__(self, runner=None, parent=None):
        super().__init__(parent)
        self.runner = runner
        self.manager = None
        self.time_zone = UTC
        self._root = Node(CHANNEL, None, 0, "")
        self._filter = StreamFilter("")
        self._restriction = None   # None, or the set of frozenset(meta-data pairs) a stream must have (a plate)
        self._search: dict = {}            # channel_id -> list of (stream, text, folded)
        self._counts: dict = {}            # stream key -> int or Exception text (str)
        self._stale_counts: dict = {}      # the previous figures, shown until the new count arrives
        self._pending_counts: dict = {}    # stream key -> stream
        self._counting = (self, "counts")   # JobRunner.latest key of the count jobs (one at a time)
        self._nodes_by_key: dict = {}      # stream key -> node showing it
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(20)
        self._count_timer.timeout.connect(self._flush_counts)
        self.matched = 0
        self._built_keys: dict = {}

    # -- building -----------------------------------------------------------------
    def set_manager(self, manager) -> None:
        self.manager = manager
        self._search.clear()
        self._counts.clear()
        self._stale_counts.clear()
        self._pending_counts.clear()
        if self.runner is not None:
            self.runner.cancel_latest(self._counting)   # counts of the previous manager's streams
        self._rebuild()
        self._index_in_background()

    def _forget_counts(self) -> None:
        """Ask every count again, but keep showing the old figure until the new one arrives (no "…" flash)."""
        self._stale_counts.update(self._counts)
        self._counts.clear()

    def reload(self) -> None:
        """Re-read stream lists from the (already refreshed) channels; counts are asked again."""
        self._search.clear()
        self._forget_counts()
        self._pending_counts.clear()
        self._rebuild()

    def refresh_data(self) -> bool:
        """After a job wrote or purged data: rebuild only if streams came or went (returns True then);
        otherwise just forget the cached counts, which visible rows ask again when repainted."""
        if self.stream_keys() != self._built_keys:
            self.reload()
            return True
        self._forget_counts()
        self._pending_counts.clear()
        return False

    def stream_keys(self) -> dict:
        """``channel_id -> set of StreamIds`` as the model shows them (unfiltered snapshot)."""
        if self.manager is None:
            return {}
        return {cid: set(ch.streams.keys()) for cid, ch in list(self.manager.channels.items())}

    def _rebuild(self) -> None:
        t0 = time.perf_counter()
        self._built_keys = self.stream_keys()
        self.beginResetModel()
        self._root = Node(CHANNEL, None, 0, "")
        self._nodes_by_key = {}
        self._group_of = {}       # stream key -> its name row, for groups whose total waits on counts
        matched = 0
        if self.manager is not None:
            for cid, channel in list(self.manager.channels.items()):
                streams = list(channel.streams.values())
                if self._restriction is not None:
                    streams = [s for s in streams if frozenset(s.stream_id.meta_data) in self._restriction]
                    if not streams:
                        continue
                if self._filter:
                    streams = self._filtered(cid, streams)
                    if not streams:
                        continue
                matched += len(streams)
                node = Node(CHANNEL, self._root, len(self._root.children), cid, channel=channel)
                node.source = streams
                self._root.children.append(node)
        self.matched = matched
        self.endResetModel()
        self.filterApplied.emit(matched, time.perf_counter() - t0)

    def _filtered(self, cid, streams) -> list:
        entries = self._search.get(cid)
        if entries is None or len(entries) != len(streams):
            entries = self._search[cid] = search_entries(streams)
        f = self._filter
        return [s for s, text, folded in entries if f.matches(text, folded)]

    def _index_in_background(self) -> None:
        """Prepare the filter's search texts in a job, so the first filter is as fast as the next."""
        if self.runner is None or self.manager is None:
            return
        snapshot = {cid: list(ch.streams.values()) for cid, ch in list(self.manager.channels.items())}
        if sum(len(v) for v in snapshot.values()) < 2000:
            return
        manager = self.manager

        def done(result):
            if manager is self.manager:
                for cid, entries in result.items():
                    self._search.setdefault(cid, entries)

        self.runner.submit("Index stream names for the filter", _build_search_index, snapshot, kind=JobKind.COUNT,
                           owner=self, on_result=done)

    def set_filter(self, text: str) -> int:
        """Show only streams matching ``text``; returns how many match."""
        new = StreamFilter(text)
        if new.text == self._filter.text:
            return self.matched
        self._filter = new
        self._rebuild()
        return self.matched

    def set_restriction(self, meta_sets) -> int:
        """Show only streams whose meta-data is one of ``meta_sets`` (a plate's values; None: every stream)."""
        self._restriction = None if meta_sets is None else set(meta_sets)
        self._rebuild()
        return self.matched

    @property
    def filter_text(self) -> str:
        return self._filter.text

    def _prepare(self, node: Node) -> None:
        if node.pending is not None:
            return
        if node.kind == CHANNEL:
            groups: dict = {}
            for s in node.source or ():
                groups.setdefault(s.stream_id.name, []).append(s)
            node.pending = sorted(groups.items(), key=lambda kv: kv[0].casefold())
        elif node.kind == NAME and node.stream is None:
            node.pending = sorted(node.source, key=lambda s: s.stream_id.meta_data)
        else:
            node.pending = []

    def _materialise(self, parent: Node, items) -> None:
        base = len(parent.children)
        # under a filter the rows are a subset: show them whole
        common = common_pairs(parent.source) if parent.kind == NAME and parent.source and not self._filter else set()
        for i, item in enumerate(items):
            if parent.kind == CHANNEL:
                name, variants = item
                child = Node(NAME, parent, base + i, name, channel=parent.channel, name=name)
                child.source = variants
                if len(variants) == 1 and not variants[0].stream_id.meta_data:
                    child.stream = variants[0]
                    child.pending = []
                    self._nodes_by_key[stream_key(child.stream)] = child
            else:
                s = item
                label = variant_label(s.stream_id, common)
                child = Node(STREAM, parent, base + i, label, channel=parent.channel, stream=s, name=parent.name)
                child.pending = []
                self._nodes_by_key[stream_key(s)] = child
            parent.children.append(child)

    # -- Qt model API ---------------------------------------------------------------
    def _node(self, index: QModelIndex) -> Node:
        if not index.isValid():
            return self._root
        return index.internalPointer()

    def index(self, row, column, parent=QModelIndex()):
        node = self._node(parent)
        if 0 <= row < len(node.children) and 0 <= column < len(COLUMNS):
            return self.createIndex(row, column, node.children[row])
        return QModelIndex()

    def parent(self, index=None):
        if index is None:
            return super().parent()
        if not index.isValid():
            return QModelIndex()
        node = index.internalPointer()
        p = node.parent
        if p is None or p is self._root:
            return QModelIndex()
        return self.createIndex(p.row, 0, p)

    def rowCount(self, parent=QModelIndex()):
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent=QModelIndex()):
        return len(COLUMNS)

    def hasChildren(self, parent=QModelIndex()):
        node = self._node(parent)
        if node is self._root:
            return bool(node.children)
        if node.children:
            return True
        if node.kind == CHANNEL:
            return bool(node.source)
        if node.kind == NAME:
            return node.stream is None
        return False

    def canFetchMore(self, parent):
        node = self._node(parent)
        if node is self._root or node.kind == STREAM:
            return False
        self._prepare(node)
        return bool(node.pending)

    def fetchMore(self, parent):
        node = self._node(parent)
        if node is self._root:
            return
        self._prepare(node)
        if not node.pending:
            return
        batch, node.pending = node.pending[:FETCH_BATCH], node.pending[FETCH_BATCH:]
        first = len(node.children)
        self.beginInsertRows(parent, first, first + len(batch) - 1)
        self._materialise(node, batch)
        self.endInsertRows()

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        node = index.internalPointer()
        if node.kind != CHANNEL:
            f |= Qt.ItemFlag.ItemIsDragEnabled
        return f

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        node: Node = index.internalPointer()
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_NAME:
                return node.label
            if col == COL_COUNT:
                return self._count_text(node)
            if col == COL_CALC:
                if node.stream is not None:
                    return describe_coverage(node.stream.calculated_intervals, self.time_zone, short=True)
                if node.kind == NAME:
                    n = len(node.source)
                    return f"{n:,} variant{'s' if n != 1 else ''}"
                return ""
            if col == COL_UPDATED:
                if node.stream is not None:
                    return short_time(node.stream.last_updated, self.time_zone)
                return ""
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COL_COUNT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(node)
        if role == Qt.ItemDataRole.DecorationRole and col == COL_NAME:
            return self._icon(node)
        if role == StreamRole:
            return node.stream
        if role == KeyRole:
            if node.stream is not None:
                return stream_key(node.stream)
            return (node.channel.channel_id, node.name) if node.kind == NAME else (node.label,)
        return None

    def _icon(self, node):
        style = QGuiApplication.instance().style() if hasattr(QGuiApplication.instance(), "style") else None
        if style is None:
            return None
        if node.kind == CHANNEL:
            ro = getattr(node.channel, "read_only", False)
            return style.standardIcon(QStyle.StandardPixmap.SP_DirClosedIcon if ro else
                                      QStyle.StandardPixmap.SP_DriveHDIcon)
        if node.stream is None:
            return style.standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        return style.standardIcon(QStyle.StandardPixmap.SP_FileIcon)

    def _tooltip(self, node):
        if node.kind == CHANNEL:
            ch = node.channel
            return f"channel {ch.channel_id} ({type(ch).__name__}), {len(node.source or ())} streams"
        if node.stream is None:
            return f"{node.name}: {len(node.source)} meta-data variants"
        s = node.stream
        lines = [str(s.stream_id), f"channel: {s.channel.channel_id}"]
        ivs = list(s.calculated_intervals)
        if ivs:
            lines.append("calculated:")
            lines += [f"  {iv}" for iv in ivs[:8]]
            if len(ivs) > 8:
                lines.append(f"  … and {len(ivs) - 8} more")
        if s.last_updated is not None:
            lines.append(f"last updated: {format_time(s.last_updated, self.time_zone)}")
        err = self._counts.get(stream_key(s))
        if isinstance(err, str):
            lines.append(f"count failed: {err}")
        return "\n".join(lines)

    # -- counts --------------------------------------------------------------------------
    def _count_text(self, node: Node) -> str:
        if node.kind == CHANNEL:
            n = len(node.source or ())
            return f"{n:,} stream{'s' if n != 1 else ''}"
        if node.stream is not None:
            key = stream_key(node.stream)
            c = self._counts.get(key)
            if c is None:
                self._request_count(key, node.stream)
                c = self._stale_counts.get(key)
                if c is None:
                    return "…"
            return "?" if isinstance(c, str) else format_count(c)
        # a name with several variants: the sum, when every variant is known (ask only for small groups)
        total = 0
        for s in node.source:
            c = self._counts.get(stream_key(s))
            if c is None:
                if len(node.source) <= 50:
                    self._group_of[stream_key(s)] = node   # so the total shows when the counts come, unopened
                    self._request_count(stream_key(s), s)
                    c = self._stale_counts.get(stream_key(s))
                    if c is None:
                        total = None
                        continue
                else:
                    return ""
            if isinstance(c, str):
                return "?"
            if total is not None:
                total += c
        return "…" if total is None else format_count(total)

    def _request_count(self, key, stream) -> None:
        if self.runner is None or key in self._pending_counts:
            return
        self._pending_counts[key] = stream
        if not self._count_timer.isActive() and not self.runner.pending(self._counting):
            self._count_timer.start()

    def _flush_counts(self) -> None:
        if self.runner.pending(self._counting) or not self._pending_counts:
            return
        keys = list(self._pending_counts)[:COUNT_BATCH]
        streams = [self._pending_counts[k] for k in keys]
        self.runner.latest(
            self._counting, f"Count instances of {len(streams)} stream{'s' if len(streams) != 1 else ''}",
            _count_streams, streams, kind=JobKind.COUNT, owner=self,
            on_result=lambda result: self._on_counts(keys, result),
            on_error=lambda msg: self._on_counts(keys, {k: msg for k in keys}),
            on_cancel=lambda: self._on_counts(keys, {}))

    def _on_counts(self, keys, result: dict) -> None:
        for k in keys:
            self._pending_counts.pop(k, None)
        touched = set()
        for key, value in result.items():
            self._counts[key] = value
            node = self._nodes_by_key.get(key)
            if node is not None:
                touched.add(node)
                if node.kind == STREAM:
                    touched.add(node.parent)
            group = self._group_of.pop(key, None)
            if group is not None:
                touched.add(group)
        for node in touched:
            idx = self.createIndex(node.row, COL_COUNT, node)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DisplayRole])
        self.countsUpdated.emit()
        if self._pending_counts:
            self._count_timer.start()

    def counts_pending(self) -> bool:
        return bool(self._pending_counts) or (self.runner is not None and self.runner.pending(self._counting))

    # -- lookups -------------------------------------------------------------------------
    def stream_for_index(self, index):
        return self._node(index).stream if index.isValid() else None

    def streams_for_index(self, index) -> list:
        return self._node(index).streams() if index.isValid() else []

    def find_index(self, channel_id, stream_id=None, name=None) -> QModelIndex:
        """Index of a channel, name or stream row, fetching batches as needed; invalid if filtered out."""
        chan = next((n for n in self._root.children if n.label == channel_id), None)
        if chan is None:
            return QModelIndex()
        parent_idx = self.createIndex(chan.row, 0, chan)
        if stream_id is None and name is None:
            return parent_idx
        name = name if name is not None else stream_id.name
        name_node = self._find_child(parent_idx, chan, lambda n: n.name == name)
        if name_node is None:
            return QModelIndex()
        name_idx = self.createIndex(name_node.row, 0, name_node)
        if stream_id is None or name_node.stream is not None:
            return name_idx if (stream_id is None or name_node.stream.stream_id == stream_id) else QModelIndex()
        leaf = self._find_child(name_idx, name_node, lambda n: n.stream.stream_id == stream_id)
        return self.createIndex(leaf.row, 0, leaf) if leaf is not None else QModelIndex()

    def _find_child(self, parent_idx, node, pred):
        while True:
            for child in node.children:
                if pred(child):
                    return child
            if not self.canFetchMore(parent_idx):
                return None
            self.fetchMore(parent_idx)

    def mimeTypes(self):
        return [STREAM_MIME, "text/plain"]

    def mimeData(self, indexes):
        seen, streams = set(), []
        for idx in indexes:
            for s in self.streams_for_index(idx):
                k = stream_key(s)
                if k not in seen:
                    seen.add(k)
                    streams.append(s)
        return streams_to_mime(streams)

    def supportedDragActions(self):
        return Qt.DropAction.CopyAction


def _build_search_index(ctx, snapshot) -> dict:
    out = {}
    for cid, streams in snapshot.items():
        ctx.check()
        out[cid] = search_entries(streams)
    return out


def _count_streams(ctx, streams) -> dict:
    """Job: total instance count of each stream (an error becomes that stream's text)."""
    out = {}
    n = len(streams)
    for i, s in enumerate(streams):
        ctx.check()
        try:
            out[stream_key(s)] = s.window(TimeInterval.all_time()).count()
        except Exception as e:  # noqa: BLE001 - one bad stream must not hide the others' counts
            out[stream_key(s)] = f"{type(e).__name__}: {e}"
        if i % 20 == 0:
            ctx.report(i / n, str(s.stream_id))
    return out


__all__ = ["StreamTreeModel", "Node", "COLUMNS", "COL_NAME", "COL_COUNT", "COL_CALC", "COL_UPDATED", "StreamRole",
           "KeyRole", "FETCH_BATCH", "COUNT_BATCH", "CHANNEL", "NAME", "STREAM", "stream_key", "format_count"]
