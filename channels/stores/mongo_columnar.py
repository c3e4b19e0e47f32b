"""Numeric and columnar reads of the MongoDB store's ``streams`` (functions of the store's
:class:`~channels.stores.mongo_common.MongoCollections` and :class:`~channels.stores.mongo_common.MongoStreamIds`).

:func:`numeric_docs` reads the number each instance counts as (or of one component); :func:`typed_component_columns`
reads only ``value.<key>`` of each document (a projection), so neither whole values
are decoded nor StreamInstances made; it declines (None) whenever the result might differ from reading instances.
"""
from __future__ import annotations

import numpy as np

from ..columnar import INT64_MAX, INT64_MIN, Columns
from .codec import MONGO_TAG, decode_bson, dt_ms, numeric
from .mongo_common import _aware

_MISSING = object()


def typed_component_columns(collections, stream_ids, stream_id, start, end, key):
    """``value[key]`` of the instances in ``(start, end]`` whose dict value has ``key`` (the others skipped, as
    ``StreamView.component`` does) as float or int Columns; None when they are not all floats or all ints, or
    the key is one MongoDB cannot project (``$``-prefixed, with ``.`` or NUL, the tag key)."""
    if not isinstance(key, str) or not key or key.startswith("$") or "." in key or "\0" in key \
            or key == MONGO_TAG:
        return None
    ms, vals = [], []
    miss = _MISSING
    with collections.errors(f"reading component {key!r} of stream {stream_id}"):
        cur = collections.streams.find(stream_ids.filter(stream_id, start, end),
                                       {"_id": 0, "datetime": 1, f"value.{key}": 1, f"value.{MONGO_TAG}": 1})
        for d in cur.sort("datetime", 1).batch_size(10_000):
            v = d.get("value", miss)
            if type(v) is not dict:
                continue  # not a dict (a scalar, a list): skipped
            tag = v.get(MONGO_TAG, miss)
            if tag is not miss:
                if tag == "dict":
                    return None  # a user dict stored escaped: its keys are in "items"
                continue  # a TimeInterval or a big int: not a dict
            x = v.get(key, miss)
            if x is miss:
                continue
            ms.append(dt_ms(_aware(d["datetime"])))
            vals.append(x)
    types = set(map(type, vals))
    ms_a = np.array(ms, dtype=np.int64)
    if not vals or types == {float}:
        return Columns(ms_a, "float", np.array(vals, dtype=np.float64))
    if all(isinstance(x, int) and not isinstance(x, bool) for x in vals) and \
            INT64_MIN <= min(vals) and max(vals) <= INT64_MAX:
        return Columns(ms_a, "int", np.array([int(x) for x in vals], dtype=np.int64))
    return None


def numeric_docs(collections, stream_ids, stream_id, start, end, component):
    """``(ms list, float-or-None list)`` of every instance in range, in time order."""
    ms, nums = [], []
    with collections.errors(f"reading stream {stream_id}"):
        cur = collections.streams.find(stream_ids.filter(stream_id, start, end),
                                       {"_id": 0, "datetime": 1, "value": 1})
        for d in cur.sort("datetime", 1).batch_size(10_000):
            v = d.get("value")
            if component is not None:
                if isinstance(v, dict):
                    if MONGO_TAG in v:
                        v = decode_bson(v)
                    v = v.get(component) if isinstance(v, dict) else None
                else:
                    v = None
            elif isinstance(v, dict) and MONGO_TAG in v:  # an int beyond int64 is a number too
                v = decode_bson(v)
            ms.append(dt_ms(_aware(d["datetime"])))
            nums.append(numeric(v))
    return ms, nums
