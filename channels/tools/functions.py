"""The named function registry used by tools that take a function (aggregate, sliding_apply, apply).

Tools take a function *by name* (``"mean"``, ``"abs"``, ...), never as code, so
a run can be recorded, repeated and shown in a form. There is no ``eval`` and
no code string anywhere.

Two kinds of function:

* **aggregate** functions take a list of values and return one value
  (``mean``, ``sum``, ``min``, ``max``, ``median``, ``std``, ``var``,
  ``count``, ``first``, ``last``, ``range``).
  Numeric aggregates look only at the numeric values (``int``/``float``, not
  ``bool``, not NaN); everything else (text, dicts, ``None``, ...) is ignored.
  When no numeric value is left they return ``None`` -- except that a list
  with no numbers but with (aware) datetimes, such as the values of a
  ``clock`` stream, is aggregated over those: ``mean``/``median``/``min``/
  ``max`` give a datetime (ms precision), ``range``/``std`` seconds and
  ``var`` seconds squared; ``sum`` ignores datetimes. ``count`` counts every
  value that is not ``None`` (so it returns 0 for an empty list); ``first`` and
  ``last`` return the first/last value of any type (``None`` when empty).
* **element** functions take one value and return one value (``abs``,
  ``negate``, ``square``, ``sqrt``, ``log``, ``exp``, ``round``, ``identity``,
  ``to_float``, ``bool_to_int``, ...). They return ``None`` for a value they
  cannot handle (non-numeric input, ``sqrt`` of a negative, ``log`` of 0).

``FUNCTIONS`` maps name -> :class:`RegisteredFunction` (``.name``, ``.kind``,
``.doc``, callable); ``function_docs(kind)`` gives ``name -> doc`` for a form.

``AggregateFunctionName`` / ``ElementFunctionName`` are the annotations a tool
uses for such a parameter; :mod:`channels.tools.params` turns them into a
choice list.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta
from dataclasses import dataclass
from typing import Callable, NewType

import numpy as np

from ..errors import ChannelsError
from ..utils import EPOCH

#: annotation for a parameter naming an aggregate function (choices: the aggregate names)
AggregateFunctionName = NewType("AggregateFunctionName", str)
#: annotation for a parameter naming a per-instance (element) function
ElementFunctionName = NewType("ElementFunctionName", str)


class FunctionNotFoundError(ChannelsError, KeyError):
    def __init__(self, name, kind=None):
        self.name = name
        names = ", ".join(sorted(n for n, f in FUNCTIONS.items() if kind is None or f.kind == kind))
        what = f"{kind} function" if kind else "function"
        super().__init__(f"unknown {what} {name!r}; available: {names}")

    def __str__(self):
        return self.args[0]


@dataclass(frozen=True)
class RegisteredFunction:
    name: str
    kind: str  # "aggregate" or "element"
    func: Callable
    doc: str

    def __call__(self, arg):
        return self.func(arg)


FUNCTIONS: dict[str, RegisteredFunction] = {}


def _register(kind, name=None):
    def deco(f):
        n = name or f.__name__.lstrip("_").rstrip("_")
        doc = " ".join((f.__doc__ or "").split())
        FUNCTIONS[n] = RegisteredFunction(n, kind, f, doc)
        return f
    return deco


def is_number(v) -> bool:
    """True for int/float (and numpy numbers) that are not bool and not NaN."""
    if isinstance(v, bool) or isinstance(v, np.bool_):
        return False
    if isinstance(v, (int, np.integer)):
        return True
    if isinstance(v, (float, np.floating)):
        return v == v
    return False


def numbers(values) -> list:
    """The numeric values of ``values`` (see :func:`is_number`), as Python floats/ints."""
    return [v.item() if isinstance(v, np.generic) else v for v in values if is_number(v)]


_EPOCH = EPOCH


def _dt_ms(values) -> list:
    """Epoch-ms of the aware datetime values."""
    out = []
    for v in values:
        if isinstance(v, datetime) and v.tzinfo is not None:
            d = v - _EPOCH
            out.append((d.days * 86400 + d.seconds) * 1000 + d.microseconds // 1000)
    return out


def _ms_dt(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def _round_div(a: int, b: int) -> int:
    return (2 * a + b) // (2 * b)


# -- aggregates -------------------------------------------------------------------------------
@_register("aggregate")
def mean(values):
    """Arithmetic mean of the numeric values (or of datetimes when there are no numbers); None if neither."""
    nums = numbers(values)
    if nums:
        return math.fsum(nums) / len(nums)
    ms = _dt_ms(values)
    return _ms_dt(_round_div(sum(ms), len(ms))) if ms else None


@_register("aggregate", "sum")
def sum_(values):
    """Sum of the numeric values; None if there are none."""
    nums = numbers(values)
    if not nums:
        return None
    if all(isinstance(n, int) for n in nums):
        return sum(nums)
    return math.fsum(nums)


@_register("aggregate", "min")
def min_(values):
    """Smallest numeric value (or earliest datetime when there are no numbers); None if neither."""
    nums = numbers(values)
    if nums:
        return min(nums)
    ms = _dt_ms(values)
    return _ms_dt(min(ms)) if ms else None


@_register("aggregate", "max")
def max_(values):
    """Largest numeric value (or latest datetime when there are no numbers); None if neither."""
    nums = numbers(values)
    if nums:
        return max(nums)
    ms = _dt_ms(values)
    return _ms_dt(max(ms)) if ms else None


@_register("aggregate")
def median(values):
    """Median of the numeric values (mean of the two middle ones for an even count); None if there are none."""
    nums = sorted(numbers(values))
    n = len(nums)
    if not n:
        ms = sorted(_dt_ms(values))
        if not ms:
            return None
        mid = len(ms) // 2
        return _ms_dt(ms[mid] if len(ms) % 2 else _round_div(ms[mid - 1] + ms[mid], 2))
    mid = n // 2
    return nums[mid] if n % 2 else (nums[mid - 1] + nums[mid]) / 2


@_register("aggregate")
def var(values):
    """Population variance (ddof=0, like numpy.var) of the numeric values; None if there are none."""
    nums = numbers(values) or [ms / 1000.0 for ms in _dt_ms(values)]
    if not nums:
        return None
    m = math.fsum(nums) / len(nums)
    return math.fsum((x - m) ** 2 for x in nums) / len(nums)


@_register("aggregate")
def std(values):
    """Population standard deviation (ddof=0, like numpy.std) of the numeric values; None if there are none."""
    v = var(values)
    return None if v is None else math.sqrt(v)


@_register("aggregate")
def count(values):
    """Number of values that are not None (any type); 0 for an empty list."""
    return sum(1 for v in values if v is not None)


@_register("aggregate")
def first(values):
    """The first value (any type); None if the list is empty."""
    for v in values:
        return v
    return None


@_register("aggregate")
def last(values):
    """The last value (any type); None if the list is empty."""
    values = list(values)
    return values[-1] if values else None


@_register("aggregate", "range")
def range_(values):
    """max - min of the numeric values (seconds between datetimes when there are no numbers); None if neither."""
    nums = numbers(values)
    if nums:
        return max(nums) - min(nums)
    ms = _dt_ms(values)
    return (max(ms) - min(ms)) / 1000.0 if ms else None


# -- element functions ----------------------------------------------------------------------
def _numeric(f):
    def wrapper(v):
        if not is_number(v):
            return None
        try:
            return f(v.item() if isinstance(v, np.generic) else v)
        except (ValueError, OverflowError, ZeroDivisionError):
            return None
    wrapper.__name__ = f.__name__
    wrapper.__doc__ = f.__doc__
    return wrapper


@_register("element")
def identity(v):
    """The value unchanged (any type)."""
    return v


@_register("element", "abs")
@_numeric
def abs_(v):
    """Absolute value; None for non-numeric values."""
    return abs(v)


@_register("element")
@_numeric
def negate(v):
    """-value; None for non-numeric values."""
    return -v


@_register("element")
@_numeric
def square(v):
    """value ** 2; None for non-numeric values."""
    return v * v


@_register("element")
@_numeric
def sqrt(v):
    """Square root; None for negative or non-numeric values."""
    return math.sqrt(v)


@_register("element")
@_numeric
def log(v):
    """Natural logarithm; None for values <= 0 or non-numeric values."""
    return math.log(v)


@_register("element")
@_numeric
def log10(v):
    """Base-10 logarithm; None for values <= 0 or non-numeric values."""
    return math.log10(v)


@_register("element")
@_numeric
def exp(v):
    """e ** value; None on overflow or for non-numeric values."""
    return math.exp(v)


@_register("element", "round")
@_numeric
def round_(v):
    """Nearest integer (as int, halves to even); None for non-numeric or infinite values."""
    return int(round(v))


@_register("element")
def to_float(v):
    """float(value) for numbers, bools and numeric text; None otherwise."""
    if isinstance(v, (bool, np.bool_)):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


@_register("element")
def epoch_seconds(v):
    """Seconds since 1970-01-01 UTC of a datetime value (e.g. a clock tick); None for other values."""
    if isinstance(v, datetime) and v.tzinfo is not None:
        return (v - _EPOCH).total_seconds()
    return None


@_register("element")
def bool_to_int(v):
    """1 for True, 0 for False; None for anything that is not a bool."""
    if isinstance(v, (bool, np.bool_)):
        return int(bool(v))
    return None


@_register("element", "not")
def not_(v):
    """Logical not of a bool; None for anything that is not a bool."""
    if isinstance(v, (bool, np.bool_)):
        return not bool(v)
    return None


@_register("element")
def is_none(v):
    """True when the value is None, else False."""
    return v is None


@_register("element")
def length(v):
    """len(value) for text, lists and dicts; None otherwise."""
    if isinstance(v, (str, list, tuple, dict)):
        return len(v)
    return None


# -- lookup ------------------------------------------------------------------------------------
def get_function(name: str, kind: str | None = None) -> RegisteredFunction:
    """The registered function ``name`` (of ``kind`` "aggregate"/"element" if given).

    Raises FunctionNotFoundError listing the available names.
    """
    f = FUNCTIONS.get(name) if isinstance(name, str) else None
    if f is None or (kind is not None and f.kind != kind):
        raise FunctionNotFoundError(name, kind)
    return f


def function_names(kind: str | None = None) -> list[str]:
    return sorted(n for n, f in FUNCTIONS.items() if kind is None or f.kind == kind)


def function_docs(kind: str | None = None) -> dict[str, str]:
    """``name -> one-line doc`` for a form or tooltip."""
    return {n: FUNCTIONS[n].doc for n in function_names(kind)}


# -- counter-based random numbers (for the random generator tools) -----------------------------
_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def hashed_uniform(seed: int, keys, lane: int = 0) -> np.ndarray:
    """Uniform floats in [0, 1), one per key, fixed by ``(seed, key, lane)`` alone.

    A counter-based generator (splitmix64 hash): the value for a timestamp does
    not depend on which other timestamps are generated with it, so a stream
    computed in one chunk or in ten is identical.
    """
    k = np.asarray(keys, dtype=np.int64).astype(np.uint64)
    s = _splitmix64(np.asarray([int(seed) & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))
    s = _splitmix64(s ^ np.uint64(int(lane) & 0xFFFFFFFFFFFFFFFF))
    h = _splitmix64(_splitmix64(k ^ s[0]) + s[0])
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


__all__ = ["FUNCTIONS", "RegisteredFunction", "FunctionNotFoundError", "get_function", "function_names",
           "function_docs", "AggregateFunctionName", "ElementFunctionName", "is_number", "numbers",
           "hashed_uniform"]
