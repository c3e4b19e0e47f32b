"""Lossless encodings of the embedded store's array blocks (see :mod:`channels.stores.sqlite_blocks`).

A block holds ``n`` strictly increasing epoch ms (int64) and ``n`` float64 values. The store's bulk writes
are bound by the bytes written (the WAL, then the checkpoint into the file), so a block is written in the
smallest of a few encodings that give every bit back -- and decoding must stay cheap, as reads and zoom
decode blocks on every request (hence no entropy coder where a shift and a cast do almost as well).

Every encoded blob is SHORTER than the raw one, so a blob of exactly ``8 * n`` bytes is raw (little-endian
int64 / float64, as blocks were first written, and as a block is kept when nothing smaller is found); any
other blob starts with an encoding byte:

Times
    ``TS_DELTAS``: ``t0`` and the smallest step, then each step above it in ``w`` bytes (``w`` 0, 1, 2, 4
    or 8: the fewest that hold the largest). A regular series (a sensor every second, a clock) is ``w = 0``:
    18 bytes for the whole block.
Values
    ``NUM_DECIMAL``: values with at most ``e`` decimals (most measured data: a sensor's 20.125, a price)
    as integers ``k`` with ``k / 10**e`` giving back exactly the stored float64 -- each kept as its offset
    from the block's smallest ``k`` (or, if smaller, the step from the previous one), in ``w`` bytes.
    The values that do not come back bit for bit that way (NaN of any payload, ±inf, -0.0, a value with more
    decimals) are exceptions, stored raw with their positions; a block with more than ``n / 16`` of them is
    not encoded this way. The decoder's arithmetic is the one the encoder checked, so it is exact by
    construction.
    ``NUM_SHUFFLED``: any other floats, their bytes grouped by significance and compressed with zstd
    (Arrow's codec), used when that saves at least an eighth.

:func:`encode_blocks` cuts a batch into blocks and encodes them (the arithmetic done on the whole batch at
once); :func:`decode_ts` / :func:`decode_num` read one blob. No pickle, nothing but the arrays' own bits.
"""
from __future__ import annotations

import struct

import numpy as np

from ..errors import StoreError

TS_DELTAS = 1
NUM_DECIMAL = 1
NUM_SHUFFLED = 2

_I8 = np.dtype("<i8")
_F8 = np.dtype("<f8")
_TS_HEAD = struct.Struct("<BqqB")          # encoding, t0, smallest step, width
#: encoding, decimals e, mode (0: offsets from base, 1: steps from base), width, base, smallest step, exceptions
_DEC_HEAD = struct.Struct("<BBBBqqI")
_MAX_E = 15
_SCALES = 10.0 ** np.arange(_MAX_E + 1, dtype=np.float64)
_EXACT = float(2 ** 53)                    # |k| below this converts to float64 and back exactly (the sample test)
_SAMPLE = 64
_MIN_SHUFFLE_SAVING = 8                    # NUM_SHUFFLED only when it saves at least 1/8 of the raw bytes


class BlockCodecError(StoreError):
    """A block blob that is not in any encoding this version knows: the store file is damaged."""


_UINT = {1: np.dtype("<u1"), 2: np.dtype("<u2"), 4: np.dtype("<u4"), 8: _I8}


def _width(span: int) -> int:
    """The bytes (0, 1, 2, 4 or 8: whole machine integers, cast without a strided copy) that hold the unsigned
    integer ``span``."""
    for w in (0, 1, 2, 4):
        if span < 1 << (8 * w):
            return w
    return 8


def _pack(u: np.ndarray, w: int) -> bytes:
    """Each non-negative int64 of ``u`` in ``w`` bytes (from :func:`_width`), little-endian."""
    return u.astype(_UINT[w]).tobytes() if w else b""


def _unpack(buf, count: int, w: int) -> np.ndarray:
    """int64 of ``count`` values packed by :func:`_pack` in ``w`` bytes each."""
    if w == 0:
        return np.zeros(count, _I8)
    if w not in _UINT:
        raise BlockCodecError(f"damaged array block: unknown integer width {w} (a block of about {count} instances)")
    return np.frombuffer(buf, _UINT[w], count).astype(_I8)


# -- times ---------------------------------------------------------------------------------------------------------

