"""The Workflows dock: pick a workflow, see it as a graph coloured by what is computed over the current
range (all / part / none / stale, with the intervals in each node's tooltip), click a node to select and
plot its streams, click a factor for its tool, parameters and runs, and run the workflow over the range
in the background (progress per factor and plate value in the Jobs dock; colours follow as it runs).

Factors whose parameters HyperStream stored as Python code are marked on the graph (⚠, red border, the
reason in the tooltip) before anyone presses Run. Their details show what the code is — decompiled, or its
disassembly, version and content hash — without running it, and offer **Bind to a function…** (a registry
or plugin function, kept in the store's app records) and **Allow this code to run…** (consent for this
database and this content hash, kept on this computer; the code then runs in a worker process, never in
the window's). Run refuses a workflow with factors that cannot run, naming them, and offers to run the
others only."""
from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QInputDialog, QLabel, QLineEdit, QMessageBox,
                               QPushButton, QSpinBox, QSplitter, QTextBrowser, QVBoxLayout, QWidget)

from channels.time_interval import TimeInterval
from channels.utils import UTC, utcnow

from hsgui.common.background import JobKind
from hsgui.common.gc_policy import release
from hsgui.common.timefmt import format_interval, format_intervals

from .engine_defaults import ENGINE_DEFAULTS
from .graph_layout import layout_workflow
from .graph_view import STATE_COLOURS, STATE_TEXT, WorkflowGraphView
from .status import WorkflowStatusIndex, node_detail, workflow_status

RECOLOUR_MS = 700   # while a run is going, colours are re-read this often


def remote_store_problem(manager, scheduler) -> str | None:
    """Why a run on the Dask cluster at ``scheduler`` cannot use this store (an embedded file its workers cannot
    open), or None."""
    if not scheduler or manager is None:
        return None
    store = getattr(manager, "store", None)
    if store is None or type(store).__name__ != "SQLiteStore":
        return None
    from channels.workflows.engines import is_local_address
    if is_local_address(scheduler):
        return None   # a scheduler on this machine: the engine checks, when it runs, that its workers are too
    path = getattr(store, "path", None) or getattr(store, "description", "") or "the embedded store"
    return (f"The embedded store file {path} cannot be shared with the remote workers of the Dask scheduler "
            f"{scheduler}: they open the store themselves, so a cluster needs a MongoDB store. Clear the scheduler "
            f"address to run on this computer's worker processes, or connect to MongoDB.")


def engine_arguments(run_workflow, workers, scheduler) -> dict:
    """The engine keywords for ``run_workflow`` (``engine``, ``workers``, ``scheduler``), if it takes them."""
    import inspect
    try:
        params = inspect.signature(run_workflow).parameters
    except (TypeError, ValueError):
        return {}
    if "engine" not in params:
        return {}
    return {"engine": "dask" if scheduler else "auto", "workers": workers, "scheduler": scheduler or None}


def load_model_job(ctx, manager):
    from channels.workflows import load_model
    return load_model(manager.store) if manager.store is not None else None


def run_workflow_job(ctx, manager, model, workflow, interval, allow_stored_code=frozenset(), only_runnable=False,
                     workers=None, scheduler=None):
    """Runs in a job thread; stored code the user consented to runs only in a worker process; ``workers`` and
    ``scheduler`` choose the engine (local worker processes / a Dask cluster)."""
    if allow_stored_code:
        from channels.workflows.execution import run_workflow_in_process
        return run_workflow_in_process(manager, workflow, interval, allow_stored_code=set(allow_stored_code),
                                       only_runnable=only_runnable, progress=ctx.report, cancel=ctx.cancel_event,
                                       model=model)
    from channels.workflows import run_workflow
    problem = remote_store_problem(manager, scheduler)
    if problem:
        raise RuntimeError(problem)
    return run_workflow(manager, model, workflow, interval, progress=ctx.report, cancel=ctx.cancel_event,
                        only_runnable=only_runnable, **engine_arguments(run_workflow, workers, scheduler))


