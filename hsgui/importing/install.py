"""Shell wiring of the Import feature: File › Import… and files dropped anywhere on the window."""
from __future__ import annotations

import os

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeySequence

from hsgui.importing.import_dialog import ImportDialog

IMPORTABLE = (".csv", ".tsv", ".parquet", ".pq", ".jsonl", ".ndjson", ".json")


def dropped_files(mime) -> list[str]:
    """Local files of an importable kind in a drag's MIME data."""
    if mime is None or not mime.hasUrls():
        return []
    out = []
    for url in mime.urls():
        path = url.toLocalFile()
        if path and os.path.isfile(path) and path.lower().endswith(IMPORTABLE):
            out.append(path)
    return out


class _FileDrops(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window

    def eventFilter(self, obj, event):
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and dropped_files(event.mimeData()):
            event.acceptProposedAction()
            return True
        if kind == QEvent.Type.Drop:
            files = dropped_files(event.mimeData())
            if files:
                event.acceptProposedAction()
                for path in files:
                    open_import_dialog(self.window, path)
                return True
        return False


def open_import_dialog(window, path: str | None = None):
    if window.manager is None:
        window.show_error("not connected: connect to a store before importing")
        return None
    zone = getattr(window.picker.time_zone(), "zone", "UTC")
    dlg = ImportDialog(window.runner, window.manager, path, window, zone=zone)
    dlg.sigImported.connect(lambda report: report is not None and window.statusBar().showMessage(
        report.describe(), 15000))
    return window._show_dialog(dlg)


def install_import_actions(window) -> None:
    """File › Import… (Ctrl+I) and drops of CSV/Parquet/JSON-lines files on the window."""
    file_menu = window.menus["file"]
    action = file_menu.addAction("&Import file…", lambda: open_import_dialog(window))
    action.setShortcut(QKeySequence("Ctrl+I"))
    first = file_menu.actions()[2] if len(file_menu.actions()) > 2 else None
    if first is not None:  # next to Connect / Recent, before Refresh
        file_menu.removeAction(action)
        file_menu.insertAction(first, action)
    window.import_action = action
    window.setAcceptDrops(True)
    window._file_drops = _FileDrops(window)
    window.installEventFilter(window._file_drops)


__all__ = ["install_import_actions", "open_import_dialog", "dropped_files", "IMPORTABLE"]
