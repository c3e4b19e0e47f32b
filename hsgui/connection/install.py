"""The connection feature: File › Connect… (Ctrl+O), Recent connections, Quit, opening a store in a job and
switching the state to it (the previous connection is closed in the background once its jobs ended)."""
from __future__ import annotations

import logging
import os

from PySide6.QtCore import QObject

from hsgui import settings as hs_settings
from hsgui.common.background import JobKind
from hsgui.common.connection import close_manager, open_connection, retry_target

log = logging.getLogger(__name__)


class Connection(QObject):
    """Opens stores and puts the open one into ``shell.state``."""

    def __init__(self, shell):
        super().__init__(shell.widget)
        self.shell = shell

    @property
    def open_job(self):
        return self.shell.state.opening

    @open_job.setter
    def open_job(self, job):
        self.shell.state.opening = job

    def open_target(self, target: str | None, create: bool = False, demo: bool = False):
        """Open ``target`` in a job; the state switches to it when it succeeds. Returns the job."""
        if self.open_job is not None:
            self.open_job.cancel()
        shown = hs_settings.remember_target(target) if target else "(no store)"   # the real URI: memory only
        self.shell.show_status(f"Connecting to {shown}…", 0)
        box = {}  # callbacks run later, on the GUI thread, after box["job"] is set
        self.open_job = box["job"] = self.shell.runner.submit(
            f"Open {shown}" + (" (creating the demo store)" if demo else ""), open_connection, target,
            create=create, demo=demo, kind=JobKind.CONNECT, owner=self,
            dispose=lambda manager: manager.close(),     # an open nobody takes any more is closed again
            on_result=lambda manager: self._opened(box["job"], target, manager),
            on_error=lambda msg: self._open_ended(box["job"], target, msg),
            on_cancel=lambda: self._open_ended(box["job"]))
        return box["job"]

    def _opened(self, job, target, manager):
        if job is not self.open_job:
            manager.close()
            return
        self.open_job = None
        self.shell.show_status("", 1)
        self.set_manager(manager, target)

    def _open_ended(self, job, target=None, msg=None):
        if job is not self.open_job:
            return
        self.open_job = None
        self.shell.show_status("", 1)   # the error bar and the log already say why
        retry = retry_target(target, msg) if msg else None
        if retry is not None:   # a timeout expired: offer longer ones (written into the URI)
            self.shell.offer(f"{hs_settings.redact_target(target)} did not answer in time.",
                             lambda: self.open_target(retry), button="Retry with longer timeouts")

    def set_manager(self, manager, target: str | None = None) -> None:
        """Show ``manager``'s channels; the previous connection is closed in the background after the jobs
        that read it ended."""
        state = self.shell.state
        old = state.manager
        if old is not None and old is not manager:
            runner = self.shell.runner   # its jobs end before it is closed
            runner.submit("Close previous connection", close_manager, old, runner.cancel_store_jobs(),
                          kind=JobKind.CLOSE)
        if target:
            hs_settings.add_recent_connection(target)
        if manager is not None:
            for where, why in manager.load_errors[:20]:
                log.warning("not loaded: %s: %s", where, why)
        state.set_connection(manager, target)
        if manager is not None and callable(getattr(manager.store, "missing_indexes", None)):
            self.shell.runner.submit("Indexes of the database", lambda ctx, s=manager.store: s.missing_indexes(),
                                     kind=JobKind.READ, owner=self,
                                     on_result=lambda offers, m=manager: self._offer_indexes(m, offers))

    def _offer_indexes(self, manager, offers) -> None:
        """Opening a HyperStream database writes nothing; the indexes that would speed reading are offered with
        their cost, and made only when the user agrees (or at the store's first write)."""
        if not offers or manager is not self.shell.state.manager:
            return
        docs = sum(o.documents for o in offers)
        names = ", ".join(o.title for o in offers[:3]) + (" …" if len(offers) > 3 else "")
        log.info("indexes that would speed up reading: %s", "; ".join(str(o) for o in offers))
        self.shell.offer(f"This database lacks {len(offers)} index{'es' if len(offers) != 1 else ''} that speed up "
                         f"reading ({names}; {docs:,} documents to index). Nothing is written unless you agree.",
                         lambda: self.create_indexes(manager), button="Create indexes")

    def create_indexes(self, manager):
        def done(made):
            self.shell.show_status(f"Created {len(made)} index{'es' if len(made) != 1 else ''}", 10000)
        return self.shell.runner.submit("Create the database's indexes", lambda ctx: manager.store.create_indexes(),
                                        kind=JobKind.WRITE, owner=self, on_result=done)

    def show_connect_dialog(self, current: str | None = None, message: str = ""):
        from hsgui.connection.dialog import ConnectDialog
        dlg = ConnectDialog(self.shell.runner, current or self.shell.state.target, self.shell.widget)
        if message:
            dlg.error_label.setText(message)
        if dlg.exec():
            t = dlg.target()
            create = dlg.tabs.currentIndex() == 0 and not os.path.exists(t)
            return self.open_target(t, create=create)
        return None

    def recent_entries(self, _ctx=None):
        # saved redacted: the menu shows no password
        return [(t, lambda t=t: self.open_recent(t)) for t in hs_settings.recent_connections()]

    def open_recent(self, shown: str):
        """Reconnect to a recent connection: its real URI if this session opened it (kept in memory only),
        else the Connect dialog asks for the password that was not saved."""
        real = hs_settings.session_target(shown)
        if real is not None:
            return self.open_target(real)
        if hs_settings.needs_password(shown):
            return self.show_connect_dialog(shown, "The password is not saved: type it in place of *** in the URI.")
        return self.open_target(shown)


def install(shell) -> Connection:
    conn = Connection(shell)
    shell.actions.add("file.connect", "&Connect…", lambda ctx: conn.show_connect_dialog(), menu="file", order=100,
                      shortcut="Ctrl+O", toolbar=True, tip="Connect to a store (an embedded file or MongoDB)")
    shell.actions.add("file.recent", "Recent connections", menu="file", order=110, submenu=conn.recent_entries)
    shell.actions.add("file.quit", "&Quit", lambda ctx: shell.widget.close(), menu="file", order=900,
                      shortcut="Ctrl+Q")
    return conn


__all__ = ["Connection", "install"]
