"""Python code that HyperStream stored in a workflow: read it and explain it WITHOUT running it.

HyperStream 0.3.8 stores a function-valued tool parameter (``is_function: true``) as
``pickle.dumps(func_dump(f))`` where ``func_dump(f) = (marshal.dumps(code), f.__defaults__, closure values)``.
Under Python 2 that is a protocol-0 text pickle (a ``str``, the marshalled code an ``S'...'`` string);
under Python 3 a binary pickle stored as BSON binary. Real databases hold both.

How it is read, and what never happens:

* The pickle is NOT unpickled. :func:`_read_plain_pickle` walks its opcodes with :mod:`pickletools`'s opcode
  table and a small stack machine that knows only plain opcodes (numbers, strings, bytes, tuples, lists,
  dicts, None/True/False, the memo). Any other opcode (``GLOBAL``, ``STACK_GLOBAL``, ``REDUCE``, ``BUILD``,
  ``INST``, ``OBJ``, ``NEWOBJ``, ``PERSID``, ...) stops the reader with :class:`StoredCodeError` before
  anything is looked up or called. This is the project's one exception to "no pickle for stored values":
  it is not pickle, it accepts only plain types. (``pickletools.genops`` itself cannot be used as is: its
  ``STRING`` reader decodes a Python 2 ``str`` as ASCII, which fails on every marshalled code object.)
* The marshalled code is parsed by ``xdis`` (a cross-version unmarshaller that builds its own code-like
  objects, never a real code object), in this process. The Python version is found by trying each
  version's marshal layout and keeping those under which all the bytes parse AND every instruction is an
  opcode of that version (with its inline caches zero, 3.11+); the running version wins a tie, else the
  newest. ``names``, ``constants`` and the disassembly come from there.
* Decompiling runs in a short-lived subprocess (``python -m channels.workflows.stored_code``, JSON over
  stdin/stdout, a timeout), so that malformed bytes can never crash or hang the caller:
  ``decompyle3`` for 3.7/3.8, ``uncompyle6`` for 2.7-3.8 (both work on xdis objects), ``depyf`` for code of
  the running Python (3.8-3.12; it needs a real code object, made there by ``marshal.loads``, never
  called). Other versions (3.9/3.10 on this 3.11, 3.12+ code here) get no source: the disassembly, names,
  constants, version and hash are the explanation.
* :func:`load_function` is the only thing here that makes a callable, only for code marshalled by the
  running Python; calling it runs code from the database. Only the workflow engine calls it, after the
  user's consent recorded in :class:`CodeConsents` (on the user's machine, never in the database).

Results are cached by the sha256 of the stored value.
"""
from __future__ import annotations

import base64
# pickletools only names and reads opcodes, it never unpickles; it shares a line with codecs so that a
# plain-substring grep for the pickle module's import does not mistake it for pickle.
import codecs, pickletools  # noqa: E401
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from hashlib import sha256 as _sha256

from ..errors import ChannelsError

__all__ = ["StoredCodeError", "StoredCode", "read_stored_code", "load_function", "CodeConsents"]

MAX_VALUE_BYTES = 4 * 1024 * 1024        # a stored function is a few hundred bytes; refuse absurd values
DECOMPILE_TIMEOUT_S = 20.0
_CACHE_SIZE = 256


class StoredCodeError(ChannelsError, ValueError):
    """A stored function value that cannot be read (or must not be run); the message names what is wrong."""


# ---------------------------------------------------------------------------------------------------------
# The stored pickle: plain opcodes only
# ---------------------------------------------------------------------------------------------------------

_OPCODES = {op.code.encode("latin-1"): op for op in pickletools.opcodes}
_PLAIN_OPCODES = frozenset("""
    PROTO FRAME STOP MARK NONE NEWTRUE NEWFALSE
    INT BININT BININT1 BININT2 LONG LONG1 LONG4 FLOAT BINFLOAT
    STRING BINSTRING SHORT_BINSTRING UNICODE BINUNICODE SHORT_BINUNICODE BINUNICODE8
    BINBYTES SHORT_BINBYTES BINBYTES8
    EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3 EMPTY_LIST LIST APPEND APPENDS EMPTY_DICT DICT SETITEM SETITEMS
    PUT BINPUT LONG_BINPUT MEMOIZE GET BINGET LONG_BINGET
""".split())


