"""The main window: layout and lifecycle only. It implements :class:`hsgui.shell.Shell` for the features.

It owns the evented :class:`~hsgui.state.AppState`, the :class:`~hsgui.actions.ActionRegistry`, the job runner,
the central plot area with the error and offer bars, the time-range toolbar and the status bar. Everything else
— docks, menus' entries, context menus, keys — is installed by the feature packages through the shell
(``FEATURES`` below, in order), and they follow the state instead of being pushed changes by the window.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDockWidget, QFrame, QHBoxLayout, QLabel, QMainWindow, QPushButton,
                               QScrollArea, QToolBar, QVBoxLayout, QWidget)

from channels.time_interval import TimeInterval
from channels.utils import redact_text, utcnow

from . import settings as hs_settings
from .actions import ActionRegistry, Context
from .shell import AREAS, QtActions, follow
from .state import AppState
from hsgui.annotations import install as annotations_feature
from hsgui.assets import install as assets_feature
from hsgui.browse import install as browse_feature
from hsgui.common.background import JobRunner, JobState
from hsgui.common.timefmt import readable_times
from hsgui.compute import install as compute_feature
from hsgui.connection import install as connection_feature
from hsgui.console import install as console_feature
from hsgui.help import install as help_feature
from hsgui.importing import install as importing_feature
from hsgui.jobs import install as jobs_feature
from hsgui.jobs.jobs_dock import JobStatusWidget
from hsgui.jobs.log_dock import log_status_messages
from hsgui.plotting import install as plotting_feature
from hsgui.plotting.install import OfferBar
from hsgui.plotting.plot_area import PlotArea
from hsgui.plotting.time_range import TimeRangePicker
from hsgui.workflows import install as workflows_feature
from hsgui.workspace import controller as workspace_feature

log = logging.getLogger(__name__)

#: the features, installed in this order (a dock tabified with another's comes after it)
FEATURES = (("connection", connection_feature), ("browse", browse_feature), ("plotting", plotting_feature),
            ("jobs", jobs_feature), ("compute", compute_feature), ("assets", assets_feature),
            ("workflows", workflows_feature), ("importing", importing_feature),
            ("annotations", annotations_feature), ("console", console_feature), ("workspace", workspace_feature),
            ("help", help_feature))
#: the range shown before anything else sets one
DEFAULT_RANGE = timedelta(hours=24)


class ErrorBar(QFrame):
    """A dismissible red line above the plots: the latest error, in words."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setStyleSheet("ErrorBar { background: #fde8e6; border: 1px solid #e0a8a0; }")
        self.label = QLabel("", self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setStyleSheet("color: #8a1a10;")
        close = QPushButton("Dismiss", self)
        close.setFlat(True)
        close.clicked.connect(self.hide)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 4, 4)
        lay.addWidget(self.label, 1)
        lay.addWidget(close)
        self.hide()

    def show_message(self, text: str):
        self.label.setText(text)
        self.show()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


class MainWindow(QMainWindow):
    """HyperStream Studio's main window (the :class:`~hsgui.shell.Shell` its features install into)."""

    errorShown = Signal(str)
    sigClosing = Signal()             # the window is closing (features stop what they started)

    def __init__(self, runner: JobRunner | None = None, parent=None, restore: bool = True):
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setWindowTitle("HyperStream Studio")
        self.widget = self
        self.runner = runner or JobRunner(self)
        now = utcnow()
        self.state = AppState(interval=TimeInterval(now - DEFAULT_RANGE, now))
        self.actions = ActionRegistry()
        self.docks: dict[str, QDockWidget] = {}
        self.features: dict[str, object] = {}
        self._dialogs: list = []          # open non-modal dialogs of the current connection
        self._selection = lambda: []
        self.persist = True               # save the workspace and geometry on close (off for --screenshot)

        bar = self.menuBar()
        self.menus = {name: bar.addMenu(title) for name, title in
                      (("file", "&File"), ("view", "&View"), ("tools", "&Tools"), ("help", "&Help"))}
        self.qt_actions = QtActions(self, self.actions, self.context, self.menus)
        self._make_centre()
        self._make_toolbar()
        self._make_status_bar()
        for name, feature in FEATURES:
            extra = {"picker": self.picker, "offer_bar": self.offer_bar} if name == "plotting" else {}
            self.features[name] = feature.install(self, **extra)
        self.qt_actions.fill_all()
        for action in self.qt_actions.toolbar_actions():
            self.toolbar.insertAction(self._toolbar_first, action)
        self.toolbar.insertSeparator(self._toolbar_first)
        for name in ("instances", "streams", "inspector"):
            if name in self.docks:
                self.docks[name].raise_()
        self._set_tab_order()
        follow(self, self.state, "manager", self._connection_changed)
        self.runner.jobFinished.connect(self._job_finished)
        self.resize(1400, 900)
        self.setDockNestingEnabled(True)
        # the plots get the most room: the tree and the inspector read well at these widths (issue 26 item 18)
        self.resizeDocks([self.docks["streams"], self.docks["inspector"]], [400, 300], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["instances"]], [260], Qt.Orientation.Vertical)
        if restore:   # the window's geometry on this screen; the last session's range, zone and docks
            hs_settings.restore_geometry(self)
            self.features["workspace"].restore_last_view()

    # -- layout -----------------------------------------------------------------------
    def _make_centre(self):
        centre = QWidget(self)
        lay = QVBoxLayout(centre)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.error_bar = ErrorBar(centre)
        lay.addWidget(self.error_bar)
        self.offer_bar = OfferBar(centre)
        lay.addWidget(self.offer_bar)
        self.plots = self.plot_area = PlotArea(self.runner, self.resolve_stream, centre)
        lay.addWidget(self.plot_area, 1)
        self.setCentralWidget(centre)

    def _make_toolbar(self):
        bar = self.toolbar = QToolBar("Time range", self)
        bar.setObjectName("TimeRangeToolBar")
        self.picker = TimeRangePicker(bar)
        self._toolbar_first = bar.addWidget(self.picker)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

    def _make_status_bar(self):
        sb = self.statusBar()
        self.connection_label = QLabel("Not connected", self)
        self.job_status = JobStatusWidget(self.runner, self)
        sb.addPermanentWidget(self.job_status)
        sb.addPermanentWidget(self.connection_label)
        log_status_messages(sb)     # what the status bar said stays in the Log dock

    def _set_tab_order(self):
        """Tab: Streams filter → tree → time range (start, end, zone) → plots → inspector → instances table →
        back to the filter. Each table hands focus on instead of walking its cells."""
        browse = self.features["browse"]
        browse.instances.view.setTabKeyNavigation(False)
        chain = [browse.tree.filter_edit, browse.tree.view, self.picker.start_edit, self.picker.end_edit,
                 self.picker.zone_combo, self.plot_area.panes[0].plot_widget if self.plot_area.panes else None,
                 browse.inspector, browse.instances.view]
        chain = [w for w in chain if w is not None]
        for a, b in zip(chain, chain[1:]):
            QWidget.setTabOrder(a, b)

    # -- the Shell protocol -------------------------------------------------------------
    def add_dock(self, name: str, title: str, widget: QWidget, area: str = "left", tabify_with: str | None = None,
                 scroll: bool = False) -> QDockWidget:
        """Add a dock (its object name is stable so a workspace restores its place; View lists it).

        ``scroll``: the widget scrolls inside the dock instead of setting the dock area's minimum (tabbed
        docks share the largest minimum, and a tall one would keep the plots from getting the room)."""
        if name in self.docks:
            raise ValueError(f"a dock named {name!r} exists already")
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        if scroll:
            area_widget = QScrollArea(dock)
            area_widget.setWidgetResizable(True)
            area_widget.setFrameShape(QFrame.Shape.NoFrame)
            area_widget.setWidget(widget)
            dock.setWidget(area_widget)
        else:
            dock.setWidget(widget)
        self.addDockWidget(AREAS[area], dock)
        if tabify_with and tabify_with in self.docks:
            self.tabifyDockWidget(self.docks[tabify_with], dock)
        self.docks[name] = dock
        return dock

    def show_dock(self, name: str) -> None:
        self.docks[name].show()
        self.docks[name].raise_()

    def show_dialog(self, dlg):
        """Show a non-modal dialog bound to the current connection (closed when the connection changes)."""
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialogs = [d for d in self._dialogs if shiboken6.isValid(d)] + [dlg]
        dlg.show()
        return dlg

    def show_error(self, text: str) -> None:
        text = redact_text(readable_times(text, self.state.time_zone))   # the times as the editors show them
        self.error_bar.show_message(text)
        self.statusBar().showMessage(text, 10000)
        self.errorShown.emit(text)

    def show_status(self, text: str, ms: int = 8000) -> None:
        self.statusBar().showMessage(text, ms)

    def offer(self, text: str, action, button: str) -> None:
        self.offer_bar.offer(text, action, button=button)

    def resolve_stream(self, channel_id, stream_id):
        """``(channel id, StreamId)`` -> Stream of the current connection (for drops, plots, tool inputs)."""
        if self.state.manager is None:
            raise LookupError("not connected")
        return self.state.manager.get_channel(channel_id)[stream_id]

    def on_close(self, callback) -> None:
        self.sigClosing.connect(callback)

    def context(self) -> Context:
        """What an action run from a key or the menu bar applies to: the Streams dock's selection."""
        return Context(streams=list(self._selection()))

    def set_selection_source(self, source) -> None:
        self._selection = source

    def context_menu(self, scope: str, ctx: Context, parent: QWidget):
        return self.qt_actions.context_menu(scope, ctx, parent)

    # -- the connection, as the window frames it ------------------------------------------
    @property
    def manager(self):
        return self.state.manager

    @property
    def target(self) -> str | None:
        return self.state.target

    def _connection_changed(self, manager) -> None:
        for dlg in self._dialogs:  # they hold streams and channels of the previous connection
            if shiboken6.isValid(dlg):
                dlg.close()
        self._dialogs = []
        if manager is not None:
            self.error_bar.hide()                  # a failed earlier connect is no longer the state shown
        text = self.connection_text()
        self.connection_label.setText(text)
        # the application name last: Qt appends the display name to a title that does not end with it
        self.setWindowTitle(f"{text} — HyperStream Studio" if manager is not None else "HyperStream Studio")

    def connection_text(self) -> str:
        m = self.state.manager
        if m is None:
            return "Not connected"
        desc = getattr(m.store, "description", "") if m.store is not None else ""
        return redact_text(desc) or (hs_settings.redact_target(self.target) if self.target else "memory only")

    # the connection feature's commands, for the command line and scripts
    def open_target(self, target: str | None, create: bool = False, demo: bool = False):
        return self.features["connection"].open_target(target, create=create, demo=demo)

    def set_manager(self, manager, target: str | None = None) -> None:
        self.features["connection"].set_manager(manager, target)

    def open_recent(self, shown: str):
        return self.features["connection"].open_recent(shown)

    def plot_streams(self, streams, new_pane: bool = False):
        return self.actions.trigger("plot.new_pane_with" if new_pane else "plot.plot", Context(list(streams)))

    def __getattr__(self, name):
        """The features' views by name (``window.tree``, ``window.workflows`` …), for scripts and tests."""
        features = self.__dict__.get("features") or {}
        for feature in features.values():
            views = getattr(feature, "views", {})
            if name in views:
                return views[name]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def _job_finished(self, job):
        """A failed job says why in the error bar — unless the view that asked shows it in place."""
        if job.state == JobState.FAILED and not job.kind.quiet:
            self.show_error(f"{job.title} failed: {job.error}")

    # -- idle / shutdown -------------------------------------------------------------------------
    def busy(self) -> bool:
        if self.runner.active:
            return True
        return any(f.busy() for f in self.features.values() if hasattr(f, "busy")) or self.plot_area.busy

    def closeEvent(self, event):
        if self.persist:
            self.features["workspace"].save_last()
            hs_settings.save_geometry(self)
        self.sigClosing.emit()
        self.runner.shutdown()
        if self.state.manager is not None:
            try:
                self.state.manager.close()
            except Exception:  # noqa: BLE001
                log.exception("closing the connection failed")
        super().closeEvent(event)
