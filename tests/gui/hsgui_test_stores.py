"""Prepared stores for the application-shell tests (built through the public channel API)."""
from __future__ import annotations

from datetime import datetime, timedelta

from channels.channel_manager import ChannelManager
from channels.memory_channel import MemoryChannel
from channels.stream import StreamId, StreamInstance
from channels.time_interval import TimeInterval
from channels.utils import UTC

T0 = datetime(2024, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _instances(start, step, values):
    return [StreamInstance._make((start + step * (i + 1), v)) for i, v in enumerate(values)]


def fill_channel(ch, big: int = 0) -> dict:
    """Environmental streams for two houses x two residents, a dict stream, an event stream,
    a stream with a gap in its calculated intervals and (optionally) a big numeric stream."""
    made = {}
    for house in (1, 2):
        for resident in ("alice", "bob"):
            sid = StreamId("temperature", {"house": house, "resident": resident})
            s = ch.create_stream(sid)
            vals = [20.0 + house + (i % 24) * 0.25 for i in range(48)]
            ch.write_chunk(s, _instances(T0, HOUR, vals), TimeInterval(T0, T0 + 48 * HOUR))
            made[sid] = s
    s = ch.create_stream(StreamId("environment", {"house": 1}))
    ch.write_chunk(s, _instances(T0, HOUR, [{"temp": 21.5 + i, "humidity": 40 + i, "room": "kitchen"}
                                            for i in range(24)]), TimeInterval(T0, T0 + 24 * HOUR))
    made["environment"] = s
    s = ch.create_stream(StreamId("events"))
    ch.write_chunk(s, _instances(T0, 3 * HOUR, ["door open", "door closed", "light on"]),
                   TimeInterval(T0, T0 + 9 * HOUR))
    made["events"] = s
    # calculated (T0, T0+10h] and (T0+20h, T0+30h]: one gap of 10 h
    s = ch.create_stream(StreamId("hourly_mean", {"house": 1}))
    ch.write_chunk(s, _instances(T0, HOUR, [float(i) for i in range(10)]), TimeInterval(T0, T0 + 10 * HOUR))
    ch.write_chunk(s, _instances(T0 + 20 * HOUR, HOUR, [float(i) for i in range(10)]),
                   [TimeInterval(T0, T0 + 10 * HOUR), TimeInterval(T0 + 20 * HOUR, T0 + 30 * HOUR)])
    made["gappy"] = s
    if big:
        s = ch.create_stream(StreamId("big"))
        step = timedelta(seconds=1)
        for a in range(0, big, 200_000):
            n = min(200_000, big - a)
            ch.write_chunk(s, [StreamInstance._make((T0 + step * (a + i + 1), float((a + i) % 1000)))
                               for i in range(n)], TimeInterval(T0, T0 + step * (a + n)))
        made["big"] = s
    return made


def make_sqlite_store(path, big: int = 0) -> str:
    """A SQLite store file at ``path`` with the streams of :func:`fill_channel` in channel ``mongo``
    and one asset stream; returns the path."""
    m = ChannelManager.open(str(path))
    try:
        fill_channel(m.channels["mongo"], big=big)
        m.channels["assets"].write_to_stream(StreamId("houses"), [
            StreamInstance(T0, {"1": ["alice", "bob"], "2": ["alice", "bob"]})])
    finally:
        m.close()
    return str(path)


def memory_manager(big: int = 0) -> tuple[ChannelManager, dict]:
    """A store-less manager whose ``memory`` channel holds the :func:`fill_channel` streams."""
    m = ChannelManager(builtin_tools=False)
    return m, fill_channel(m.channels["memory"], big=big)


def many_streams_manager(n: int) -> ChannelManager:
    """``n`` empty memory streams over 100 names x ``n/100`` (house, sensor) variants, plus a small channel."""
    m = ChannelManager(builtin_tools=False)
    big = MemoryChannel("sensors")
    m.add_channel(big)
    per = max(1, n // 100)
    for i in range(n):
        big.create_stream(StreamId(f"sensor_{i // per:03d}", {"house": i % per, "kind": "temp" if i % 2 else "hum"}))
    return m


ROOMS = ("kitchen", "lounge", "hall", "bedroom_1", "bedroom_2", "bathroom")


def deployment_manager(n: int, names: int = 50) -> ChannelManager:
    """``n`` empty memory streams laid out like a deployment, in channel "mongo": ``names`` names (every other one
    per resident) x houses 1..100 x room x sensor, plus one stream without meta-data ("summary") and a small
    channel "memory" (one stream)."""
    m = ChannelManager(builtin_tools=False)
    big = MemoryChannel("mongo")
    m.add_channel(big)
    per_name = max(1, n // names)
    for k in range(names):
        name = f"{'Env' if k % 3 == 0 else 'wearable'}_{k:02d}"
        for i in range(per_name):
            meta = {"house": 1 + i % 100, "room": ROOMS[i // 100 % 6], "sensor": f"s{i // 600}"}
            if k % 2:
                meta["resident"] = f"r{i % 3}"
            big.create_stream(StreamId(name, meta))
    big.create_stream(StreamId("summary"))
    m.channels["memory"].create_stream(StreamId("Env_00", {"house": 1, "room": "kitchen", "sensor": "s0"}))
    return m
