"""HyperStream's stored form of a function-valued tool parameter, written without ``pickle``.

HyperStream 0.3.8 stores a tool parameter that is a function as
``pickle.dumps((marshal.dumps(code), defaults, closure_values_or_None))`` (``func_dump`` then
``pickle.dumps``, Python's default protocol). ``channels`` never imports ``pickle`` (a shared
database must not be able to run code here), so :func:`dumps` is a small hand-written writer of
pickle opcodes for plain values only — ``None``, ``bool``, ``int``, ``float``, ``str``, ``bytes``,
``tuple``, ``list``, ``dict`` — that gives the same bytes as ``pickle.dumps(value)`` of the running
Python (protocol 4 with its framing, memo of repeated objects). Anything else raises TypeError
naming the value: such a closure could only be stored with code-running pickle machinery.

Reading goes the other way and belongs elsewhere: HyperStream's ``func_load`` stays refused here.
"""
from __future__ import annotations

import marshal
import struct

from .names import NotSupportedError

#: Python's default pickle protocol (4 on 3.8 to 3.13) — the one HyperStream's ``pickle.dumps`` used
PROTOCOL = 4
_FRAME_SIZE_MIN = 4
_FRAME_SIZE_TARGET = 64 * 1024
_BATCHSIZE = 1000


class _Writer:
    """The opcodes of protocol 4 for plain values, framed as CPython's pickler frames them."""

    def __init__(self):
        self.out = bytearray(b"\x80" + bytes([PROTOCOL]))
        self.frame_start = -1          # index of the current frame's 9-byte header in ``out``
        self.framing = True
        self.memo: dict[int, int] = {}
        self.keep: list = []           # memoized objects stay alive, so their ids stay unique

    # -- framing (a frame opens at the first write after a commit; <4 bytes frames lose their header) --
    def write(self, data: bytes) -> None:
        if self.framing and self.frame_start == -1:
            self.frame_start = len(self.out)
            self.out += b"\0" * 9
        self.out += data

    def commit_frame(self) -> None:
        if not self.framing or self.frame_start == -1:
            return
        length = len(self.out) - self.frame_start - 9
        if length >= _FRAME_SIZE_MIN:
            self.out[self.frame_start:self.frame_start + 9] = b"\x95" + struct.pack("<Q", length)
        else:
            del self.out[self.frame_start:self.frame_start + 9]
        self.frame_start = -1

    def boundary(self) -> None:
        if self.framing and self.frame_start != -1 and len(self.out) - self.frame_start - 9 >= _FRAME_SIZE_TARGET:
            self.commit_frame()

    def write_payload(self, header: bytes, payload: bytes) -> None:
        if self.framing and len(payload) >= _FRAME_SIZE_TARGET:   # large payloads go outside frames
            self.commit_frame()
            self.framing = False
            self.write(header)
            self.write(payload)
            self.framing = True
        else:
            self.write(header + payload)

    # -- memo ------------------------------------------------------------------------------------------
    def memoize(self, obj) -> None:
        self.memo[id(obj)] = len(self.memo)
        self.keep.append(obj)
        self.write(b"\x94")                                  # MEMOIZE

    def get(self, obj) -> bool:
        i = self.memo.get(id(obj))
        if i is None:
            return False
        self.write(b"h" + bytes([i]) if i < 256 else b"j" + struct.pack("<I", i))   # BINGET / LONG_BINGET
        return True

    # -- values ----------------------------------------------------------------------------------------
    def save(self, obj, depth: int = 0) -> None:
        if depth > 500:
            raise TypeError("value nests too deeply to be stored")
        self.boundary()             # as CPython: a full frame is committed before the next value starts
        t = type(obj)
        if obj is None:
            self.write(b"N")
        elif t is bool:
            self.write(b"\x88" if obj else b"\x89")
        elif t is int:
            self.save_int(obj)
        elif t is float:
            self.write(b"G" + struct.pack(">d", obj))
        elif t in (str, bytes, tuple, list, dict) and self.get(obj):
            pass
        elif t is str:
            data = obj.encode("utf-8", "surrogatepass")
            n = len(data)
            header = (b"\x8c" + bytes([n]) if n < 256 else b"X" + struct.pack("<I", n) if n <= 0xFFFFFFFF
                      else b"\x8d" + struct.pack("<Q", n))
            self.write_payload(header, data)
            self.memoize(obj)
        elif t is bytes:
            n = len(obj)
            header = (b"C" + bytes([n]) if n < 256 else b"B" + struct.pack("<I", n) if n <= 0xFFFFFFFF
                      else b"\x8e" + struct.pack("<Q", n))
            self.write_payload(header, obj)
            self.memoize(obj)
        elif t is tuple:
            self.save_tuple(obj, depth)
        elif t is list:
            self.write(b"]")                                 # EMPTY_LIST
            self.memoize(obj)
            self.batch(obj, depth, b"a", b"e", lambda x: self.save(x, depth + 1))
        elif t is dict:
            self.write(b"}")                                 # EMPTY_DICT
            self.memoize(obj)
            self.batch(list(obj.items()), depth, b"s", b"u",
                       lambda kv: (self.save(kv[0], depth + 1), self.save(kv[1], depth + 1)))
        else:
            raise TypeError(f"cannot store a value of type {t.__name__} ({obj!r:.80}) in HyperStream's form: "
                            f"only None, bool, int, float, str, bytes, tuple, list and dict can be")

    def save_int(self, x: int) -> None:
        if 0 <= x < 256:
            self.write(b"K" + bytes([x]))
        elif 0 <= x < 65536:
            self.write(b"M" + struct.pack("<H", x))
        elif -0x80000000 <= x <= 0x7FFFFFFF:
            self.write(b"J" + struct.pack("<i", x))
        else:
            n = (x.bit_length() >> 3) + 1
            data = x.to_bytes(n, "little", signed=True)
            if x < 0 and n > 1 and data[-1] == 0xFF and data[-2] & 0x80:
                data = data[:-1]
            self.write((b"\x8a" + bytes([len(data)]) if len(data) < 256 else b"\x8b" + struct.pack("<i", len(data)))
                       + data)

    def save_tuple(self, obj: tuple, depth: int) -> None:
        if not obj:
            self.write(b")")                                 # EMPTY_TUPLE (not memoized)
            return
        if len(obj) <= 3:
            for x in obj:
                self.save(x, depth + 1)
            self.write(b"\x85\x86\x87"[len(obj) - 1:len(obj)])   # TUPLE1/2/3
        else:
            self.write(b"(")                                 # MARK
            for x in obj:
                self.save(x, depth + 1)
            self.write(b"t")                                 # TUPLE
        self.memoize(obj)

    def batch(self, items, depth, one: bytes, many: bytes, save_item) -> None:
        items = list(items)
        for i in range(0, len(items), _BATCHSIZE):
            chunk = items[i:i + _BATCHSIZE]
            if len(chunk) == 1:
                save_item(chunk[0])
                self.write(one)                              # APPEND / SETITEM
            else:
                self.write(b"(")
                for item in chunk:
                    save_item(item)
                self.write(many)                             # APPENDS / SETITEMS


