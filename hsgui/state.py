"""The application's one evented state: what every view of the window shows, in pure Python (no Qt).

The connection (``manager``, ``target``), the time range (``interval``), the time zone, the selected stream
and the tree's restriction live here and nowhere else. A view that changes one of them writes it here; every
view that shows it subscribes once and follows, whichever widget made the change — a plot zoom, a typed range,
a preset, a restored workspace. A field emits only on a real change (``==``), so a view that writes back the
value it was just given ends the round trip instead of echoing.

Built on psygnal's evented dataclass (the signal layer napari's models use): ``state.events.interval`` is the
signal of ``state.interval``; callbacks get ``(new, old)`` or just ``(new)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytz
from psygnal import evented

from channels.time_interval import TimeInterval


@evented
@dataclass(eq=False)
class AppState:
    """What the window shows now. Set a field to change it; connect to ``events.<field>`` to follow it."""

    #: the open connection (a ``ChannelManager``) or None
    manager: Any = None
    #: the store the connection was opened on (the real URI: kept in memory, redacted wherever written or shown)
    target: str | None = None
    #: the visible time range (a :class:`TimeInterval`), or None before the first one is set
    interval: TimeInterval | None = None
    #: when the range is a "last …" preset, its length (a timedelta): a restored range ends at the new now
    range_preset: Any = None
    #: the zone every time is shown and typed in (a tzinfo)
    time_zone: Any = pytz.utc
    #: the stream selected in the Streams dock (a ``Stream``) or None
    current_stream: Any = None
    #: ``(plate value sets, label)`` the Streams dock is limited to, or None for every stream
    restriction: Any = None
    #: the job opening a store now (the connection switches to it when it succeeds), or None
    opening: Any = None

    def set_connection(self, manager, target: str | None) -> None:
        """A new connection: the target first, so a view following ``manager`` sees the matching target."""
        self.target = target
        self.restriction = None
        if manager is None or (self.current_stream is not None and not _belongs(self.current_stream, manager)):
            self.current_stream = None
        self.manager = manager


def _belongs(stream, manager) -> bool:
    try:
        return manager.get_channel(stream.channel.channel_id) is stream.channel
    except Exception:  # noqa: BLE001 - a channel the new connection does not have
        return False


__all__ = ["AppState"]
