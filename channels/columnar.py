"""Columnar batches: epoch-ms timestamps and float64 values as numpy arrays, without StreamInstance objects.

``check_arrays`` validates a batch for ``insert_arrays`` (stores and channels) with vectorised checks and
clear errors: both arrays one-dimensional and of the same length, integer timestamps strictly increasing
(no duplicates, no disorder within the batch), inside ``MIN_DATE .. MAX_DATE`` and not in the future, values
numeric.

``instances_from_arrays`` turns such a batch into StreamInstances (trusted: already validated).
"""
from __future__ import annotations

from datetime import timedelta

import numpy as np

from .errors import TimeError, ValueEncodingError
from .utils import EPOCH, MAX_DATE, MIN_DATE, from_ms, to_ms, utcnow

MIN_MS = to_ms(MIN_DATE)
MAX_MS = to_ms(MAX_DATE)


def check_arrays(stream_id, ms, values):
    """``(ms int64 ndarray, values float64 ndarray)`` of a valid columnar batch for ``stream_id``; raise otherwise."""
    where = f"stream {stream_id}"
    ms_a = np.asarray(ms)
    v_a = np.asarray(values)
    if ms_a.ndim != 1 or v_a.ndim != 1:
        raise ValueEncodingError(f"{where}: insert_arrays needs one-dimensional arrays, got timestamps of shape "
                                 f"{ms_a.shape} and values of shape {v_a.shape}; nothing was written")
    if len(ms_a) != len(v_a):
        raise ValueEncodingError(f"{where}: insert_arrays got {len(ms_a)} timestamps but {len(v_a)} values "
                                 f"(arrays of different lengths); nothing was written")
    if len(ms_a) and ms_a.dtype.kind not in "iu":
        raise TimeError(f"{where}: timestamps must be an integer array of epoch milliseconds, got dtype "
                        f"{ms_a.dtype}; nothing was written")
    if len(v_a) and (v_a.dtype.kind not in "iuf" or v_a.dtype == np.float16):
        raise ValueEncodingError(f"{where}: values must be a numeric array (converted to float64), got dtype "
                                 f"{v_a.dtype}; nothing was written")
    ms_a = np.ascontiguousarray(ms_a, dtype=np.int64)
    v_a = np.ascontiguousarray(v_a, dtype=np.float64)
    n = len(ms_a)
    if n == 0:
        return ms_a, v_a
    if n > 1:
        d = np.diff(ms_a)
        bad = np.flatnonzero(d <= 0)
        if len(bad):
            i = int(bad[0]) + 1
            what = "a duplicate timestamp" if d[bad[0]] == 0 else "a timestamp before the previous one"
            raise TimeError(f"{where}: item {i} of the batch has {what} ({_iso(ms_a[i])} after "
                            f"{_iso(ms_a[i - 1])}); insert_arrays needs strictly increasing timestamps; "
                            f"nothing was written")
    lo, hi = int(ms_a[0]), int(ms_a[-1])
    if lo < MIN_MS or hi > MAX_MS:
        bad_ms = lo if lo < MIN_MS else hi
        raise TimeError(f"{where}: timestamp {bad_ms} ms is outside the representable range "
                        f"{MIN_DATE.isoformat()} .. {MAX_DATE.isoformat()}; nothing was written")
    if hi > to_ms(utcnow()):
        raise TimeError(f"{where}: instance timestamp {from_ms(hi).isoformat()} is in the future; "
                        f"nothing of this batch was written")
    return ms_a, v_a


def _iso(ms) -> str:
    try:
        return from_ms(int(ms)).isoformat()
    except (OverflowError, ValueError):
        return f"{int(ms)} ms"


def instances_from_arrays(ms, values) -> list:
    """StreamInstances of a validated batch (no per-instance checks)."""
    from .stream import StreamInstance
    new, si, add, td = tuple.__new__, StreamInstance, EPOCH.__add__, timedelta
    return [new(si, (add(td(0, 0, 0, t)), v)) for t, v in zip(ms.tolist(), values.tolist())]


__all__ = ["check_arrays", "instances_from_arrays", "MIN_MS", "MAX_MS"]
