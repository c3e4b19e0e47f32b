"""Text helpers of the Run Tool dialog: tool docs as HTML, declared inputs, error reasons in the user's words."""
from __future__ import annotations

import html
import re

from channels.errors import ToolParameterError

from hsgui.common.timefmt import format_time, humanise_reprs


def fmt_time(dt, tz) -> str:
    return format_time(dt, tz, with_ms=None)


def rst_to_html(text: str) -> str:
    """Escaped text with RST ``literals`` shown as code."""
    return re.sub(r"``(.+?)``", r"<code>\1</code>", html.escape(text))


def expected_input_count(tool_class):
    """The number of input streams a tool declares with ``@check_input_stream_count`` (None: not declared)."""
    return getattr(getattr(tool_class, "_execute", None), "expected_input_count", None)


def input_description(tool_class) -> str | None:
    """The tool's own description of its inputs (``Tool.inputs_doc``), for tools that declare no count."""
    doc = getattr(tool_class, "inputs_doc", None)
    return (doc.strip() or None) if isinstance(doc, str) else None


def reason_text(e: ToolParameterError) -> str:
    """The reason of a parameter error without the tool/parameter prefix, reprs in words."""
    text = str(e)
    prefix = f"{e.tool}: parameter {e.parameter!r}: "
    return humanise_reprs(text[len(prefix):] if text.startswith(prefix) else text)


__all__ = ["fmt_time", "rst_to_html", "expected_input_count", "input_description", "reason_text"]
