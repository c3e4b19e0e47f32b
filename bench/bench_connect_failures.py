"""An unreachable MongoDB: how long until it is reported, and does the window stay responsive meanwhile?

Figures (each with its same-run baseline):

1. ``MongoStore.from_uri`` and ``MongoStore.from_config`` of a server that is not there (a closed port, server
   selection timeout 1.5 s): time until the StoreError; baseline: pymongo's own ping of the same address with the
   same timeout. Target: ≤ 10 s.
2. ``ChannelManager.open`` of a URI whose ``serverSelectionTimeoutMS`` is not a number: time until the ConfigError
   (the driver would silently wait its default 30 s); baseline: pymongo parsing a valid URI. Target: ≤ 2 s.
3. The window opening an unreachable ``mongodb://`` URI (File › Connect, the app's timeout): time until the error
   bar shows it, and the largest gap between ticks of a 10 ms QTimer meanwhile; baselines: the same timer idle,
   pymongo's ping with the app's timeout. Targets: ≤ 8 s, gap ≤ 250 ms.
4. The Connect dialog's Test of an unreachable server: the same figures.

``--smoke`` uses a 0.2 s server selection timeout everywhere (does the bench still run? its figures mean nothing).

Run: ``QT_QPA_PLATFORM=offscreen python bench/bench_connect_failures.py``
"""
from __future__ import annotations

import inspect
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from hsgui.app import create_application  # noqa: E402

from channels.channel_manager import ChannelManager  # noqa: E402
from channels.errors import ConfigError, StoreError  # noqa: E402
from channels.stores.mongo_store import MongoStore  # noqa: E402
from gui_meter import GapMeter, spin_until  # noqa: E402

CLOSED_PORT = 9          # nothing listens there: the driver retries until its server selection timeout
STORE_TIMEOUT_MS = 1500
APP_TIMEOUT_MS = None    # None: the app's own default (what a user gets)
IDLE_S = 2.0
app = create_application(sys.argv[:1])   # as the app makes it


def timed(fn, *errors) -> float:
    t0 = time.perf_counter()
    try:
        fn()
    except errors:
        return time.perf_counter() - t0
    raise AssertionError(f"{fn} did not fail")


def pymongo_ping(uri: str, timeout_ms: int) -> float:
    import pymongo
    from pymongo.errors import PyMongoError

    def ping():
        client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms)
        try:
            client.admin.command("ping")
        finally:
            client.close()
    return timed(ping, PyMongoError)


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def bench_store():
    uri = f"mongodb://bob:hunter2@127.0.0.1:{CLOSED_PORT}/?serverSelectionTimeoutMS={STORE_TIMEOUT_MS}"
    base = pymongo_ping(f"mongodb://127.0.0.1:{CLOSED_PORT}/", STORE_TIMEOUT_MS)
    from_uri = timed(lambda: MongoStore.from_uri(uri), StoreError)
    from_config = timed(lambda: MongoStore.from_config(
        {"mongo": {"host": "127.0.0.1", "port": CLOSED_PORT, "db": "hs", "tz_aware": True}},
        server_selection_timeout_ms=STORE_TIMEOUT_MS), StoreError)
    print(f"1. unreachable MongoDB ({STORE_TIMEOUT_MS} ms server selection): MongoStore.from_uri fails after "
          f"{from_uri:.2f} s, from_config after {from_config:.2f} s; baseline pymongo ping {base:.2f} s; ratio "
          f"{from_uri / base:.2f}x / {from_config / base:.2f}x; target <= 10 s: "
          f"{verdict(max(from_uri, from_config) <= 10)}")


def bench_refused_timeout():
    from pymongo.uri_parser import parse_uri
    good = "mongodb://127.0.0.1:9/hs?serverSelectionTimeoutMS=1500"
    n = 200
    t0 = time.perf_counter()
    for _ in range(n):
        parse_uri(good)
    base = (time.perf_counter() - t0) / n
    refused = timed(lambda: ChannelManager.open("mongodb://127.0.0.1:9/hs?serverSelectionTimeoutMS=abc"),
                    ConfigError)
    print(f"2. URI whose serverSelectionTimeoutMS is not a number: refused after {refused * 1000:.2f} ms; baseline "
          f"pymongo parse of a valid URI {base * 1000:.3f} ms; ratio {refused / base:.1f}x; target <= 2 s: "
          f"{verdict(refused <= 2)}")


def app_uri(user: str = "") -> str:
    uri = f"mongodb://{user}127.0.0.1:{CLOSED_PORT}/hyperstream"
    return uri + (f"?serverSelectionTimeoutMS={APP_TIMEOUT_MS}" if APP_TIMEOUT_MS else "")


def bench_window():
    from hsgui.common.background import JobState
    from hsgui.connection.dialog import ConnectDialog
    from hsgui.main_window import MainWindow
    # the app's own server selection timeout unless the URI gives one
    app_timeout = APP_TIMEOUT_MS or inspect.signature(MongoStore).parameters["server_selection_timeout_ms"].default
    meter = GapMeter()
    idle, _ = meter.run(lambda: True, min_s=IDLE_S)
    base = pymongo_ping(f"mongodb://127.0.0.1:{CLOSED_PORT}/", app_timeout)
    window = MainWindow(restore=False)
    window.persist = False
    window.show()
    spin_until(lambda: not window.runner.active)
    job = window.open_target(app_uri("hsgui:secret@"))
    gap, _ = meter.run(lambda: job.is_finished and window.state.opening is None and window.error_bar.text() != "")
    took = meter.took
    assert job.state == JobState.FAILED, job.state
    print(f"3. window opening an unreachable MongoDB ({app_timeout} ms): error shown after {took:.2f} s, largest "
          f"10 ms-timer gap {gap * 1000:.0f} ms (idle {idle * 1000:.0f} ms); baseline pymongo ping {base:.2f} s; "
          f"ratio {took / base:.2f}x; targets <= 8 s, gap <= 250 ms: {verdict(took <= 8 and gap <= 0.25)}")
    dlg = ConnectDialog(window.runner, None, window)
    dlg.show()
    dlg.uri_edit.setText(app_uri())
    result = []
    dlg.testFinished.connect(lambda ok, text: result.append((ok, text)))
    dlg.test_connection()
    gap, _ = meter.run(lambda: bool(result))
    took = meter.took
    assert result[0][0] is False and "cannot reach MongoDB" in result[0][1], result
    print(f"4. Connect dialog, Test of an unreachable server: answer after {took:.2f} s, largest 10 ms-timer gap "
          f"{gap * 1000:.0f} ms (idle {idle * 1000:.0f} ms); baseline pymongo ping {base:.2f} s; ratio "
          f"{took / base:.2f}x; targets <= 8 s, gap <= 250 ms: {verdict(took <= 8 and gap <= 0.25)}")
    dlg.close()
    window.close()


def main():
    global STORE_TIMEOUT_MS, APP_TIMEOUT_MS, IDLE_S
    if "--smoke" in sys.argv:
        STORE_TIMEOUT_MS, APP_TIMEOUT_MS, IDLE_S = 200, 200, 0.2
        print("(smoke run: 0.2 s timeouts, the figures mean nothing)")
    bench_store()
    bench_refused_timeout()
    bench_window()


if __name__ == "__main__":
    main()
