"""Shell wiring of the Import feature: File › Import… and files dropped anywhere on the window."""
from __future__ import annotations

import os

from PySide6.QtCore import QEvent, QObject

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
    """Files dropped anywhere on the window open the Import dialog."""

    def __init__(self, importing):
        super().__init__(importing)
        self.importing = importing

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
                    self.importing.open_dialog(path)
                return True
        return False


class Importing(QObject):
    def __init__(self, shell):
        super().__init__(shell.widget)
        self.shell = shell
        shell.widget.setAcceptDrops(True)
        self._drops = _FileDrops(self)
        shell.widget.installEventFilter(self._drops)

    def open_dialog(self, path: str | None = None):
        shell = self.shell
        if shell.state.manager is None:
            shell.show_error("not connected: connect to a store before importing")
            return None
        from hsgui.importing.import_dialog import ImportDialog   # imported when first used: not on the start path
        zone = getattr(shell.state.time_zone, "zone", "UTC")
        dlg = ImportDialog(shell.runner, shell.state.manager, path, shell.widget, zone=zone)
        dlg.sigImported.connect(lambda report: report is not None and shell.show_status(report.describe(), 15000))
        return shell.show_dialog(dlg)


def install(shell) -> Importing:
    """File › Import… (Ctrl+I) and drops of CSV/Parquet/JSON-lines files on the window."""
    imp = Importing(shell)
    shell.actions.add("file.import", "&Import file…", lambda ctx: imp.open_dialog(), menu="file", order=200,
                      shortcut="Ctrl+I", tip="Import a CSV, Parquet or JSON-lines file into a stream")
    return imp


__all__ = ["install", "Importing", "dropped_files", "IMPORTABLE"]
