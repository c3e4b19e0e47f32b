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


# -- secrets in connection URIs ---------------------------------------------------------------------------
#: query options whose whole value is a secret: any name containing one of these words (case-insensitive)
_SECRET_WORDS = ("password", "secret", "token")
#: options whose value is a list ``KEY:value,KEY:value`` where a value may be a secret (e.g. AWS_SESSION_TOKEN)
_PROPERTY_OPTIONS = ("authmechanismproperties",)
_MASK = "***"
_HOSTS = re.compile(r"^[A-Za-z0-9._~%\-\[\]:,]*$")   # what may follow the user-info's "@": hosts and ports
_URI_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")


def _split_uri(uri: str):
    """``(scheme://, user, password or None, rest)`` of a URI, tolerant of malformed user-info.

    The user-info ends at the *last* ``@`` that is followed by something that looks like a host list (so a
    password with an unescaped ``@``, ``/`` or ``?`` is still recognised as the password). When unsure, more
    is taken as the password, never less."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return None
    at = -1
    for m in re.finditer("@", rest):
        following = re.split(r"[/?]", rest[m.end():], maxsplit=1)[0]
        if _HOSTS.match(following):
            at = m.start()
    if at < 0:
        return scheme + "://", None, None, rest
    userinfo, after = rest[:at], rest[at + 1:]
    user, colon, password = userinfo.partition(":")
    return scheme + "://", user, (password if colon else None), after


def _option_is_secret(name: str) -> bool:
    from urllib.parse import unquote
    low = unquote(name).lower()
    return any(w in low for w in _SECRET_WORDS)


def _redact_query(query: str) -> str:
    from urllib.parse import unquote
    out = []
    for item in re.split(r"([&;])", query):
        if item in ("&", ";") or item == "":
            out.append(item)
            continue
        name, eq, value = item.partition("=")
        if not eq:
            out.append(_MASK)        # not name=value: perhaps the tail of a secret that held an unescaped '&'
        elif _option_is_secret(name):
            out.append(f"{name}={_MASK}")
        elif unquote(name).lower() in _PROPERTY_OPTIONS:
            props = [p.partition(":")[0] + ":" + _MASK if ":" in p else _MASK for p in unquote(value).split(",")]
            out.append(f"{name}={','.join(props)}")
        else:
            out.append(item)
    return "".join(out)


def redact_uri(uri: str) -> str:
    """``uri`` as it may be written or shown: the one redaction rule of the project.

    Masks with ``***`` the user-info password (also when it holds an unescaped ``?``, ``@`` or ``/``), the
    value of every query option whose name contains ``password``, ``secret`` or ``token`` (any case, e.g.
    ``tlsCertificateKeyFilePassword``), every value of ``authMechanismProperties`` (``AWS_SESSION_TOKEN:***``)
    and any query item that is not ``name=value``. Never raises: text that is not a URI comes back as it is.
    """
    if not isinstance(uri, str):
        uri = str(uri)
    parts = _split_uri(uri)
    if parts is None:
        return uri
    scheme, user, password, rest = parts
    head = scheme
    if user is not None:
        head += user + (":" + _MASK if password is not None else "") + "@"
    q = rest.find("?")
    if q >= 0:
        rest = rest[:q + 1] + _redact_query(rest[q + 1:])
    return head + rest


def redact_text(text) -> str:
    """``text`` (an error message, a log line, a traceback) with every URI in it redacted by :func:`redact_uri`."""
    text = str(text)

    def one(m):
        uri = m.group(0)
        tail = len(uri) - len(uri.rstrip(".,;)]"))   # sentence punctuation after the URI stays as it is
        return redact_uri(uri[:len(uri) - tail]) + uri[len(uri) - tail:]
    return _URI_IN_TEXT.sub(one, text) if "://" in text else text


def uri_secrets(uri: str) -> list[str]:
    """The secret pieces of ``uri`` (the texts :func:`redact_uri` masks) and their fragments split at URI
    delimiters, longest first: a parser's message may quote a piece of a malformed password."""
    if not isinstance(uri, str):
        return []
    from urllib.parse import unquote
    parts = _split_uri(uri)
    if parts is None:
        return []
    pieces = []
    _scheme, _user, password, rest = parts
    if password:
        pieces.append(password)
    q = rest.find("?")
    if q >= 0:
        for item in re.split(r"[&;]", rest[q + 1:]):
            name, eq, value = item.partition("=")
            if not eq:
                pieces.append(item)
            elif _option_is_secret(name):
                pieces.append(value)
            elif unquote(name).lower() in _PROPERTY_OPTIONS:
                pieces += [p.partition(":")[2] or p for p in value.split(",")]
    out = set()
    for p in pieces:
        for x in [p, unquote(p)] + re.split(r"[?@/:&=,;#]", p):
            if x:
                out.add(x)
    return sorted(out, key=len, reverse=True)


def scrub_secrets(text, uri: str) -> str:
    """``text`` without any secret piece of ``uri`` (for a third-party message about that URI)."""
    text = redact_text(text)
    for piece in uri_secrets(uri):
        text = text.replace(piece, _MASK)
    return text
