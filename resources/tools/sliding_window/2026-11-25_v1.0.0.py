"""Built-in tool: sliding windows as TimeInterval values."""
from __future__ import annotations

from datetime import datetime, timedelta

from channels.errors import TimeError, ToolParameterError
from channels.stream import StreamInstance
from channels.time_interval import TimeInterval
from channels.columnar import Columns
from channels.tools import Tool, check_input_stream_count, stride_ms, tick_ms, tick_range
from channels.utils import MIN_DATE, ensure_utc, from_ms, get_timedelta


class SlidingWindow(Tool):
    """Windows ``(r + lower, r + upper]`` for reference times ``r = first + k * increment``.

    Each window is one instance: timestamp = the window's end (``r + upper``), value =
    the window as a TimeInterval. Only windows starting at or after ``first`` exist, so
    with ``lower=-60s, upper=0, increment=60s, first=midnight`` the windows are
    (00:00, 00:01], (00:01, 00:02], ... No input streams.

    :param first: Alignment time: reference times are first + k * increment, and no window starts before it.
    :param lower: Start of each window relative to its reference time (e.g. -60 seconds); must be below upper.
    :param upper: End of each window relative to its reference time (e.g. 0).
    :param increment: Time between consecutive windows.
    """

    def __init__(self, first: datetime = MIN_DATE, lower: timedelta = timedelta(seconds=-1),
                 upper: timedelta = timedelta(0), increment: timedelta = timedelta(seconds=1)):
        super().__init__(first=first, lower=lower, upper=upper, increment=increment)
        try:
            self._first = ensure_utc(first, "first")
        except TimeError as e:
            raise ToolParameterError("sliding_window", "first", str(e)) from None
        offsets = {}
        for name, value in (("lower", lower), ("upper", upper)):
            try:
                td = get_timedelta(value)
            except TimeError as e:
                raise ToolParameterError("sliding_window", name, str(e)) from None
            offsets[name] = int(round(td.total_seconds() * 1000))
        if offsets["lower"] >= offsets["upper"]:
            raise ToolParameterError("sliding_window", "lower", f"must be below upper ({offsets['upper'] / 1000:g} s), "
                                                                f"got {offsets['lower'] / 1000:g} s")
        self._lower_ms, self._upper_ms = offsets["lower"], offsets["upper"]
        self._increment_ms = stride_ms("sliding_window", "increment", increment)

    def _first_end(self):
        k_min = -(self._lower_ms // self._increment_ms) if self._lower_ms < 0 else 0
        return self._first + timedelta(milliseconds=k_min * self._increment_ms + self._upper_ms)

    def _execute_columns(self, sources, alignment_stream, interval):
        if sources:
            return None  # let _execute raise the input-count error
        ends = tick_ms(self._first_end(), self._increment_ms, interval)
        return Columns(ends, "interval", ends, ends - (self._upper_ms - self._lower_ms))

    @check_input_stream_count(0)
    def _execute(self, sources, alignment_stream, interval):
        # smallest k with first + k*increment + lower >= first, i.e. ceil(-lower / increment)
        k_min = -(self._lower_ms // self._increment_ms) if self._lower_ms < 0 else 0
        first_end = self._first + timedelta(milliseconds=k_min * self._increment_ms + self._upper_ms)
        width = timedelta(milliseconds=self._upper_ms - self._lower_ms)
        for ms in tick_range(first_end, self._increment_ms, interval):
            end = from_ms(ms)
            yield StreamInstance._make((end, TimeInterval._trusted(end - width, end)))
