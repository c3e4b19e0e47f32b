"""The Workflows dock: pick a workflow, see it as a graph coloured by what is computed over the current
range (all / part / none / stale, with the intervals in each node's tooltip), click a node to select and
plot its streams, click a factor for its tool, parameters and runs, and run the workflow over the range
in the background (progress per factor and plate value in the Jobs dock; colours follow as it runs)."""
from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSplitter, QTextBrowser, QVBoxLayout,
                               QWidget)

from channels.time_interval import TimeInterval
from channels.utils import UTC, utcnow

from hsgui.common.timefmt import format_interval, format_intervals

from .graph_layout import layout_workflow
from .graph_view import STATE_COLOURS, STATE_TEXT, WorkflowGraphView
from .status import workflow_status

RECOLOUR_MS = 700   # while a run is going, colours are re-read this often


def load_model_job(ctx, manager):
    from channels.workflows import load_model
    return load_model(manager.store) if manager.store is not None else None


def run_workflow_job(ctx, manager, model, workflow, interval):
    from channels.workflows import run_workflow
    return run_workflow(manager, model, workflow, interval, progress=ctx.report, cancel=ctx.cancel_event)


def factor_runs_job(ctx, manager, factor, sinks):
    """Recorded runs of ``factor``'s tool that wrote one of ``sinks`` (StreamIds), newest first."""
    wanted = {str(s) for s in sinks}
    return [r for r in manager.run_history.list() if r.tool == factor.tool.name and r.output_stream in wanted]


