"""Built-in tool: split a stream of dicts into meta-data-tagged streams."""
from __future__ import annotations

import logging
from typing import Optional

from channels.errors import ToolParameterError
from channels.stream import StreamInstance, StreamMetaInstance
from channels.tools import MultiOutputTool, check_input_stream_count

log = logging.getLogger(__name__)


class Splitter(MultiOutputTool):
    """Splits a stream of dict values by the value at ``element`` into one stream per value.

    Each instance whose dict has ``element`` goes, without that key, to the sibling of the
    output stream with the extra meta-data ``meta_key = value[element]`` (or
    ``mapping[value[element]]``): output ``motion`` + ``{"room": "kitchen", "x": 1}`` ->
    ``motion: [room=kitchen]`` with value ``{"x": 1}``. Instances without ``element`` are
    skipped, and so are values not in ``mapping`` when a mapping is given.

    :param element: The dict key to split on.
    :param mapping: Optional map from value[element] (as text) to the meta-data value to use.
    :param meta_key: The meta-data key of the output streams (default: element).
    """

    def __init__(self, element: str, mapping: Optional[dict] = None, meta_key: Optional[str] = None):
        super().__init__(element=element, mapping=mapping, meta_key=meta_key)
        if not isinstance(element, str) or not element:
            raise ToolParameterError("splitter", "element", f"must be non-empty text, got {element!r}")
        if mapping is not None and not isinstance(mapping, dict):
            raise ToolParameterError("splitter", "mapping", f"must be a dict, got {mapping!r}")
        if meta_key is not None and (not isinstance(meta_key, str) or not meta_key):
            raise ToolParameterError("splitter", "meta_key", f"must be non-empty text, got {meta_key!r}")
        self._key = meta_key or element
        self._mapping = {str(k): str(v) for k, v in mapping.items()} if mapping else None

    @check_input_stream_count(1)
    def _execute(self, sources, alignment_stream, interval):
        unknown = 0
        for ts, value in sources[0].window(interval):
            if not isinstance(value, dict) or self.element not in value:
                continue
            rest = {k: v for k, v in value.items() if k != self.element}
            tag = str(value[self.element])
            if self._mapping is not None:
                if tag not in self._mapping:
                    unknown += 1
                    continue
                tag = self._mapping[tag]
            yield StreamMetaInstance(StreamInstance._make((ts, rest)), (self._key, tag))
        if unknown:
            log.warning("splitter: %d instance(s) with %s values not in the mapping were skipped", unknown,
                        self.element)