def decode_ts(blob, n: int) -> np.ndarray:
    """The int64 ms of a block of ``n`` instances (read-only when the blob was raw)."""
    if len(blob) == 8 * n:
        return np.frombuffer(blob, _I8)
    if not blob or blob[0] != TS_DELTAS:
        raise BlockCodecError(f"damaged array block: unknown time encoding {blob[0] if blob else None!r} "
                              f"(a block of {n} instances, {len(blob)} bytes)")
    _, t0, dmin, w = _TS_HEAD.unpack_from(blob)
    if w == 0:      # a regular series
        out = np.arange(n, dtype=_I8)
        out *= dmin
        out += t0
        return out
    out = np.empty(n, _I8)
    out[0] = t0
    if n > 1:
        steps = _unpack(memoryview(blob)[_TS_HEAD.size:], n - 1, w)
        steps += dmin
        np.cumsum(steps, out=out[1:])
        out[1:] += t0
    return out


# -- values --------------------------------------------------------------------------------------------------------

def _decimals(v: np.ndarray, bits: np.ndarray, limit: int):
    """``(e, k int64, exceptions bool)`` for the fewest decimals ``e`` that give back all but at most ``limit``
    values of ``v`` exactly as ``k / 10**e``, computed exactly as the decoder does; None when there is none.
    (NaN, inf and values too large for int64 come back as something else, so they are exceptions.)"""
    s = v[::max(1, len(v) // _SAMPLE)][:_SAMPLE]
    with np.errstate(invalid="ignore", over="ignore"):
        ks = np.rint(s[None, :] * _SCALES[:, None])
        good = ((ks / _SCALES[:, None]).view(_I8) == s.view(_I8)[None, :]) & (np.abs(ks) < _EXACT)
    fails = len(s) - good.sum(axis=1)
    for e in np.flatnonzero(fails <= len(s) // 8).tolist():   # a sample rules out most decimals cheaply
        scale = _SCALES[e]
        with np.errstate(invalid="ignore", over="ignore"):
            x = np.multiply(v, scale)
            np.rint(x, out=x)
            k = x.astype(_I8)
            np.divide(k, scale, out=x)      # the decoder's arithmetic
        exc = x.view(_I8) != bits
        if int(np.count_nonzero(exc)) <= limit:
            return e, k, exc
    return None


def _fill_exceptions(k, exc):
    """``k`` with each exception's entry replaced by the previous kept one (the next for leading ones), so
    they do not widen the block's offsets or steps."""
    keep = np.where(exc, 0, np.arange(len(k)))
    np.maximum.accumulate(keep, out=keep)
    k = k[keep]
    if exc[0]:
        first = int(np.argmin(exc))
        k[:first] = k[first]
    return k


class _Ranges:
    """Per block of ``size`` (the last one may be shorter) of an int64 array: its smallest and largest value,
    its steps (between neighbours inside the block) and their smallest and largest (``increasing``: ``x`` is,
    so its first and last are the smallest and largest) -- a few passes over the
    whole batch (the full blocks as rows of one 2-D view), not a few per block."""

    def __init__(self, x: np.ndarray, size: int, increasing: bool = False):
        n = len(x)
        full = n // size
        groups = ([x[:full * size].reshape(full, size)] if full else []) + ([x[full * size:][None, :]] if n % size
                                                                             else [])
        self.lo, self.hi, self.step_lo, self.step_hi, self.steps = [], [], [], [], []
        for g in groups:
            d = np.diff(g, axis=1)
            self.lo += (g[:, 0] if increasing else g.min(axis=1)).tolist()
            self.hi += (g[:, -1] if increasing else g.max(axis=1)).tolist()
            if d.shape[1]:
                self.step_lo += d.min(axis=1).tolist()
                self.step_hi += d.max(axis=1).tolist()
            else:
                self.step_lo += [0] * len(g)
                self.step_hi += [0] * len(g)
            self.steps += list(d)


def encode_blocks(ms: np.ndarray, num: np.ndarray, size: int):
    """The blocks of at most ``size`` instances of strictly increasing int64 ``ms`` and float64 ``num``:
    ``[(t0, t1, n, ts blob, num blob)]`` and whether any blob is encoded (not raw).

    The numbers are worked out for the whole batch at once (the decimals, the integers, their ranges and
    steps per block); each block then takes its own smallest form."""
    ms = np.ascontiguousarray(ms, _I8)
    v = np.ascontiguousarray(num, _F8)
    n = len(ms)
    t = _Ranges(ms, size, increasing=True)
    found = _decimals(v, v.view(_I8), n // 16) if n >= 8 else None
    if found is not None:
        e, k, exc = found
        n_exc = np.add.reduceat(exc, np.arange(0, n, size)).tolist()
        if n_exc and max(n_exc):
            k = _fill_exceptions(k, exc)
        r = _Ranges(k, size)
    out, encoded, try_shuffle = [], False, True
    for b, s in enumerate(range(0, n, size)):
        m = min(size, n - s)
        ts_blob = None
        w = _width(t.step_hi[b] - t.step_lo[b])
        if m >= 2 and _TS_HEAD.size + (m - 1) * w < 8 * m:
            ts_blob = _TS_HEAD.pack(TS_DELTAS, t.lo[b], t.step_lo[b], w) + _pack(t.steps[b] - t.step_lo[b], w)
        num_blob = None
        if found is not None and m >= 8 and n_exc[b] <= m // 16:
            num_blob = _decimal_blob(e, k[s:s + m], exc[s:s + m], n_exc[b], v[s:s + m], r, b)
        if num_blob is None and try_shuffle and m >= 8:
            num_blob = _shuffled(v[s:s + m])
            try_shuffle = num_blob is not None   # floats that do not compress: the rest of the batch stays raw
        encoded = encoded or ts_blob is not None or num_blob is not None
        out.append((t.lo[b], t.hi[b], m, ms[s:s + m].tobytes() if ts_blob is None else ts_blob,
                    v[s:s + m].tobytes() if num_blob is None else num_blob))
    return out, encoded


def _decimal_blob(e, k, exc, n_exc, v, r, b):
    """The NUM_DECIMAL blob of one block (``k`` its integers, exceptions already filled), or None when it
    would not be smaller than raw."""
    m = len(k)
    w_off = _width(r.hi[b] - r.lo[b])
    w_step = _width(r.step_hi[b] - r.step_lo[b])
    if w_step < w_off:
        head = _DEC_HEAD.pack(NUM_DECIMAL, e, 1, w_step, int(k[0]), r.step_lo[b], n_exc)
        body = _pack(r.steps[b] - r.step_lo[b], w_step)
    else:
        head = _DEC_HEAD.pack(NUM_DECIMAL, e, 0, w_off, r.lo[b], 0, n_exc)
        body = _pack(k - r.lo[b], w_off)
    parts = [head, body]
    if n_exc:
        pos = np.flatnonzero(exc)
        parts += [pos.astype("<i4").tobytes(), v[pos].tobytes()]
    blob = b"".join(parts)
    return blob if len(blob) < 8 * m else None


_CODEC = []


def _zstd():
    """Arrow's zstd codec at level 1 (made once; pyarrow is imported only when a block needs it)."""
    if not _CODEC:
        import pyarrow as pa
        _CODEC.append(pa.Codec("zstd", 1))
    return _CODEC[0]


def _shuffled(v):
    """The NUM_SHUFFLED blob of one block: the floats' bytes grouped by significance and compressed; None when
    that does not save an eighth."""
    grouped = np.ascontiguousarray(v.view(np.uint8).reshape(-1, 8).T).tobytes()
    packed = _zstd().compress(grouped, asbytes=True)
    if 1 + len(packed) <= 8 * len(v) - 8 * len(v) // _MIN_SHUFFLE_SAVING:
        return bytes((NUM_SHUFFLED,)) + packed
    return None


def decode_num(blob, n: int) -> np.ndarray:
    """The float64 values of a block of ``n`` instances (read-only when the blob was raw)."""
    if len(blob) == 8 * n:
        return np.frombuffer(blob, _F8)
    tag = blob[0] if blob else None
    if tag == NUM_DECIMAL:
        _, e, mode, w, base, dmin, n_exc = _DEC_HEAD.unpack_from(blob)
        at = _DEC_HEAD.size
        if mode == 1:
            k = np.empty(n, _I8)
            k[0] = base
            steps = _unpack(memoryview(blob)[at:], n - 1, w)
            steps += dmin
            np.cumsum(steps, out=k[1:])
            k[1:] += base
            at += (n - 1) * w
        else:
            k = _unpack(memoryview(blob)[at:], n, w)
            k += base
            at += n * w
        out = k.astype(_F8)
        out /= _SCALES[e]
        if n_exc:
            pos = np.frombuffer(blob, "<i4", n_exc, at)
            out[pos] = np.frombuffer(blob, _F8, n_exc, at + 4 * n_exc)
        return out
    if tag == NUM_SHUFFLED:
        grouped = _zstd().decompress(memoryview(blob)[1:], decompressed_size=8 * n, asbytes=True)
        return np.ascontiguousarray(np.frombuffer(grouped, np.uint8).reshape(8, n).T).view(_F8).reshape(n)
    raise BlockCodecError(f"damaged array block: unknown value encoding {tag!r} (a block of {n} instances, "
                          f"{len(blob)} bytes)")


__all__ = ["encode_blocks", "decode_ts", "decode_num", "BlockCodecError"]
