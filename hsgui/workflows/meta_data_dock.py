"""The Meta-data dock: the meta-data tree (tag = data, with identifiers) and the plates defined over it;
selecting a plate asks the shell to show only the streams over that plate."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget


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
        self.model = model
        self.tree.clear()
        self.plates.clear()
        if model is None:
            self.hint.setText("")
            return
        items = {}
        for it in model.tree:
            parent = items.get(it.parent, self.tree.invisibleRootItem())
            row = QTreeWidgetItem(parent, [f"{it.tag} = {it.data}", it.identifier])
            items[it.identifier] = row
        self.tree.expandToDepth(1)
        for pid, plate in model.plates.items():
            d = next((p for p in model.plate_definitions if p.plate_id == pid), None)
            row = QTreeWidgetItem(self.plates, [pid, ".".join(plate.meta_data_ids), str(len(plate.values)),
                                                d.description if d else ""])
            row.setData(0, Qt.ItemDataRole.UserRole, pid)
            for v in plate.values:
                child = QTreeWidgetItem(row, [", ".join(f"{k}={x}" for k, x in v)])
                child.setFirstColumnSpanned(True)
        self.hint.setText(f"{len(model.tree)} meta-data items, {len(model.plates)} plates"
                          + (f"; {len(model.errors)} problem(s): {model.errors[0][1]}" if model.errors else "")
                          + (". Select a plate to show only its streams." if model.plates else ""))

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