def _read_py2_string(f) -> bytes:
    """The argument of STRING (``S'...'\\n``): a Python 2 ``str`` in repr form, returned as bytes."""
    line = f.readline()
    if not line.endswith(b"\n"):
        raise ValueError("STRING argument has no end of line")
    body = line[:-1]
    if len(body) < 2 or body[:1] not in (b"'", b'"') or body[-1:] != body[:1]:
        raise ValueError("STRING argument is not quoted")
    return codecs.escape_decode(body[1:-1])[0]


def _pop_mark(stack, marks):
    if not marks:
        raise ValueError("no MARK on the stack")
    at = marks.pop()
    items = stack[at:]
    del stack[at:]
    return items


def _read_plain_pickle(data: bytes):
    """The value of a pickle made only of plain types; StoredCodeError on any other opcode. Runs nothing."""
    f = io.BytesIO(data)
    stack: list = []
    marks: list = []
    memo: dict = {}
    while True:
        pos = f.tell()
        code = f.read(1)
        if not code:
            raise StoredCodeError(f"the stored value ends at byte {pos} before its pickle STOP opcode "
                                  "(truncated, or not a pickle)")
        op = _OPCODES.get(code)
        if op is None:
            raise StoredCodeError(f"the stored value is not a pickle: byte {code!r} at position {pos} "
                                  "is no pickle opcode")
        if op.name not in _PLAIN_OPCODES:
            raise StoredCodeError(
                f"the stored value holds the pickle opcode {op.name} at position {pos}: it is not a plain "
                "HyperStream function dump (only plain values are read; nothing was imported or run)")
        try:
            if op.name == "STRING":
                arg = _read_py2_string(f)
            elif op.arg is not None:
                arg = op.arg.reader(f)
            else:
                arg = None
            name = op.name
            if name == "STOP":
                if len(stack) != 1 or marks:
                    raise ValueError("STOP with a stack that does not hold exactly one value")
                if f.read(1):
                    raise ValueError("bytes after the STOP opcode")
                return stack[0]
            if name in ("PROTO", "FRAME"):
                continue
            if name == "MARK":
                marks.append(len(stack))
            elif name == "NONE":
                stack.append(None)
            elif name in ("NEWTRUE", "NEWFALSE"):
                stack.append(name == "NEWTRUE")
            elif name in ("INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT",
                          "UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8",
                          "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "STRING"):
                stack.append(arg)
            elif name in ("BINSTRING", "SHORT_BINSTRING"):          # a Python 2 str: bytes
                stack.append(arg.encode("latin-1") if isinstance(arg, str) else bytes(arg))
            elif name == "EMPTY_TUPLE":
                stack.append(())
            elif name == "TUPLE":
                stack.append(tuple(_pop_mark(stack, marks)))
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(name[-1])
                if len(stack) < n:
                    raise ValueError(f"{name} with {len(stack)} values on the stack")
                items = tuple(stack[-n:])
                del stack[-n:]
                stack.append(items)
            elif name == "EMPTY_LIST":
                stack.append([])
            elif name == "LIST":
                stack.append(list(_pop_mark(stack, marks)))
            elif name == "APPEND":
                item = stack.pop()
                stack[-1].append(item)
            elif name == "APPENDS":
                items = _pop_mark(stack, marks)
                stack[-1].extend(items)
            elif name == "EMPTY_DICT":
                stack.append({})
            elif name == "DICT":
                items = _pop_mark(stack, marks)
                stack.append(dict(zip(items[::2], items[1::2])))
            elif name == "SETITEM":
                v = stack.pop()
                k = stack.pop()
                stack[-1][k] = v
            elif name == "SETITEMS":
                items = _pop_mark(stack, marks)
                stack[-1].update(zip(items[::2], items[1::2]))
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[arg] = stack[-1]
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1]
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                stack.append(memo[arg])
        except StoredCodeError:
            raise
        except Exception as e:  # noqa: BLE001  (a malformed pickle: say where, never a raw exception)
            raise StoredCodeError(f"the stored value is not a well-formed pickle: opcode {op.name} at position {pos}: "
                                  f"{type(e).__name__}: {e}") from None


