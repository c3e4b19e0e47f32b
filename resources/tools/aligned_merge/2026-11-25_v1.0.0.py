"""Built-in tool: merge streams that share timestamps."""
from __future__ import annotations

from typing import Optional

import numpy as np

from channels.columnar import Columns
from channels.errors import IncorrectInputCountError, ToolParameterError
from channels.stream import StreamInstance
from channels.tools import Tool


class AlignedMerge(Tool):
    """Merges input streams at the timestamps present in all of them into one value per timestamp.

    The value is a dict ``{names[i]: value of input stream i}``, or a list of the values in
    input order when no names are given. Timestamps missing from any input are skipped.

    :param names: One name per input stream (keys of the merged dict); empty for a list value.
    """

    #: the inputs are checked in ``_execute`` (any number from 1, as many as ``names`` when given)
    inputs_doc = "1 or more streams sharing timestamps (as many as names, when names are given)"

    def __init__(self, names: Optional[list[str]] = None):
        super().__init__(names=names)
        if names is not None:
            if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) and n for n in names):
                raise ToolParameterError("aligned_merge", "names", f"must be a list of non-empty texts, got {names!r}")
            if len(set(names)) != len(names):
                raise ToolParameterError("aligned_merge", "names", f"names must be distinct, got {names!r}")

    def _execute_columns(self, sources, alignment_stream, interval):
        sources = sources or []
        if not sources or (self.names and len(self.names) != len(sources)):
            return None  # _execute raises the input-count error
        cols = []
        for s in sources:
            c = s.channel.get_typed_columns(s, interval)
            if c is None or c.kind not in ("float", "int"):
                return None
            cols.append(c)
        common = cols[0].ms
        for c in cols[1:]:
            common = np.intersect1d(common, c.ms, assume_unique=True)
        fields = [c.values[np.searchsorted(c.ms, common)] for c in cols]
        return Columns(common, "record", fields, names=self.names or None)

    def _execute(self, sources, alignment_stream, interval):
        sources = sources or []
        if not sources:
            raise IncorrectInputCountError("tool 'aligned_merge' expects at least 1 input stream, got 0")
        if self.names and len(self.names) != len(sources):
            raise IncorrectInputCountError(f"tool 'aligned_merge' has {len(self.names)} names, so expects "
                                           f"{len(self.names)} input streams, got {len(sources)}")
        data = [dict(s.window(interval).items()) for s in sources]
        common = set(data[0]).intersection(*data[1:])
        for ts in sorted(common):
            values = [d[ts] for d in data]
            value = dict(zip(self.names, values)) if self.names else values
            yield StreamInstance._make((ts, value))
