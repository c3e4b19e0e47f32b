"""The Tools dock: every tool channel (built-in and plugins) → tool → versions.

Selecting a tool shows its docstring and the file it comes from (tools from
folders run arbitrary Python, so where each one came from is always
visible). Double-clicking a tool or version, or pressing "Run…", emits
``sigRunTool(channel_id, tool_name, version)`` (``version`` is ``""`` for a
tool row: the newest version); the main window opens a RunToolDialog for it.
"""
from __future__ import annotations

import html
import inspect
import re
import textwrap

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QLineEdit, QPushButton, QSplitter, QTextBrowser, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from channels.tools.params import parameter_specs, value_to_text

ROLE_KIND = Qt.ItemDataRole.UserRole          # "channel" | "tool" | "version" | "error"
ROLE_CHANNEL = Qt.ItemDataRole.UserRole + 1
ROLE_TOOL = Qt.ItemDataRole.UserRole + 2
ROLE_VERSION = Qt.ItemDataRole.UserRole + 3
ROLE_PATH = Qt.ItemDataRole.UserRole + 4


_ITEM_START = re.compile(r"(:\w|[-*+•]\s|\d+[.)]\s|>>>|[-=~^]{3,}$)")   # starts its own line


def reflow_docstring(doc: str) -> list[tuple[str, str]]:
    """A docstring as ``(kind, text)`` paragraphs, with the source's hard line breaks undone.

    ``kind`` is ``"text"`` (lines of a paragraph joined into one; a ``:param``/``:return`` field, a bullet
    or a numbered item starts a new line, its indented continuation lines join it) or ``"literal"``
    (an indented block, a block after ``::`` or a doctest: kept line by line). Blank lines separate
    paragraphs, as in the source.
    """
    out: list[tuple[str, str]] = []
    literal_next = False
    for para in re.split(r"\n[ \t]*\n", doc.strip("\n")):
        lines = para.splitlines()
        if not lines:
            continue
        if literal_next or lines[0].lstrip().startswith(">>>") or all(ln[:1].isspace() for ln in lines):
            out.append(("literal", textwrap.dedent("\n".join(lines))))
        else:
            logical: list[str] = []
            for line in lines:
                text = line.strip()
                if logical and not _ITEM_START.match(text):
                    logical[-1] += " " + text
                else:
                    logical.append(text)
            out.append(("text", "\n".join(logical)))
        literal_next = para.rstrip().endswith("::")
    return out


def docstring_html(doc: str) -> str:
    """HTML of a reflowed docstring: paragraphs wrap to the pane; RST ``literals`` become code."""
    parts = []
    for kind, text in reflow_docstring(doc):
        if kind == "literal":
            parts.append(f"<pre>{html.escape(text)}</pre>")
        else:
            body = re.sub(r"``(.+?)``", r"<code>\1</code>", html.escape(text)).replace("\n", "<br>")
            parts.append(f"<p>{body}</p>")
    return "".join(parts)


