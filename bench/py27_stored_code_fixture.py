"""Write Python 2.7 stored values of function-valued tool parameters, assembled BY HAND (no Python 2.7 here).

    python bench/py27_stored_code_fixture.py tests/data/stored_code/py27_values.json

There is no Python 2.7 interpreter on this machine (Debian 12 ships none; PyPI has no interpreter), so
these values are built from the documented formats rather than produced by Python 2:

* the code object in the Python 2.7 marshal format (marshal version 2): ``'c'`` then argcount, nlocals,
  stacksize and flags as little-endian int32, then the bytecode as an ``'s'`` string, the constants,
  names, varnames, freevars and cellvars as ``'('`` tuples, the file name as ``'s'``, the name as an
  interned ``'t'`` string, firstlineno as int32 and the line table as ``'s'``. Names and varnames are
  interned (``'t'``, a repeat would be ``'R'`` + index), as Python 2.7's ``PyCode_New`` interns them;
* the bytecode with Python 2.7's opcodes (3-byte instructions with an argument, 1-byte without): what
  CPython 2.7's compiler emits for each lambda (``BINARY_DIVIDE`` for ``/``: no ``from __future__``);
* wrapped the way Python 2's ``pickle.dumps(func_dump(f))`` (protocol 0) writes the tuple
  ``(code, defaults, closure)``: ``(``, ``S'<Python 2 repr of the str>'`` + ``\\n``, ``p0``, the defaults and
  closure (``N``, or a tuple of ``I``/``F`` items), ``t``, ``p<n>``, ``.``.

The values are ASCII text (Python 2 repr escapes every byte outside printable ASCII), as a Python 2
HyperStream stores them in MongoDB. tests/test_stored_code.py checks that xdis reads each code object
as Python 2.7 and that uncompyle6 decompiles it back to the lambda.
"""
import json
import struct
import sys

FILENAME = "/home/hs/workflows/house_features.py"

# Python 2.7 opcodes used here (Include/opcode.h of CPython 2.7)
BINARY_MULTIPLY, BINARY_DIVIDE, RETURN_VALUE = 20, 21, 83
LOAD_GLOBAL, LOAD_FAST, CALL_FUNCTION, LOAD_DEREF = 116, 124, 131, 136
CO_OPTIMIZED, CO_NEWLOCALS, CO_NESTED, CO_NOFREE = 0x1, 0x2, 0x10, 0x40


def op(code, arg=None):
    return bytes([code]) if arg is None else bytes([code]) + struct.pack("<H", arg)


class Marshal27:
    """Writes the subset of Python 2.7's marshal format that a code object of a lambda needs."""

    def __init__(self):
        self.out = bytearray()
        self.interned = []

    def long(self, n):
        self.out += struct.pack("<i", n)

    def string(self, b):          # a plain (not interned) str
        self.out += b"s"
        self.long(len(b))
        self.out += b

    def name(self, s):            # an interned str: 't' the first time, 'R' + index after
        b = s.encode("ascii")
        if b in self.interned:
            self.out += b"R"
            self.long(self.interned.index(b))
            return
        self.interned.append(b)
        self.out += b"t"
        self.long(len(b))
        self.out += b

    def value(self, v):
        if v is None:
            self.out += b"N"
        elif isinstance(v, int):
            self.out += b"i"
            self.long(v)
        else:
            raise TypeError(v)

    def names(self, items):
        self.out += b"("
        self.long(len(items))
        for s in items:
            self.name(s)

    def code(self, *, argcount, nlocals, stacksize, flags, bytecode, consts, names, varnames,
             freevars=(), cellvars=(), name="<lambda>", firstlineno=1, lnotab=b""):
        self.out += b"c"
        for n in (argcount, nlocals, stacksize, flags):
            self.long(n)
        self.string(bytecode)
        self.out += b"("
        self.long(len(consts))
        for c in consts:
            self.value(c)
        self.names(names)
        self.names(varnames)
        self.names(freevars)
        self.names(cellvars)
        self.string(FILENAME.encode("ascii"))
        self.name(name)
        self.long(firstlineno)
        self.string(lnotab)
        return bytes(self.out)