class WorkflowsDock(QWidget):
    sigStreamsActivated = Signal(list)   # [(channel_id, StreamId)] of a clicked node
    sigModelLoaded = Signal(object)      # WorkflowModel | None, for the meta-data dock
    sigStatus = Signal(str)

    def __init__(self, runner, parent=None):
        super().__init__(parent)
        self.runner = runner
        self.manager = None
        self.model = None
        self.interval: TimeInterval | None = None
        self.tz = UTC
        self.states: dict = {}
        self._status_job = None
        self._run_job = None
        self.combo = QComboBox()
        self.combo.setMinimumWidth(200)
        self.combo.currentIndexChanged.connect(self._workflow_chosen)
        self.run_button = QPushButton("Run over range")
        self.run_button.setToolTip("compute what the workflow's streams are missing in the current time range")
        self.run_button.clicked.connect(self.run_current)
        self.fit_button = QPushButton("Fit")
        self.fit_button.clicked.connect(lambda: self.view.fit())
        self.summary = QLabel("")
        top = QHBoxLayout()
        top.addWidget(QLabel("Workflow"))
        top.addWidget(self.combo, 1)
        top.addWidget(self.run_button)
        top.addWidget(self.fit_button)
        legend = QHBoxLayout()
        for state, colour in STATE_COLOURS.items():
            swatch = QLabel()
            swatch.setFixedSize(14, 12)
            swatch.setStyleSheet(f"background: {colour}; border: 1px solid #616161;")
            legend.addWidget(swatch)
            legend.addWidget(QLabel(STATE_TEXT[state] + "   "))
        legend.addStretch(1)
        legend.addWidget(self.summary)
        self.view = WorkflowGraphView(self)
        self.view.vertexClicked.connect(self._vertex_clicked)
        self.view.vertexActivated.connect(self._vertex_activated)
        self.details = QTextBrowser()
        self.details.setOpenLinks(False)
        self.details.setMinimumWidth(220)
        self.details.setMaximumWidth(420)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(top)
        lay.addLayout(legend)
        lay.addWidget(split, 1)
        self._recolour = QTimer(self, interval=RECOLOUR_MS)
        self._recolour.timeout.connect(self.refresh_states)
        self._update_buttons()

    # -- inputs from the shell ------------------------------------------------------------------------------
    def set_manager(self, manager) -> None:
        self.manager, self.model = manager, None
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.blockSignals(False)
        self.view.set_layout(None)
        self.details.clear()
        self.sigModelLoaded.emit(None)
        self._update_buttons()
        if manager is None:
            return
        self.runner.submit("Read workflows, plates and meta-data", load_model_job, manager, kind="read",
                           owner=self, on_result=lambda model, m=manager: self._model_loaded(m, model))

    def reload(self) -> None:
        self.set_manager(self.manager)

    def set_interval(self, interval: TimeInterval) -> None:
        self.interval = interval
        self.refresh_states()

    def set_time_zone(self, tz) -> None:
        self.tz = tz
        self.refresh_states()

    # -- model, graph, colours --------------------------------------------------------------------------------
    def _model_loaded(self, manager, model) -> None:
        if manager is not self.manager:
            return
        self.model = model
        self.combo.blockSignals(True)
        self.combo.clear()
        for wid, wf in (model.workflows.items() if model else ()):
            self.combo.addItem(f"{wf.name}  ({wid})" if wf.name != wid else wid, wid)
        self.combo.blockSignals(False)
        if model and model.errors:
            self.sigStatus.emit(f"{len(model.errors)} problem(s) reading workflows: {model.errors[0][1]}")
        self.sigModelLoaded.emit(model)
        self._workflow_chosen()

    def workflow(self):
        wid = self.combo.currentData()
        return self.model.workflows.get(wid) if self.model and wid else None

    def select_workflow(self, workflow_id: str) -> bool:
        i = self.combo.findData(workflow_id)
        if i >= 0:
            self.combo.setCurrentIndex(i)
        return i >= 0

    def _workflow_chosen(self, *_):
        wf = self.workflow()
        self.view.set_layout(layout_workflow(wf) if wf else None)
        self.view.fit()
        self.states = {}
        self.details.setHtml(self._workflow_html(wf) if wf else
                             "<i>No workflows in this store.</i>" if self.model is not None else "")
        self._update_buttons()
        self.refresh_states()

    def refresh_states(self) -> None:
        wf = self.workflow()
        if wf is None or self.manager is None or self.interval is None:
            return
        if self._status_job is not None and not self._status_job.is_finished:
            return  # one at a time; the timer or the next change asks again
        end = min(self.interval.end, utcnow())
        if end <= self.interval.start:
            return
        iv = TimeInterval(self.interval.start, end)
        tz = self.tz
        self._status_job = self.runner.submit(
            f"Status of workflow {wf.workflow_id}", workflow_status, self.manager, self.model, wf, iv,
            lambda ivs: format_intervals(ivs, tz), kind="read", owner=self,
            on_result=lambda states, w=wf: self._states_ready(w, states))

    def _states_ready(self, wf, states) -> None:
        if wf is not self.workflow():
            return
        self.states = states
        self.view.set_states(states)
        counts = {}
        for st in states.values():
            counts[st.state] = counts.get(st.state, 0) + 1
        self.summary.setText(", ".join(f"{n} {STATE_TEXT[s]}" for s, n in counts.items()))

    # -- clicks -------------------------------------------------------------------------------------------------
    def _vertex_clicked(self, key: str) -> None:
        wf = self.workflow()
        if wf is None:
            return
        kind, ident = key.split(":", 1)
        if kind == "node":
            node = wf.nodes[ident]
            st = self.states.get(ident)
            self.details.setHtml(self._node_html(node, st))
            if st is not None and st.streams:
                self.sigStreamsActivated.emit(list(st.streams))
        else:
            factor = wf.factors[int(ident)]
            self.details.setHtml(self._factor_html(factor, None))
            sinks = []
            for s in factor.sinks:
                try:
                    sinks += list(self.model.node_streams(wf.nodes[s]).values())
                except Exception:  # noqa: BLE001 - a node on an unknown plate: no runs to show
                    pass
            self.runner.submit(f"Runs of {factor.tool.name}", factor_runs_job, self.manager, factor, sinks,
                               kind="read", owner=self,
                               on_result=lambda runs, f=factor: self.details.setHtml(self._factor_html(f, runs)))

    def _vertex_activated(self, key: str) -> None:
        self._vertex_clicked(key)

    # -- running ------------------------------------------------------------------------------------------------
    def run_current(self) -> None:
        wf = self.workflow()
        if wf is None or self.manager is None or self.interval is None:
            return
        end = min(self.interval.end, utcnow())
        if end <= self.interval.start:
            self.sigStatus.emit("the time range lies in the future: nothing to compute")
            return
        iv = TimeInterval(self.interval.start, end)
        self.sigStatus.emit(f"running workflow {wf.workflow_id} over {format_interval(iv, self.tz)}")
        self._run_job = self.runner.submit(
            f"Run workflow {wf.workflow_id}", run_workflow_job, self.manager, self.model, wf, iv, kind="tool",
            owner=self, on_result=self._run_done, on_error=lambda msg: self.sigStatus.emit(f"workflow failed: {msg}"),
            on_finished=self._run_finished)
        self._recolour.start()
        self._update_buttons()

    def _run_done(self, result) -> None:
        self.sigStatus.emit(f"workflow {result.workflow_id}: {len(result.records)} tool runs, "
                            f"{result.instances_written:,} instances written")

    def _run_finished(self) -> None:
        self._recolour.stop()
        self._run_job = None
        self._update_buttons()
        self.refresh_states()

    def _update_buttons(self) -> None:
        running = self._run_job is not None
        self.run_button.setEnabled(self.workflow() is not None and not running)
        self.run_button.setText("Running…" if running else "Run over range")

    # -- details ------------------------------------------------------------------------------------------------
    def _workflow_html(self, wf) -> str:
        return (f"<b>{html.escape(wf.name)}</b> <small>({html.escape(wf.workflow_id)})</small><br>"
                f"{html.escape(wf.description)}<br><small>owner {html.escape(str(wf.owner or '-'))}; "
                f"{len(wf.nodes)} nodes, {len(wf.factors)} factors</small><p><i>Click a node to plot its streams, "
                f"a factor for its tool and runs.</i></p>")

    def _node_html(self, node, st) -> str:
        plates = ", ".join(node.plate_ids) or "none"
        head = (f"<b>{html.escape(node.stream_name)}</b><br>channel {html.escape(node.channel_id)}; plates "
                f"{html.escape(plates)}")
        if st is None:
            return head
        return head + f"<br>{STATE_TEXT[st.state]}<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in st.lines) \
            + "</ul>"

    def _factor_html(self, factor, runs) -> str:
        t = factor.tool
        params = "".join(f"<li><code>{html.escape(k)}</code> = {html.escape(repr(v))}</li>"
                         for k, v in t.parameters.items())
        code = "".join(f"<li><code>{html.escape(k)}</code>: Python code stored in the database (not run)</li>"
                       for k in t.code_parameters)
        text = (f"<b>{html.escape(t.name)}</b> <small>v{html.escape(t.version or '?')}, {factor.factor_type}</small>"
                f"<br>sources: {html.escape(', '.join(factor.sources) or 'none')}; sink: "
                f"{html.escape(', '.join(factor.sinks) or 'none')}"
                + (f"; alignment: {html.escape(factor.alignment_node)}" if factor.alignment_node else "")
                + f"<ul>{params}{code}</ul>")
        if runs is None:
            return text + "<i>reading its runs…</i>"
        if not runs:
            return text + "<i>no recorded runs</i>"
        rows = "".join(f"<li>{html.escape(format_interval(r.interval, self.tz) if r.interval else '?')}: "
                       f"{r.outcome}, {r.instances_written:,} instances → {html.escape(r.output_stream or '')}</li>"
                       for r in runs[:12])
        return text + f"<b>{len(runs)} runs</b><ul>{rows}</ul>"


__all__ = ["WorkflowsDock"]