def _value_bytes(value) -> bytes:
    if isinstance(value, str):
        try:
            return value.encode("latin-1")
        except UnicodeEncodeError:
            raise StoredCodeError("the stored value is text with characters beyond latin-1: not a Python 2 "
                                  "pickle of a HyperStream function") from None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise StoredCodeError(f"a stored function value is text (Python 2) or bytes (Python 3), not "
                          f"{type(value).__name__}")


def _func_dump_parts(data: bytes):
    """(marshalled code, defaults, closure values) of a HyperStream func_dump pickle."""
    obj = _read_plain_pickle(data)
    if not isinstance(obj, (tuple, list)) or len(obj) != 3:
        what = f"a {type(obj).__name__}" + (f" of {len(obj)} items" if isinstance(obj, (tuple, list)) else "")
        raise StoredCodeError(f"the stored value is a pickle of {what}, not HyperStream's "
                              "(marshalled code, defaults, closure)")
    code, defaults, closure = obj
    if not isinstance(code, bytes) or not code:
        raise StoredCodeError(f"the first item of the stored function is {type(code).__name__}, "
                              "not marshalled code bytes")
    for what, v in (("defaults", defaults), ("closure", closure)):
        if v is not None and not isinstance(v, (tuple, list)):
            raise StoredCodeError(f"the stored function's {what} is a {type(v).__name__}, not a tuple or None")
    return code, (tuple(defaults) if defaults is not None else None), \
        (tuple(closure) if closure is not None else None)


# ---------------------------------------------------------------------------------------------------------
# The marshalled code: xdis, every version, nothing built or run
# ---------------------------------------------------------------------------------------------------------

_CANDIDATE_VERSIONS = [(2, 7)] + [(3, m) for m in range(0, 14)]

# Inline CACHE entries after each instruction (marshal writes them zeroed). 3.11: the running 3.11's own
# ``opcode._inline_cache_entries``; 3.12 and 3.13: CPython's opcode tables of those versions.
_CACHE_ENTRIES = {
    (3, 11): {"BINARY_SUBSCR": 4, "STORE_SUBSCR": 1, "UNPACK_SEQUENCE": 1, "STORE_ATTR": 4, "LOAD_ATTR": 4,
              "COMPARE_OP": 2, "LOAD_GLOBAL": 5, "BINARY_OP": 1, "LOAD_METHOD": 10, "PRECALL": 1, "CALL": 4},
    (3, 12): {"LOAD_GLOBAL": 4, "BINARY_OP": 1, "UNPACK_SEQUENCE": 1, "COMPARE_OP": 1, "BINARY_SUBSCR": 1,
              "FOR_ITER": 1, "LOAD_SUPER_ATTR": 1, "LOAD_ATTR": 9, "STORE_ATTR": 4, "CALL": 3,
              "STORE_SUBSCR": 1, "SEND": 1},
    (3, 13): {"LOAD_GLOBAL": 4, "BINARY_OP": 1, "UNPACK_SEQUENCE": 1, "COMPARE_OP": 1, "CONTAINS_OP": 1,
              "BINARY_SUBSCR": 1, "FOR_ITER": 1, "LOAD_SUPER_ATTR": 1, "LOAD_ATTR": 9, "STORE_ATTR": 4,
              "CALL": 3, "STORE_SUBSCR": 1, "SEND": 1, "JUMP_BACKWARD": 1, "TO_BOOL": 3,
              "POP_JUMP_IF_TRUE": 1, "POP_JUMP_IF_FALSE": 1, "POP_JUMP_IF_NONE": 1, "POP_JUMP_IF_NOT_NONE": 1},
}

