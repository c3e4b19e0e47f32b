"""Time helpers shared by the whole library.

Every timestamp the library hands out is a timezone-aware UTC ``datetime``
truncated to milliseconds; stores keep epoch milliseconds. A naive datetime is
always an error: guessing a zone silently would shift user data by hours.
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone

import pytz

from .errors import TimeError

UTC = pytz.UTC
MIN_DATE = datetime(1, 1, 1, tzinfo=UTC)
MAX_DATE = datetime.max.replace(microsecond=0, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def utcnow() -> datetime:
    """Now, in UTC, truncated to milliseconds."""
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond - now.microsecond % 1000, tzinfo=UTC)


def ensure_utc(dt, what: str = "timestamp") -> datetime:
    """Return ``dt`` converted to UTC and truncated to ms; reject naive or non-datetimes."""
    if not isinstance(dt, datetime):
        raise TimeError(f"{what} must be a datetime, got {type(dt).__name__} {dt!r}")
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        raise TimeError(f"{what} {dt.isoformat()} is naive: give a timezone-aware datetime (e.g. tzinfo=UTC)")
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    if dt.microsecond % 1000:
        dt = dt.replace(microsecond=dt.microsecond - dt.microsecond % 1000)
    return dt


def to_ms(dt: datetime) -> int:
    """Epoch milliseconds of an aware datetime (exact, no float rounding)."""
    delta = dt - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_ms(ms: int) -> datetime:
    """Aware UTC datetime from epoch milliseconds."""
    return EPOCH + timedelta(milliseconds=int(ms))


def get_timedelta(value) -> timedelta:
    """Seconds (int/float), a timedelta, or text such as '90s', '5m', '2h', '1d', '1w'."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise TimeError(f"cannot use {value!r} as a duration")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise TimeError(f"cannot use {value!r} as a duration")
        return timedelta(seconds=value)
    if isinstance(value, str):
        return parse_duration(value)
    raise TimeError(f"cannot use {type(value).__name__} {value!r} as a duration")


_DURATION_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d|w)?\s*$", re.I)
_UNITS = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


def parse_duration(text: str) -> timedelta:
    """Parse '30', '30s', '5m', '2h', '1d', '1w', '250ms', or 'HH:MM:SS'."""
    m = _DURATION_RE.match(text)
    if m:
        unit = m.group(2).lower() if m.group(2) else None
        return timedelta(seconds=float(m.group(1)) * _UNITS[unit])
    parts = text.strip().split(":")
    if len(parts) == 3:
        try:
            h, mi, s = int(parts[0]), int(parts[1]), float(parts[2])
            return timedelta(hours=h, minutes=mi, seconds=s)
        except ValueError:
            pass
    raise TimeError(f"cannot parse duration {text!r} (use e.g. '30s', '5m', '2h', '1d' or 'HH:MM:SS')")


def format_duration(td: timedelta) -> str:
    """Short human text for a duration: '3 d', '12 h', '45 s'."""
    s = td.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if abs(s) >= size:
            v = s / size
            return f"{v:.0f} {unit}" if abs(v - round(v)) < 0.05 else f"{v:.1f} {unit}"
    return f"{s * 1000:.0f} ms"


def parse_datetime(text: str, default_tz=UTC) -> datetime:
    """Parse ISO-8601 text. Text without an offset is read in ``default_tz`` (UTC by default)."""
    t = text.strip()
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        raise TimeError(f"cannot parse date-time {text!r}: use ISO form such as 2017-06-20T12:00:00Z") from None
    if dt.tzinfo is None:
        dt = default_tz.localize(dt) if hasattr(default_tz, "localize") else dt.replace(tzinfo=default_tz)
    return ensure_utc(dt)


def camel_case(name: str) -> str:
    """``sliding_window`` -> ``SlidingWindow`` (the class-name rule for tool folders)."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def redact_uri(uri: str) -> str:
    """``uri`` with any password replaced by ``***`` (for settings, logs and error messages)."""
    if not isinstance(uri, str):
        return str(uri)
    text = uri
    if "://" in text:
        scheme, rest = text.split("://", 1)
        head = rest.split("?", 1)[0]
        at = head.rfind("@")
        if at >= 0:
            userinfo, tail = rest[:at], rest[at:]
            if ":" in userinfo:
                userinfo = userinfo.split(":", 1)[0] + ":***"
            rest = userinfo + tail
        text = scheme + "://" + rest
    # options such as tlsCertificateKeyFilePassword=...
    return re.sub(r"((?:[?&;])[^=&;]*password[^=&;]*=)[^&;]*", r"\1***", text, flags=re.I)
