"""The asset editor: a typed form over the latest version of an asset stream.

Thin Qt layer over :mod:`hsgui.asset_model` (value trees, validation, raw JSON,
diff) and :mod:`hsgui.asset_schemas` (schema hints):

* :class:`AssetValueForm` — a tree of typed fields (key, type selector, value
  editor, note) with add / remove / rename / move, and a raw JSON view kept in
  sync both ways. Problems are marked at the field with the reason and listed
  in a summary; ``is_valid`` is False while any remain.
* :class:`AssetEditor` — the form for one asset stream plus Save (diff
  preview, then a new instance stamped now, written by a background job) and
  History (earlier versions read-only, diff against the current one, Restore).
* :class:`AssetEditorDialog`, :class:`CreateAssetDialog`.

Store reads and writes run through :class:`hsgui.jobs.JobRunner`; the GUI
thread never waits for the store.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta

from PySide6.QtCore import QDate, QDateTime, Qt, QTimer, QTimeZone, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QFontDatabase, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDateTimeEdit, QDialog, QDialogButtonBox,
                               QFormLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QMenu, QMessageBox, QPlainTextEdit, QPushButton,
                               QSplitter, QTabWidget, QTextEdit, QToolButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from channels.errors import ChannelsError, StreamIdError
from channels.stream import Stream, StreamId, StreamInstance, get_stream_id
from channels.time_interval import TimeInterval
from channels.utils import EPOCH, utcnow

from .asset_model import (KIND_LABELS, KINDS, AssetValueError, JsonTextError, Node, allowed_kinds, blank_like,
                          datetime_text, default_for_schema, diff_values, format_diff, kind_of, parse_json_text,
                          problems_by_node, same_value, scalar_text, schema_for_node, summarize_diff,
                          to_json_text, tree_from_value, validate_tree)
from .asset_schemas import schema_for_stream
from .meta_editor import MetaDataEditor

COL_KEY, COL_TYPE, COL_VALUE, COL_NOTE = range(4)
ERROR_COLOR = QColor("#c62828")
NOTE_COLOR = QColor("#6d6d6d")
_INVALID_STYLE = "border: 1px solid #c62828; background: #fdecea;"
_UTC = QTimeZone.utc()


class AssetConflictError(ChannelsError):
    """The asset got a newer version (from someone else) since the editor loaded it."""


def _qdt(dt: datetime) -> QDateTime:
    delta = dt - EPOCH
    ms = (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000
    return QDateTime.fromMSecsSinceEpoch(ms, _UTC)


def _pydt(qdt: QDateTime) -> datetime:
    return EPOCH + timedelta(milliseconds=qdt.toMSecsSinceEpoch())


def _mono_font() -> QFont:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


def _set_invalid(widget: QWidget, messages) -> None:
    widget.setStyleSheet(_INVALID_STYLE if messages else "")
    widget.setToolTip("\n".join(messages) if messages else "")


def stream_title(stream_id: StreamId) -> str:
    meta = ", ".join(f"{k}={v}" for k, v in stream_id.meta_data)
    return stream_id.name + (f"  [{meta}]" if meta else "")


# ---------------------------------------------------------------------------------------------------------
# the form
# ---------------------------------------------------------------------------------------------------------

class AssetValueForm(QWidget):
    """A value as a tree of typed fields plus its raw JSON, kept in sync both ways."""

    sigEdited = Signal()                 # any change the user made (form or raw JSON)
    sigValidityChanged = Signal(bool)

    RAW_DELAY_MS = 250

    def __init__(self, parent=None, read_only: bool = False):
        super().__init__(parent)
        self.read_only = read_only
        self.schema: dict | None = None
        self.root: Node = tree_from_value({})
        self.problems = []
        self.raw_error: JsonTextError | None = None
        self._valid = True
        self._items: dict[int, QTreeWidgetItem] = {}
        self._nodes: dict[int, Node] = {}
        self._widgets: dict[int, dict] = {}
        self._setting_raw = False
        self._raw_timer = QTimer(self, singleShot=True, interval=self.RAW_DELAY_MS)
        self._raw_timer.timeout.connect(self.apply_raw_text)

        # toolbar
        self.add_button = QToolButton(text="Add", toolTip="Add a key to the selected object or an item to the "
                                                          "selected list (after the selected field)")
        self.add_menu = QMenu(self)
        self.add_button.setMenu(self.add_menu)
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.remove_button = QToolButton(text="Remove", toolTip="Remove the selected field (Delete)")
        self.rename_button = QToolButton(text="Rename", toolTip="Edit the selected key (F2)")
        self.up_button = QToolButton(text="Move up", toolTip="Move the selected field up (Alt+Up)")
        self.down_button = QToolButton(text="Move down", toolTip="Move the selected field down (Alt+Down)")
        self.raw_toggle = QToolButton(text="Raw JSON", checkable=True, checked=True,
                                      toolTip="Show the value as JSON text (editable; stays in sync with the form)")
        self.add_button.clicked.connect(self.add_to_selection)
        self.remove_button.clicked.connect(self.remove_selected)
        self.rename_button.clicked.connect(self.rename_selected)
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button.clicked.connect(lambda: self.move_selected(1))
        self.raw_toggle.toggled.connect(lambda on: self.raw_panel.setVisible(on))
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for b in (self.add_button, self.remove_button, self.rename_button, self.up_button, self.down_button):
            bar.addWidget(b)
        bar.addStretch(1)
        bar.addWidget(self.raw_toggle)
        self.toolbar = QWidget()
        self.toolbar.setLayout(bar)
        self.toolbar.setVisible(not read_only)

        # the tree
        self.tree = QTreeWidget()
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["Key", "Type", "Value", "Note"])
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setUniformRowHeights(False)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setSectionResizeMode(COL_KEY, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_TYPE, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_VALUE, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.tree.setColumnWidth(COL_KEY, 190)
        self.tree.setColumnWidth(COL_VALUE, 230)
        self.tree.currentItemChanged.connect(lambda *_: self._update_actions())
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.raw_blocked_label = QLabel("The raw JSON has an error — fix it there; the form shows the last valid "
                                        "value.")
        self.raw_blocked_label.setStyleSheet("color: #c62828;")
        self.raw_blocked_label.setWordWrap(True)
        self.raw_blocked_label.hide()
        for text, key, slot in (("Remove", Qt.Key.Key_Delete, self.remove_selected),
                                ("Rename", Qt.Key.Key_F2, self.rename_selected)):
            act = QAction(text, self.tree, shortcut=key, shortcutContext=Qt.ShortcutContext.WidgetShortcut)
            act.triggered.connect(slot)
            self.tree.addAction(act)
        for delta, key in ((-1, Qt.Key.Key_Up), (1, Qt.Key.Key_Down)):
            act = QAction(self.tree, shortcut=Qt.KeyboardModifier.AltModifier | key,
                          shortcutContext=Qt.ShortcutContext.WidgetShortcut)
            act.triggered.connect(lambda _=False, d=delta: self.move_selected(d))
            self.tree.addAction(act)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.toolbar)
        lv.addWidget(self.raw_blocked_label)
        lv.addWidget(self.tree)

        # raw JSON
        self.raw_edit = QPlainTextEdit()
        self.raw_edit.setFont(_mono_font())
        self.raw_edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.raw_edit.setReadOnly(read_only)
        self.raw_edit.setPlaceholderText("JSON value")
        self.raw_edit.textChanged.connect(self._raw_text_changed)
        self.raw_error_label = QLabel()
        self.raw_error_label.setWordWrap(True)
        self.raw_error_label.setStyleSheet("color: #c62828;")
        self.raw_error_label.hide()
        self.raw_stale_label = QLabel()
        self.raw_stale_label.setWordWrap(True)
        self.raw_stale_label.setStyleSheet("color: #b26a00;")
        self.raw_stale_label.hide()
        raw_hint = QLabel('Date-times are written {"$datetime": "2017-06-20T12:00:00.000Z"} (UTC).')
        raw_hint.setStyleSheet("color: #6d6d6d;")
        raw_hint.setWordWrap(True)
        self.raw_panel = QWidget()
        rv = QVBoxLayout(self.raw_panel)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(QLabel("<b>Raw JSON</b>"))
        rv.addWidget(self.raw_edit)
        rv.addWidget(self.raw_error_label)
        rv.addWidget(self.raw_stale_label)
        if not read_only:
            rv.addWidget(raw_hint)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.raw_panel)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([600, 400])

        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.PlainText)
        self.summary_label.setVisible(not read_only)

        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.splitter, 1)
        v.addWidget(self.summary_label)
        self.set_value({})

    # -- public API -----------------------------------------------------------------------------------
    def set_value(self, value, schema: dict | None | bool = False) -> None:
        """Show ``value`` (replacing any edits); ``schema`` False keeps the current one."""
        if schema is not False:
            self.schema = schema
        self.root = tree_from_value(value)
        self.raw_error = None
        self._rebuild(expand_all=True)
        self._write_raw()
        self._revalidate()

    def set_schema(self, schema: dict | None) -> None:
        self.schema = schema
        self._rebuild()
        self._revalidate()

    def value(self):
        """The edited value (last valid values where a field holds unparsable text — check ``is_valid``)."""
        return self.root.to_value()

    @property
    def is_valid(self) -> bool:
        return self._valid

    def node(self, path) -> Node:
        return self.root.find(path)

    def item_for(self, path) -> QTreeWidgetItem:
        return self._items[id(self.node(path))]

    def key_editor(self, path) -> QLineEdit:
        return self._widgets[id(self.node(path))]["key"]

    def type_combo(self, path) -> QComboBox:
        return self._widgets[id(self.node(path))]["type"]

    def value_editor(self, path) -> QWidget:
        """The widget that edits the field at ``path`` (QLineEdit, QCheckBox, QDateTimeEdit, QComboBox, QLabel)."""
        return self._widgets[id(self.node(path))]["value"]

    def note_text(self, path) -> str:
        return self.item_for(path).text(COL_NOTE)

    def select(self, path) -> None:
        item = self.item_for(path)
        self.tree.setCurrentItem(item)
        self.tree.scrollToItem(item)

    def current_node(self) -> Node | None:
        item = self.tree.currentItem()
        return self._nodes.get(item.data(0, Qt.ItemDataRole.UserRole)) if item is not None else None

    def problem_texts(self) -> list[str]:
        if self.raw_error is not None:
            return [f"raw JSON: {self.raw_error}"]
        return [str(p) for p in self.problems]

    # -- building the tree --------------------------------------------------------------------------------
    def _rebuild(self, expand_all: bool = False) -> None:
        old_expanded = {nid for nid, it in self._items.items() if it.isExpanded()}
        old_ids = set(self._items)
        current = self.current_node()
        self.tree.setUpdatesEnabled(False)
        try:
            self.tree.clear()
            self._items, self._nodes, self._widgets = {}, {}, {}
            count = sum(1 for _ in self.root.walk())
            self._add_item(None, self.root, 0, old_expanded, old_ids, expand_all and count <= 400)
            target = current if current is not None and id(current) in self._items else None
            self.tree.setCurrentItem(self._items[id(target or self.root)])
        finally:
            self.tree.setUpdatesEnabled(True)
        self._update_actions()

    def _add_item(self, parent_item, node: Node, depth: int, old_expanded, old_ids, expand_all: bool):
        item = QTreeWidgetItem()
        item.setData(0, Qt.ItemDataRole.UserRole, id(node))
        self._items[id(node)] = item
        self._nodes[id(node)] = node
        if parent_item is None:
            self.tree.addTopLevelItem(item)
        else:
            parent_item.addChild(item)
        schema = schema_for_node(self.schema, node)
        self._fill_item(item, node, schema)
        for c in node.children:
            self._add_item(item, c, depth + 1, old_expanded, old_ids, expand_all)
        if node.is_container:
            known = id(node) in old_ids
            item.setExpanded(id(node) in old_expanded if known else (expand_all or depth <= 1))

    def _fill_item(self, item: QTreeWidgetItem, node: Node, schema: dict | None) -> None:
        w = {"key": None, "type": None, "value": None}
        self._widgets[id(node)] = w
        parent = node.parent
        required = bool(parent is not None and parent.kind == "object" and self._parent_schema_requires(node))
        # key
        if parent is None:
            item.setText(COL_KEY, "(value)")
        elif parent.kind == "array":
            item.setText(COL_KEY, f"[{node.index}]")
        elif self.read_only:
            item.setText(COL_KEY, node.key + (" *" if required else ""))
        else:
            key = QLineEdit(node.key)
            key.setFrame(False)
            key.setPlaceholderText("key")
            key.setToolTip("required key" if required else "")
            key.textEdited.connect(lambda text, n=node: self._on_key_edited(n, text))
            w["key"] = key
            self.tree.setItemWidget(item, COL_KEY, self._cell(key, "*" if required else ""))
        # type
        if self.read_only:
            item.setText(COL_TYPE, KIND_LABELS[node.kind])
        else:
            combo = QComboBox()
            combo.setFrame(False)
            kinds = list(allowed_kinds(schema))
            if node.kind not in kinds:
                kinds.append(node.kind)
            for k in kinds:
                combo.addItem(KIND_LABELS[k], k)
            combo.setCurrentIndex(kinds.index(node.kind))
            combo.setToolTip("Change the type of this field (the value is converted where possible)")
            combo.activated.connect(lambda i, n=node, c=combo: self._on_kind_chosen(n, c.itemData(i)))
            w["type"] = combo
            self.tree.setItemWidget(item, COL_TYPE, combo)
        # value
        if self.read_only or node.is_container:
            item.setText(COL_VALUE, node.display_text())
            if node.is_container:
                item.setForeground(COL_VALUE, QBrush(NOTE_COLOR))
            if not self.read_only:
                lab = QLabel(node.display_text())
                lab.setStyleSheet("color: #6d6d6d; padding-left: 3px;")
                w["value"] = lab
                item.setText(COL_VALUE, "")
                self.tree.setItemWidget(item, COL_VALUE, lab)
        else:
            editor = self._value_editor(node, schema)
            w["value"] = editor
            self.tree.setItemWidget(item, COL_VALUE, editor)
        item.setData(COL_NOTE, Qt.ItemDataRole.UserRole, (schema or {}).get("description", ""))

    def _cell(self, widget: QWidget, suffix: str) -> QWidget:
        if not suffix:
            return widget
        box = QWidget()
        h = QHBoxLayout(box)
        h.setContentsMargins(0, 0, 2, 0)
        h.setSpacing(2)
        h.addWidget(widget, 1)
        star = QLabel(suffix)
        star.setStyleSheet("color: #c62828; font-weight: bold;")
        star.setToolTip("required key")
        h.addWidget(star)
        return box

    def _parent_schema_requires(self, node: Node) -> bool:
        ps = schema_for_node(self.schema, node.parent)
        return bool(ps and node.key in (ps.get("required") or []))

    def _value_editor(self, node: Node, schema: dict | None) -> QWidget:
        choices = (schema or {}).get("enum")
        if choices:
            combo = QComboBox()
            combo.setFrame(False)
            current = None
            for i, c in enumerate(choices):
                combo.addItem(scalar_text(kind_of(c), c) if kind_of(c) not in ("object", "array")
                              else to_json_text(c, None), i)
                if same_value(c, node.value):
                    current = i
            if current is None:
                combo.insertItem(0, f"{node.display_text()} (not a choice)", -1)
                current_index = 0
            else:
                current_index = current
            combo.setCurrentIndex(current_index)
            combo.activated.connect(lambda i, n=node, c=combo, ch=choices: self._on_choice(n, c.itemData(i), ch))
            return combo
        if node.kind == "boolean":
            box = QCheckBox("true" if node.value else "false")
            box.setChecked(bool(node.value))
            box.toggled.connect(lambda on, n=node, b=box: self._on_bool(n, b, on))
            return box
        if node.kind == "datetime":
            edit = QDateTimeEdit()
            edit.setTimeZone(_UTC)
            edit.setMinimumDate(QDate(1, 1, 1))
            edit.setMaximumDate(QDate(9999, 12, 31))
            edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss.zzz 'UTC'")
            edit.setCalendarPopup(True)
            edit.setFrame(False)
            edit.setDateTime(_qdt(node.value))
            edit.dateTimeChanged.connect(lambda q, n=node: self._on_datetime(n, q))
            return edit
        if node.kind == "null":
            lab = QLabel("null")
            lab.setStyleSheet("color: #6d6d6d; font-style: italic; padding-left: 3px;")
            return lab
        edit = QLineEdit(node.display_text())
        edit.setFrame(False)
        if node.kind in ("integer", "number"):
            edit.setPlaceholderText("whole number" if node.kind == "integer" else "number")
        edit.textEdited.connect(lambda text, n=node: self._on_text_edited(n, text))
        return edit

    # -- edits ---------------------------------------------------------------------------------------------
    def _changed(self, structural: bool = False) -> None:
        if structural:
            self._rebuild()
        self._write_raw()
        self._revalidate()
        self.sigEdited.emit()

    def _on_key_edited(self, node: Node, text: str) -> None:
        node.rename(text)
        self._changed()

    def _on_text_edited(self, node: Node, text: str) -> None:
        node.set_text(text)
        self._changed()

    def _on_bool(self, node: Node, box: QCheckBox, on: bool) -> None:
        box.setText("true" if on else "false")
        node.set_value(bool(on))
        self._changed()

    def _on_datetime(self, node: Node, q: QDateTime) -> None:
        node.set_value(_pydt(q))
        self._changed()

    def _on_choice(self, node: Node, index: int, choices) -> None:
        if index is None or index < 0:
            return
        value = choices[index]
        if kind_of(value) == node.kind and not node.is_container:
            node.set_value(value)
            self._changed()
        else:
            node.replace_with_value(value)
            self._changed(structural=True)

    def _on_kind_chosen(self, node: Node, kind: str) -> None:
        if kind == node.kind:
            return
        node.change_kind(kind)
        self._changed(structural=True)

    def set_kind(self, path, kind: str) -> None:
        """Change a field's type as the type selector does."""
        combo = self.type_combo(path)
        i = combo.findData(kind)
        if i < 0:
            raise ValueError(f"{kind!r} is not offered for {self.node(path).path_text}")
        combo.setCurrentIndex(i)
        combo.activated.emit(i)

    # -- structure actions ------------------------------------------------------------------------------------
    def _target(self):
        """(container, index) where Add puts a new field."""
        node = self.current_node() or self.root
        if node.is_container:
            return node, len(node.children)
        if node.parent is None:
            return None, None
        return node.parent, node.index + 1

    def _missing_schema_keys(self, container: Node) -> list[tuple[str, dict, bool]]:
        sch = schema_for_node(self.schema, container) or {}
        props = sch.get("properties") or {}
        required = sch.get("required") or []
        present = {c.key for c in container.children}
        out = [(k, props.get(k) or {}, True) for k in required if k not in present]
        out += [(k, s, False) for k, s in props.items() if k not in present and k not in required]
        return out

    def add_to_selection(self) -> Node | None:
        """Add a key (objects: the first missing required key, else ``new_key``) or an item (lists)."""
        container, index = self._target()
        if container is None:
            return None
        if container.kind == "object":
            missing = [m for m in self._missing_schema_keys(container) if m[2]]
            if missing:
                return self.add_key(container, missing[0][0], index)
            return self.add_key(container, None, index)
        return self.add_item(container, index)

    def add_key(self, container: Node, key: str | None, index: int | None = None) -> Node:
        sch = schema_for_node(self.schema, container)
        if key is None:
            key = container.unique_key()
        from .asset_model import child_schema
        csch = child_schema(sch, "object", key)
        value = default_for_schema(csch) if csch else ""
        node = container.insert(value, key=key, index=index)
        self._after_add(node)
        return node

    def add_item(self, container: Node, index: int | None = None) -> Node:
        from .asset_model import child_schema
        csch = child_schema(schema_for_node(self.schema, container), "array")
        if csch:
            value = default_for_schema(csch)
        elif container.children:
            ref = container.children[(index - 1) if index else 0].to_value() if index else \
                container.children[-1].to_value()
            value = blank_like(ref)
        else:
            value = ""
        node = container.insert(value, index=index)
        self._after_add(node)
        return node

    def _after_add(self, node: Node) -> None:
        self._rebuild()
        self._items[id(node.parent)].setExpanded(True)
        self._items[id(node)].setExpanded(True)
        self.tree.setCurrentItem(self._items[id(node)])
        self._changed()
        w = self._widgets[id(node)]
        focus = w["key"] or w["value"]
        if focus is not None and focus.isEnabled():
            focus.setFocus()
            if isinstance(focus, QLineEdit):
                focus.selectAll()

    def remove_selected(self) -> None:
        node = self.current_node()
        if node is None or node.parent is None:
            return
        parent, i = node.parent, node.index
        node.remove()
        nxt = parent.children[min(i, len(parent.children) - 1)] if parent.children else parent
        self._rebuild()
        self.tree.setCurrentItem(self._items[id(nxt)])
        self._changed()

    def rename_selected(self) -> None:
        node = self.current_node()
        if node is None:
            return
        w = self._widgets.get(id(node), {})
        if w.get("key") is not None:
            w["key"].setFocus()
            w["key"].selectAll()

    def move_selected(self, delta: int) -> None:
        node = self.current_node()
        if node is None or not node.can_move(delta):
            return
        node.move(delta)
        self._rebuild()
        self.tree.setCurrentItem(self._items[id(node)])
        self._changed()

    def _update_actions(self) -> None:
        node = self.current_node()
        container, _ = self._target()
        self.add_button.setEnabled(container is not None)
        self.add_menu.clear()
        if container is not None and container.kind == "object":
            for key, sch, req in self._missing_schema_keys(container):
                label = key + ("  (required)" if req else "")
                if sch.get("description"):
                    label += f" — {sch['description']}"
                act = self.add_menu.addAction(label)
                act.triggered.connect(lambda _=False, c=container, k=key: self.add_key(c, k, None))
            if self.add_menu.actions():
                self.add_menu.addSeparator()
            self.add_menu.addAction("Other key").triggered.connect(
                lambda _=False, c=container: self.add_key(c, None, None))
        elif container is not None:
            self.add_menu.addAction("List item").triggered.connect(lambda _=False: self.add_to_selection())
        has_parent = node is not None and node.parent is not None
        self.remove_button.setEnabled(has_parent)
        self.rename_button.setEnabled(has_parent and node.parent.kind == "object")
        self.up_button.setEnabled(has_parent and node.can_move(-1))
        self.down_button.setEnabled(has_parent and node.can_move(1))

    def _context_menu(self, pos) -> None:
        if self.read_only:
            return
        item = self.tree.itemAt(pos)
        if item is not None:
            self.tree.setCurrentItem(item)
        node = self.current_node()
        if node is None:
            return
        menu = QMenu(self)
        container, _ = self._target()
        if container is not None:
            add = menu.addAction("Add key" if container.kind == "object" else "Add item")
            add.triggered.connect(self.add_to_selection)
        if node.parent is not None:
            menu.addAction("Remove").triggered.connect(self.remove_selected)
            if node.parent.kind == "object":
                menu.addAction("Rename").triggered.connect(self.rename_selected)
            up = menu.addAction("Move up")
            up.setEnabled(node.can_move(-1))
            up.triggered.connect(lambda: self.move_selected(-1))
            down = menu.addAction("Move down")
            down.setEnabled(node.can_move(1))
            down.triggered.connect(lambda: self.move_selected(1))
        types = menu.addMenu("Change type")
        kinds = allowed_kinds(schema_for_node(self.schema, node))
        for k in KINDS:
            if k in kinds or k == node.kind:
                act = types.addAction(KIND_LABELS[k])
                act.setCheckable(True)
                act.setChecked(k == node.kind)
                act.triggered.connect(lambda _=False, n=node, kk=k: self._on_kind_chosen(n, kk))
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    # -- validation ---------------------------------------------------------------------------------------------
    def _revalidate(self) -> None:
        self.problems = validate_tree(self.root, self.schema)
        by_node = problems_by_node(self.problems)
        for nid, item in self._items.items():
            msgs = by_node.get(nid, [])
            w = self._widgets.get(nid, {})
            node = self._nodes[nid]
            target = w.get("value")
            dup_or_key = [m for m in msgs if m.startswith(("duplicate key", "key is empty", "unknown key"))]
            if w.get("key") is not None:
                _set_invalid(w["key"], dup_or_key)
            if target is not None and not node.is_container:
                _set_invalid(target, [m for m in msgs if m not in dup_or_key])
            if msgs:
                item.setText(COL_NOTE, "⚠ " + "; ".join(msgs))
                item.setForeground(COL_NOTE, QBrush(ERROR_COLOR))
                item.setToolTip(COL_NOTE, "\n".join(msgs))
            else:
                desc = item.data(COL_NOTE, Qt.ItemDataRole.UserRole) or ""
                item.setText(COL_NOTE, desc)
                item.setForeground(COL_NOTE, QBrush(NOTE_COLOR))
                item.setToolTip(COL_NOTE, desc)
            if node.is_container and w.get("value") is not None:
                w["value"].setText(node.display_text())
        unparsed = sum(1 for n in self.root.walk() if n.parse_error)
        self.raw_stale_label.setText(f"{unparsed} form field{'s' if unparsed != 1 else ''} "
                                     f"{'hold' if unparsed != 1 else 'holds'} text that does not parse; the JSON "
                                     f"shows the last valid value there." if unparsed else "")
        self.raw_stale_label.setVisible(bool(unparsed) and self.raw_error is None)
        texts = self.problem_texts()
        if texts:
            more = f" (and {len(texts) - 3} more)" if len(texts) > 3 else ""
            self.summary_label.setText(f"✖ {len(texts)} problem{'s' if len(texts) != 1 else ''} — fix before "
                                       f"saving: " + "; ".join(texts[:3]) + more)
            self.summary_label.setStyleSheet("color: #c62828;")
        else:
            self.summary_label.setText("✔ No problems")
            self.summary_label.setStyleSheet("color: #2e7d32;")
        valid = not texts
        if valid != self._valid:
            self._valid = valid
            self.sigValidityChanged.emit(valid)

    # -- raw JSON ------------------------------------------------------------------------------------------
    def _write_raw(self) -> None:
        """Form -> raw text (only when the form's value differs from what the text says)."""
        if self.raw_error is not None:
            return
        text = to_json_text(self.root.to_value())
        if text == self.raw_edit.toPlainText():
            return
        self._setting_raw = True
        try:
            self.raw_edit.setPlainText(text)
        finally:
            self._setting_raw = False

    def _raw_text_changed(self) -> None:
        if self._setting_raw or self.read_only:
            return
        self._raw_timer.start()

    def apply_raw_text(self) -> bool:
        """Raw text -> form (runs by itself shortly after typing stops); False when the text has an error."""
        self._raw_timer.stop()
        text = self.raw_edit.toPlainText()
        try:
            value = parse_json_text(text)
            tree = tree_from_value(value)
        except (JsonTextError, AssetValueError) as e:
            err = e if isinstance(e, JsonTextError) else JsonTextError(str(e))
            self.raw_error = err
            self.raw_error_label.setText(f"✖ {err}")
            self.raw_error_label.show()
            self._mark_raw_line(err.line)
            self.tree.setEnabled(False)
            self.toolbar.setEnabled(False)
            self.raw_blocked_label.show()
            self._revalidate()
            self.sigEdited.emit()
            return False
        was_error = self.raw_error is not None
        self.raw_error = None
        self.raw_error_label.hide()
        self._mark_raw_line(None)
        self.tree.setEnabled(True)
        self.toolbar.setEnabled(True)
        self.raw_blocked_label.hide()
        form_has_text = any(n.parse_error for n in self.root.walk())
        if was_error or form_has_text or not same_value(value, self.root.to_value()) or \
                [c.key for c in self.root.walk()] != [c.key for c in tree.walk()]:
            self.root = tree
            self._rebuild()
        self._revalidate()
        self.sigEdited.emit()
        return True

    def _mark_raw_line(self, line: int | None) -> None:
        if line is None:
            self.raw_edit.setExtraSelections([])
            return
        sel = QTextEdit.ExtraSelection()
        fmt = QTextCharFormat()
        fmt.setBackground(QColor("#fdecea"))
        fmt.setProperty(QTextCharFormat.Property.FullWidthSelection, True)
        sel.format = fmt
        cursor = QTextCursor(self.raw_edit.document().findBlockByLineNumber(line - 1))
        sel.cursor = cursor
        self.raw_edit.setExtraSelections([sel])