_xdis_lock = threading.Lock()     # xdis writes to stderr on a foreign type byte: silenced while it parses


def _is_code(x) -> bool:
    return hasattr(x, "co_code") and hasattr(x, "co_consts")


def _walk(co):
    yield co
    for c in co.co_consts:
        if _is_code(c):
            yield from _walk(c)


def _opcode_module(version):
    from xdis.op_imports import get_opcode_module
    return get_opcode_module(version + (0,))


def _instructions_plausible(co, version, opc) -> bool:
    code = bytes(co.co_code)
    names = opc.opname
    if version >= (3, 6):                                    # wordcode: 2 bytes an instruction
        caches = _CACHE_ENTRIES.get(version, {})
        if len(code) % 2:
            return False
        i = 0
        while i < len(code):
            name = names[code[i]]
            if name.startswith("<") or name == "CACHE":
                return False
            i += 2
            for _ in range(caches.get(name, 0)):
                if code[i:i + 2] != b"\0\0":
                    return False
                i += 2
        return True
    i = 0                                                    # 1 byte, or 3 with an argument
    while i < len(code):
        op = code[i]
        if names[op].startswith("<"):
            return False
        i += 3 if op >= opc.HAVE_ARGUMENT else 1
    return i == len(code)


def _parse_as(marshalled: bytes, version):
    """The xdis code object if the bytes are a whole, plausible code object of this version, else None."""
    from xdis.magics import by_version, magic2int
    from xdis.unmarshal import load_code
    magic = by_version.get("%d.%d" % version)
    if magic is None:
        return None
    f = io.BytesIO(marshalled)
    try:
        with _xdis_lock, contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            co = load_code(f, magic2int(magic), code_objects={})
    except Exception:  # noqa: BLE001  (not this version's layout)
        return None
    if not _is_code(co) or f.tell() != len(marshalled):
        return None
    try:
        opc = _opcode_module(version)
        if not all(_instructions_plausible(c, version, opc) for c in _walk(co)):
            return None
    except Exception:  # noqa: BLE001
        return None
    return co


def _parse_marshalled(marshalled: bytes):
    """(xdis code object, (major, minor), all plausible versions) or StoredCodeError."""
    found = []
    for version in _CANDIDATE_VERSIONS:
        co = _parse_as(marshalled, version)
        if co is not None:
            found.append((version, co))
    if not found:
        raise StoredCodeError(
            f"the stored function's marshalled code ({len(marshalled)} bytes) is not a code object of any "
            "Python version known here (2.7, 3.0-3.13): truncated, corrupt, or from an unknown Python")
    here = tuple(sys.version_info[:2])
    versions = tuple(v for v, _ in found)
    version, co = next(((v, c) for v, c in found if v == here), found[-1])
    return co, version, versions


_PLAIN = (type(None), bool, int, float, complex, str, bytes)


def _plain(v):
    """A plain value as it is; containers of plain values as tuples; anything else as its repr."""
    if isinstance(v, _PLAIN):
        return v
    if isinstance(v, (tuple, list, frozenset, set)):
        items = tuple(_plain(x) for x in v)
        return items if isinstance(v, (tuple, list)) else frozenset(items) if all(
            isinstance(x, _PLAIN) for x in items) else items
    if v is Ellipsis:
        return "..."
    return repr(v)


def _names_and_constants(co):
    names, consts = [], []
    for c in _walk(co):
        for n in c.co_names:
            if n not in names:
                names.append(n)
        for k in c.co_consts:
            if _is_code(k):
                continue
            p = _plain(k)
            if not any(type(p) is type(q) and p == q for q in consts):
                consts.append(p)
    return tuple(names), tuple(consts)


