"""Drag-and-drop format for streams: tree → plot panes, tool input lists.

The payload is JSON: ``[{"channel": "<channel id>", "stream": "<StreamId.key>"}, ...]``.
"""
from __future__ import annotations

import json

from PySide6.QtCore import QMimeData

from channels.stream import StreamId

STREAM_MIME = "application/x-hsgui-streams"


def streams_to_mime(streams) -> QMimeData:
    """``streams``: Stream objects (anything with ``.channel.channel_id`` and ``.stream_id``)."""
    payload = [{"channel": s.channel.channel_id, "stream": s.stream_id.key} for s in streams]
    md = QMimeData()
    md.setData(STREAM_MIME, json.dumps(payload).encode("utf-8"))
    md.setText("\n".join(str(s.stream_id) for s in streams))
    return md


def streams_from_mime(md: QMimeData) -> list[tuple[str, StreamId]]:
    """``[(channel_id, StreamId), ...]``; empty when the data is not ours."""
    if md is None or not md.hasFormat(STREAM_MIME):
        return []
    try:
        payload = json.loads(bytes(md.data(STREAM_MIME)).decode("utf-8"))
        return [(p["channel"], StreamId.from_key(p["stream"])) for p in payload]
    except (ValueError, KeyError, TypeError):
        return []
