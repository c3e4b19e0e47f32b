"""Built-in tool: keep the instances whose dict value has an allowed value at a key."""
from __future__ import annotations


from channels.errors import ToolParameterError
from channels.tools import Tool, check_input_stream_count


class ComponentFilter(Tool):
    """Keeps the instances whose dict value has ``key`` with one of ``values`` (unchanged values).

    Values are compared as given and also as text, so ``values=["1"]`` matches ``{"room": 1}``.

    :param key: The dict key to test.
    :param values: The allowed values of value[key].
    :param complement: Keep the instances whose value[key] is NOT one of values instead
        (instances without the key are still skipped).
    """

    def __init__(self, key: str, values: list, complement: bool = False):
        super().__init__(key=key, values=values, complement=complement)
        if not isinstance(key, str) or not key:
            raise ToolParameterError("component_filter", "key", f"must be non-empty text, got {key!r}")
        if not isinstance(values, (list, tuple, set, frozenset)):
            raise ToolParameterError("component_filter", "values", f"must be a list, got {values!r}")
        self._text = {str(v) for v in values}

    def _allowed(self, v) -> bool:
        try:
            if v in self.values:
                return True
        except TypeError:
            pass
        return str(v) in self._text

    @check_input_stream_count(1)
    def _execute(self, sources, alignment_stream, interval):
        for inst in sources[0].window(interval):
            v = inst.value
            if isinstance(v, dict) and self.key in v and self._allowed(v[self.key]) != self.complement:
                yield inst