def py2_repr(b: bytes) -> str:
    """Python 2's repr() of a str: single quotes unless it holds ' and no ", escapes as PyString_Repr."""
    quote = '"' if (b"'" in b and b'"' not in b) else "'"
    out = [quote]
    for c in b:
        ch = chr(c)
        if ch == quote or ch == "\\":
            out.append("\\" + ch)
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif c < 0x20 or c >= 0x7F:
            out.append("\\x%02x" % c)
        else:
            out.append(ch)
    out.append(quote)
    return "".join(out)


def py2_pickle_item(v, memo):
    """Protocol-0 text of None / int / float / a tuple of them, memoising tuples as Python 2's Pickler does."""
    if v is None:
        return "N"
    if isinstance(v, bool):
        raise TypeError(v)
    if isinstance(v, int):
        return "I%d\n" % v
    if isinstance(v, float):
        return "F%r\n" % v
    if isinstance(v, tuple):
        body = "(" + "".join(py2_pickle_item(x, memo) for x in v) + "t"
        memo.append(v)
        return body + "p%d\n" % (len(memo) - 1)
    raise TypeError(v)


def py2_pickle_func_dump(code: bytes, defaults, closure) -> str:
    """``pickle.dumps((code, defaults, closure))`` as Python 2.7 writes it (protocol 0)."""
    memo = [code]
    text = "(S" + py2_repr(code) + "\np0\n"
    text += py2_pickle_item(defaults, memo) + py2_pickle_item(closure, memo)
    memo.append("the tuple")
    return text + "tp%d\n." % (len(memo) - 1)


def build():
    mean = Marshal27().code(  # lambda x: sum(x) / len(x)
        argcount=1, nlocals=1, stacksize=3, flags=CO_OPTIMIZED | CO_NEWLOCALS | CO_NOFREE,
        bytecode=op(LOAD_GLOBAL, 0) + op(LOAD_FAST, 0) + op(CALL_FUNCTION, 1)
        + op(LOAD_GLOBAL, 1) + op(LOAD_FAST, 0) + op(CALL_FUNCTION, 1) + op(BINARY_DIVIDE) + op(RETURN_VALUE),
        consts=(None,), names=("sum", "len"), varnames=("x",), firstlineno=12)
    closure = Marshal27().code(  # def make(k): return lambda xs: k * sum(xs)   -- make(3)
        argcount=1, nlocals=1, stacksize=3, flags=CO_OPTIMIZED | CO_NEWLOCALS | CO_NESTED,
        bytecode=op(LOAD_DEREF, 0) + op(LOAD_GLOBAL, 0) + op(LOAD_FAST, 0) + op(CALL_FUNCTION, 1)
        + op(BINARY_MULTIPLY) + op(RETURN_VALUE),
        consts=(None,), names=("sum",), varnames=("xs",), freevars=("k",), firstlineno=16)
    scaled = Marshal27().code(  # lambda d, scale=2.5: d * scale
        argcount=2, nlocals=2, stacksize=2, flags=CO_OPTIMIZED | CO_NEWLOCALS | CO_NOFREE,
        bytecode=op(LOAD_FAST, 0) + op(LOAD_FAST, 1) + op(BINARY_MULTIPLY) + op(RETURN_VALUE),
        consts=(None,), names=(), varnames=("d", "scale"), firstlineno=19)
    return {
        "mean": {"function": "lambda x: sum(x) / len(x)",
                 "value": py2_pickle_func_dump(mean, None, None)},
        "closure_k": {"function": "make(3) with def make(k): return lambda xs: k * sum(xs)",
                      "value": py2_pickle_func_dump(closure, None, (3,))},
        "apply_scaled": {"function": "lambda d, scale=2.5: d * scale",
                         "value": py2_pickle_func_dump(scaled, (2.5,), None)},
    }


def main(out_path):
    values = build()
    doc = {"python": [2, 7], "method": "hand-assembled Python 2.7 marshal + protocol-0 pickle text "
                                       "(bench/py27_stored_code_fixture.py); no Python 2.7 interpreter here",
           "values": values}
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(values)} Python 2.7 values to {out_path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "py27_values.json")
