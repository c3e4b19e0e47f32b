"""Application set-up: QApplication, the command line, the first window, screenshots.

Opening stores (and building the demo store on first start) is
:mod:`hsgui.common.connection`; the window is :mod:`hsgui.main_window`.
"""
from __future__ import annotations

import logging
import os
import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from hsgui.common.pyside_scan import skip_pyside_source_scan

skip_pyside_source_scan()   # first: PySide reads no module's source from here on (hsgui.common.pyside_scan)

from hsgui.common import gc_policy  # noqa: E402

gc_policy.hold_during_start()   # no full collection while the window's modules load; create_application ends it

from . import __version__  # noqa: E402
from . import settings as hs_settings  # noqa: E402

log = logging.getLogger(__name__)


def configure_application(app: QApplication) -> None:
    app.setOrganizationName(hs_settings.ORGANIZATION)
    app.setApplicationName(hs_settings.APPLICATION)
    app.setApplicationDisplayName("HyperStream Studio")
    app.setApplicationVersion(__version__)


def create_application(argv=None) -> QApplication:
    # pytz's wheel holds every zone it lists: its documented start-up option skips opening each of ~600 zone
    # files to check it is there the first time a zone is looked up (milliseconds, far more on a busy disk)
    os.environ.setdefault("PYTZ_SKIPEXISTSCHECK", "1")
    # Qt's raster engine hands the spans of a large fill (a pane's grid lines: ~600 pieces a paint) to its own
    # thread pool and waits for them; on a busy 2-core machine each wait is a scheduling delay of those threads,
    # and a paint of 2-4 ms took 20-40 ms. Painting on the GUI thread alone is faster (read when Qt first wants
    # that pool, so it must be set before the first paint)
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")
    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv[:1]))
    configure_application(app)
    gc_policy.end_of_start(freeze=True)   # what the start loaded is never garbage: no collection traverses it again
    return app


def when_idle(window, callback, timeout_s: float = 120.0, settle_polls: int = 3) -> None:
    """Call ``callback(timed_out)`` once the window has had no work for a few polls."""
    state = {"quiet": 0, "t0": time.monotonic()}
    timer = QTimer(window)
    timer.setInterval(100)

    def poll():
        if window.busy():
            state["quiet"] = 0
        else:
            state["quiet"] += 1
        timed_out = time.monotonic() - state["t0"] > timeout_s
        if state["quiet"] >= settle_polls or timed_out:
            timer.stop()
            timer.deleteLater()
            callback(timed_out)

    timer.timeout.connect(poll)
    timer.start()


def showcase(window) -> None:
    """Put something worth seeing on screen: the demo's showcase stream selected and plotted."""
    manager = window.manager
    if manager is None:
        return
    try:
        from resources.demo import SHOWCASE
    except Exception:  # noqa: BLE001
        SHOWCASE = []
    chosen = []
    for channel_id, stream_id in SHOWCASE:
        if channel_id in manager.channels and stream_id in manager.channels[channel_id].streams:
            chosen.append(manager.channels[channel_id].streams[stream_id])
    if not chosen:
        for channel in manager.database_channels:
            streams = list(channel.streams.values())
            if streams:
                chosen.append(streams[0])
                break
    if not chosen:
        return
    first = chosen[0]
    window.tree.select_stream(first.channel.channel_id, first.stream_id)
    window.plot_streams(chosen)
    # a stream with a gap in its calculated intervals shows the inspector's timeline at its best
    gap = next((s for s in chosen[1:] if len(s.calculated_intervals) > 1), None)
    if gap is not None:
        window.tree.select_stream(gap.channel.channel_id, gap.stream_id)


def run(args) -> int:
    """Start the app with parsed command-line ``args`` (see ``hsgui.__main__``)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from hsgui.common.platform_check import check_display_soon
    display_ok = check_display_soon()     # looks for missing system libraries while the window's modules load
    from .main_window import MainWindow
    if not display_ok():
        return 1      # missing system libraries: said which and how to install them, instead of Qt's abort
    app = create_application()
    window = MainWindow(restore=not args.screenshot)
    if args.screenshot:
        window.persist = False   # a headless check must not change the user's saved layout
        window.resize(1500, 950)
    target = args.target
    workspace = None
    from hsgui.workspace.controller import last_workspace_path
    from hsgui.workspace.doc import WorkspaceError
    ws_path = getattr(args, "workspace", None)
    if ws_path is None and not args.screenshot and os.path.exists(last_workspace_path()):
        ws_path = last_workspace_path()     # the last session comes back
    if ws_path:
        try:
            workspace = window.workspaces.read(ws_path)
        except WorkspaceError as e:
            if getattr(args, "workspace", None):
                print(f"hsgui: {e}", file=sys.stderr)
                return 2
            log.warning("last workspace not reopened: %s", e)
        else:
            target = target or workspace.store
    demo = False
    if not target:
        target = hs_settings.default_store_path(args.store_dir)
        demo = not args.no_demo
    if workspace is not None and getattr(args, "workspace", None):
        window.workspaces.apply_view(workspace)   # its range, zone and docks from the first paint; panes later
    window.show()
    gc_policy.install()   # no full garbage collection stalls the event loop (see hsgui.common.gc_policy)
    if workspace is not None and target == workspace.store and hs_settings.needs_password(target):
        # the workspace names a MongoDB store by its redacted URI: ask for the password that was never saved
        window.workspaces.pending = workspace
        from PySide6.QtCore import QTimer
        QTimer.singleShot(0, lambda: window.open_recent(target))
    else:
        window.open_target(target, create=not (args.target or (workspace and workspace.store)), demo=demo)
        if workspace is not None:
            window.workspaces.pending = workspace   # applied once the store is connected

    if args.screenshot:
        path = os.path.abspath(args.screenshot)
        result = {"code": 0}

        def grab(timed_out):
            if timed_out:
                print("screenshot: the window was still busy after the timeout", file=sys.stderr)
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            if not window.grab().save(path):
                print(f"screenshot: could not write {path}", file=sys.stderr)
                result["code"] = 1
            else:
                print(f"screenshot written to {path}")
            if window.error_bar.text():
                print(f"error shown: {window.error_bar.text()}", file=sys.stderr)
                result["code"] = result["code"] or 2
            window.close()
            app.quit()

        def loaded(_timed_out):
            showcase(window)
            when_idle(window, grab, timeout_s=args.timeout)

        when_idle(window, loaded, timeout_s=args.timeout)
        app.exec()
        return result["code"]
    return app.exec()