# ---------------------------------------------------------------------------------------------------------
# confirm-with-diff dialog
# ---------------------------------------------------------------------------------------------------------

class DiffConfirmDialog(QDialog):
    """Shows the changes a save (or restore) will write, and asks to go ahead."""

    def __init__(self, title: str, intro: str, lines: list[str], ok_text: str, warning: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.resize(620, 380)
        v = QVBoxLayout(self)
        self.intro_label = QLabel(intro)
        self.intro_label.setWordWrap(True)
        v.addWidget(self.intro_label)
        self.diff_view = QPlainTextEdit()
        self.diff_view.setReadOnly(True)
        self.diff_view.setFont(_mono_font())
        self.diff_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        fill_diff_view(self.diff_view, lines)
        v.addWidget(self.diff_view, 1)
        self.warning_label = QLabel(warning)
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #b26a00;")
        self.warning_label.setVisible(bool(warning))
        v.addWidget(self.warning_label)
        buttons = QDialogButtonBox()
        self.ok_button = buttons.addButton(ok_text, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        v.addWidget(buttons)


def fill_diff_view(view: QPlainTextEdit, lines: list[str]) -> None:
    view.clear()
    cursor = view.textCursor()
    colours = {"+": "#2e7d32", "-": "#c62828", "~": "#b26a00"}
    for i, line in enumerate(lines or ["(no changes)"]):
        fmt = QTextCharFormat()
        fmt.setForeground(QColor(colours.get(line[:1], "#333333")))
        cursor.insertText(("\n" if i else "") + line, fmt)
    view.moveCursor(QTextCursor.MoveOperation.Start)


# ---------------------------------------------------------------------------------------------------------
# background work (plain functions: they run on a pool thread and never touch widgets)
# ---------------------------------------------------------------------------------------------------------

def read_versions(ctx, stream: Stream) -> list[StreamInstance]:
    """Every version of an asset stream, oldest first."""
    return stream.window(TimeInterval.all_time()).items()


def write_version(ctx, channel, stream_id: StreamId, value, expected_last: datetime | None):
    """Write ``value`` as a new version stamped now; never overwrites.

    AssetConflictError when the stream got a version the editor has not seen;
    waits (a few ms at most) so the new timestamp is strictly after the newest.
    """
    stream = channel.streams.get(stream_id)
    last = stream.window(TimeInterval.all_time()).last() if stream is not None else None
    last_ts = last.timestamp if last is not None else None
    if last_ts != expected_last:
        seen = datetime_text(expected_last) if expected_last else "none"
        raise AssetConflictError(f"asset {stream_id} has a newer version ({datetime_text(last_ts)}) than the one "
                                 f"being edited ({seen}); reload it and apply your changes again"
                                 if last_ts else f"asset {stream_id} lost its versions while being edited")
    ts = utcnow()
    while last_ts is not None and ts <= last_ts:
        time.sleep(0.001)
        ts = utcnow()
    stream = channel.write_to_stream(stream_id, StreamInstance(ts, value))
    return stream, ts


# ---------------------------------------------------------------------------------------------------------
# the editor
# ---------------------------------------------------------------------------------------------------------

class AssetEditor(QWidget):
    """Edit the latest version of an asset stream; save as a new version; browse and restore history."""

    sigSaved = Signal(object)      # the Stream, after a new version was written
    sigLoaded = Signal(object)     # the Stream, after its versions were (re)read
    sigFailed = Signal(str)        # a readable message (load or save failed)

    def __init__(self, runner, channel=None, stream=None, parent=None, schema: dict | None | bool = False,
                 tool_lookup=None):
        super().__init__(parent)
        self.runner = runner
        self.channel = None
        self.stream: Stream | None = None
        self.versions: list[StreamInstance] = []
        self.tool_lookup = tool_lookup
        self._schema_override = schema
        self._load_token = 0
        self._busy = False
        self._loaded = False
        self.confirm_dialog: DiffConfirmDialog | None = None

        self.title_label = QLabel()
        f = self.title_label.font()
        f.setPointSizeF(f.pointSizeF() * 1.2)
        f.setBold(True)
        self.title_label.setFont(f)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.info_label = QLabel()
        self.info_label.setStyleSheet("color: #555555;")
        self.info_label.setWordWrap(True)

        self.form = AssetValueForm()
        self.form.sigEdited.connect(self._update_state)
        self.form.sigValidityChanged.connect(lambda _v: self._update_state())
        self.changes_label = QLabel()
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Discard the edits and show the current version again")
        self.revert_button.clicked.connect(self.revert)
        self.save_button = QPushButton("Save…")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.request_save)
        bottom = QHBoxLayout()
        bottom.addWidget(self.changes_label)
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.revert_button)
        bottom.addWidget(self.save_button)
        edit_page = QWidget()
        ev = QVBoxLayout(edit_page)
        ev.setContentsMargins(4, 4, 4, 4)
        ev.addWidget(self.form, 1)
        ev.addLayout(bottom)

        # history
        self.history_list = QListWidget()
        self.history_list.currentRowChanged.connect(self._show_version)
        self.history_view = AssetValueForm(read_only=True)
        self.history_view.raw_toggle.setChecked(False)
        self.history_view.raw_panel.hide()
        self.history_diff_label = QLabel("Select a version.")
        self.history_diff_label.setWordWrap(True)
        self.history_diff = QPlainTextEdit()
        self.history_diff.setReadOnly(True)
        self.history_diff.setFont(_mono_font())
        self.history_diff.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.restore_button = QPushButton("Restore this version…")
        self.restore_button.setEnabled(False)
        self.restore_button.clicked.connect(self.request_restore)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.history_view)
        diff_box = QWidget()
        dv = QVBoxLayout(diff_box)
        dv.setContentsMargins(0, 0, 0, 0)
        dv.addWidget(self.history_diff_label)
        dv.addWidget(self.history_diff, 1)
        rb = QHBoxLayout()
        rb.addStretch(1)
        rb.addWidget(self.restore_button)
        dv.addLayout(rb)
        right.addWidget(diff_box)
        history_page = QSplitter(Qt.Orientation.Horizontal)
        history_page.addWidget(self.history_list)
        history_page.addWidget(right)
        history_page.setStretchFactor(1, 3)

        self.tabs = QTabWidget()
        self.tabs.addTab(edit_page, "Edit")
        self.tabs.addTab(history_page, "History")

        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.title_label)
        v.addWidget(self.info_label)
        v.addWidget(self.tabs, 1)
        self.set_stream(channel, stream)

    # -- public API -------------------------------------------------------------------------------------
    @property
    def current_version(self) -> StreamInstance | None:
        return self.versions[-1] if self.versions else None

    @property
    def current_value(self):
        v = self.current_version
        return v.value if v is not None else None

    @property
    def has_unsaved_changes(self) -> bool:
        if not self._loaded or self.stream is None:
            return False
        if self.current_version is None:
            return True
        return self.form.raw_error is not None or any(n.parse_error for n in self.form.root.walk()) or \
            not same_value(self.form.value(), self.current_value)

    def pending_changes(self) -> list[str]:
        """Diff lines of what Save would write."""
        if self.current_version is None:
            return ["+ (root) = " + to_json_text(self.form.value(), None)[:200] + "  (first version)"]
        return format_diff(diff_values(self.current_value, self.form.value()))

    def set_stream(self, channel, stream) -> None:
        """Show an asset stream (a Stream, a StreamId or its text) of ``channel``; None clears the editor."""
        self._load_token += 1
        self.channel = channel
        if stream is not None and not isinstance(stream, Stream):
            stream = channel.get_or_create_stream(get_stream_id(stream), try_create=False)
        self.stream = stream
        self.versions = []
        self._loaded = False
        self.history_list.blockSignals(True)  # its rows point into the old stream's versions
        self.history_list.clear()
        self.history_list.blockSignals(False)
        if stream is None:
            self.title_label.setText("No asset selected")
            self.info_label.setText("Select an asset stream to edit it.")
            self.form.set_value({}, None)
            self.form.setEnabled(False)
            self._update_state()
            return
        self.title_label.setText(stream_title(stream.stream_id))
        schema = self._schema_override if self._schema_override is not False else \
            schema_for_stream(stream.stream_id, self.tool_lookup)
        self.form.schema = schema
        self.history_view.schema = schema
        self.info_label.setText(f"Channel {channel.channel_id} · loading versions…")
        self.form.setEnabled(False)
        self.reload()

    def set_schema(self, schema: dict | None) -> None:
        self._schema_override = schema
        self.form.set_schema(schema)
        self.history_view.set_schema(schema)
        self._update_info()

    def reload(self, show_status: bool = True) -> None:
        """Re-read the stream's versions in the background (replaces unsaved edits)."""
        if self.stream is None:
            return
        self._load_token += 1
        token = self._load_token
        self._set_busy(True, "Loading versions…" if show_status else "")
        self.runner.submit(f"Read asset {self.stream.stream_id}", read_versions, self.stream, owner=self,
                           on_result=lambda versions, t=token: self._on_loaded(t, versions),
                           on_error=lambda msg, t=token: self._on_load_failed(t, msg))

    def revert(self) -> None:
        if self.stream is None:
            return
        self._show_current()
        self.status_label.setText("Edits discarded.")

    # -- loading ---------------------------------------------------------------------------------------------
    def _on_loaded(self, token, versions) -> None:
        if token != self._load_token:
            return
        self.versions = list(versions)
        self._loaded = True
        self._set_busy(False, "")
        if self.status_label.text() == "Loading versions…":
            self._set_status("")
        self.form.setEnabled(True)
        self._show_current()
        self._fill_history()
        self.sigLoaded.emit(self.stream)

    def _on_load_failed(self, token, message) -> None:
        if token != self._load_token:
            return
        self._set_busy(False, "")
        self._set_status(f"Could not read the asset: {message}", error=True)
        self.info_label.setText(f"Channel {self.channel.channel_id} · could not read versions")
        self.sigFailed.emit(message)

    def _show_current(self) -> None:
        cur = self.current_version
        if cur is not None:
            try:
                self.form.set_value(cur.value)
            except AssetValueError as e:
                self.form.set_value({})
                self.form.setEnabled(False)
                self._set_status(f"This asset cannot be edited here: {e}", error=True)
        else:
            self.form.set_value(default_for_schema(self.form.schema) if self.form.schema else {})
        self._update_info()
        self._update_state()

    def _update_info(self) -> None:
        if self.stream is None:
            return
        parts = [f"Channel {self.channel.channel_id}"]
        cur = self.current_version
        if cur is not None:
            parts.append(f"current version {datetime_text(cur.timestamp)}")
            parts.append(f"{len(self.versions)} version{'s' if len(self.versions) != 1 else ''}")
        elif self._loaded:
            parts.append("no versions yet")
        sch = self.form.schema
        if sch:
            parts.append(f"schema: {sch.get('title') or self.stream.stream_id.name}")
        self.info_label.setText(" · ".join(parts))

    def _fill_history(self) -> None:
        self.history_list.blockSignals(True)
        self.history_list.clear()
        for i, inst in reversed(list(enumerate(self.versions))):
            text = datetime_text(inst.timestamp)
            if i == len(self.versions) - 1:
                text += "  (current)"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, i)
            self.history_list.addItem(item)
        self.history_list.blockSignals(False)
        self.tabs.setTabText(1, f"History ({len(self.versions)})")
        if self.versions:
            self.history_list.setCurrentRow(0)
            self._show_version(0)
        else:
            self.history_view.set_value({})
            self.history_diff.clear()
            self.history_diff_label.setText("No versions yet.")
            self.restore_button.setEnabled(False)

    def selected_version(self) -> StreamInstance | None:
        item = self.history_list.currentItem()
        if item is None:
            return None
        i = item.data(Qt.ItemDataRole.UserRole)
        return self.versions[i] if 0 <= i < len(self.versions) else None

    def _show_version(self, _row) -> None:
        inst = self.selected_version()
        if inst is None:
            return
        try:
            self.history_view.set_value(inst.value)
        except AssetValueError as e:
            self.history_view.set_value({})
            self.history_diff_label.setText(str(e))
            return
        self.history_view.tree.expandAll()
        cur = self.current_version
        if inst is cur:
            self.history_diff_label.setText("This is the current version.")
            fill_diff_view(self.history_diff, [])
            self.restore_button.setEnabled(False)
            return
        lines = format_diff(diff_values(cur.value, inst.value))
        self.history_diff_label.setText(f"Restoring {datetime_text(inst.timestamp)} would change the current "
                                        f"version like this ({summarize_diff(diff_values(cur.value, inst.value))}):")
        fill_diff_view(self.history_diff, lines)
        self.restore_button.setEnabled(bool(lines) and not self._busy)

    # -- state --------------------------------------------------------------------------------------------------
    def _set_busy(self, busy: bool, text: str) -> None:
        self._busy = busy
        if text:
            self._set_status(text)
        self._update_state()

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: #c62828;" if error else "")

    def save_blocked_reason(self) -> str:
        """Why Save is disabled ('' when it is enabled)."""
        if self.stream is None:
            return "no asset selected"
        if not self._loaded:
            return "the asset is still loading"
        if self._busy:
            return "busy"
        if not self.form.is_valid:
            return "fix the problems first: " + "; ".join(self.form.problem_texts()[:3])
        if not self.has_unsaved_changes:
            return "nothing changed"
        return ""

    def _update_state(self) -> None:
        reason = self.save_blocked_reason()
        self.save_button.setEnabled(not reason)
        self.save_button.setToolTip(reason or "Review the changes and save them as a new version")
        self.revert_button.setEnabled(self._loaded and not self._busy and self.has_unsaved_changes)
        if self._loaded and self.stream is not None and self.form.is_valid and self.current_version is not None:
            n = len(diff_values(self.current_value, self.form.value()))
            self.changes_label.setText(f"{n} unsaved change{'s' if n != 1 else ''}" if n else "No changes")
        elif self._loaded and self.current_version is None:
            self.changes_label.setText("New asset value (not saved yet)")
        else:
            self.changes_label.setText("")

    # -- saving ---------------------------------------------------------------------------------------------------
    def request_save(self) -> DiffConfirmDialog | None:
        """Show the diff of what will be written; the dialog's OK starts the save job."""
        if self.save_blocked_reason():
            self._set_status(f"Cannot save: {self.save_blocked_reason()}", error=True)
            return None
        value = self.form.value()
        lines = self.pending_changes()
        cur = self.current_version
        intro = (f"Save a new version of {stream_title(self.stream.stream_id)} (stamped now). The current version "
                 f"({datetime_text(cur.timestamp)}) stays in the history. Changes:" if cur is not None else
                 f"Save the first version of {stream_title(self.stream.stream_id)}:")
        dlg = DiffConfirmDialog("Save asset", intro, lines, "Save as new version", parent=self)
        dlg.accepted.connect(lambda v=value: self._start_write(v, "Saved"))
        self.confirm_dialog = dlg
        dlg.open()
        return dlg

    def request_restore(self) -> DiffConfirmDialog | None:
        inst = self.selected_version()
        if inst is None or inst is self.current_version or self._busy:
            return None
        lines = format_diff(diff_values(self.current_value, inst.value))
        warning = "Your unsaved edits in the form will be discarded." if self.has_unsaved_changes else ""
        dlg = DiffConfirmDialog("Restore asset version",
                                f"Save version {datetime_text(inst.timestamp)} again as a new version (stamped now). "
                                f"Nothing is deleted. Changes to the current version:",
                                lines, "Restore as new version", warning, parent=self)
        dlg.accepted.connect(lambda v=inst.value, t=inst.timestamp: self._start_write(
            v, f"Restored version {datetime_text(t)}"))
        self.confirm_dialog = dlg
        dlg.open()
        return dlg

    def _start_write(self, value, done_text: str) -> None:
        cur = self.current_version
        stream = self.stream
        self._set_busy(True, "Saving…")
        self.runner.submit(f"Save asset {stream.stream_id}", write_version, self.channel, stream.stream_id, value,
                           cur.timestamp if cur is not None else None, kind="write", owner=self,
                           on_result=lambda res, s=stream, t=done_text: self._on_written(s, res, t),
                           on_error=self._on_write_failed)

    def _on_written(self, stream, result, done_text: str) -> None:
        new_stream, ts = result
        self._set_busy(False, "")
        if self.stream is not None and new_stream.stream_id == self.stream.stream_id:
            self.stream = new_stream
        self._set_status(f"{done_text} as version {datetime_text(ts)}.")
        self.sigSaved.emit(new_stream)
        if self.stream is not None and new_stream.stream_id == self.stream.stream_id:
            self.reload(show_status=False)

    def _on_write_failed(self, message: str) -> None:
        self._set_busy(False, "")
        self._set_status(f"Not saved: {message}", error=True)
        self.sigFailed.emit(message)


