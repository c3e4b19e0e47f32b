"""The channel/stream tree model: channel -> stream name -> meta-data variant.

A real ``QAbstractItemModel`` over the channel manager's channels (no copy into
a QStandardItemModel); see :mod:`hsgui.browse.stream_tree` for how it stays
cheap on 150,000 streams: a channel whose streams are not in memory yet (a large store's, see
:attr:`BaseChannel.listed`) is listed in a background job while its row says so; one
:class:`~hsgui.common.stream_filter.StreamIndex` per channel (a large channel's built in slices between
events), a filter is a numpy mask over it, rows
are made only for what the view shows (lazy nodes, batched ``fetchMore``), counts
only for painted rows, computed in background jobs.
"""
from __future__ import annotations

import logging
import time

import numpy as np
from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QStyle)

from channels.time_interval import TimeInterval
from channels.utils import UTC

from hsgui.common.background import JobKind
from hsgui.common.mime import STREAM_MIME, streams_to_mime
from hsgui.common.stream_filter import StreamFilter, StreamIndex, list_streams, stream_list_key
from hsgui.common.timefmt import describe_coverage, format_time, short_time

log = logging.getLogger(__name__)

CHANNEL, NAME, STREAM = 0, 1, 2
COL_NAME, COL_COUNT, COL_CALC, COL_UPDATED = range(4)
COLUMNS = ("Stream", "Count", "Calculated", "Last updated")
FETCH_BATCH = 500
COUNT_BATCH = 200
SYNC_INDEX = 10_000      # a channel with more streams is indexed in slices between events (~4 ms / 1,000 streams)
BUILD_SLICE_S = 0.004    # how long one slice of that indexing may take (a slice ends after the step that passes it)
COUNT_SETTLE_S = 0.3     # counts of the rows a new filter shows are asked once it has rested this long
FEW = 300                # a filter with at most this many matches has every row made (and the tree opens them all)
_CHANNEL_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_ROW_FLAGS = _CHANNEL_FLAGS | Qt.ItemFlag.ItemIsDragEnabled
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_ICONS = {"read_only": QStyle.StandardPixmap.SP_DirClosedIcon, "channel": QStyle.StandardPixmap.SP_DriveHDIcon,
          "name": QStyle.StandardPixmap.SP_DirIcon, "stream": QStyle.StandardPixmap.SP_FileIcon}
StreamRole = Qt.ItemDataRole.UserRole + 1
KeyRole = Qt.ItemDataRole.UserRole + 2
_DISPLAY, _ALIGN, _TOOLTIP, _DECORATION = (int(r) for r in (
    Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.ToolTipRole,
    Qt.ItemDataRole.DecorationRole))
_ROLES = frozenset((_DISPLAY, _ALIGN, _TOOLTIP, _DECORATION, int(StreamRole), int(KeyRole)))


def stream_key(stream) -> tuple:
    return (stream.channel.channel_id, stream.stream_id)




def format_count(n) -> str:
    return f"{n:,}"


# -- nodes --------------------------------------------------------------------------
class Node:
    """A row. A CHANNEL row holds its channel's index and the mask of the streams it shows (None: all of them);
    a NAME row is one name group of that index; a STREAM row one stream."""
    __slots__ = ("kind", "parent", "row", "label", "channel", "stream", "name", "children", "pending", "index",
                 "mask", "group", "count", "total", "_positions", "listing", "__weakref__")

    def __init__(self, kind, parent, row, label, channel=None, stream=None, name=None):
        self.kind = kind
        self.parent = parent
        self.row = row
        self.label = label
        self.channel = channel
        self.stream = stream          # the stream this row stands for (STREAM rows, single-variant NAME rows)
        self.name = name
        self.children: list[Node] = []
        self.pending = None           # items still to become children (None = not prepared yet)
        self.index = None             # CHANNEL, NAME: the channel's StreamIndex (None while it is being built)
        self.mask = None              # CHANNEL, NAME: the streams shown (None: every stream of the index)
        self.group = None             # NAME: its group in the index
        self.count = 0                # CHANNEL, NAME: how many streams it shows
        self._positions = None
        self.total = None             # NAME: (count generation, the sum's text)
        self.listing = None           # CHANNEL: what its row says while its streams are being listed (a job)

    def positions(self):
        """NAME: the positions (in its index) of the variants shown, in index order."""
        if self._positions is None:
            self._positions = self.index.positions(self.group, self.mask)
        return self._positions

    def streams(self) -> list:
        """Every stream under this node (for Plot / drag on a name or channel)."""
        if self.stream is not None:
            return [self.stream]
        if self.kind == NAME:
            return self.index.take(self.index.variants(self.group, self.mask))
        if self.kind == CHANNEL:
            if self.index is None:   # being listed (nothing to give yet) or indexed
                return list(self.channel.streams.values()) if self.channel.listed else []
            return self.index.streams.tolist() if self.mask is None else self.index.take(np.flatnonzero(self.mask))
        return []