def status_job(ctx, holder, manager, model, workflow, interval, describe):
    """The colours of ``workflow``: the index in ``holder`` (a one-item list owned by the dock, used by one job at a
    time) is made on first use and kept, so later refreshes only read what changed."""
    index = holder[0] if holder else None
    if index is None or index.workflow is not workflow or index.model is not model or index.manager is not manager:
        index = WorkflowStatusIndex(manager, model, workflow)
        old, holder[:] = holder[:], [index]
        release(old)             # the previous one, a slice at a time: freed at once it held the GIL ~150 ms
    elif getattr(index, "stale_plan", False):
        index.replan()
        index.stale_plan = False
    return workflow_status(ctx, manager, model, workflow, interval, describe, index=index)


def node_detail_job(ctx, holder, manager, model, workflow, node_name, interval, describe):
    index = holder[0] if holder and holder[0].workflow is workflow and holder[0].model is model else None
    if index is None:
        index = WorkflowStatusIndex(manager, model, workflow)
        old, holder[:] = holder[:], [index]
        release(old)
    return node_detail(ctx, index, node_name, interval, describe)


def consented_hashes(manager, workflow, consents=None) -> set:
    """The content hashes of ``workflow``'s stored code the user allowed to run on this database (``consents``: a
    CodeConsents, else the default one; it reads the consent file)."""
    from channels.workflows.code_params import database_identity, stored_value_hash
    hashes = {stored_value_hash(v) for f in workflow.factors for v in f.tool.code_values.values()}
    if not hashes:
        return set()
    if consents is None:
        from channels.workflows.stored_code import CodeConsents
        consents = CodeConsents()
    db = database_identity(manager)
    return {h for h in hashes if consents.allowed(db, h)}


def factor_checks_job(ctx, manager, workflow, consents=None):
    """``{factor index: FactorCheck}`` for every factor (decodes only code the user consented to run; the consents
    are read here, off the GUI thread)."""
    from channels.workflows.code_params import CodeBindings, check_factor
    consented = consented_hashes(manager, workflow, consents)
    bindings = CodeBindings(manager.store)
    return {i: check_factor(manager, workflow, i, bindings, allow_stored_code=consented)
            for i in range(len(workflow.factors))}


def describe_code_job(ctx, value):
    """What stored code is, without running it (decompiled source or disassembly, version, hash)."""
    from channels.workflows.stored_code import read_stored_code
    return read_stored_code(value)


def bind_job(ctx, manager, workflow, index, parameter, function):
    from channels.workflows.code_params import CodeBindings
    return CodeBindings(manager.store).bind(workflow, index, parameter, function)


def factor_runs_job(ctx, manager, factor, sinks):
    """Recorded runs of ``factor``'s tool that wrote one of ``sinks`` (StreamIds), newest first."""
    wanted = {str(s) for s in sinks}
    return [r for r in manager.run_history.list() if r.tool == factor.tool.name and r.output_stream in wanted]


