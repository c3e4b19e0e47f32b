"""Keyboard shortcuts and the Help menu's texts (Getting started, Keyboard shortcuts).

One table, :data:`SHORTCUTS`, both binds the keys (:func:`install_shortcuts`) and is what
Help › Keyboard shortcuts lists, so the two never disagree.
"""
from __future__ import annotations

import html

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

#: (name, key, what it does, main-window method); a method of None is a key that a widget handles itself
SHORTCUTS = [
    ("find", "Ctrl+F", "Find streams: put the cursor in the Streams filter", "focus_filter"),
    ("plot", "Ctrl+P", "Plot the selected streams (in the selected pane)", "plot_selected"),
    ("plot_new_pane", "Ctrl+Shift+P", "Plot the selected streams in a new pane", "plot_selected_new_pane"),
    ("new_pane", "Ctrl+N", "Add an empty plot pane", "new_pane"),
    ("maximise_pane", "Ctrl+M", "Maximise the selected pane / show all panes again", "toggle_maximise_pane"),
    ("fit", "Ctrl+0", "Fit the time range to the plotted data", "fit_to_data"),
    ("back", "Alt+Left", "Back to the previous time range", "range_back"),
    ("forward", "Alt+Right", "Forward to the next time range", "range_forward"),
    ("run_tool", "Ctrl+R", "Run the tool selected in the Tools dock (or open the Tools dock)", "run_selected_tool"),
    ("cancel_job", "Ctrl+.", "Cancel the newest running job", "cancel_newest_job"),
    ("help", "F1", "Getting started", "show_getting_started"),
]
#: keys the widgets handle themselves (listed, not bound here); plus the standard ones of the File menu
WIDGET_KEYS = [
    ("Enter", "in the stream tree: plot the selected stream; on a group: open or close it"),
    ("Menu key, Shift+F10", "in the stream tree: the menu of the selected streams (Plot, Purge…, Compute…)"),
    ("Esc", "in the Streams filter: clear it"),
    ("Down", "in the Streams filter: go into the tree; in the stream picker's search: move through the matches"),
    ("Up / Down", "in a time box: step the part under the cursor (year … second)"),
    ("Tab / Shift+Tab", "move between the filter, tree, time range, plots, inspector and instances table"),
    ("Ctrl+O", "Connect to a store"),
    ("F5", "Refresh the stream definitions"),
    ("Ctrl+Q", "Quit"),
]

GETTING_STARTED = """
<h3>Getting started</h3>
<p><b>Channels</b> hold <b>streams</b>; a stream is a named series of timestamped <b>instances</b>
(numbers, text, dicts, …), told apart by its meta-data (e.g. <code>house=1, resident=alice</code>).
The <b>Streams</b> dock on the left lists channel → stream name → meta-data variant.</p>
<p>Each stream records its <b>calculated intervals</b>: the time it has been computed or loaded for.
A gap there means "not computed yet", not "no data". The Inspector shows them as a timeline.</p>
<p><b>Tools</b> compute streams from other streams over a time interval (e.g. a clock, a sliding
window, an aggregate). A tool only computes what its output has not calculated yet.</p>
<h4>The five main actions</h4>
<ol>
<li><b>Find</b> a stream: type in the Streams filter (Ctrl+F) — a name, or <code>key=value</code>,
globs <code>* ?</code> allowed.</li>
<li><b>Plot</b> it: double-click or Enter (Ctrl+P); drag more onto a pane; Ctrl+N adds a pane.</li>
<li><b>Choose the time</b>: the time range at the top — presets (1 h, 24 h, All, Calc), or type a time
like <code>2024-03-02 06:00:00</code>; zoom and pan the plots; Alt+Left / Alt+Right go back and forward.</li>
<li><b>Compute</b>: pick a tool in the Tools dock and Run… (Ctrl+R), or right-click a stream
(Menu key) › Compute with… / Compute missing…; watch it in the Jobs dock, cancel with Ctrl+.</li>
<li><b>Clean up</b>: right-click a stream › Purge… removes its data (all, an interval, or the definition).</li>
</ol>
<p>Asset streams (static inputs) open in the Asset editor when selected. Help › Keyboard shortcuts lists every key.</p>
"""


def install_shortcuts(window) -> dict[str, QAction]:
    """Bind :data:`SHORTCUTS` to ``window``'s methods as window-wide actions; returns them by name."""
    actions = {}
    for name, key, text, method in SHORTCUTS:
        action = QAction(text, window)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(action.shortcutContext().WindowShortcut)
        action.triggered.connect(lambda _=False, m=method: getattr(window, m)())
        window.addAction(action)
        actions[name] = action
    return actions


def shortcuts_html(window=None) -> str:
    rows = []
    for _name, key, text, _m in SHORTCUTS:
        rows.append((key, text))
    rows += WIDGET_KEYS
    body = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(t)}</td></tr>" for k, t in rows)
    return f"<h3>Keyboard shortcuts</h3><table cellspacing=6>{body}</table>"


def show_text(parent, title: str, text: str) -> QDialog:
    dlg = QDialog(parent)
    dlg.setWindowTitle(title)
    dlg.resize(620, 520)
    lay = QVBoxLayout(dlg)
    browser = QTextBrowser(dlg)
    browser.setHtml(text)
    browser.setOpenExternalLinks(False)
    lay.addWidget(browser)
    bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dlg)
    bb.rejected.connect(dlg.reject)
    lay.addWidget(bb)
    dlg.browser = browser
    dlg.show()
    return dlg


__all__ = ["SHORTCUTS", "WIDGET_KEYS", "GETTING_STARTED", "install_shortcuts", "shortcuts_html", "show_text"]