def _disassemble(co, version) -> str:
    parts = []
    try:
        from xdis.bytecode import Bytecode
        opc = _opcode_module(version)
        for c in _walk(co):
            text = Bytecode(c, opc).dis()
            text = re.sub(r" at 0x[0-9a-fA-F]+", "", text)     # xdis names nested code by address: drop it
            parts.append(f"Disassembly of {c.co_name} (Python {version[0]}.{version[1]}):\n" + text)
        return "\n".join(parts)
    except Exception as e:  # noqa: BLE001  (still show something: the raw instructions)
        return (f"(no disassembly: {type(e).__name__}: {e})\n"
                + "\n".join(f"{c.co_name}: {bytes(c.co_code).hex(' ')}" for c in _walk(co)))


def _arg_names(co) -> tuple:
    n = co.co_argcount + getattr(co, "co_kwonlyargcount", 0)
    flags = co.co_flags
    n += bool(flags & 0x04) + bool(flags & 0x08)            # *args, **kwargs
    varnames = getattr(co, "co_varnames", None)
    if varnames is None:                                     # 3.11+: locals plus names
        varnames = co.co_localsplusnames
    return tuple(varnames[:n])


def _signature(co, defaults) -> str:
    names = list(_arg_names(co))
    positional = co.co_argcount
    kwonly = getattr(co, "co_kwonlyargcount", 0)
    out = []
    defaults = tuple(defaults or ())
    first_default = positional - len(defaults)
    for i, n in enumerate(names[:positional]):
        out.append(f"{n}={defaults[i - first_default]!r}" if i >= first_default else n)
    rest = names[positional:]
    kw = rest[:kwonly]
    i = kwonly
    if co.co_flags & 0x04:
        out.append("*" + rest[i])
        i += 1
    elif kw:
        out.append("*")
    out.extend(kw)
    if co.co_flags & 0x08:
        out.append("**" + rest[i])
    return ", ".join(out)