class WorkflowsDock(QWidget):
    sigStreamsActivated = Signal(list)   # [(channel_id, StreamId)] of a clicked node
    sigModelLoaded = Signal(object)      # WorkflowModel | None, as soon as it is read
    sigModelShown = Signal(object)       # the same once its workflow's graph is drawn (for the meta-data dock)
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
        self._states_again = False      # colours were asked for while a job used the index: asked again at its end
        self._status_index: list = []   # [WorkflowStatusIndex] of the shown workflow, kept between refreshes
        self._detail_node = None        # the node whose details are shown
        self._run_job = None
        self.checks: dict = {}          # factor index -> FactorCheck of the current workflow
        self.consents = None            # CodeConsents (created on first use; tests may set their own)
        self.combo = QComboBox()
        self.combo.setMinimumWidth(200)
        self.combo.currentIndexChanged.connect(self._workflow_chosen)
        self.run_button = QPushButton("Run over range")
        self.run_button.setToolTip("compute what the workflow's streams are missing in the current time range")
        self.run_button.clicked.connect(self.run_current)
        self.fit_button = QPushButton("Fit")
        self.fit_button.setToolTip("show the whole graph")
        self.fit_button.clicked.connect(lambda: self.view.fit())
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find node…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("type to highlight the nodes and tools whose name contains the text; Enter centres "
                               "the first and selects it")
        self.search.textChanged.connect(self._search_changed)
        self.search.returnPressed.connect(self._search_enter)
        self.group_box = QCheckBox("Group by plate")
        self.group_box.setToolTip("place each plate's nodes in a labelled frame of their own")
        self.group_box.toggled.connect(lambda _on: self._relayout())
        self.workers = QSpinBox()
        self.workers.setRange(0, 256)
        self.workers.setSpecialValueText("all cores")
        self.workers.setToolTip("worker processes of the next run (all cores by default; 1 runs the steps one "
                                "after another)")
        self.scheduler = QLineEdit()
        self.scheduler.setPlaceholderText("Dask scheduler (optional), tcp://host:8786")
        self.scheduler.setToolTip("run the next workflow on this Dask cluster; its workers open the store "
                                  "themselves, so the store must be MongoDB")
        self.scheduler.textChanged.connect(lambda _t: self._check_engine())
        self.engine_error = QLabel("")
        self.engine_error.setWordWrap(True)
        self.engine_error.setStyleSheet("color: #c62828;")
        self.engine_error.hide()
        self.summary = QLabel("")
        top = QHBoxLayout()
        top.addWidget(QLabel("Workflow"))
        top.addWidget(self.combo, 1)
        top.addWidget(self.search, 1)
        top.addWidget(self.group_box)
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
        legend.addSpacing(12)
        legend.addWidget(QLabel("Workers"))     # the engine settings share the legend's row: the dock stays low
        legend.addWidget(self.workers)
        legend.addWidget(self.scheduler, 1)
        self.view = WorkflowGraphView(self)
        self.view.vertexClicked.connect(self._vertex_clicked)
        self.view.vertexActivated.connect(self._vertex_activated)
        self.view.graphReady.connect(self._graph_ready)
        self._read_after_graph = False   # the graph being built is a newly chosen workflow's: read its colours next
        self._model_to_show = None       # a model read whose graph is being drawn: sigModelShown once it is
        self.details = QTextBrowser()
        self.details.setOpenLinks(False)
        self.details.anchorClicked.connect(self._link_clicked)
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
        lay.addWidget(self.engine_error)
        lay.addLayout(legend)
        lay.addWidget(split, 1)
        self._recolour = QTimer(self, interval=RECOLOUR_MS)
        self._recolour.timeout.connect(self.refresh_states)
        self._detail_retry = QTimer(self, singleShot=True, interval=100)   # owned: stops with the dock
        self._detail_retry.timeout.connect(self._retry_detail)
        self._engine_defaults(None)
        self._update_buttons()

    # -- inputs from the shell ------------------------------------------------------------------------------
    def set_manager(self, manager) -> None:
        self.manager, self.model = manager, None
        old, self._status_index[:] = self._status_index[:], []
        if old:   # freed on a job thread a slice at a time: on this thread at once it held the loop ~150 ms (100 homes)
            self.runner.submit("Free the previous workflow's colouring index", lambda ctx, items: release(items), old,
                               kind=JobKind.CLOSE)
        self._engine_defaults(manager)
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.blockSignals(False)
        self.view.set_layout(None)
        self.details.clear()
        self._model_to_show = None
        self.sigModelLoaded.emit(None)
        self.sigModelShown.emit(None)
        self._update_buttons()
        if manager is None:
            return
        self.runner.submit("Read workflows, plates and meta-data", load_model_job, manager, kind=JobKind.READ,
                           owner=self, on_result=lambda model, m=manager: self._model_loaded(m, model))

    def reload(self) -> None:
        self.set_manager(self.manager)

    def set_interval(self, interval: TimeInterval) -> None:
        self.interval = interval
        self.refresh_states()

    def set_time_zone(self, tz) -> None:
        self.tz = tz
        self.refresh_states()

    # -- engine settings ----------------------------------------------------------------------------------------
    def _engine_defaults(self, manager) -> None:
        """Workers and scheduler from the command line, else the connection's config, else all cores / none."""
        config = getattr(manager, "config", None)
        workers = ENGINE_DEFAULTS.get("workers", getattr(config, "workflow_workers", None))
        scheduler = ENGINE_DEFAULTS.get("scheduler", getattr(config, "workflow_scheduler", None))
        self.workers.setValue(int(workers or 0))
        self.scheduler.setText(scheduler or "")
        self._check_engine()

    def engine_settings(self) -> tuple:
        """``(workers or None for all cores, scheduler address or None)`` for the next run."""
        return (self.workers.value() or None), (self.scheduler.text().strip() or None)

    def _check_engine(self) -> str | None:
        problem = remote_store_problem(self.manager, self.engine_settings()[1])
        self.engine_error.setText(problem or "")
        self.engine_error.setVisible(bool(problem))
        return problem

    # -- finding, grouping -------------------------------------------------------------------------------------
    def _search_changed(self, text) -> None:
        hits = self.view.set_search(text)
        if text.strip():
            self.sigStatus.emit(f"{len(hits)} match{'es' if len(hits) != 1 else ''} for {text.strip()!r}")

    def _search_enter(self) -> None:
        key = self.view.centre_on_first_match()
        if not key and self.search.text().strip():
            self.sigStatus.emit(f"no node or tool named like {self.search.text().strip()!r}")

    def _relayout(self) -> None:
        """The same workflow laid out anew (grouped by plate or not): its colours, marks and selection stay."""
        wf = self.workflow()
        self.view.show_layout(layout_workflow(wf, group_by_plate=self.group_box.isChecked()) if wf else None,
                              keep=True)

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
        self._model_to_show = model
        self.sigModelLoaded.emit(model)
        self._workflow_chosen()   # graphReady follows (at once when there is no workflow to draw)

    def workflow(self):
        wid = self.combo.currentData()
        return self.model.workflows.get(wid) if self.model and wid else None

    def select_workflow(self, workflow_id: str) -> bool:
        i = self.combo.findData(workflow_id)
        if i >= 0:
            self.combo.setCurrentIndex(i)
        return i >= 0

    def _workflow_chosen(self, *_):
        """Draw the chosen workflow (in slices between events: see WorkflowGraphView.show_layout); its colours and
        the checks of its factors are read once it is drawn."""
        wf = self.workflow()
        self.states = {}
        self.checks = {}
        self._read_after_graph = wf is not None
        self.view.show_layout(layout_workflow(wf, group_by_plate=self.group_box.isChecked()) if wf else None)
        self.view.set_search(self.search.text())
        self.details.setHtml(self._workflow_html(wf) if wf else
                             "<i>No workflows in this store.</i>" if self.model is not None else "")
        self._update_buttons()

    def _graph_ready(self) -> None:
        self.view.fit()
        if self._read_after_graph:
            self._read_after_graph = False
            self.refresh_states()
            self.refresh_checks()
        if self._model_to_show is not None:
            model, self._model_to_show = self._model_to_show, None
            self.sigModelShown.emit(model)

    def graph_shown(self) -> bool:
        """The chosen workflow's graph is drawn, complete (what a user waits for after choosing or opening)."""
        return self.workflow() is not None and not self.view.building and self.view.layout_ is not None

    # -- stored code: checks, bindings, consent -------------------------------------------------------------
    def _consents(self):
        if self.consents is None:
            from channels.workflows.stored_code import CodeConsents
            self.consents = CodeConsents()
        return self.consents

    def _consented_hashes(self, wf) -> set:
        return consented_hashes(self.manager, wf, self._consents())

    def refresh_checks(self) -> None:
        wf = self.workflow()
        if wf is None or self.manager is None:
            return
        self.runner.submit(f"Check factors of {wf.workflow_id}", factor_checks_job, self.manager, wf,
                           self.consents, kind=JobKind.READ, owner=self,
                           on_result=lambda checks, w=wf: self._checks_ready(w, checks))

    def _checks_ready(self, wf, checks) -> None:
        if wf is not self.workflow():
            return
        self.checks = checks
        self.view.set_blocked({i: c.problems for i, c in checks.items() if not c.runnable})
        shown = getattr(self, "_detail_factor", None)
        if shown is not None and shown < len(wf.factors):   # the factor on show: its new state (e.g. just bound)
            self._vertex_clicked(f"factor:{shown}")

    def _link_clicked(self, url) -> None:
        action, _, rest = url.toString().partition(":")
        wf = self.workflow()
        if wf is None or not rest:
            return
        index, _, key = rest.partition(":")
        index = int(index)
        factor = wf.factors[index]
        if action == "code":
            self.runner.submit(f"Show stored code of {factor.tool.name}", describe_code_job,
                               factor.tool.code_values.get(key), kind=JobKind.READ, owner=self,
                               on_result=lambda code, f=factor: self._show_code(f, code),
                               on_error=lambda msg: self.sigStatus.emit(f"cannot show the code: {msg}"))
        elif action == "bind":
            self.bind_parameter(index, key)
        elif action == "consent":
            self.runner.submit(f"Show stored code of {factor.tool.name}", describe_code_job,
                               factor.tool.code_values.get(key), kind=JobKind.READ, owner=self,
                               on_result=lambda code, i=index, k=key: self.ask_consent(i, k, code),
                               on_error=lambda msg: self.sigStatus.emit(f"cannot read the code: {msg}"))

    def _show_code(self, factor, code) -> None:
        self.details.setHtml(self._factor_html(factor, None, code))
        self.details.scrollToAnchor("code")

    def bind_parameter(self, index: int, key: str, function: str | None = None) -> None:
        """Ask for a function (registry name, or ``file.py:name``) and bind the factor's parameter to it."""
        from channels.tools.functions import function_names
        wf = self.workflow()
        if function is None:
            function, ok = QInputDialog.getItem(
                self, "Bind to a function", f"Function for {wf.factors[index].tool.name}'s parameter {key!r} (a "
                f"registry function, or type /path/to/file.py:function_name):",
                function_names("aggregate") + function_names("element"), 0, True)
            if not ok or not function.strip():
                return
        self.runner.submit(f"Bind {wf.factors[index].tool.name}.{key}", bind_job, self.manager, wf, index, key,
                           function.strip(), kind=JobKind.WRITE, owner=self,
                           on_result=lambda b: (self.sigStatus.emit(f"{wf.factors[index].tool.name}: {key} bound to "
                                                                    f"{b.function}"), self.refresh_checks()),
                           on_error=lambda msg: self.sigStatus.emit(f"binding failed: {msg}"))

    def ask_consent(self, index: int, key: str, code) -> bool:
        """Show the code and ask, in words, whether it may run; remember a yes for this database and hash."""
        from channels.workflows.code_params import database_identity
        wf = self.workflow()
        db = database_identity(self.manager)
        if not code.runnable_here:
            QMessageBox.information(self, "Stored code cannot run here", f"This code was marshalled by Python "
                                    f"{'.'.join(map(str, code.python_version or ())) or '?'}; it cannot run on this "
                                    f"Python. Bind the parameter to a named function instead.")
            return False
        box = QMessageBox(QMessageBox.Icon.Warning, "Run Python code from the database?",
                          f"The parameter {key!r} of {wf.factors[index].tool.name} (workflow {wf.workflow_id}) is "
                          f"Python code stored in the database {db}. Running it runs that code on this computer, "
                          f"with your permissions, in a worker process.\n\nContent hash (sha256): {code.sha256}\n"
                          f"Only allow it if you trust whoever wrote this database.", parent=self)
        box.setDetailedText(code.describe())
        allow = box.addButton("Allow this code to run", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is not allow:
            return False
        self._consents().grant(db, code.sha256, f"{wf.workflow_id} / {wf.factors[index].tool.name}.{key}")
        self.sigStatus.emit(f"{wf.factors[index].tool.name}.{key}: stored code {code.short_hash} may run "
                            f"(for this database)")
        self.refresh_checks()
        return True

    def refresh_states(self) -> None:
        wf = self.workflow()
        if wf is None or self.manager is None or self.interval is None:
            return
        if self._status_job is not None and not self._status_job.is_finished:
            self._states_again = True   # one at a time: asked again when that job ends (a new range, a new store)
            return
        self._states_again = False
        end = min(self.interval.end, utcnow())
        if end <= self.interval.start:
            return
        iv = TimeInterval(self.interval.start, end)
        tz = self.tz
        self._status_job = self.runner.submit(
            f"Status of workflow {wf.workflow_id}", status_job, self._status_index, self.manager, self.model, wf, iv,
            lambda ivs: format_intervals(ivs, tz), kind=JobKind.READ, owner=self,
            on_result=lambda states, w=wf: self._states_ready(w, states), on_finished=self._index_free)

    def _index_free(self, *_args) -> None:
        """A job that used the colouring index ended: the colours asked for meanwhile are read now."""
        if self._states_again:
            self.refresh_states()

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
            self._detail_node, self._detail_factor = ident, None
            self.details.setHtml(self._node_html(node, st, reading=True))
            if st is not None and st.streams:
                self.sigStreamsActivated.emit(list(st.streams))
            self._read_node_detail(wf, ident)
        else:
            factor = wf.factors[int(ident)]
            self._detail_factor = int(ident)
            self.details.setHtml(self._factor_html(factor, None))
            sinks = []
            for s in factor.sinks:
                try:
                    sinks += list(self.model.node_streams(wf.nodes[s]).values())
                except Exception:  # noqa: BLE001 - a node on an unknown plate: no runs to show
                    pass
            self.runner.submit(f"Runs of {factor.tool.name}", factor_runs_job, self.manager, factor, sinks,
                               kind=JobKind.READ, owner=self,
                               on_result=lambda runs, f=factor: self.details.setHtml(self._factor_html(f, runs)))

    def _read_node_detail(self, wf, name) -> None:
        if self.manager is None or self.interval is None:
            return
        if self._status_job is not None and not self._status_job.is_finished:
            # the index is in use by a refresh (one job at a time uses it): ask again shortly
            self._detail_retry.start()
            return
        end = min(self.interval.end, utcnow())
        if end <= self.interval.start:
            return
        iv, tz = TimeInterval(self.interval.start, end), self.tz
        self._status_job = self.runner.submit(
            f"Streams of node {name}", node_detail_job, self._status_index, self.manager, self.model, wf, name, iv,
            lambda ivs: format_intervals(ivs, tz), kind=JobKind.READ, owner=self,
            on_result=lambda st, w=wf, n=name: self._detail_ready(w, n, st), on_finished=self._index_free)

    def _retry_detail(self) -> None:
        wf = self.workflow()
        if wf is not None and self._detail_node in wf.nodes:
            self._read_node_detail(wf, self._detail_node)

    def _detail_ready(self, wf, name, st) -> None:
        if wf is not self.workflow() or self._detail_node != name:
            return
        self.details.setHtml(self._node_html(wf.nodes[name], st))

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
        problem = self._check_engine()
        if problem:
            self.sigStatus.emit(problem)
            return
        workers, scheduler = self.engine_settings()
        only_runnable = False
        blocked = [c for c in self.checks.values() if not c.runnable]
        if blocked:
            box = QMessageBox(QMessageBox.Icon.Warning, "Factors that cannot run",
                              f"{len(blocked)} factor{'s' if len(blocked) > 1 else ''} of {wf.workflow_id} cannot run:",
                              parent=self)
            box.setInformativeText("\n".join("• " + p.split(", ", 1)[-1] for c in blocked for p in c.problems))
            others = box.addButton("Run the others only", QMessageBox.ButtonRole.AcceptRole)
            box.addButton(QMessageBox.StandardButton.Cancel)
            box.exec()
            if box.clickedButton() is not others:
                return
            only_runnable = True
        consented = frozenset(self._consented_hashes(wf))
        where = (f" on the Dask cluster at {scheduler}" if scheduler else
                 f" on {workers} worker process{'es' if workers != 1 else ''}" if workers else "")
        self.sigStatus.emit(f"running workflow {wf.workflow_id} over {format_interval(iv, self.tz)}{where}"
                            + (" (stored code in a worker process)" if consented else ""))
        self._run_job = self.runner.submit(
            f"Run workflow {wf.workflow_id}", run_workflow_job, self.manager, self.model, wf, iv, consented,
            only_runnable, workers, scheduler, kind=JobKind.TOOL,
            owner=self, on_result=self._run_done, on_error=lambda msg: self.sigStatus.emit(f"workflow failed: {msg}"),
            on_finished=self._run_finished)
        self._recolour.start()
        self._update_buttons()

    def _run_done(self, result) -> None:
        skipped = f"; skipped {len(result.skipped)} factors that cannot run" if result.skipped else ""
        self.sigStatus.emit(f"workflow {result.workflow_id}: {len(result.records)} tool runs, "
                            f"{result.instances_written:,} instances written{skipped}")

    def _run_finished(self) -> None:
        if self._status_index:
            self._status_index[0].stale_plan = True   # a run may have added plate values
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

    def _node_html(self, node, st, reading=False) -> str:
        plates = ", ".join(node.plate_ids) or "none"
        head = (f"<b>{html.escape(node.stream_name)}</b><br>channel {html.escape(node.channel_id)}; plates "
                f"{html.escape(plates)}")
        if st is None:
            return head
        counts = ", ".join(f"{n:,} {STATE_TEXT[s]}" for s, n in st.counts.items() if n) if st.counts else ""
        lines = st.lines if not reading else st.lines[:1]
        return head + f"<br>{STATE_TEXT[st.state]}" + (f" ({html.escape(counts)})" if counts else "") + "<ul>" \
            + "".join(f"<li>{html.escape(x)}</li>" for x in lines) + "</ul>" \
            + ("<i>reading its streams…</i>" if reading else "")

    def _factor_html(self, factor, runs, code=None) -> str:
        t = factor.tool
        wf = self.workflow()
        index = wf.factors.index(factor) if wf is not None and factor in wf.factors else -1
        check = self.checks.get(index)
        params = "".join(f"<li><code>{html.escape(k)}</code> = {html.escape(repr(v))}</li>"
                         for k, v in t.parameters.items())
        code_items = ""
        for k in t.code_parameters:
            how = check.supply.get(k) if check is not None else None
            state = ("bound to <b>" + html.escape(how[1].function) + "</b>" if how and how[0] == "bound" else
                     "stored code allowed to run (in a worker process)" if how else "not bound: cannot run yet")
            code_items += (f"<li><code>{html.escape(k)}</code>: Python code stored in the database — {state}<br>"
                           f"<a href='code:{index}:{k}'>Show the code</a> · <a href='bind:{index}:{k}'>Bind to a "
                           f"function…</a> · <a href='consent:{index}:{k}'>Allow this code to run…</a></li>")
        text = (f"<b>{html.escape(t.name)}</b> <small>v{html.escape(t.version or '?')}, {factor.factor_type}</small>"
                f"<br>sources: {html.escape(', '.join(factor.sources) or 'none')}; sink: "
                f"{html.escape(', '.join(factor.sinks) or 'none')}"
                + (f"; alignment: {html.escape(factor.alignment_node)}" if factor.alignment_node else "")
                + f"<ul>{params}{code_items}</ul>")
        if check is not None and check.tool is not None:
            text += f"<small>runs tool {html.escape(check.tool.where)}</small><br>"
        if check is not None and check.problems:
            text += "<p style='color:#c62828'>Cannot run:<br>" + "<br>".join(html.escape(p) for p in check.problems) \
                + "</p>"
        if code is not None:
            text += f"<p><a name='code'></a><b>The stored code</b> (not run to be shown):</p><pre>{html.escape(code.describe())}</pre>"
            return text
        if runs is None:
            return text + "<i>reading its runs…</i>"
        if not runs:
            return text + "<i>no recorded runs</i>"
        rows = "".join(f"<li>{html.escape(format_interval(r.interval, self.tz) if r.interval else '?')}: "
                       f"{r.outcome}, {r.instances_written:,} instances → {html.escape(r.output_stream or '')}</li>"
                       for r in runs[:12])
        return text + f"<b>{len(runs)} runs</b><ul>{rows}</ul>"


__all__ = ["WorkflowsDock"]
