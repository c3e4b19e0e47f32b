"""A value as a tree of typed fields plus its raw JSON, kept in sync both ways.

:class:`AssetValueForm` is the editor of structured values shared by the asset
editor (:mod:`hsgui.assets`) and the tool-parameter form (:mod:`hsgui.compute`):
a tree of fields (key, type selector, value editor, note) with add / remove /
rename / move, and a raw JSON view. Problems are marked at the field with the
reason and listed in a summary; ``is_valid`` is False while any remain. The
value logic (trees, kinds, validation, JSON text) is pure Python in
:mod:`hsgui.forms.value_model`; this module is only its Qt face.

It is one class of ~660 lines on purpose: the tree, its cell widgets and the raw
JSON view update each other, and the bookkeeping that keeps them in step reads
best in one place.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QDateTime, Qt, QTimer, QTimeZone, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QFontDatabase, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView,
                               QLabel, QLineEdit, QMenu, QPlainTextEdit, QSplitter, QTextEdit, QToolButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from channels.utils import EPOCH

from .datetime_edit import DateTimeEdit
from .value_kinds import AssetValueError, JsonTextError, KIND_LABELS, kind_of, KINDS, scalar_text
from .value_text import parse_json_text, to_json_text
from .value_model import blank_like, Node, same_value, tree_from_value
from .value_schema import allowed_kinds, default_for_schema, problems_by_node, schema_for_node, validate_tree

COL_KEY, COL_TYPE, COL_VALUE, COL_NOTE = range(4)
ERROR_COLOR = QColor("#c62828")
NOTE_COLOR = QColor("#6d6d6d")
_INVALID_STYLE = "border: 1px solid #c62828; background: #fdecea;"
_UTC = QTimeZone.utc()


def _qdt(dt: datetime) -> QDateTime:
    delta = dt - EPOCH
    ms = (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000
    return QDateTime.fromMSecsSinceEpoch(ms, _UTC)


def _pydt(qdt: QDateTime) -> datetime:
    return EPOCH + timedelta(milliseconds=qdt.toMSecsSinceEpoch())


def mono_font() -> QFont:
    """The system's fixed-width font (raw JSON, diffs)."""
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


def set_invalid(widget: QWidget, messages) -> None:
    """Mark ``widget`` as holding an invalid entry (red frame, reasons in its tooltip), or clear the mark."""
    widget.setStyleSheet(_INVALID_STYLE if messages else "")
    widget.setToolTip("\n".join(messages) if messages else "")


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
        self.raw_edit.setFont(mono_font())
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
        """The widget that edits the field at ``path`` (QLineEdit, QCheckBox, DateTimeEdit, QComboBox, QLabel)."""
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
            edit = DateTimeEdit()   # the shared typeable editor; times here are UTC
            edit.setToolTip("UTC time: type or paste e.g. 2024-03-02 06:00:00 (optionally .mmm)")
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
        from hsgui.forms.value_schema import child_schema
        csch = child_schema(sch, "object", key)
        value = default_for_schema(csch) if csch else ""
        node = container.insert(value, key=key, index=index)
        self._after_add(node)
        return node

    def add_item(self, container: Node, index: int | None = None) -> Node:
        from hsgui.forms.value_schema import child_schema
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
                set_invalid(w["key"], dup_or_key)
            if target is not None and not node.is_container:
                set_invalid(target, [m for m in msgs if m not in dup_or_key])
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
