"""What HyperStream 0.3.8 itself wrote (the JSON dumps under tests/data, made by bench/hs_*fixture.py), back into
the BSON values it wrote: ObjectIds, dates and bytes (its stored functions); and the one small tool the tests
write into a tool folder."""
from __future__ import annotations

import base64
from datetime import datetime


def bson_values(x):
    """The fixture's JSON (``{"$oid"}``, ``{"$date"}``, ``{"$binary"}``) back into ObjectIds, datetimes and bytes."""
    from bson import ObjectId
    if isinstance(x, dict):
        if set(x) == {"$oid"}:
            return ObjectId(x["$oid"])
        if set(x) == {"$date"}:
            return datetime.fromisoformat(x["$date"])
        if set(x) == {"$binary"}:
            return base64.b64decode(x["$binary"])
        return {k: bson_values(v) for k, v in x.items()}
    if isinstance(x, list):
        return [bson_values(v) for v in x]
    return x


def load_into(client, documents, db_name="hyperstream"):
    """Insert a fixture's documents into ``client[db_name]`` as HyperStream wrote them."""
    for name, docs in documents.items():
        if docs:
            client[db_name][name].insert_many(bson_values(docs))
    return client[db_name]


def scale_tool_source(mult: float = 1) -> str:
    """A tool file's text: ``Scale(factor)`` multiplies every instance of its one input by ``factor * mult``
    (two versions of the tool differ by ``mult``)."""
    return f'''
from channels.stream import StreamInstance
from channels.tools import Tool


class Scale(Tool):
    """Multiplies every instance of its one input by ``factor``."""

    def __init__(self, factor: float = 2.0):
        super().__init__(factor=factor)

    def _execute(self, sources, alignment_stream, interval):
        for ts, v in sources[0].window(interval).items():
            yield StreamInstance(ts, v * self.factor * {mult})
'''
