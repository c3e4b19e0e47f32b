"""The Help menu's texts: Getting started, and Keyboard shortcuts built from the window's action registry
(every command with a key, so Help and the bindings never disagree) plus the keys views handle themselves.
"""
from __future__ import annotations

import html

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

#: keys the widgets handle themselves (listed in Help after the commands, not bound by the window)
WIDGET_KEYS = [
    ("Enter", "in the stream tree: plot the selected stream; on a group: open or close it"),
    ("Menu key, Shift+F10", "in the stream tree: the menu of the selected streams (Plot, Purge…, Compute…)"),
    ("Esc", "in the Streams filter: clear it"),
    ("Down", "in the Streams filter: go into the tree; in the stream picker's search: move through the matches"),
    ("Up / Down", "in a time box: step the part under the cursor (year … second)"),
    ("Tab / Shift+Tab", "move between the filter, tree, time range, plots, inspector and instances table"),
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


def shortcuts_html(actions) -> str:
    """Every command's key (from the action registry ``actions``), then the keys inside views."""
    commands = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(t.replace('&', ''))}</td></tr>"
                       for k, t in actions.keys())
    inside = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(t)}</td></tr>" for k, t in WIDGET_KEYS)
    return (f"<h3>Keyboard shortcuts</h3><table cellspacing=6>{commands}</table>"
            f"<h4>Inside a view</h4><table cellspacing=6>{inside}</table>")


def about(parent) -> None:
    from PySide6.QtWidgets import QMessageBox
    from hsgui import __version__
    QMessageBox.about(parent, "HyperStream Studio",
                      f"HyperStream Studio {__version__}\nBrowse, plot and compute HyperStream streams.")


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


__all__ = ["WIDGET_KEYS", "GETTING_STARTED", "shortcuts_html", "show_text", "about"]