class ToolsDock(QWidget):
    """Tree of tool channels → tools → versions, with a filter and a description pane."""

    sigRunTool = Signal(str, str, str)   # channel_id, tool_name, version ("" = newest)

    def __init__(self, manager=None, parent=None):
        super().__init__(parent)
        self.manager = manager
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("filter tools…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.apply_filter)
        lay.addWidget(self.filter_edit)

        split = QSplitter(Qt.Orientation.Vertical)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Tool", "Version"])
        self.tree.setColumnWidth(0, 180)
        self.tree.currentItemChanged.connect(self._on_current)
        self.tree.itemDoubleClicked.connect(self._on_double_click)
        split.addWidget(self.tree)
        self.info = QTextBrowser()
        self.info.setOpenLinks(False)
        split.addWidget(self.info)
        split.setSizes([300, 200])
        lay.addWidget(split, 1)

        row = QHBoxLayout()
        self.count_label = QLabel()
        row.addWidget(self.count_label, 1)
        self.run_button = QPushButton("Run…")
        self.run_button.setEnabled(False)
        self.run_button.clicked.connect(self.run_selected)
        row.addWidget(self.run_button)
        lay.addLayout(row)
        self.refresh()

    # -- content -------------------------------------------------------------------
    def set_manager(self, manager) -> None:
        """Show the tools of another connection (None: empty)."""
        self.manager = manager
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the tree from the manager's tool channels (after a connect or a config change)."""
        self.tree.clear()
        self.info.clear()
        n_tools = 0
        for channel in (self.manager.tool_channels if self.manager is not None else []):
            ch_item = QTreeWidgetItem([channel.channel_id, ""])
            ch_item.setData(0, ROLE_KIND, "channel")
            ch_item.setData(0, ROLE_CHANNEL, channel.channel_id)
            ch_item.setToolTip(0, str(getattr(channel, "path", "")))
            self.tree.addTopLevelItem(ch_item)
            for name, versions in channel.list_tools().items():
                if not versions:
                    continue
                n_tools += 1
                newest = versions[-1]
                t_item = QTreeWidgetItem([name, f"v{newest.version}"])
                t_item.setData(0, ROLE_KIND, "tool")
                t_item.setData(0, ROLE_CHANNEL, channel.channel_id)
                t_item.setData(0, ROLE_TOOL, name)
                t_item.setData(0, ROLE_VERSION, "")
                t_item.setData(0, ROLE_PATH, newest.path)
                t_item.setToolTip(0, newest.path)
                ch_item.addChild(t_item)
                for tv in reversed(versions):
                    v_item = QTreeWidgetItem([f"v{tv.version}", tv.path.rsplit("/", 1)[-1]])
                    v_item.setData(0, ROLE_KIND, "version")
                    v_item.setData(0, ROLE_CHANNEL, channel.channel_id)
                    v_item.setData(0, ROLE_TOOL, name)
                    v_item.setData(0, ROLE_VERSION, str(tv.version))
                    v_item.setData(0, ROLE_PATH, tv.path)
                    v_item.setToolTip(0, tv.path)
                    t_item.addChild(v_item)
            for path, reason in getattr(channel, "skipped", []) or []:
                e_item = QTreeWidgetItem([f"⚠ {path.rsplit('/', 1)[-1]}", "skipped"])
                e_item.setData(0, ROLE_KIND, "error")
                e_item.setData(0, ROLE_PATH, path)
                e_item.setToolTip(0, f"{path}: {reason}")
                ch_item.addChild(e_item)
            ch_item.setExpanded(True)
        self.count_label.setText(f"{n_tools} tools")
        self.apply_filter(self.filter_edit.text())

    def apply_filter(self, text: str) -> None:
        """Hide tools whose name (or channel id) does not contain ``text``."""
        needle = text.strip().lower()
        shown = 0
        for i in range(self.tree.topLevelItemCount()):
            ch_item = self.tree.topLevelItem(i)
            channel_match = bool(needle) and needle in ch_item.text(0).lower()
            any_visible = False
            for j in range(ch_item.childCount()):
                t_item = ch_item.child(j)
                visible = not needle or channel_match or needle in t_item.text(0).lower()
                t_item.setHidden(not visible)
                if visible:
                    any_visible = True
                    if t_item.data(0, ROLE_KIND) == "tool":
                        shown += 1
            ch_item.setHidden(not any_visible and bool(needle))
        total = sum(1 for it in self._tool_items())
        self.count_label.setText(f"{shown} of {total} tools" if needle else f"{total} tools")

    def _tool_items(self):
        for i in range(self.tree.topLevelItemCount()):
            ch_item = self.tree.topLevelItem(i)
            for j in range(ch_item.childCount()):
                if ch_item.child(j).data(0, ROLE_KIND) == "tool":
                    yield ch_item.child(j)

    def visible_tools(self) -> list[tuple[str, str]]:
        """(channel_id, tool_name) of the tool rows not hidden by the filter."""
        return [(it.data(0, ROLE_CHANNEL), it.data(0, ROLE_TOOL)) for it in self._tool_items() if not it.isHidden()]

    def select_tool(self, channel_id: str, tool_name: str, version: str = "") -> bool:
        for it in self._tool_items():
            if it.data(0, ROLE_CHANNEL) == channel_id and it.data(0, ROLE_TOOL) == tool_name:
                target = it
                if version:
                    for k in range(it.childCount()):
                        if it.child(k).data(0, ROLE_VERSION) == str(version).lstrip("v"):
                            target = it.child(k)
                self.tree.setCurrentItem(target)
                return True
        return False

    # -- selection -----------------------------------------------------------------
    def _on_current(self, item, _prev=None):
        kind = item.data(0, ROLE_KIND) if item is not None else None
        self.run_button.setEnabled(kind in ("tool", "version"))
        if kind in ("tool", "version"):
            self.info.setHtml(self.describe(item.data(0, ROLE_CHANNEL), item.data(0, ROLE_TOOL),
                                            item.data(0, ROLE_VERSION) or None, item.data(0, ROLE_PATH)))
        elif kind == "channel":
            ch = self.manager.get_channel(item.data(0, ROLE_CHANNEL))
            self.info.setHtml(f"<b>tool channel {html.escape(ch.channel_id)}</b><br>"
                              f"folder: <code>{html.escape(str(getattr(ch, 'path', '')))}</code>")
        elif kind == "error":
            self.info.setHtml(f"<b>skipped</b><br>{html.escape(item.toolTip(0))}")
        else:
            self.info.clear()

    def describe(self, channel_id, name, version, path) -> str:
        """HTML: docstring, source path and parameters of one tool version (import errors shown, not raised)."""
        parts = [f"<b>{html.escape(name)}</b>"
                 + (f" v{html.escape(version)}" if version else " (newest version)"),
                 f"<div>source: <code>{html.escape(path or '')}</code></div>",
                 f"<div>channel: {html.escape(channel_id)}</div>"]
        try:
            cls = self.manager.get_channel(channel_id).get_tool_class(name, version)
        except Exception as e:  # noqa: BLE001 - a broken tool file is shown, not fatal
            parts.append(f"<p style='color:#c62828'>cannot load: {html.escape(str(e))}</p>")
            return "".join(parts)
        doc = inspect.getdoc(cls) or "(no docstring)"
        parts.append(docstring_html(doc))
        try:
            specs = parameter_specs(cls)
        except Exception:  # noqa: BLE001
            specs = []
        if specs:
            rows = "".join(
                f"<tr><td><code>{html.escape(s.name)}</code></td><td>{html.escape(s.kind)}</td>"
                f"<td>{'required' if s.required else html.escape(value_to_text(s.default) or 'None')}</td></tr>"
                for s in specs)
            parts.append(f"<table cellspacing=4><tr><th align=left>parameter</th><th align=left>type</th>"
                         f"<th align=left>default</th></tr>{rows}</table>")
        expected = getattr(getattr(cls, "_execute", None), "expected_input_count", None)
        inputs = str(expected) if expected is not None else getattr(cls, "inputs_doc", None)
        if inputs:
            parts.append(f"<div>input streams: {html.escape(inputs)}</div>")
        return "".join(parts)

    def _on_double_click(self, item, _col):
        if item.data(0, ROLE_KIND) in ("tool", "version"):
            self.sigRunTool.emit(item.data(0, ROLE_CHANNEL), item.data(0, ROLE_TOOL), item.data(0, ROLE_VERSION) or "")

    def run_selected(self) -> None:
        item = self.tree.currentItem()
        if item is not None:
            self._on_double_click(item, 0)


__all__ = ["ToolsDock", "reflow_docstring", "docstring_html"]
