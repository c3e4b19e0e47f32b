"""QSettings helpers: window geometry, recent connections (never with passwords), last folders.

The time range, zone, panes and dock layout are the workspace's (saved on quit, reopened on start): each
setting has one owner.

Everything the app persists goes through this module, so the rule "no password
is ever written to settings" is enforced in one place (:func:`redact_target`).
"""
from __future__ import annotations

import os

from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths, QTimer

from channels.utils import redact_uri  # noqa: F401 - the one redaction rule, used by the dialogs via this module

from hsgui.common.connection import is_mongo_uri, redact_target  # noqa: F401 - used through this module by the dialogs

ORGANIZATION = "HyperStream"
APPLICATION = "hsgui"
MAX_RECENT = 10


def settings() -> QSettings:
    return QSettings(ORGANIZATION, APPLICATION)


def default_store_dir() -> str:
    """``$XDG_DATA_HOME/hsgui`` on Linux (the platform's data folder elsewhere)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    if not base:
        base = os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, APPLICATION)


def default_store_path(store_dir: str | None = None) -> str:
    return os.path.join(store_dir or default_store_dir(), "store.sqlite")


# -- recent connections -------------------------------------------------------
#: redacted target -> the real one, for this session only (never written): reconnecting from the Recent menu
#: or a workspace made on a URI with a password works without asking while the app runs; after a restart
#: the Connect dialog asks for the password
_SESSION_TARGETS: dict[str, str] = {}


def remember_target(target: str) -> str:
    """Keep ``target`` in memory for this session; returns its redacted form (what may be shown or saved)."""
    shown = redact_target(target)
    if shown != target:
        _SESSION_TARGETS[shown] = target
    return shown


def session_target(shown: str | None) -> str | None:
    """The real target behind a redacted one this session opened, or None."""
    return _SESSION_TARGETS.get(redact_target(shown)) if shown else None


def needs_password(shown: str) -> bool:
    """Whether ``shown`` is a redacted target whose secret this session does not know."""
    return bool(shown) and is_mongo_uri(shown) and "***" in shown and session_target(shown) is None
def recent_connections() -> list[str]:
    value = settings().value("connections/recent", [])
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in (value or []) if v]


def add_recent_connection(target: str) -> list[str]:
    target = remember_target(target)
    recent = [t for t in recent_connections() if t != target]
    recent.insert(0, target)
    recent = recent[:MAX_RECENT]
    s = settings()
    s.setValue("connections/recent", recent)
    _write_soon(s)
    return recent


def _write_soon(s: QSettings) -> None:
    """Write ``s`` to disk in a pass of the event loop of its own: the write (and its fsync, 2-11 ms) held the pass
    that connects a store, already the longest of the open. Every QSettings of this process sees the new value at
    once; without an application, it is written now."""
    if QCoreApplication.instance() is None:
        s.sync()
    else:
        QTimer.singleShot(0, s.sync)


# -- window geometry (the dock layout, range and zone belong to the workspace: hsgui.workspace) ----------
def save_geometry(window) -> None:
    """The window's size and place on this machine's screen."""
    settings().setValue("window/geometry", window.saveGeometry())


def restore_geometry(window) -> bool:
    geometry = settings().value("window/geometry")
    return geometry is not None and bool(window.restoreGeometry(geometry))


def last_folder(kind: str) -> str:
    """The folder the ``kind`` file dialog ("import", "workspace", …) last used, else the user's home."""
    folder = str(settings().value(f"folders/{kind}", "") or "")
    return folder if folder and os.path.isdir(folder) else os.path.expanduser("~")


def save_last_folder(kind: str, path: str) -> None:
    """Remember the folder of ``path`` (a file, or a folder) for the next ``kind`` file dialog."""
    s = settings()
    s.setValue(f"folders/{kind}", path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path)))
    s.sync()