def dumps(value) -> bytes:
    """``pickle.dumps(value)`` of the running Python (protocol 4) for plain values, without ``pickle``."""
    w = _Writer()
    w.save(value)
    w.write(b".")                                            # STOP
    w.commit_frame()
    return bytes(w.out)


def func_dump(func) -> tuple:
    """HyperStream's ``func_dump``: ``(marshal.dumps(code), defaults, closure cell values or None)``."""
    code = getattr(func, "__code__", None)
    if code is None:
        raise TypeError(f"{func!r} is not a Python function: HyperStream can store only functions' code")
    closure = tuple(c.cell_contents for c in func.__closure__) if func.__closure__ else None
    return marshal.dumps(code), func.__defaults__, closure


def stored_function(func) -> bytes:
    """The bytes HyperStream stores for a function-valued tool parameter:
    ``pickle.dumps(func_dump(func))``, written by :func:`dumps`."""
    return dumps(func_dump(func))


def func_load(*_args, **_kwargs):
    """Refused: HyperStream's ``func_load`` runs code from data."""
    raise NotSupportedError("func_load (HyperStream's marshalled functions) is not supported: loading code "
                            "from data would run it; give the function by name instead")


__all__ = ["dumps", "func_dump", "stored_function", "func_load", "PROTOCOL"]
