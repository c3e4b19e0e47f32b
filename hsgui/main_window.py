"""The main window: docks around the plot area, one job runner, one connection at a time.

Layout: stream tree (left), inspector (right), instances / jobs / log (bottom,
tabbed), plot area (centre), time-range picker (toolbar). Each dock is made by
one ``_make_*_dock`` method and registered with :meth:`add_dock`, so later
docks (tools, assets) are one method each; context-menu entries for streams
go to ``self.tree.context_menu_hooks``.

The time-range picker and plot area come from ``hsgui.plotting.time_range`` and
``hsgui.plotting.plot_area`` (integration is in :meth:`_make_centre` and
:meth:`_make_time_range`).
"""
from __future__ import annotations

import logging
from datetime import timedelta

import shiboken6

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFrame, QHBoxLayout, QLabel, QMainWindow, QMenu,
                               QMessageBox, QPushButton, QScrollArea, QToolBar, QVBoxLayout, QWidget)

from channels.time_interval import TimeInterval
from channels.utils import MAX_DATE, MIN_DATE, redact_text, utcnow

from . import settings as hs_settings
from hsgui.annotations.install import install_annotation_docks
from hsgui.console.install import install_console_dock
from hsgui.importing.install import install_import_actions
from hsgui.workspace.snippet import add_copy_as_python
from hsgui.plotting.commands import OfferBar, WindowActions
from hsgui.workflows.install import install_workflow_docks
from hsgui.workspace.controller import WorkspaceController
from hsgui.common.connection import (close_manager, data_span, open_connection, open_ended_span, refresh_manager,
                                     retry_target, stream_span)
from hsgui.browse.inspector import InspectorDock
from hsgui.browse.instances_table import InstancesTable
from hsgui.common.background import JobRunner, JobState, guarded
from hsgui.jobs.jobs_dock import JobsDock, JobStatusWidget
from hsgui.jobs.log_dock import LogDock
from hsgui.common.timefmt import readable_times, zone_name
from hsgui.plotting.plot_area import PlotArea
from hsgui.browse.stream_tree import StreamTreeWidget
from hsgui.plotting.time_range import TimeRangePicker
from hsgui.assets.editor import AssetEditor
from hsgui.assets.dialogs import AssetEditorDialog, CreateAssetDialog
from hsgui.compute.purge_dialog import PurgeDialog
from hsgui.compute.run_history import RunHistoryWidget
from hsgui.compute.compute_missing import make_compute_menu_hook
from hsgui.compute.compute_missing_dialog import start_compute_missing
from hsgui.compute.run_tool_dialog import RunToolDialog
from hsgui.compute.tools_dock import ToolsDock

log = logging.getLogger(__name__)

AUTO_REFRESH_MS = 30_000
#: job kinds that may change stored data: when one ends (done, failed or cancelled alike — a cancelled run
#: keeps what it finished) every view that shows data re-reads it, whichever widget started the job
WRITE_KINDS = {"tool", "purge", "write"}
#: job kinds whose failures are not put in the error bar: the widget that asked shows them in place
QUIET_KINDS = {"read", "count", "close"}


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


