"""Workspaces in the main window: File › Save workspace…, Open workspace…, Open recent workspace, and the
last workspace saved on quit and reopened on start. The document itself is :mod:`hsgui.workspace.doc` (pure).

Opening a workspace made on another store opens that store first and applies the rest once it is connected;
streams that no longer exist are left out and named in one message.
"""
from __future__ import annotations

import base64
import logging
import os

from PySide6.QtCore import QByteArray, QObject, Signal
from PySide6.QtWidgets import QFileDialog

from channels.time_interval import TimeInterval
from hsgui.common.background import JobState

from hsgui import settings as hs_settings
from .doc import CurveDoc, PaneDoc, WorkspaceDoc, WorkspaceError, parse_workspace, redact, to_json
from hsgui.common.timefmt import as_zone, zone_name

log = logging.getLogger(__name__)
RECENT_KEY = "workspaces/recent"
MAX_RECENT = 8


def last_workspace_path() -> str:
    """Where the workspace of the last session is kept (next to the settings file)."""
    return os.path.join(os.path.dirname(hs_settings.settings().fileName()) or ".", "last_workspace.json")


def recent_workspaces() -> list[str]:
    value = hs_settings.settings().value(RECENT_KEY) or []
    return [value] if isinstance(value, str) else list(value)


def add_recent_workspace(path: str) -> None:
    path = os.path.abspath(path)
    items = [path] + [p for p in recent_workspaces() if p != path]
    hs_settings.settings().setValue(RECENT_KEY, items[:MAX_RECENT])


