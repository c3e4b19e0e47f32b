"""Built-in tool: one key of dict values."""
from __future__ import annotations

from channels.errors import ToolParameterError
from channels.tools import Tool, check_input_stream_count


class Component(Tool):
    """Extracts ``value[key]`` from the dict values of the input stream; instances without the key are skipped.

    :param key: The dict key to extract.
    """

    def __init__(self, key: str):
        super().__init__(key=key)
        if not isinstance(key, str) or not key:
            raise ToolParameterError("component", "key", f"must be non-empty text, got {key!r}")

    def _execute_columns(self, sources, alignment_stream, interval):
        if not sources or len(sources) != 1:
            return None  # _execute raises the input-count error
        source = sources[0]
        return source.channel.get_typed_component_columns(source, interval, self.key)

    @check_input_stream_count(1)
    def _execute(self, sources, alignment_stream, interval):
        yield from sources[0].window(interval).component(self.key)
