"""The main window's keyboard actions, plotting choices and Help menu (a mixin of ``MainWindow``).

Kept apart from :mod:`hsgui.main_window` (which builds the docks and owns the connection) so that
file stays readable: here is what a key press or a Help entry does.
"""
from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget

from hsgui import help as hs_help
from hsgui.compute.tools_dock import ROLE_KIND
from hsgui.plotting.plot_area import MANY_CURVES

#: with this many panes or more the bottom docks give the plots room, down to this height
MANY_PANES = 3
BOTTOM_WHEN_MANY_PANES = 150


class OfferBar(QFrame):
    """A one-line offer above the plots ("… differs from … — Move to a new pane"); never modal."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setStyleSheet("OfferBar { background: #e8f0fe; border: 1px solid #a8c0e8; }")
        self.label = QLabel("", self)
        self.label.setWordWrap(True)
        self.accept_button = QPushButton("Move to a new pane", self)
        self.keep_button = QPushButton("Keep", self)
        self.keep_button.setFlat(True)
        self.keep_button.clicked.connect(self.hide)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 2, 4, 2)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.accept_button)
        lay.addWidget(self.keep_button)
        self._action = None
        self.accept_button.clicked.connect(self._accept)
        self.hide()

    def offer(self, text: str, action, button: str = "Move to a new pane") -> None:
        self.label.setText(text)
        self.accept_button.setText(button)
        self._action = action
        self.show()

    def _accept(self):
        self.hide()
        if self._action is not None:
            action, self._action = self._action, None
            action()


class WindowActions:
    """Mixin: needs ``tree``, ``plot_area``, ``picker``, ``tools_dock``, ``runner``, ``menus``, ``docks``."""

    # -- set-up ------------------------------------------------------------------------------
    def _make_help(self):
        self.shortcut_actions = hs_help.install_shortcuts(self)
        m = self.menus["help"]
        m.addAction("Getting started", self.show_getting_started).setShortcut("F1")
        m.addAction("Keyboard shortcuts", self.show_shortcuts)
        m.addSeparator()
        m.addAction("About HyperStream Studio", self._about)
        view = self.menus["view"]
        view.addSeparator()
        for name in ("find", "new_pane", "maximise_pane", "fit", "back", "forward"):
            view.addAction(self.shortcut_actions[name])
        tools = self.menus["tools"]
        tools.addAction(self.shortcut_actions["run_tool"])
        tools.addAction(self.shortcut_actions["cancel_job"])
        self.shortcut_actions.pop("help").setEnabled(False)   # the menu entry carries F1

    def _set_tab_order(self):
        """Tab: Streams filter → tree → time range (start, end, zone) → plots → inspector → instances table →
        back to the filter. Each table hands focus on instead of walking its cells."""
        self.instances.view.setTabKeyNavigation(False)
        chain = [self.tree.filter_edit, self.tree.view, self.picker.start_edit, self.picker.end_edit,
                 self.picker.zone_combo, self.plot_area.panes[0].plot_widget if self.plot_area.panes else None,
                 self.inspector, self.instances.view]
        chain = [w for w in chain if w is not None]
        for a, b in zip(chain, chain[1:]):
            QWidget.setTabOrder(a, b)

    # -- actions -------------------------------------------------------------------------------
    def focus_filter(self):
        self.docks["streams"].show()
        self.docks["streams"].raise_()
        self.tree.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.tree.filter_edit.selectAll()

    def plot_selected(self):
        streams = self.tree.selected_streams()
        if streams:
            self.plot_streams(streams)
        else:
            self.statusBar().showMessage("Select a stream in the Streams dock first", 5000)

    def plot_selected_new_pane(self):
        streams = self.tree.selected_streams()
        if streams:
            self.plot_streams(streams, new_pane=True)

    def new_pane(self):
        pane = self.plot_area.add_pane()
        self._give_plots_room()
        return pane

    def toggle_maximise_pane(self):
        self.plot_area.toggle_maximise()

    def fit_to_data(self):
        self.plot_area.fit_to_data()

    def range_back(self):
        self.picker.back()

    def range_forward(self):
        self.picker.forward()

    def run_selected_tool(self):
        item = self.tools_dock.tree.currentItem()
        if item is not None and item.data(0, ROLE_KIND) in ("tool", "version"):
            self.tools_dock.run_selected()
            return
        self.docks["tools"].show()
        self.docks["tools"].raise_()
        self.tools_dock.tree.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.statusBar().showMessage("Choose a tool (Up/Down), then Ctrl+R or Enter to run it", 6000)

    def cancel_newest_job(self):
        jobs = [j for j in self.runner.active if j.kind not in ("count", "read", "close")]
        if not jobs:
            self.statusBar().showMessage("No job to cancel", 4000)
            return None
        job = jobs[-1]
        job.cancel()
        self.statusBar().showMessage(f"Cancelling {job.title}…", 6000)
        return job

    def show_getting_started(self):
        return hs_help.show_text(self, "Getting started", hs_help.GETTING_STARTED)

    def show_shortcuts(self):
        return hs_help.show_text(self, "Keyboard shortcuts", hs_help.shortcuts_html())

    # -- plotting --------------------------------------------------------------------------------
    def plot_streams(self, streams, new_pane: bool = False):
        """Plot ``streams`` in the selected pane (or a new one). When the pane already shows other
        streams, offer to move the new ones to a pane of their own (their units may differ)."""
        if len(streams) > MANY_CURVES and QMessageBox.question(
                self, "Plot many streams", f"Plot {len(streams)} streams?") != QMessageBox.StandardButton.Yes:
            return
        pane = self.new_pane() if new_pane else self.plot_area.current_pane
        if pane is None or pane not in self.plot_area.panes:
            pane = self.plot_area.panes[0] if self.plot_area.panes else self.new_pane()
        names = {c.stream.stream_id.name for c in pane.curves}
        for s in streams:
            self.plot_area.add_stream(s, pane=pane)
        new_names = sorted({s.stream_id.name for s in streams} - names)
        if names and new_names:
            shown = ", ".join(sorted(names))
            self.offer_bar.offer(
                f"{', '.join(new_names)} went into the pane with {shown} — on another scale it may flatten them.",
                lambda: self._move_to_new_pane(streams, pane))
        else:
            self.offer_bar.hide()

    def _move_to_new_pane(self, streams, pane):
        if not shiboken6.isValid(pane) or pane not in self.plot_area.panes:
            return
        for s in streams:
            for c in [c for c in pane.curves if c.stream is s]:
                pane.remove_curve(c)
        self.plot_streams(streams, new_pane=True)

    def _give_plots_room(self):
        """With three panes or more the bottom docks shrink, so each pane stays tall enough to read."""
        if len(self.plot_area.panes) < MANY_PANES:
            return
        bottom = [d for d in self.docks.values() if d.isVisible() and not d.isFloating()
                  and self.dockWidgetArea(d) == Qt.DockWidgetArea.BottomDockWidgetArea]
        if bottom and bottom[0].height() > BOTTOM_WHEN_MANY_PANES:
            self.resizeDocks(bottom[:1], [BOTTOM_WHEN_MANY_PANES], Qt.Orientation.Vertical)

    def _plot_menu(self, menu, streams):
        """"Plot in new pane": a stream on another scale does not flatten the curves already shown."""
        action = menu.addAction("Plot in new pane")
        action.triggered.connect(lambda: self.plot_streams(streams, new_pane=True))
        if len(streams) == 2:
            x, y = streams
            action = menu.addAction(f"XY pane: {y.stream_id.name} against {x.stream_id.name}")
            action.setToolTip("The second selected stream's values against the first's, paired on time")
            action.triggered.connect(lambda: self.plot_xy(x, y))

    def plot_xy(self, x_stream, y_stream):
        """A new XY pane of ``y_stream`` against ``x_stream`` over the visible range."""
        pane = self.plot_area.add_xy_pane(x_stream, y_stream)
        self._give_plots_room()
        return pane


__all__ = ["WindowActions", "OfferBar"]