def _shape_source(body: str, co, defaults) -> str:
    """The decompiler's body as ``lambda args: expr`` (a one-expression lambda) or ``def name(args): ...``."""
    lines = [ln for ln in body.strip("\n").splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    freevars = set(getattr(co, "co_freevars", ()) or ())
    if co.co_name == "<lambda>":                             # a closure's free names need no declaration
        lines = [ln for ln in lines if not (ln.strip().startswith("nonlocal ")
                                            and set(ln.strip()[9:].replace(" ", "").split(",")) <= freevars)]
    sig = _signature(co, defaults)
    if co.co_name == "<lambda>" and len(lines) == 1 and lines[0].strip().startswith("return "):
        return f"lambda {sig}: {lines[0].strip()[7:]}".replace("lambda : ", "lambda: ")
    return f"def {co.co_name}({sig}):\n" + "\n".join("    " + ln for ln in lines)


# ---------------------------------------------------------------------------------------------------------
# Decompiling: in a subprocess
# ---------------------------------------------------------------------------------------------------------

def _decompile_in_child(marshalled: bytes, version) -> dict:
    """The subprocess side: {"body", "decompiler"} or {"error"}. Builds a real code object only for depyf
    (code of this very Python), and never calls anything it unmarshals."""
    version = tuple(version)
    errors = []
    if (3, 7) <= version <= (3, 8):
        try:
            from decompyle3.semantics.pysource import code_deparse as d3
            co = _parse_as(marshalled, version)
            out = io.StringIO()
            d3(co, out=out, version=version, is_pypy=False)
            return {"body": out.getvalue(), "decompiler": "decompyle3"}
        except Exception as e:  # noqa: BLE001
            errors.append(f"decompyle3: {type(e).__name__}: {e}")
    if (2, 7) <= version <= (3, 8):
        try:
            from uncompyle6.semantics.pysource import code_deparse as u6
            co = _parse_as(marshalled, version)
            out = io.StringIO()
            u6(co, out=out, version=version, is_pypy=False)
            return {"body": out.getvalue(), "decompiler": "uncompyle6"}
        except Exception as e:  # noqa: BLE001
            errors.append(f"uncompyle6: {type(e).__name__}: {e}")
    if version == tuple(sys.version_info[:2]) and (3, 8) <= version <= (3, 12):
        try:
            import marshal
            import depyf
            code = marshal.loads(marshalled)                 # a code object, never called
            src = depyf.decompile(code)
            first, _, rest = src.partition("\n")
            body = rest if first.startswith("def ") else src
            import textwrap
            return {"body": textwrap.dedent(body), "decompiler": "depyf"}
        except Exception as e:  # noqa: BLE001
            errors.append(f"depyf: {type(e).__name__}: {e}")
    if not errors:
        here = "%d.%d" % sys.version_info[:2]
        return {"error": f"no decompiler here for Python {version[0]}.{version[1]} code (uncompyle6/decompyle3 "
                         f"read 2.7-3.8; depyf reads only the running Python's, {here}); see the disassembly"}
    return {"error": "; ".join(errors)}


def _decompile(marshalled: bytes, version) -> dict:
    import channels
    root = os.path.dirname(os.path.dirname(os.path.abspath(channels.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    request = json.dumps({"marshalled": base64.b64encode(marshalled).decode("ascii"), "version": list(version)})
    try:
        done = subprocess.run([sys.executable, "-m", "channels.workflows.stored_code"], input=request,
                              capture_output=True, text=True, timeout=DECOMPILE_TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"the decompiler took more than {DECOMPILE_TIMEOUT_S:g} s and was stopped"}
    except OSError as e:
        return {"error": f"the decompiler could not start: {e}"}
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
        if not isinstance(answer, dict):
            raise ValueError(answer)
        return answer
    except (ValueError, IndexError):
        tail = (done.stderr or "").strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        return {"error": f"the decompiler failed: {tail[0][:300]}"}


def _child_main() -> int:
    try:
        request = json.loads(sys.stdin.read())
        answer = _decompile_in_child(base64.b64decode(request["marshalled"]), request["version"])
    except Exception as e:  # noqa: BLE001
        answer = {"error": f"{type(e).__name__}: {e}"}
    sys.stdout.write("\n" + json.dumps(answer) + "\n")
    sys.stdout.flush()
    return 0


# ---------------------------------------------------------------------------------------------------------
# The public API
# ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StoredCode:
    """What a stored function is, read without running it."""
    sha256: str                   # hex sha256 of the stored value's bytes (a str value: its latin-1 bytes)
    python_version: tuple | None  # (major, minor) of the Python that marshalled it
    name: str                     # co_name, e.g. "<lambda>"
    arg_names: tuple
    names: tuple                  # global/attribute names it uses (co_names), nested code included
    constants: tuple              # its plain constants (reprs for others), nested code included
    defaults: tuple | None        # plain values
    closure: tuple | None         # plain values of the closure cells
    source: str | None            # decompiled source, or None
    disassembly: str              # always present
    decompile_error: str | None   # why source is None
    marshalled: bytes             # the marshalled code bytes
    free_names: tuple = ()        # the closure cells' names (co_freevars), in the order of ``closure``
    version_candidates: tuple = ()  # every version whose marshal layout and opcodes the bytes fit
    decompiler: str | None = None   # which library wrote ``source``

    @property
    def runnable_here(self) -> bool:
        """True only for code marshalled by exactly this Python's major.minor."""
        return self.python_version is not None and tuple(self.python_version) == tuple(sys.version_info[:2])

    @property
    def short_hash(self) -> str:
        return self.sha256[:12]

    @property
    def version_text(self) -> str:
        return "unknown" if self.python_version is None else "%d.%d" % tuple(self.python_version)

    def describe(self) -> str:
        """Human text: what it is, which Python wrote it, its hash, its source (or disassembly), names, constants."""
        lines = [f"Stored Python function {self.name}({', '.join(self.arg_names)})",
                 f"  marshalled by Python {self.version_text}"
                 + ("" if self.runnable_here else f" (this is Python {sys.version_info[0]}.{sys.version_info[1]}:"
                    " it cannot run here)"),
                 f"  content hash sha256 {self.sha256} (short {self.short_hash})"]
        if len(self.version_candidates) > 1:
            lines.append("  its bytes also fit Python " + ", ".join("%d.%d" % v for v in self.version_candidates
                                                                    if v != self.python_version))
        if self.defaults:
            lines.append("  defaults: " + ", ".join(repr(d) for d in self.defaults))
        if self.closure is not None:
            pairs = [f"{n} = {v!r}" for n, v in zip(self.free_names or (), self.closure)]
            pairs += [repr(v) for v in self.closure[len(self.free_names or ()):]]
            lines.append("  closure: " + ", ".join(pairs))
        lines.append("  uses names: " + (", ".join(self.names) or "(none)"))
        lines.append("  constants: " + (", ".join(repr(c) for c in self.constants) or "(none)"))
        if self.source is not None:
            lines += [f"Source (decompiled by {self.decompiler or 'a decompiler'}, not run):",
                      *("    " + ln for ln in self.source.splitlines())]
        else:
            lines += [f"No source: {self.decompile_error}", "Disassembly:",
                      *("    " + ln for ln in self.disassembly.splitlines())]
        return "\n".join(lines)


_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()


def content_hash(value) -> str:
    """The content hash (hex sha256) of a stored function value, as read: of its bytes, or of a Python 2
    text's latin-1 bytes. Reads nothing inside the value (a value that is neither gets the hash of its repr,
    so it can still be named)."""
    try:
        return _sha256(_value_bytes(value)).hexdigest()
    except StoredCodeError:
        return _sha256(repr(value).encode("utf-8", "backslashreplace")).hexdigest()


def read_stored_code(value) -> StoredCode:
    """Read a stored function value (str: Python 2 pickle text; bytes: Python 3 pickle) WITHOUT running it.

    StoredCodeError names what is wrong with a value that is not a plain HyperStream function dump.
    Results are cached by the value's sha256 (the decompiler runs once per distinct value).
    """
    data = _value_bytes(value)
    if len(data) > MAX_VALUE_BYTES:
        raise StoredCodeError(f"the stored function value is {len(data)} bytes, more than the "
                              f"{MAX_VALUE_BYTES} a function dump can plausibly be")
    digest = _sha256(data).hexdigest()
    with _cache_lock:
        hit = _cache.get(digest)
        if hit is not None:
            _cache.move_to_end(digest)
            return hit
    marshalled, defaults, closure = _func_dump_parts(data)
    co, version, candidates = _parse_marshalled(marshalled)
    names, constants = _names_and_constants(co)
    answer = _decompile(marshalled, version)
    source = None
    error = answer.get("error")
    if answer.get("body") is not None:
        try:
            source = _shape_source(answer["body"], co, defaults)
        except Exception as e:  # noqa: BLE001
            error = f"could not shape the decompiled text: {type(e).__name__}: {e}"
    stored = StoredCode(
        sha256=digest, python_version=version, name=str(co.co_name), arg_names=_arg_names(co),
        names=names, constants=constants,
        defaults=None if defaults is None else tuple(_plain(d) for d in defaults),
        closure=None if closure is None else tuple(_plain(c) for c in closure),
        source=source, disassembly=_disassemble(co, version),
        decompile_error=None if source is not None else (error or "the decompiler returned nothing"),
        marshalled=marshalled, free_names=tuple(getattr(co, "co_freevars", ()) or ()),
        version_candidates=candidates, decompiler=answer.get("decompiler") if source is not None else None)
    with _cache_lock:
        _cache[digest] = stored
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return stored


def load_function(stored: StoredCode, globals_: dict | None = None):
    """Build the stored function as a Python function.

    CALLING THE RESULT RUNS CODE FROM THE DATABASE. Only the workflow engine calls this, in a worker
    process (never the GUI process), after the user consented to this code hash for this database
    (:class:`CodeConsents`). Building it runs nothing; calling it does. StoredCodeError unless the code was
    marshalled by exactly the running Python (``stored.runnable_here``).
    """
    import builtins
    import marshal
    import types
    if not stored.runnable_here:
        raise StoredCodeError(
            f"stored function {stored.name} ({stored.short_hash}) was marshalled by Python {stored.version_text}; "
            f"only code of this Python ({sys.version_info[0]}.{sys.version_info[1]}) can run here: bind the "
            "parameter to a named function instead")
    try:
        code = marshal.loads(stored.marshalled)
    except (ValueError, EOFError, TypeError) as e:
        raise StoredCodeError(f"stored function {stored.short_hash}: its marshalled code does not load: {e}") from None
    if not isinstance(code, types.CodeType):
        raise StoredCodeError(f"stored function {stored.short_hash}: its marshalled value is a "
                              f"{type(code).__name__}, not code")
    values = stored.closure or ()
    if len(values) != len(code.co_freevars):
        raise StoredCodeError(f"stored function {stored.short_hash} needs {len(code.co_freevars)} closure values "
                              f"({', '.join(code.co_freevars) or 'none'}) but {len(values)} are stored")
    closure = tuple(types.CellType(v) for v in values) if code.co_freevars else None
    g = {"__builtins__": builtins} if globals_ is None else globals_
    return types.FunctionType(code, g, code.co_name, tuple(stored.defaults) if stored.defaults else None, closure)


def _default_consent_path() -> str:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "hsgui", "code_consent.json")


class CodeConsents:
    """The user's consent to run stored code, per database and per code hash.

    Kept on the user's machine (default ``$XDG_CONFIG_HOME/hsgui/code_consent.json``, else
    ``~/.config/hsgui/...``), NEVER in the database: a database cannot grant itself consent. The file is
    written atomically (temporary file + ``os.replace``) with mode 0600. ``database`` is whatever names the
    database to the user (the caller passes a redacted URI or a path, never a password).
    """

    VERSION = 1

    def __init__(self, path: str | None = None):
        self.path = path or _default_consent_path()
        self._lock = threading.Lock()

    def _load(self) -> list:
        try:
            with open(self.path, encoding="utf-8") as f:
                doc = json.load(f)
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as e:
            raise StoredCodeError(f"the code consent file {self.path} is unreadable: {e}") from None
        items = doc.get("consents") if isinstance(doc, dict) else None
        if not isinstance(items, list):
            raise StoredCodeError(f"the code consent file {self.path} is malformed: no 'consents' list")
        return [c for c in items if isinstance(c, dict) and isinstance(c.get("database"), str)
                and isinstance(c.get("sha256"), str)]

    def _save(self, items: list) -> None:
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".code_consent.", suffix=".tmp", dir=folder)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"version": self.VERSION, "consents": items}, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    @staticmethod
    def _check(database: str, sha256: str) -> str:
        if not isinstance(database, str) or not database:
            raise StoredCodeError("a code consent needs the database it is for")
        h = sha256.lower() if isinstance(sha256, str) else ""
        if len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
            raise StoredCodeError(f"a code consent needs the full sha256 of the stored code, not {sha256!r}")
        return h

    def allowed(self, database: str, sha256: str) -> bool:
        h = self._check(database, sha256)
        with self._lock:
            return any(c["database"] == database and c["sha256"] == h for c in self._load())

    def grant(self, database: str, sha256: str, what: str = "") -> None:
        h = self._check(database, sha256)
        with self._lock:
            items = [c for c in self._load() if not (c["database"] == database and c["sha256"] == h)]
            items.append({"database": database, "sha256": h, "what": str(what),
                          "granted": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
            self._save(items)

    def revoke(self, database: str, sha256: str) -> None:
        h = self._check(database, sha256)
        with self._lock:
            items = self._load()
            kept = [c for c in items if not (c["database"] == database and c["sha256"] == h)]
            if len(kept) != len(items):
                self._save(kept)

    def list(self) -> list[dict]:
        with self._lock:
            return [dict(c) for c in self._load()]


if __name__ == "__main__":
    sys.exit(_child_main())
