"""QSettings helpers: window layout, recent connections (never with passwords), last time range.

Everything the app persists goes through this module, so the rule "no password
is ever written to settings" is enforced in one place (:func:`redact_target`).
"""
from __future__ import annotations

import os

from PySide6.QtCore import QSettings, QStandardPaths

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
    s.sync()
    return recent


# -- file dialogs ----------------------------------------------------------------
def last_folder(kind: str) -> str:
    """The folder the ``kind`` file dialog ("import", …) last took a file from, else the user's home."""
    folder = str(settings().value(f"folders/{kind}", "") or "")
    return folder if folder and os.path.isdir(folder) else os.path.expanduser("~")


def save_last_folder(kind: str, path: str) -> None:
    """Remember the folder of ``path`` (a file, or a folder) for the next ``kind`` file dialog."""
    s = settings()
    s.setValue(f"folders/{kind}", path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path)))
    s.sync()


# -- time range ------------------------------------------------------------------
def save_time_range(interval, last=None) -> None:
    """Save the range; ``last`` (a timedelta) when it is "the last …" preset, restored up to the next now."""
    if interval is None:
        return
    s = settings()
    s.setValue("time_range/start", interval.start.isoformat())
    s.setValue("time_range/end", interval.end.isoformat())
    s.setValue("time_range/last_seconds", float(last.total_seconds()) if last is not None else 0.0)


def load_time_range():
    """The last TimeInterval the user looked at (a "last 24 h" preset: the last 24 h up to now), or None."""
    from channels.time_interval import TimeInterval
    from channels.utils import parse_datetime
    s = settings()
    last = load_last_preset()
    if last is not None:
        from channels.utils import utcnow
        now = utcnow()
        return TimeInterval(now - last, now)
    start, end = s.value("time_range/start"), s.value("time_range/end")
    if not start or not end:
        return None
    try:
        return TimeInterval(parse_datetime(str(start)), parse_datetime(str(end)))
    except Exception:  # noqa: BLE001 - a damaged setting is ignored, not fatal
        return None


def save_time_zone(name: str) -> None:
    settings().setValue("time_range/time_zone", name)


def load_time_zone() -> str | None:
    v = settings().value("time_range/time_zone")
    return str(v) if v else None


# -- window layout --------------------------------------------------------------
def save_window(window) -> None:
    s = settings()
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/state", window.saveState())


def restore_window(window) -> bool:
    s = settings()
    geometry, state = s.value("window/geometry"), s.value("window/state")
    ok = False
    if geometry is not None:
        ok = bool(window.restoreGeometry(geometry))
    if state is not None:
        ok = bool(window.restoreState(state)) and ok
    return ok


def load_last_preset():
    """The "last …" preset of the saved range (a timedelta), or None for a fixed window."""
    from datetime import timedelta
    try:
        last = float(settings().value("time_range/last_seconds") or 0)
    except (TypeError, ValueError):
        return None
    return timedelta(seconds=last) if last > 0 else None