class WorkspaceController(QObject):
    """Captures and applies the main window's working state."""

    sigApplied = Signal(object)     # list of the missing streams' labels, after a workspace was applied

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self._pending: WorkspaceDoc | None = None
        self._pending_job = None
        self.missing: list[str] = []
        window.managerChanged.connect(self._on_manager_changed)
        m = window.menus["file"]
        before = window.quit_action
        self.save_action = m.addAction("Save workspace…", self.ask_save)
        self.open_action = m.addAction("Open workspace…", self.ask_open)
        self.recent_menu = m.addMenu("Recent workspaces")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        for a in (self.save_action, self.open_action, self.recent_menu.menuAction()):
            m.removeAction(a)
            m.insertAction(before, a)
        m.insertSeparator(before)

    # -- capture -------------------------------------------------------------------
    def capture(self) -> WorkspaceDoc:
        w = self.window
        iv = w.picker.interval()
        panes = [PaneDoc([CurveDoc(**c) for c in p["curves"]], p.get("options") or {}, p.get("kind", "time"))
                 for p in w.plot_area.pane_states()]
        dock = base64.b64encode(bytes(w.saveState())).decode("ascii")
        return WorkspaceDoc(w.target, iv.start, iv.end, zone_name(w.picker.time_zone()), panes, dock)

    def save(self, path: str) -> None:
        text = to_json(self.capture())
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)   # never a half-written workspace
        if path != last_workspace_path():
            add_recent_workspace(path)

    def save_last(self) -> None:
        try:
            os.makedirs(os.path.dirname(last_workspace_path()), exist_ok=True)
            self.save(last_workspace_path())
        except OSError as e:
            log.warning("could not keep the workspace for the next start: %s", e)

    # -- open ----------------------------------------------------------------------
    def read(self, path: str) -> WorkspaceDoc:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise WorkspaceError(f"cannot read {path}: {e.strerror or e}") from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise WorkspaceError(f"workspace {os.path.basename(path)}: not a workspace file (not UTF-8 text: byte "
                                 f"{e.start} is {data[e.start:e.start + 1]!r})") from None
        try:
            return parse_workspace(text)
        except WorkspaceError as e:
            raise WorkspaceError(f"workspace {os.path.basename(path)}: {e}") from None

    def open(self, path: str, store: str | None = None) -> WorkspaceDoc | None:
        """Open the workspace file at ``path`` (on ``store`` if given, else on the store it names)."""
        try:
            doc = self.read(path)
        except WorkspaceError as e:
            self.window.show_error(str(e))
            return None
        if path != last_workspace_path():
            add_recent_workspace(path)
        self.apply(doc, store)
        return doc

    # -- pending: a workspace waits for the store it was opened on, and for no other ---------------------------
    @property
    def pending(self) -> WorkspaceDoc | None:
        return self._pending

    @pending.setter
    def pending(self, doc: WorkspaceDoc | None) -> None:
        """``doc`` is applied once the store being opened now is connected; if that open fails or is cancelled
        (or another store is connected instead) it is dropped, never applied to some later store."""
        self._set_pending(doc, self.window._open_job)

    def _set_pending(self, doc, job) -> None:
        self._pending, self._pending_job = doc, (job if doc is not None else None)
        if job is not None and doc is not None:
            job.failed.connect(self._pending_open_ended)
            job.cancelled.connect(self._pending_open_ended)
            self._pending_open_ended()   # the open may have ended before the connections were made

    def _pending_open_ended(self, *_args) -> None:
        job = self._pending_job
        if self._pending is not None and job is not None and job.state in (JobState.FAILED, JobState.CANCELLED):
            doc, self._pending, self._pending_job = self._pending, None, None
            what = redact(doc.store) or "its store"
            self.window.statusBar().showMessage(f"Workspace not applied: {what} could not be opened", 10000)
            log.info("workspace not applied: the store it was opened on could not be opened")

    def _resolve_store(self, store: str | None) -> str | None:
        """The target to open for a workspace's (redacted) store: the current one, or one this session opened
        (the real URI is kept in memory only); None when its password is not known here."""
        if not store:
            return store
        w = self.window
        if w.target and redact(w.target) == redact(store):
            return w.target
        known = hs_settings.session_target(store)
        if known is not None:
            return known
        return None if redact(store) != store or "***" in store else store

    def apply(self, doc: WorkspaceDoc, store: str | None = None) -> None:
        w = self.window
        wanted = store or doc.store
        target = self._resolve_store(wanted)
        if wanted and target is None:
            # a URI whose password was (rightly) not saved: ask for it by connecting, then open the workspace again
            self._set_pending(None, None)
            w.show_error(f"The workspace was made on {redact(wanted)}, whose password is not kept: connect to it "
                         f"with File \u25b8 Connect\u2026 (the password is asked there), then open the workspace again.")
            return
        if (target and target != w.target) or w._open_job is not None:
            job = w.open_target(target) if target and target != w.target else w._open_job
            self._set_pending(doc, job)
            return
        self._apply_now(doc)

    def _on_manager_changed(self, manager):
        doc, job = self._pending, self._pending_job
        self._pending, self._pending_job = None, None
        if doc is None or manager is None:
            return
        if job is not None and not (job.state == JobState.DONE and job.result is manager):
            log.info("workspace not applied: it waited for another store than the one connected now")
            return   # the open this workspace waited for failed or was replaced: it is not for this store
        self._apply_now(doc)

    def _apply_now(self, doc: WorkspaceDoc) -> None:
        w = self.window
        if doc.dock_state:
            try:
                w.restoreState(QByteArray(base64.b64decode(doc.dock_state)))
            except (ValueError, TypeError):
                log.warning("workspace: dock layout unreadable; kept the current one")
        try:
            w.picker.set_time_zone(as_zone(doc.zone))
        except Exception:  # noqa: BLE001 - an unknown zone name: keep the current one, say so
            w.show_error(f"workspace: unknown time zone {doc.zone!r}; kept {zone_name(w.picker.time_zone())}")
        if doc.start is not None and doc.end is not None:
            w.picker.set_interval(TimeInterval(doc.start, doc.end), emit=True)
        states = [{"curves": [dict(channel=c.channel, name=c.name, meta_data=c.meta_data, component=c.component,
                                   colour=c.colour, visible=c.visible, axis=c.axis) for c in p.curves],
                   "options": p.options, "kind": p.kind} for p in doc.panes]
        self.missing = w.plot_area.restore_panes(states) if states else []
        if self.missing:
            w.show_error(f"Workspace opened without {len(self.missing)} stream"
                         f"{'s' if len(self.missing) != 1 else ''} that no longer exist"
                         f"{'s' if len(self.missing) == 1 else ''}: " + "; ".join(self.missing[:6])
                         + (" …" if len(self.missing) > 6 else ""))
        self.sigApplied.emit(self.missing)

    # -- dialogs -------------------------------------------------------------------
    def ask_save(self):
        path, _ = QFileDialog.getSaveFileName(self.window, "Save workspace", "workspace.hsgui.json",
                                              "Workspace (*.json)")
        if path:
            try:
                self.save(path)
            except OSError as e:
                self.window.show_error(f"Could not save the workspace to {path}: {e.strerror or e}")

    def ask_open(self):
        path, _ = QFileDialog.getOpenFileName(self.window, "Open workspace", "", "Workspace (*.json)")
        if path:
            self.open(path)

    def _fill_recent(self):
        self.recent_menu.clear()
        items = recent_workspaces()
        if not items:
            self.recent_menu.addAction("(none)").setEnabled(False)
        for p in items:
            self.recent_menu.addAction(p, lambda p=p: self.open(p))