class AssetEditorDialog(QDialog):
    """The asset editor in its own window."""

    def __init__(self, runner, channel, stream, parent=None, schema: dict | None | bool = False, tool_lookup=None):
        super().__init__(parent)
        self.editor = AssetEditor(runner, channel, stream, schema=schema, tool_lookup=tool_lookup)
        sid = self.editor.stream.stream_id if self.editor.stream is not None else None
        self.setWindowTitle(f"Asset — {stream_title(sid)}" if sid else "Asset")
        self.resize(980, 620)
        self.sigSaved = self.editor.sigSaved
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        v = QVBoxLayout(self)
        v.addWidget(self.editor, 1)
        v.addWidget(buttons)

    def reject(self) -> None:
        if self.editor.has_unsaved_changes:
            answer = QMessageBox.question(self, "Unsaved changes", "Discard the unsaved changes to this asset?",
                                          QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Discard:
                return
        super().reject()


# ---------------------------------------------------------------------------------------------------------
# creating an asset stream
# ---------------------------------------------------------------------------------------------------------

def create_asset(ctx, channel, stream_id: StreamId, value):
    """Create an asset stream with its first version; StreamAlreadyExists-style error if it exists."""
    if stream_id in channel.streams:
        raise AssetConflictError(f"asset {stream_id} already exists in channel {channel.channel_id!r}")
    return channel.write_to_stream(stream_id, StreamInstance(utcnow(), value))


class CreateAssetDialog(QDialog):
    """New asset stream: name, meta-data pairs and an initial value (schema hints by name)."""

    sigCreated = Signal(object)   # the new Stream

    def __init__(self, runner, channel, parent=None, tool_lookup=None):
        super().__init__(parent)
        self.runner = runner
        self.channel = channel
        self.tool_lookup = tool_lookup
        self.created: Stream | None = None
        self._value_touched = False
        self._busy = False
        self.setWindowTitle(f"New asset in {channel.channel_id}")
        self.resize(900, 600)

        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. houses, residents, workflow_parameters")
        self.name_edit.textEdited.connect(self._on_name_edited)
        self.name_error = QLabel()
        self.name_error.setStyleSheet("color: #c62828;")
        self.name_error.setWordWrap(True)
        # the same editor as the Run Tool dialog's output: both dialogs name streams by one rule (StreamId's)
        self.meta = MetaDataEditor(headers=("Meta-data key", "Value"))
        self.meta.sigChanged.connect(self._update_state)
        self.meta_table = self.meta.table
        self.add_meta_button = self.meta.add_button
        self.remove_meta_button = self.meta.remove_button
        self.schema_label = QLabel()
        self.schema_label.setStyleSheet("color: #555555;")

        self.form = AssetValueForm()
        self.form.sigEdited.connect(self._on_value_edited)
        self.form.sigValidityChanged.connect(lambda _v: self._update_state())
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)

        fl = QFormLayout()
        fl.addRow("Name", self.name_edit)
        fl.addRow("", self.name_error)
        fl.addRow("Meta-data", self.meta)
        fl.addRow("Schema", self.schema_label)
        buttons = QDialogButtonBox()
        self.create_button = buttons.addButton("Create", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.create_button.clicked.connect(self.create)
        buttons.rejected.connect(self.reject)
        v = QVBoxLayout(self)
        v.addLayout(fl)
        v.addWidget(QLabel("<b>Initial value</b>"))
        v.addWidget(self.form, 1)
        v.addWidget(self.status_label)
        v.addWidget(buttons)
        self._on_name_edited("")

    def add_meta_pair(self, key: str, value: str) -> None:
        self.meta.add_pair(key, value)

    def _remove_meta_pair(self) -> None:
        self.meta.remove_selected()

    def meta_data(self) -> list[tuple[str, str]]:
        """The non-blank meta-data rows, unchecked (see :meth:`stream_id` for the checks)."""
        return self.meta.rows()

    def stream_id(self) -> StreamId:
        """The id being created; StreamIdError with the reason when name or meta-data are malformed.

        The rules are StreamId's own, as in the Run Tool dialog: a name may hold ':', '[' or ']' (the
        text form quotes it), so whatever a tool run can name, an asset can be named too.
        """
        name = self.name_edit.text().strip()
        if not name:
            raise StreamIdError("enter a name for the asset")
        return StreamId(name, self.meta.pairs())

    def _on_name_edited(self, _text: str) -> None:
        name = self.name_edit.text().strip()
        schema = schema_for_stream(StreamId(name), self.tool_lookup) if name else None
        if schema != self.form.schema:
            if self._value_touched:
                self.form.set_schema(schema)
            else:
                self.form.set_value(default_for_schema(schema) if schema else {}, schema)
        self.schema_label.setText(schema.get("title", name) if schema else "none (any JSON-like value)")
        self._update_state()

    def _on_value_edited(self) -> None:
        self._value_touched = True
        self._update_state()

    def blocked_reason(self) -> str:
        try:
            sid = self.stream_id()
        except StreamIdError as e:
            return str(e)
        if sid in self.channel.streams:
            return f"asset {sid} already exists in channel {self.channel.channel_id!r}"
        if not self.form.is_valid:
            return "fix the value first: " + "; ".join(self.form.problem_texts()[:3])
        if self._busy:
            return "creating…"
        return ""

    def _update_state(self) -> None:
        reason = self.blocked_reason()
        name_problem = reason if reason and not reason.startswith(("fix the value", "creating")) else ""
        show = name_problem if self.name_edit.text().strip() or self.meta_data() else ""
        self.name_error.setText(show)
        self.name_error.setVisible(bool(show))
        _set_invalid(self.name_edit, [show] if show else [])
        self.create_button.setEnabled(not reason)
        self.create_button.setToolTip(reason or "Create the asset with this value as its first version")

    def create(self) -> None:
        reason = self.blocked_reason()
        if reason:
            self.status_label.setText(f"Cannot create: {reason}")
            return
        sid = self.stream_id()
        self._busy = True
        self._update_state()
        self.status_label.setText("Creating…")
        self.runner.submit(f"Create asset {sid}", create_asset, self.channel, sid, self.form.value(), kind="write",
                           on_result=self._on_created, on_error=self._on_failed)

    def _on_created(self, stream) -> None:
        self._busy = False
        self.created = stream
        self.status_label.setText(f"Created {stream.stream_id}.")
        self.sigCreated.emit(stream)
        self.accept()

    def _on_failed(self, message: str) -> None:
        self._busy = False
        self.status_label.setText(f"Not created: {message}")
        self.status_label.setStyleSheet("color: #c62828;")
        self._update_state()


__all__ = ["AssetValueForm", "AssetEditor", "AssetEditorDialog", "CreateAssetDialog", "DiffConfirmDialog",
           "AssetConflictError", "read_versions", "write_version", "create_asset"]
