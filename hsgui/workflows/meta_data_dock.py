"""The Meta-data dock: the meta-data tree (tag = data, with identifiers) and the plates defined over it;
selecting a plate asks the shell to show only the streams over that plate."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget


#: a meta-data tree of at most this many items opens two levels when shown
OPEN_BELOW = 1_000


class MetaDataDock(QWidget):
    sigPlateSelected = Signal(object, object)   # plate id | None, set of frozenset(meta-data pairs) | None

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = None
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Meta-data", "Identifier"])
        self.tree.setColumnWidth(0, 180)
        self.plates = QTreeWidget()
        self.plates.setHeaderLabels(["Plate", "Meta-data", "Values", "Description"])
        self.plates.setColumnWidth(0, 90)
        self.plates.itemSelectionChanged.connect(self._plate_selected)
        self.tree.itemExpanded.connect(self._tree_expanded)
        self.plates.itemExpanded.connect(self._plate_expanded)
        self.hint = QLabel("")
        self.hint.setWordWrap(True)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tree)
        split.addWidget(self.plates)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(split, 1)
        lay.addWidget(self.hint)

    def set_model(self, model) -> None:
        """Show ``model``'s meta-data tree and plates. Rows are made when their parent opens (a 100-home deployment
        has 7,300 meta-data items and as many plate values: making them all stalled the window ~0.1 s); a tree of
        at most ``OPEN_BELOW`` items opens two levels, a larger one shows its top level folded."""
        self.model = model
        self.tree.clear()
        self.plates.clear()
        if model is None:
            self.hint.setText("")
            return
        # the tree's top level only (its items know their children: no pass over the 7,300 items here); a small
        # tree gets the rows of its two open levels made here and opened in one pass (opening ~200 items one by
        # one laid the tree out and called _tree_expanded for each: ~4 ms, several times that while jobs run)
        depth = 2 if len(model.tree) <= OPEN_BELOW else 0
        self._add_items(self.tree.invisibleRootItem(), model.tree.root.children, depth)
        if depth:
            self.tree.expandToDepth(depth - 1)
        for pid, plate in model.plates.items():
            d = next((p for p in model.plate_definitions if p.plate_id == pid), None)
            row = QTreeWidgetItem(self.plates, [pid, ".".join(plate.meta_data_ids), str(len(plate.values)),
                                                d.description if d else ""])
            row.setData(0, Qt.ItemDataRole.UserRole, pid)
            if plate.values:
                row.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
        self.hint.setText(f"{len(model.tree)} meta-data items, {len(model.plates)} plates"
                          + (f"; {len(model.errors)} problem(s): {model.errors[0][1]}" if model.errors else "")
                          + (". Select a plate to show only its streams." if model.plates else ""))

    def _add_items(self, parent, items, depth: int = 0) -> None:
        """Rows for ``items`` under ``parent``, and ``depth`` levels of their children (rows of deeper items are
        made when their parent opens)."""
        rows = []
        for it in items:
            row = QTreeWidgetItem([f"{it.tag} = {it.data}", it.identifier])
            if it.children:
                if depth:
                    self._add_items(row, it.children, depth - 1)
                else:
                    row.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
            rows.append(row)
        parent.addChildren(rows)

    def _tree_expanded(self, row) -> None:
        if row.childCount() == 0 and self.model is not None:
            item = self.model.tree[row.text(1)] if row.text(1) in self.model.tree else None
            self._add_items(row, item.children if item is not None else ())

    def _plate_expanded(self, row) -> None:
        pid = row.data(0, Qt.ItemDataRole.UserRole)
        if row.childCount() == 0 and self.model is not None and pid in self.model.plates:
            for v in self.model.plates[pid].values:
                child = QTreeWidgetItem(row, [", ".join(f"{k}={x}" for k, x in v)])
                child.setFirstColumnSpanned(True)

    def _plate_selected(self) -> None:
        items = self.plates.selectedItems()
        pid = None
        for it in items:
            node = it if it.parent() is None else it.parent()
            pid = node.data(0, Qt.ItemDataRole.UserRole)
        if pid is None or self.model is None:
            self.sigPlateSelected.emit(None, None)
            return
        self.sigPlateSelected.emit(pid, {frozenset(v) for v in self.model.plates[pid].values})


__all__ = ["MetaDataDock"]
