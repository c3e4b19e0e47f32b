"""Notebook hand-off: "Copy as Python" on a stream puts a snippet on the clipboard that opens the same store
and the same time window, ready for ``view.to_pandas()`` / ``view.to_arrow()`` (the ``notebook`` extra).

A MongoDB URI is written redacted by :func:`channels.utils.redact_uri` (the snippet says where to put the secrets back); a stream of the app's
memory channel has no store another process could open, and the snippet says so.
"""
from __future__ import annotations

from .doc import redact


def python_snippet(target: str | None, channel_id: str, stream_id, interval) -> str:
    """The snippet for ``stream_id`` of ``channel_id`` on store ``target`` over ``interval`` (a TimeInterval)."""
    shown = redact(target)
    lines = ["from datetime import datetime",
             "from channels import ChannelManager, StreamId, TimeInterval", ""]
    if target is None or channel_id == "memory":
        lines += ["# this stream lives in the app's memory channel: another process cannot open it",
                  "manager = ChannelManager()"]
    else:
        if shown != target:
            lines.append("# the password and other secrets are not copied (***): put them back into the URI")
        lines.append(f"manager = ChannelManager.open({shown!r})")
    lines += [f"stream = manager.get_channel({channel_id!r})[StreamId.from_key({stream_id.key!r})]",
              f"window = TimeInterval(datetime.fromisoformat({interval.start.isoformat()!r}),",
              f"                      datetime.fromisoformat({interval.end.isoformat()!r}))",
              "view = stream.window(window)",
              "df = view.to_pandas()        # or view.to_arrow(); pip install 'hyperstream-studio[notebook]'",
              ""]
    return "\n".join(lines)
