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

from datetime import timedelta

from channels.time_interval import TimeInterval
from channels.utils import utcnow
from hsgui.common.background import JobState
from hsgui.shell import follow

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
    """Captures and applies the window's working state: the one owner of the range, zone, panes and docks
    between sessions (QSettings keeps only the window's geometry)."""

    sigApplied = Signal(object)     # list of the missing streams' labels, after a workspace was applied

    def __init__(self, shell):
        super().__init__(shell.widget)
        self.shell = shell
        self.views = {"workspaces": self}
        self._pending: WorkspaceDoc | None = None
        self._pending_job = None
        self.missing: list[str] = []
        follow(self, shell.state, "manager", self._on_manager_changed, now=False)

    # -- capture -------------------------------------------------------------------
    def capture(self) -> WorkspaceDoc:
        state = self.shell.state
        iv = state.interval
        panes = [PaneDoc([CurveDoc(**c) for c in p["curves"]], p.get("options") or {}, p.get("kind", "time"))
                 for p in self.shell.plots.pane_states()]
        dock = base64.b64encode(bytes(self.shell.widget.saveState())).decode("ascii")
        last = state.range_preset.total_seconds() if state.range_preset else None
        return WorkspaceDoc(state.target, iv.start, iv.end, zone_name(state.time_zone), panes, dock, last)

    def save(self, path: str) -> None:
        text = to_json(self.capture())
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)   # never a half-written workspace
        if path != last_workspace_path():
            add_recent_workspace(path)

    def save_last(self) -> None:
        """Keep the working state for the next start — unless a workspace still waits for its store (its open
        failed): then the file keeps that workspace instead of this session's empty window."""
        if self._pending is not None and os.path.exists(last_workspace_path()):
            log.info("last workspace kept: the one opened was never applied")
            return
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
            self.shell.show_error(str(e))
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
        self._set_pending(doc, self.shell.state.opening)

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
            self.shell.show_status(f"Workspace not applied: {what} could not be opened", 10000)
            log.info("workspace not applied: the store it was opened on could not be opened")

    def _resolve_store(self, store: str | None) -> str | None:
        """The target to open for a workspace's (redacted) store: the current one, or one this session opened
        (the real URI is kept in memory only); None when its password is not known here."""
        if not store:
            return store
        current = self.shell.state.target
        if current and redact(current) == redact(store):
            return current
        known = hs_settings.session_target(store)
        if known is not None:
            return known
        return None if redact(store) != store or "***" in store else store

    def apply(self, doc: WorkspaceDoc, store: str | None = None) -> None:
        """Show ``doc`` — once its store is connected if that is another one (a failed open applies nothing)."""
        shell, state = self.shell, self.shell.state
        wanted = store or doc.store
        target = self._resolve_store(wanted)
        if wanted and target is None:
            # a URI whose password was (rightly) not saved: ask for it by connecting, then open the workspace again
            self._set_pending(None, None)
            shell.show_error(f"The workspace was made on {redact(wanted)}, whose password is not kept: connect to it "
                         f"with File \u25b8 Connect\u2026 (the password is asked there), then open the workspace again.")
            return
        if (target and target != state.target) or state.opening is not None:
            job = shell.open_target(target) if target and target != state.target else state.opening
            self._set_pending(doc, job)     # applied whole once that store is connected, or not at all
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
        self.apply_view(doc)
        self._apply_panes(doc)

    def restore_last_view(self) -> WorkspaceDoc | None:
        """The last session's range, zone and docks (its panes wait for its store: see ``pending``)."""
        path = last_workspace_path()
        if not os.path.exists(path):
            return None
        try:
            doc = self.read(path)
        except WorkspaceError as e:
            log.warning("last workspace not reopened: %s", e)
            return None
        self.apply_view(doc)
        return doc

    def apply_view(self, doc: WorkspaceDoc) -> None:
        """The parts of ``doc`` that need no store: dock layout, zone, range (a "last …" range ends now)."""
        shell, state = self.shell, self.shell.state
        if doc.dock_state:
            try:
                shell.widget.restoreState(QByteArray(base64.b64decode(doc.dock_state)))
            except (ValueError, TypeError):
                log.warning("workspace: dock layout unreadable; kept the current one")
        try:
            state.time_zone = as_zone(doc.zone)
        except Exception:  # noqa: BLE001 - an unknown zone name: keep the current one, say so
            shell.show_error(f"workspace: unknown time zone {doc.zone!r}; kept {zone_name(state.time_zone)}")
        if doc.last_seconds:
            now = utcnow()
            last = timedelta(seconds=doc.last_seconds)
            state.interval = TimeInterval(now - last, now)
            state.range_preset = last
        elif doc.start is not None and doc.end is not None:
            state.range_preset = None
            state.interval = TimeInterval(doc.start, doc.end)

    def _apply_panes(self, doc: WorkspaceDoc) -> None:
        shell = self.shell
        states = [{"curves": [dict(channel=c.channel, name=c.name, meta_data=c.meta_data, component=c.component,
                                   colour=c.colour, visible=c.visible, axis=c.axis) for c in p.curves],
                   "options": p.options, "kind": p.kind} for p in doc.panes]
        self.missing = shell.plots.restore_panes(states) if states else []
        if self.missing:
            shell.show_error(f"Workspace opened without {len(self.missing)} stream"
                         f"{'s' if len(self.missing) != 1 else ''} that no longer exist"
                         f"{'s' if len(self.missing) == 1 else ''}: " + "; ".join(self.missing[:6])
                         + (" …" if len(self.missing) > 6 else ""))
        self.sigApplied.emit(self.missing)

    # -- dialogs -------------------------------------------------------------------
    def ask_save(self, _ctx=None):
        start = os.path.join(hs_settings.last_folder("workspace"), "workspace.hsgui.json")
        path, _ = QFileDialog.getSaveFileName(self.shell.widget, "Save workspace", start, "Workspace (*.json)")
        if path:
            hs_settings.save_last_folder("workspace", path)
            try:
                self.save(path)
            except OSError as e:
                self.shell.show_error(f"Could not save the workspace to {path}: {e.strerror or e}")
            else:
                self.shell.show_status(f"Workspace saved to {path}", 8000)

    def ask_open(self, _ctx=None):
        path, _ = QFileDialog.getOpenFileName(self.shell.widget, "Open workspace", hs_settings.last_folder("workspace"),
                                              "Workspace (*.json)")
        if path:
            hs_settings.save_last_folder("workspace", path)
            self.open(path)

    def copy_as_python(self, stream):
        from PySide6.QtGui import QGuiApplication
        from .snippet import python_snippet      # when first asked for: not at start
        state = self.shell.state
        QGuiApplication.clipboard().setText(python_snippet(state.target, stream.channel.channel_id, stream.stream_id,
                                                           state.interval))
        self.shell.show_status("Python snippet for the stream copied to the clipboard", 5000)

    def recent_entries(self, _ctx=None):
        return [(p, lambda p=p: self.open(p)) for p in recent_workspaces()]


def install(shell) -> WorkspaceController:
    c = WorkspaceController(shell)
    add = shell.actions.add
    add("file.save_workspace", "Save workspace…", c.ask_save, menu="file", order=400, shortcut="Ctrl+S",
        tip="Save the store, range, zone, panes and dock layout to a file")
    add("file.open_workspace", "Open workspace…", c.ask_open, menu="file", order=410, shortcut="Ctrl+Shift+O")
    add("file.recent_workspaces", "Recent workspaces", menu="file", order=420, submenu=c.recent_entries)
    add("workspace.copy_python", "Copy as Python", lambda ctx: c.copy_as_python(ctx.stream), scopes=("streams",),
        order=420, when=lambda ctx: ctx.stream is not None,
        tip="A snippet that opens this stream over the visible range in a notebook (no password in it)")
    return c