class MainWindow(WindowActions, QMainWindow):
    """HyperStream Studio's main window."""

    managerChanged = Signal(object)   # ChannelManager or None
    errorShown = Signal(str)
    sigClosing = Signal()             # the window is closing (features stop what they started)

    def __init__(self, runner: JobRunner | None = None, parent=None, restore: bool = True):
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setWindowTitle("HyperStream Studio")
        self.runner = runner or JobRunner(self)
        self.manager = None
        self.target: str | None = None
        self._open_job = None
        self._refresh_job = None
        self._syncing_range = False
        self.docks: dict[str, QDockWidget] = {}
        self._dialogs: list = []          # open non-modal dialogs of the current connection
        self._span_job = None
        self.menus: dict[str, QMenu] = {}
        self.persist = True                        # save layout and range on close (off for --screenshot)

        self._make_menus()
        self._make_time_range()
        self._make_centre()
        self._make_tree_dock()
        self._make_inspector_dock()
        self._make_instances_dock()
        self._make_jobs_dock()
        self._make_log_dock()
        self.tabifyDockWidget(self.docks["instances"], self.docks["jobs"])
        self.tabifyDockWidget(self.docks["jobs"], self.docks["log"])
        self._make_tools_docks()
        self._make_asset_dock()
        install_workflow_docks(self)
        install_import_actions(self)
        install_annotation_docks(self)
        install_console_dock(self)
        self.docks["instances"].raise_()
        self.docks["streams"].raise_()
        self.docks["inspector"].raise_()
        self._make_status_bar()
        self._make_help()
        self._set_tab_order()
        self.workspaces = WorkspaceController(self)
        add_copy_as_python(self)
        self.runner.jobFinished.connect(self._job_finished)
        self.resize(1400, 900)
        self.setDockNestingEnabled(True)
        self.resizeDocks([self.docks["streams"], self.docks["inspector"]], [540, 340], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["instances"]], [260], Qt.Orientation.Vertical)
        if restore:
            hs_settings.restore_window(self)
            iv = hs_settings.load_time_range()
            if iv is not None:
                self.picker.set_interval(iv)
                self.picker.last_preset = hs_settings.load_last_preset()
            zone = hs_settings.load_time_zone()
            if zone:
                try:
                    self.picker.set_time_zone(zone)  # emits: every view follows
                except Exception:  # noqa: BLE001 - an unknown zone in old settings: stay in UTC
                    log.warning("saved time zone %r is unknown; using UTC", zone)
        self._range_changed(self.picker.interval(), from_picker=True)
        self._auto_refresh = QTimer(self)
        self._auto_refresh.setInterval(AUTO_REFRESH_MS)
        self._auto_refresh.timeout.connect(lambda: self.refresh(auto=True))
        self._auto_refresh.start()

    # -- construction -----------------------------------------------------------------
    def _make_menus(self):
        bar = self.menuBar()
        m = self.menus["file"] = bar.addMenu("&File")
        self.connect_action = m.addAction("&Connect…", self.show_connect_dialog)
        self.connect_action.setShortcut(QKeySequence.StandardKey.Open)
        self.recent_menu = m.addMenu("Recent connections")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.refresh_action = m.addAction("&Refresh", self.refresh)
        self.refresh_action.setShortcut(QKeySequence.StandardKey.Refresh)
        m.addSeparator()
        quit_action = self.quit_action = m.addAction("&Quit", self.close)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.menus["view"] = bar.addMenu("&View")
        self.menus["tools"] = bar.addMenu("&Tools")
        self.menus["help"] = bar.addMenu("&Help")   # filled by _make_help (window_actions)

    def _make_time_range(self):
        bar = QToolBar("Time range", self)
        bar.setObjectName("TimeRangeToolBar")
        bar.addAction(self.connect_action)
        bar.addAction(self.refresh_action)
        bar.addSeparator()
        self.picker = TimeRangePicker(bar)
        bar.addWidget(self.picker)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.picker.sigRangeChanged.connect(lambda iv: self._range_changed(iv, from_picker=True))
        self.picker.sigTimeZoneChanged.connect(self._time_zone_changed)
        # a refused entry (e.g. end before start) also shows in the status bar
        self.picker.sigError.connect(lambda text: self.statusBar().showMessage(text, 10000) if text
                                     else self.statusBar().clearMessage())
        self.menus["view"].addAction(bar.toggleViewAction())

    def _make_centre(self):
        centre = QWidget(self)
        lay = QVBoxLayout(centre)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.error_bar = ErrorBar(centre)
        lay.addWidget(self.error_bar)
        self.offer_bar = OfferBar(centre)
        lay.addWidget(self.offer_bar)
        self.plot_area = PlotArea(self.runner, self.resolve_stream, centre)
        self.plot_area.sigRangeChanged.connect(self._plot_range_changed)
        self.plot_area.sigStatus.connect(lambda text: self.statusBar().showMessage(text, 8000))
        lay.addWidget(self.plot_area, 1)
        self.setCentralWidget(centre)

    def add_dock(self, name: str, title: str, widget: QWidget, area=Qt.DockWidgetArea.LeftDockWidgetArea,
                 tabify_with: str | None = None, scroll: bool = False) -> QDockWidget:
        """Add a dock (its object name is stable so QSettings restores its place) and a View-menu toggle.

        ``scroll``: the widget scrolls inside the dock instead of setting the dock area's minimum (tabbed
        docks share the largest minimum, and a tall one would keep the plots from getting the room)."""
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
        self.addDockWidget(area, dock)
        if tabify_with and tabify_with in self.docks:
            self.tabifyDockWidget(self.docks[tabify_with], dock)
        self.docks[name] = dock
        self.menus["view"].addAction(dock.toggleViewAction())
        return dock

    def _make_tree_dock(self):
        self.tree = StreamTreeWidget(self.runner, self)
        self.tree.currentStreamChanged.connect(self._stream_selected)
        self.tree.plotRequested.connect(self.plot_streams)
        self.tree.context_menu_hooks.append(self._plot_menu)
        self.tree.instancesRequested.connect(self.show_instances)
        self.tree.purgeRequested.connect(self.open_purge_dialog)
        self.add_dock("streams", "Streams", self.tree, Qt.DockWidgetArea.LeftDockWidgetArea)

    def _make_inspector_dock(self):
        self.inspector = InspectorDock(self.runner, self)
        self.add_dock("inspector", "Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)

    def _make_instances_dock(self):
        self.instances = InstancesTable(self.runner, self)
        self.add_dock("instances", "Instances", self.instances, Qt.DockWidgetArea.BottomDockWidgetArea)

    def _make_jobs_dock(self):
        self.jobs = JobsDock(self.runner, self)
        self.add_dock("jobs", "Jobs", self.jobs, Qt.DockWidgetArea.BottomDockWidgetArea)

    def _make_log_dock(self):
        self.log_view = LogDock(self)
        self.add_dock("log", "Log", self.log_view, Qt.DockWidgetArea.BottomDockWidgetArea)

    def _make_tools_docks(self):
        """Tools dock (left, tabbed with the streams), run history (bottom), compute actions on streams."""
        self.tools_dock = ToolsDock(None, self)
        self.add_dock("tools", "Tools", self.tools_dock, Qt.DockWidgetArea.LeftDockWidgetArea, tabify_with="streams")
        self.tools_dock.sigRunTool.connect(lambda c, n, v: self.open_run_dialog(c, n, version=v or None))
        self.run_history = RunHistoryWidget(None, self.runner, parent=self)
        self.add_dock("runs", "Run history", self.run_history, Qt.DockWidgetArea.BottomDockWidgetArea,
                      tabify_with="log", scroll=True)
        self.run_history.sigRunAgain.connect(self.run_again)
        self.tree.context_menu_hooks.append(make_compute_menu_hook(
            lambda: self.manager,
            lambda c, n, streams: self.open_run_dialog(c, n, inputs=[(s.channel.channel_id, s.stream_id)
                                                                      for s in streams]),
            self.compute_missing_for))
        self.managerChanged.connect(self.tools_dock.set_manager)
        self.managerChanged.connect(self.run_history.set_manager)
        self.menus["tools"].addAction("Run history", lambda: (self.docks["runs"].show(), self.docks["runs"].raise_()))

    def _make_asset_dock(self):
        """Asset editor (right, tabbed with the inspector); raised when an asset stream is selected."""
        self.asset_editor = AssetEditor(self.runner, parent=self, tool_lookup=self._tool_class)
        # the editor wants width (field tree, raw JSON, buttons): it lives in the full-width bottom area
        self.add_dock("asset", "Asset", self.asset_editor, Qt.DockWidgetArea.BottomDockWidgetArea,
                      tabify_with="runs", scroll=True)
        self.asset_editor.sigFailed.connect(self.show_error)
        self.tree.channel_menu_hooks.append(self._asset_channel_menu)
        self.tree.context_menu_hooks.append(self._asset_stream_menu)
        self.menus["tools"].addAction("New asset…", lambda: self.create_asset())

    def _is_asset_channel(self, channel) -> bool:
        return self.manager is not None and channel in self.manager.asset_channels

    def _asset_channel_menu(self, menu, channel):
        if self._is_asset_channel(channel) and not channel.read_only:
            menu.addSeparator()
            menu.addAction("New asset stream…", lambda: self.create_asset(channel))

    def _asset_stream_menu(self, menu, streams):
        if len(streams) == 1 and self._is_asset_channel(streams[0].channel):
            menu.addSeparator()
            menu.addAction("Edit asset…", lambda s=streams[0]: self.edit_asset(s))

    def edit_asset(self, stream):
        """The asset editor in its own window (the Asset dock shows the same for the selected stream)."""
        dlg = AssetEditorDialog(self.runner, stream.channel, stream, self, tool_lookup=self._tool_class)
        dlg.editor.sigFailed.connect(self.show_error)
        return self._show_dialog(dlg)

    def _show_dialog(self, dlg):
        """Show a non-modal dialog bound to the current connection (closed when the connection changes)."""
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialogs = [d for d in self._dialogs if shiboken6.isValid(d)] + [dlg]
        dlg.show()
        return dlg

    def create_asset(self, channel=None):
        if self.manager is None:
            return self.show_error("not connected")
        channel = channel or next((c for c in self.manager.asset_channels if not c.read_only), None)
        if channel is None:
            return self.show_error("this connection has no writable assets channel")
        dlg = CreateAssetDialog(self.runner, channel, self, tool_lookup=self._tool_class)
        dlg.sigCreated.connect(guarded(self, lambda stream: QTimer.singleShot(
            0, lambda: self.tree.select_stream(channel.channel_id, stream.stream_id))))
        return self._show_dialog(dlg)

    def _tool_class(self, name):
        channel, tv = self.manager.find_tool(name)
        return channel.get_tool_class(name, tv.version)

    # -- tools ----------------------------------------------------------------------------
    def open_run_dialog(self, channel_id, tool_name, version=None, inputs=()):
        dlg = RunToolDialog(self.manager, self.runner, self.resolve_stream, channel_id, tool_name, version,
                            self.picker.interval(), self.picker.time_zone(), inputs, self)
        return self._show_dialog(dlg)  # non-modal, so streams can be dragged in from the tree

    def run_again(self, record):
        try:
            channel, _tv = self.manager.find_tool(record.tool, record.tool_version)
        except Exception as e:  # noqa: BLE001 - a tool removed since the run
            return self.show_error(str(e))
        dlg = self.open_run_dialog(channel.channel_id, record.tool, record.tool_version)
        dlg.set_from_run(record)
        return dlg

    def compute_missing_for(self, stream):
        """"Compute missing…": find the run that made ``stream`` (a job), offer the visible range or the
        whole calculated span with the gaps each would fill, run the chosen one."""
        return start_compute_missing(self, stream)

    def open_purge_dialog(self, streams):
        dlg = PurgeDialog(self.runner, streams, self.picker.interval(), self, tz=self.picker.time_zone())
        return self._show_dialog(dlg)

    def _make_status_bar(self):
        sb = self.statusBar()
        self.connection_label = QLabel("Not connected", self)
        self.job_status = JobStatusWidget(self.runner, self)
        sb.addPermanentWidget(self.job_status)
        sb.addPermanentWidget(self.connection_label)

    # -- connection -------------------------------------------------------------------
    def open_target(self, target: str | None, create: bool = False, demo: bool = False):
        """Open ``target`` in a job; the tree is rebuilt when it succeeds. Returns the job."""
        if self._open_job is not None:
            self._open_job.cancel()
        shown = hs_settings.remember_target(target) if target else "(no store)"   # the real URI: memory only
        self.connection_label.setText(f"Connecting to {shown}…")
        box = {}  # callbacks run later, on the GUI thread, after box["job"] is set
        self._open_job = box["job"] = self.runner.submit(
            f"Open {shown}" + (" (creating the demo store)" if demo else ""), open_connection, target,
            create=create, demo=demo, kind="connect",
            on_result=lambda manager: self._opened(box["job"], target, manager) if shiboken6.isValid(self)
            else manager.close(),
            on_error=guarded(self, lambda msg: self._open_failed(box["job"], target, msg)),
            on_cancel=guarded(self, lambda: self._open_failed(box["job"], target, None)))
        return box["job"]

    def _opened(self, job, target, manager):
        if job is not self._open_job:
            manager.close()
            return
        self._open_job = None
        self.set_manager(manager, target)

    def _open_failed(self, job, target, msg):
        if job is not self._open_job:
            return
        self._open_job = None
        self.connection_label.setText(self._connection_text())  # the error bar and the log already have msg
        retry = retry_target(target, msg)
        if retry is not None:   # a timeout expired: offer longer ones (written into the URI)
            self.offer_bar.offer(f"{hs_settings.redact_target(target)} did not answer in time.",
                                 lambda: self.open_target(retry), button="Retry with longer timeouts")

    def _connection_text(self) -> str:
        if self.manager is None:
            return "Not connected"
        desc = getattr(self.manager.store, "description", "") if self.manager.store is not None else ""
        return redact_text(desc) or (hs_settings.redact_target(self.target) if self.target else "memory only")

    def set_manager(self, manager, target: str | None = None) -> None:
        """Show ``manager``'s channels (closing the previous connection in the background)."""
        old = self.manager
        self.manager = manager
        self.target = target
        if old is not None and old is not manager:
            for job in self.runner.active:
                if job.kind in ("read", "count"):
                    job.cancel()
            active = [j for j in self.runner.active if j.kind in ("read", "count")]
            self.runner.submit("Close previous connection", close_manager, old, active, kind="close")
        for dlg in self._dialogs:  # they hold streams and channels of the old connection
            if shiboken6.isValid(dlg):
                dlg.close()
        self._dialogs = []
        self.inspector.set_stream(None)
        self.instances.set_stream(None)
        self.asset_editor.set_stream(None, None)   # it must not keep editing (and fail to save) the old store's asset
        self.plot_area.clear()
        self.offer_bar.hide()
        if manager is not None:
            self.error_bar.hide()                  # a failed earlier connect is no longer the state shown
        self.tree.set_manager(manager)
        if target:
            hs_settings.add_recent_connection(target)
        self.connection_label.setText(self._connection_text())
        # the application name last: Qt appends the display name to a title that does not end with it
        self.setWindowTitle(f"{self._connection_text()} — HyperStream Studio")
        if manager is not None:
            for where, why in manager.load_errors[:20]:
                log.warning("not loaded: %s: %s", where, why)
            span = data_span(manager)
            self.picker.set_data_span(span)
            if hs_settings.load_time_range() is None and span is not None:
                self._show_default_range(span)
            elif span is None:
                # only assets (calculated "all up to" a time): find where their versions are, in a job
                self.runner.submit("Span of the asset streams", open_ended_span, manager, kind="read",
                                   on_result=guarded(self, lambda sp, m=manager: self._open_ended_span(m, sp)))
        self.managerChanged.emit(manager)

    def _show_default_range(self, span):
        end = span.end
        start = max(span.start, end - timedelta(days=7))
        self.picker.set_interval(TimeInterval(start, end), emit=True)

    def _open_ended_span(self, manager, span):
        if manager is not self.manager or span is None or data_span(manager) is not None:
            return
        self.picker.set_data_span(span)
        if hs_settings.load_time_range() is None:
            self._show_default_range(span)

    def resolve_stream(self, channel_id, stream_id):
        """``(channel id, StreamId)`` -> Stream of the current connection (for drops, plots, tool inputs)."""
        if self.manager is None:
            raise LookupError("not connected")
        return self.manager.get_channel(channel_id)[stream_id]

    def show_connect_dialog(self, current: str | None = None, message: str = ""):
        from hsgui.connection.dialog import ConnectDialog
        dlg = ConnectDialog(self.runner, current or self.target, self)
        if message:
            dlg.error_label.setText(message)
        if dlg.exec():
            import os
            t = dlg.target()
            create = dlg.tabs.currentIndex() == 0 and not os.path.exists(t)
            return self.open_target(t, create=create)
        return None

    def _fill_recent(self):
        self.recent_menu.clear()
        for t in hs_settings.recent_connections():   # saved redacted: the menu shows no password
            self.recent_menu.addAction(t, lambda t=t: self.open_recent(t))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none)").setEnabled(False)

    def open_recent(self, shown: str):
        """Reconnect to a recent connection: its real URI if this session opened it (kept in memory only),
        else the Connect dialog asks for the password that was not saved."""
        real = hs_settings.session_target(shown)
        if real is not None:
            return self.open_target(real)
        if hs_settings.needs_password(shown):
            return self.show_connect_dialog(shown, "The password is not saved: type it in place of *** in the URI.")
        return self.open_target(shown)

    # -- refresh (other processes may change the store) ------------------------------------
    def refresh(self, auto: bool = False):
        """Re-read stream definitions in a job; rebuild the tree if streams came or went."""
        if self.manager is None or self._refresh_job is not None:
            return None
        manager = self.manager
        before = self.tree.model.stream_keys()
        def done(_result):
            self._refresh_job = None
            if manager is not self.manager:
                return
            after = self.tree.model.stream_keys()
            self._check_shown_stream()
            if after != before or not auto:
                self.tree.model.reload()
            else:
                self.tree.view.viewport().update()
            if not auto:
                self.inspector.refresh()
                if self.instances.model.stream is not None:
                    self.instances.model.reload()

        job = self.runner.submit("Refresh stream definitions", refresh_manager, manager,
                                 kind="count" if auto else "refresh", on_result=guarded(self, done),
                                 on_error=guarded(self, lambda _m: setattr(self, "_refresh_job", None)),
                                 on_cancel=guarded(self, lambda: setattr(self, "_refresh_job", None)))
        self._refresh_job = job
        return job

    def _check_shown_stream(self):
        s = self.inspector.stream
        if s is not None and s.stream_id not in s.channel.streams:
            self.inspector.stream_removed()
            if self.instances.model.stream is s:
                self.instances.set_stream(None)
                self.instances.status.setText(f"Stream {s.stream_id} was deleted.")

    # -- user actions ---------------------------------------------------------------------
    def _stream_selected(self, stream):
        if stream is None and self.inspector.removed:
            return  # keep the deleted stream's last view and its message until the user picks another
        self.inspector.set_stream(stream)
        if stream is not None:
            self.instances.set_stream(stream, self.picker.interval())
        else:
            self.instances.set_stream(None)
        self._show_selection_span(stream)
        if stream is not None and self._is_asset_channel(stream.channel) and self._may_leave_asset(stream):
            self.asset_editor.set_stream(stream.channel, stream)
            self.instances.set_stream(stream, TimeInterval.all_time())  # every version, not just the range's
            self.docks["asset"].raise_()
            self.resizeDocks([self.docks["asset"]], [max(self.docks["asset"].height(), 420)],
                             Qt.Orientation.Vertical)
        elif self.asset_editor.stream is not None and stream is not None:
            self.docks["instances"].raise_()

    def _may_leave_asset(self, stream) -> bool:
        """Whether the Asset dock may show ``stream``: asks before unsaved edits of another asset are dropped
        (the same asset selected again, e.g. after a tree rebuild, keeps its edits without asking)."""
        ed = self.asset_editor
        if ed.stream is None or not ed.has_unsaved_changes or (
                ed.channel.channel_id == stream.channel.channel_id and ed.stream.stream_id == stream.stream_id):
            return True
        answer = QMessageBox.question(
            self, "Unsaved changes", f"Discard the unsaved changes to the asset {ed.stream.stream_id}?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard

    def _show_selection_span(self, stream):
        """Feed the picker's "All" and "Calc" presets: the selected stream's data span and calculated span."""
        if self._span_job is not None:
            self._span_job.cancel()
            self._span_job = None
        if stream is None:
            self.picker.set_data_span(data_span(self.manager) if self.manager is not None else None)
            self.picker.set_calculated_span(None)
            return
        ci = stream.calculated_intervals
        self.picker.set_calculated_span(ci.span if ci and ci.start != MIN_DATE and ci.end != MAX_DATE else None)

        def done(span):
            self._span_job = None
            if self.inspector.stream is stream:
                self.picker.set_data_span(span)

        self._span_job = self.runner.submit(f"Span of {stream.stream_id}", stream_span, stream, kind="read",
                                            on_result=guarded(self, done))

    def show_instances(self, stream):
        self.instances.set_stream(stream, self.picker.interval())
        self.docks["instances"].show()
        self.docks["instances"].raise_()

    def streams_changed(self, streams):
        """Call after a job wrote or purged ``streams``: re-read what shows them."""
        if not self.tree.model.refresh_data():
            self.tree.view.viewport().update()
        if self.inspector.stream in streams:
            self.inspector.refresh()
            self._check_shown_stream()
        if self.instances.model.stream in streams:
            self.instances.model.reload()
        for s in streams:
            try:
                if s.stream_id in s.channel.streams:
                    self.plot_area.refresh_stream(s)
                else:  # purged with its definition: its curves go
                    self.plot_area.remove_stream(s)
            except Exception:  # noqa: BLE001 - a plot glitch must not stop the other views refreshing
                log.exception("plot refresh failed")

    def shown_streams(self) -> list:
        """Every stream some view shows now (inspector, instances table, plot curves)."""
        shown = [self.inspector.stream, self.instances.model.stream] + [c.stream for c in self.plot_area.curves()]
        out = []
        for s in shown:
            if s is not None and s not in out:
                out.append(s)
        return out

    # -- time range ----------------------------------------------------------------------------
    def _range_changed(self, iv, from_picker=False):
        if iv is None or self._syncing_range:
            return
        self._syncing_range = True
        try:
            if from_picker:
                self.plot_area.set_interval(iv)
            self.inspector.set_interval(iv)
            self.instances.set_interval(iv)
        finally:
            self._syncing_range = False

    def _plot_range_changed(self, iv):
        if self._syncing_range or iv is None:
            return
        if self.picker.is_live() and utcnow() - iv.end > timedelta(seconds=5):
            self.picker.set_live(False)  # the user zoomed or panned away from "now": stop following it
        self._syncing_range = True
        try:
            self.picker.set_interval(iv)
        finally:
            self._syncing_range = False
        self._range_changed(iv, from_picker=False)

    def _time_zone_changed(self, tz):
        self.plot_area.set_time_zone(tz)
        self.inspector.set_time_zone(tz)
        self.instances.set_time_zone(tz)
        self.tree.model.time_zone = tz
        self.tree.view.viewport().update()

    # -- errors -----------------------------------------------------------------------------------
    def show_error(self, text: str) -> None:
        text = redact_text(readable_times(text, self.picker.time_zone()))   # the times as the editors show them
        self.error_bar.show_message(text)
        self.statusBar().showMessage(text, 10000)
        self.errorShown.emit(text)

    def _job_finished(self, job):
        if job.state == JobState.FAILED and job.kind not in QUIET_KINDS:
            self.show_error(f"{job.title} failed: {job.error}")
        if job.kind in WRITE_KINDS and self.manager is not None:
            self.streams_changed(self.shown_streams())
            if job.kind == "tool":
                self.run_history.refresh()

    def _about(self):
        from . import __version__
        QMessageBox.about(self, "HyperStream Studio",
                          f"HyperStream Studio {__version__}\nBrowse, plot and compute HyperStream streams.")

    # -- idle / shutdown -------------------------------------------------------------------------
    def busy(self) -> bool:
        if self.runner.active or self.tree.model.counts_pending() or self.instances.model.pending():
            return True
        return self.plot_area.busy

    def closeEvent(self, event):
        if self.persist:
            self.workspaces.save_last()
            hs_settings.save_window(self)
            hs_settings.save_time_range(self.picker.interval(), self.picker.last_preset)
            hs_settings.save_time_zone(zone_name(self.picker.time_zone()))
        self._auto_refresh.stop()
        self.sigClosing.emit()
        self.runner.shutdown()
        if self.manager is not None:
            try:
                self.manager.close()
            except Exception:  # noqa: BLE001
                log.exception("closing the connection failed")
        self.log_view.detach()
        super().closeEvent(event)