def common_pairs(streams) -> set:
    """The ``(key, value)`` pairs every one of several variants has: they do not tell the rows apart."""
    if len(streams) < 2:
        return set()
    metas = iter(dict.fromkeys(s.stream_id.meta_data for s in streams))
    common = set(next(metas))
    for meta in metas:
        common &= set(meta)
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
    listingChanged = Signal()           # a channel's listing started, said how many streams, or ended
    filterApplied = Signal(int, float)  # matching streams, seconds taken

    def __init__(self, runner=None, parent=None):
        super().__init__(parent)
        self.runner = runner
        self.manager = None
        self.time_zone = UTC
        self._root = Node(CHANNEL, None, 0, "")
        self._filter = StreamFilter("")
        self._restriction = None   # None, or the set of frozenset(meta-data pairs) a stream must have (a plate)
        self._counts_of: dict = {}         # channel_id -> how many streams it had then
        self._indexes: dict = {}           # channel_id -> StreamIndex of those streams (or of the previous ones)
        self._building: dict = {}          # channel_id -> StreamIndex being built (large channels)
        self._listing: dict = {}           # channel_id -> what its row says while a job lists its streams
        self._unlisted: dict = {}          # channel_id -> why its listing failed (until the next reload)
        self._build_timer = QTimer(self)
        self._build_timer.setInterval(0)
        self._build_timer.timeout.connect(self._build_step)
        self._rebuild_due = False          # an index changed what the rows show: rebuilt at the next slice
        self._counts: dict = {}            # stream key -> int or Exception text (str)
        self._count_gen = 0                # changes whenever a count comes or is forgotten
        self._stale_counts: dict = {}      # the previous figures, shown until the new count arrives
        self._pending_counts: dict = {}    # stream key -> stream
        self._counting = (self, "counts")   # JobRunner.latest key of the count jobs (one at a time)
        self._nodes_by_key: dict = {}      # stream key -> node showing it
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(20)
        self._count_timer.timeout.connect(self._flush_counts)
        self._counts_after = 0.0           # time.monotonic() before which no count job starts (typing a filter)
        self._totals_timer = QTimer(self)  # once the filter rests: the name rows' totals, deferred while typing
        self._totals_timer.setSingleShot(True)
        self._totals_timer.timeout.connect(self._show_totals)
        self.matched = 0
        self.restricted = None             # streams the restriction alone keeps (None: no restriction)
        self.all_rows_made = False         # the last rebuild made every row (a filter with at most FEW matches)
        self._icons: dict = {}

    # -- building -----------------------------------------------------------------
    def set_manager(self, manager) -> None:
        self.manager = manager
        self._count_gen += 1
        for cid in list(self._listing):   # the previous store's listings: nothing of them is shown
            self.runner.cancel_latest((self, "list", cid))
        self._listing.clear()
        self._unlisted.clear()
        self._indexes.clear()
        self._counts.clear()
        self._stale_counts.clear()
        self._pending_counts.clear()
        if self.runner is not None:
            self.runner.cancel_latest(self._counting)   # counts of the previous manager's streams
        self._load()

    def _forget_counts(self) -> None:
        """Ask every count again, but keep showing the old figure until the new one arrives (no "…" flash)."""
        self._count_gen += 1
        self._stale_counts.update(self._counts)
        self._counts.clear()

    def reload(self) -> None:
        """Re-read stream lists from the (already refreshed) channels; counts are asked again."""
        self._unlisted.clear()
        self._forget_counts()
        self._pending_counts.clear()
        self._load()

    def refresh_data(self) -> bool:
        """After a job wrote or purged data: rebuild only if streams came or went (returns True then);
        otherwise just forget the cached counts, which visible rows ask again when repainted."""
        lists = self._stream_lists()
        if set(lists) != {cid for cid, n in self._counts_of.items() if n is not None} or \
                any(not self._same(cid, streams) for cid, streams in lists.items()):
            self.reload()
            return True
        self._forget_counts()
        self._pending_counts.clear()
        return False

    def snapshot(self) -> dict:
        """``channel_id -> key of its streams`` (:func:`~hsgui.common.stream_filter.stream_list_key`): compare two
        to see whether streams came or went; cheap on 150,000 streams (no StreamId is hashed)."""
        return {cid: stream_list_key(streams) for cid, streams in self._stream_lists().items()}

    def _same(self, cid: str, streams: list) -> bool:
        """Whether the index shown (or being built) for ``cid`` is of exactly ``streams``."""
        index = self._building.get(cid) or self._indexes.get(cid)
        return index is not None and len(index) == len(streams) and index.key == stream_list_key(streams)

    def _stream_lists(self) -> dict:
        """``channel_id -> its streams`` of the channels whose streams are in memory (listing one that is not
        reads every definition: a job's work, see :meth:`_list`)."""
        if self.manager is None:
            return {}
        return {cid: list(ch.streams.values()) for cid, ch in list(self.manager.channels.items())
                if ch.listed or self.runner is None}

    @property
    def indexing(self) -> bool:
        """A large channel is being listed or indexed: the tree (under a filter, its matches) is not complete
        yet."""
        return bool(self._building) or bool(self._listing) or self._rebuild_due

    @property
    def listing(self) -> bool:
        """A channel's streams are being listed in a job."""
        return bool(self._listing)

    @property
    def listing_text(self) -> str:
        """What is being listed, e.g. "listing 136,103 streams of mongo…" ("" when nothing is)."""
        return "; ".join(f"{text.rstrip('…')} of {cid}…" for cid, text in self._listing.items())

    def _list(self, cid: str, channel) -> None:
        """List ``channel``'s streams in a job (one per channel, cancelled with the store); the tree is rebuilt
        with them when it ends."""
        if cid in self._listing:
            return
        self._listing[cid] = "listing streams…"
        manager = self.manager
        self.listingChanged.emit()

        def progress(_fraction, text):
            if cid in self._listing and text:
                self._listing[cid] = text
                node = next((n for n in self._root.children if n.label == cid), None)
                if node is not None:
                    node.listing = text
                    a, b = self.createIndex(node.row, 0, node), self.createIndex(node.row, len(COLUMNS) - 1, node)
                    self.dataChanged.emit(a, b, [Qt.ItemDataRole.DisplayRole])
                self.listingChanged.emit()

        def ended(failure=None):
            if manager is self.manager and self._listing.pop(cid, None) is not None:
                if failure is not None:   # its row says why until the user refreshes (no retry loop)
                    self._unlisted[cid] = failure
                self._load()
                self.listingChanged.emit()

        self.runner.latest((self, "list", cid), f"List the streams of {cid}", list_streams, channel,
                           kind=JobKind.READ, owner=self, on_progress=progress, on_result=lambda _r: ended(),
                           on_error=lambda msg: ended(f"could not list its streams: {msg}"),
                           on_cancel=lambda: ended("not listed (cancelled): Refresh lists it"))

    def _load(self) -> None:
        """Read the channels' stream lists; index what changed (a large channel in slices between events: until
        its names are grouped, its previous index, or just its row, is shown); rebuild the rows."""
        lists = self._stream_lists()
        channels = self.manager.channels if self.manager is not None else {}
        # every channel in the manager's order; None: not listed yet (a job lists it)
        self._counts_of = {cid: len(lists[cid]) if cid in lists else None for cid in list(channels)}
        for cid, channel in list(channels.items()):
            if cid not in lists and cid not in self._unlisted:
                self._list(cid, channel)
        for cid in [c for c in self._indexes if c not in lists]:
            del self._indexes[cid]
        building, self._building = self._building, {}
        for cid, streams in lists.items():
            old = building.get(cid) or self._indexes.get(cid)
            # the same streams (compared only when there is an index of as many: a first listing costs no key)
            if old is not None and len(old) == len(streams) and old.key == stream_list_key(streams):
                if not old.searchable:
                    self._building[cid] = old         # its build goes on
                continue
            index = StreamIndex(streams)
            if len(streams) <= SYNC_INDEX:
                self._indexes[cid] = index.complete()
            else:
                self._building[cid] = index
        if self._building:
            self._build_timer.start()
        self._rebuild()

    def _build_step(self) -> None:
        """One slice of the indexes being built (a few ms, then the event loop runs again); the rows they change are
        made in a pass of their own (a slice, a reset and the repaint it brings in one pass held the loop ~3x
        as long as one slice)."""
        if self._rebuild_due:
            self._rebuild()
            if not self._building:
                self._build_timer.stop()
            return
        changed = False
        per = BUILD_SLICE_S / max(1, len(self._building))
        for cid, index in list(self._building.items()):
            was_grouped = index.grouped
            try:
                done = index.advance(per)
            except Exception:  # noqa: BLE001 - a bad stream list must not spin this timer forever
                log.exception("indexing the streams of channel %s failed", cid)
                del self._building[cid]
                continue
            # its names show as soon as they are grouped, unless a filter is applied to the previous index (then
            # that one stays until this one can be searched: no channel blinking out while it is re-indexed)
            if done or (index.grouped and not was_grouped and (cid not in self._indexes or not self._narrowed())):
                changed = changed or self._indexes.get(cid) is not index or self._narrowed()
                self._indexes[cid] = index
            if done:
                del self._building[cid]
        if changed:
            self._rebuild_due = True       # the next pass
        elif not self._building:
            self._build_timer.stop()

    def _narrowed(self) -> bool:
        return bool(self._filter) or self._restriction is not None

    def _rebuild(self) -> None:
        t0 = time.perf_counter()
        self._rebuild_due = False
        self.beginResetModel()
        self._root = Node(CHANNEL, None, 0, "")
        self._nodes_by_key = {}
        self._group_of = {}       # stream key -> its name row, for groups whose total waits on counts
        matched = restricted = 0
        narrowed = self._narrowed()
        channels = self.manager.channels if self.manager is not None else {}
        for cid, n in self._counts_of.items():
            channel = channels.get(cid)
            if channel is None:
                continue
            index = self._indexes.get(cid)
            node = Node(CHANNEL, self._root, len(self._root.children), cid, channel=channel)
            if index is None:                    # being listed or indexed: its row, and no children yet
                if narrowed:
                    continue
                if n is None:
                    node.listing = self._listing.get(cid) or self._unlisted.get(cid) or "listing streams…"
                else:
                    node.count = n
            else:
                if narrowed and not index.searchable:
                    continue                     # its search keys are being built: shown when they are
                if self._restriction is not None:
                    restricted += int(np.count_nonzero(index.mask(None, self._restriction)))
                node.index = index
                node.mask = index.mask(self._filter, self._restriction)
                node.count = len(index) if node.mask is None else int(np.count_nonzero(node.mask))
                if narrowed and not node.count:
                    continue
            matched += node.count
            self._root.children.append(node)
        self.matched = matched
        self.restricted = restricted if self._restriction is not None else None
        self.all_rows_made = bool(self._filter) and matched <= FEW
        if self.all_rows_made:       # made inside the reset: no insert signal per name
            for node in self._root.children:
                self._make_all(node)
        self.endResetModel()
        self.filterApplied.emit(matched, time.perf_counter() - t0)

    def set_filter(self, text: str) -> int:
        """Show only streams matching ``text``; returns how many match. Counts of the rows it shows are asked
        once the filter has rested ``COUNT_SETTLE_S``: a count job running next to the GUI thread slows every
        paint (each model call waits for the GIL), and the next keystroke would show other rows anyway."""
        new = StreamFilter(text)
        if new.text == self._filter.text:
            return self.matched
        self._filter = new
        self._counts_after = time.monotonic() + COUNT_SETTLE_S
        self._rebuild()
        return self.matched

    def set_restriction(self, meta_sets) -> int:
        """Show only streams whose meta-data is one of ``meta_sets`` (a plate's values; None: every stream)."""
        self._restriction = None if meta_sets is None else {frozenset(m) for m in meta_sets}
        self._rebuild()
        return self.matched

    @property
    def filter_text(self) -> str:
        return self._filter.text

    def _make_all(self, node: Node) -> None:
        self._prepare(node)
        self._materialise(node, node.pending)
        node.pending = []
        for child in node.children:
            if child.kind == NAME:
                self._make_all(child)

    def _prepare(self, node: Node) -> None:
        if node.pending is not None:
            return
        if node.kind == CHANNEL and node.index is not None:
            counts = node.index.group_counts(node.mask)
            node.pending = [(int(g), int(counts[g])) for g in np.flatnonzero(counts)]
        elif node.kind == NAME and node.stream is None:
            node.pending = node.index.variants(node.group, node.mask)
        else:
            node.pending = []

    def _materialise(self, parent: Node, items) -> None:
        base = len(parent.children)
        index = parent.index
        if parent.kind == NAME:
            # under a filter the rows are a subset: show them whole
            common = common_pairs(index.take(parent.positions())) if not self._filter else set()
            items = index.take(items)
        for i, item in enumerate(items):
            if parent.kind == CHANNEL:
                group, count = item
                name = index.names[group]
                child = Node(NAME, parent, base + i, name, channel=parent.channel, name=name)
                child.index, child.mask, child.group, child.count = index, parent.mask, group, count
                if count == 1:
                    s = index.streams[int(child.positions()[0])]
                    if not s.stream_id.meta_data:
                        child.stream = s
                        child.pending = []
                        self._nodes_by_key[stream_key(s)] = child
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
            return node.count > 0 or node.listing is not None
        if node.kind == NAME:
            return node.stream is None
        return False

    def canFetchMore(self, parent):
        node = self._node(parent)
        if node is self._root or node.kind == STREAM:
            return False
        self._prepare(node)
        return len(node.pending) > 0

    def fetchMore(self, parent):
        node = self._node(parent)
        if node is self._root:
            return
        self._prepare(node)
        if not len(node.pending):
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
        return _CHANNEL_FLAGS if index.internalPointer().kind == CHANNEL else _ROW_FLAGS

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role not in _ROLES or not index.isValid():   # a paint asks ~10 roles per cell: most answer nothing
            return None
        node: Node = index.internalPointer()
        col = index.column()
        if role == _DISPLAY:
            if col == COL_NAME:
                return node.label
            if col == COL_COUNT:
                return self._count_text(node)
            if col == COL_CALC:
                if node.stream is not None:
                    return describe_coverage(node.stream.calculated_intervals, self.time_zone, short=True)
                if node.kind == NAME:
                    n = node.count
                    return f"{n:,} variant{'s' if n != 1 else ''}"
                return ""
            if col == COL_UPDATED:
                if node.stream is not None:
                    return short_time(node.stream.last_updated, self.time_zone)
                return ""
            return None
        if role == _ALIGN:
            return _RIGHT if col == COL_COUNT else None
        if role == _TOOLTIP:
            return self._tooltip(node)
        if role == _DECORATION and col == COL_NAME:
            return self._icon(node)
        if role == StreamRole:
            return node.stream
        if role == KeyRole:
            if node.stream is not None:
                return stream_key(node.stream)
            return (node.channel.channel_id, node.name) if node.kind == NAME else (node.label,)
        return None

    def multiData(self, index, span) -> None:
        """Every role a paint asks of one cell, in one call. Qt 6's delegates ask ~7 roles per cell through this
        method, and Qt's own version calls :meth:`data` once per role: ~800 calls into Python for one reset of the
        tree, each of which waits for the GIL while a job runs Python (a 150 ms stall at 100 homes while the
        workflow's colouring ran). Here: one call per cell, the same values."""
        if not index.isValid():
            return
        for item in span:
            role = item.role()
            if role in _ROLES:
                item.setData(self.data(index, role))

    def _icon(self, node):
        if node.kind == CHANNEL:
            which = "read_only" if getattr(node.channel, "read_only", False) else "channel"
        else:
            which = "name" if node.stream is None else "stream"
        if which not in self._icons:
            style = QGuiApplication.instance().style() if hasattr(QGuiApplication.instance(), "style") else None
            if style is None:
                return None
            self._icons[which] = style.standardIcon(_ICONS[which])   # made once: standardIcon is slow per row
        return self._icons[which]

    def _tooltip(self, node):
        if node.kind == CHANNEL:
            ch = node.channel
            if node.listing is not None:
                return f"channel {ch.channel_id} ({type(ch).__name__}): {node.listing}"
            return f"channel {ch.channel_id} ({type(ch).__name__}), {node.count} streams"
        if node.stream is None:
            return f"{node.name}: {node.count} meta-data variants"
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
            if node.listing is not None:
                return "listing…" if node.label in self._listing else "not listed"
            n = node.count
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
        # a name with several variants: the sum, when every variant is known (ask only for small groups); kept
        # until a count comes or goes (a paint asks again and again, and summing means hashing each variant's id)
        if node.total is not None and node.total[0] == self._count_gen:
            return node.total[1]
        wait = self._counts_after - time.monotonic()
        if wait > 0:   # a filter is being typed: the sums once it rests (hashing every shown variant per keystroke)
            if not self._totals_timer.isActive():
                self._totals_timer.start(int(wait * 1000) + 1)
            return "…"
        node.total = (self._count_gen, self._name_total(node))
        return node.total[1]

    def rest_ms(self) -> int:
        """Milliseconds until the filter being typed has rested (0: it has): what can wait for it waits."""
        return max(0, int((self._counts_after - time.monotonic()) * 1000) + 1) if self._counts_after else 0

    def _show_totals(self) -> None:
        """The filter rests: the name rows shown ask for their totals (a repaint of their Count cells)."""
        wait = self._counts_after - time.monotonic()
        if wait > 0:
            self._totals_timer.start(int(wait * 1000) + 1)
            return
        for chan in self._root.children:
            if chan.children:
                parent = self.createIndex(chan.row, 0, chan)
                self.dataChanged.emit(self.index(0, COL_COUNT, parent),
                                      self.index(len(chan.children) - 1, COL_COUNT, parent),
                                      [Qt.ItemDataRole.DisplayRole])

    def _name_total(self, node: Node) -> str:
        total = 0
        streams = node.index.streams
        positions = node.positions()
        for i in (positions.tolist() if node.count <= 50 else positions):   # a big group: stops at the first uncounted
            s = streams[i]
            c = self._counts.get(stream_key(s))
            if c is None:
                if node.count <= 50:
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
        wait = self._counts_after - time.monotonic()
        if wait > 0:                 # the filter is being typed: count once it rests
            self._count_timer.start(int(wait * 1000) + 1)
            return
        self._count_timer.setInterval(20)
        keys = list(self._pending_counts)[:COUNT_BATCH]
        streams = [self._pending_counts[k] for k in keys]
        self.runner.latest(
            self._counting, f"Count instances of {len(streams)} stream{'s' if len(streams) != 1 else ''}",
            _count_streams, streams, kind=JobKind.COUNT, owner=self,
            on_result=lambda result: self._on_counts(keys, result),
            on_error=lambda msg: self._on_counts(keys, {k: msg for k in keys}),
            on_cancel=lambda: self._on_counts(keys, {}))

    def _on_counts(self, keys, result: dict) -> None:
        self._count_gen += 1
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
           "KeyRole", "FETCH_BATCH", "COUNT_BATCH", "SYNC_INDEX", "CHANNEL", "NAME", "STREAM", "stream_key",
           "format_count"]
