"""The Run Tool dialog: parameters, inputs, output and interval of one tool run, run as a background job.

The dialog never reads or writes a store on the GUI thread: the output's
existing data is counted by a job, and the run itself (a :class:`channels.tools.RunRequest`
run by ``run_request``: loading the tool, creating the output stream, ``Tool.execute`` in
chunks) is a job whose progress and cancel go through
:class:`hsgui.common.background.JobRunner`. The engine decides what to compute (only what
the output has not calculated yet) and records the run in ``manager.run_history``; the
dialog shows what it will skip beforehand.

Its input widgets are in :mod:`.stream_inputs`; the job that runs the tool and
"Compute missing" in :mod:`.compute_missing`.
"""
from __future__ import annotations

import html
import inspect

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialog, QFormLayout,
                               QGroupBox, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QScrollArea, QVBoxLayout, QWidget)

from channels.errors import ChannelsError, StreamIdError, ToolParameterError
from channels.stream import StreamId, get_stream_id
from channels.time_interval import TimeInterval, TimeIntervals
from channels.tool_channel import ToolChannel
from channels.tools import RunRequest
from channels.tools.params import parameter_specs
from channels.utils import UTC, format_duration, utcnow

from hsgui.common.background import JobKind
from hsgui.common.timefmt import as_zone as _tz, format_intervals as fmt_intervals, humanise_reprs, readable_times
from hsgui.forms.meta_editor import MetaDataEditor

from .compute_missing import default_resolver, output_state_job, run_request_job
from .dialog_text import expected_input_count, fmt_time, input_description, reason_text, rst_to_html
from .run_interval import runnable_interval
from .param_form import ParameterForm
from .stream_inputs import IntervalEdit, StreamListWidget, StreamPickerDialog

# -- the dialog -------------------------------------------------------------------------------------
class RunToolDialog(QDialog):
    """Fill in and run one tool; see the module docstring."""

    sigRunFinished = Signal(object)   # the output Stream, after every run that got as far as creating it
    sigRunRecorded = Signal(object)   # the RunRecord (ok), or None (failed/cancelled: see manager.run_history)

    def __init__(self, manager, runner, resolve_stream=None, tool_channel_id: str | None = None,
                 tool_name: str = "", version=None, interval: TimeInterval | None = None, tz=UTC, inputs=(),
                 parent=None):
        super().__init__(parent)
        self.manager = manager
        self.runner = runner
        self.resolve_stream = resolve_stream or default_resolver(manager)
        version = version or None   # "" (the Tools dock's "newest") means the newest version
        self.tz = _tz(tz)
        if tool_channel_id is None:
            tool_channel, _tv = manager.find_tool(tool_name, version)
        else:
            tool_channel = manager.get_channel(tool_channel_id)
        self.tool_channel: ToolChannel = tool_channel
        self.tool_name = tool_name
        self.tool_class = None
        self.load_error: str | None = None
        self.job = None
        self.last_record = None
        self.last_error: str | None = None
        self.last_outcome: str | None = None
        self.chunk = None          # chunk length handed to the engine (None: engine default)
        self.problems: list[str] = []
        self._counting = (self, "output state")   # JobRunner.latest key: only the newest count is shown
        self._build()
        self.version_combo.blockSignals(True)
        versions = tool_channel.tool_versions(tool_name)
        for tv in reversed(versions):
            self.version_combo.addItem(f"v{tv.version}", str(tv.version))
        if version is not None:
            idx = self.version_combo.findData(str(version).lstrip("v"))
            if idx >= 0:
                self.version_combo.setCurrentIndex(idx)
        self.version_combo.blockSignals(False)
        self._load_version()

        self.inputs.set_streams(list(inputs))
        self._fill_output_defaults()
        self.set_default_interval(interval)
        self._state_timer = QTimer(self)
        self._state_timer.setSingleShot(True)
        self._state_timer.setInterval(250)
        self._state_timer.timeout.connect(self.refresh_output_state)
        for sig in (self.output_channel.currentIndexChanged, self.output_name.textChanged, self.meta.sigChanged,
                    self.interval_edit.sigChanged):
            sig.connect(self._on_output_or_interval_changed)
        self.inputs.sigChanged.connect(self.update_state)
        self.alignment.sigChanged.connect(self.update_state)
        self.update_state()
        self.refresh_output_state()

    # -- layout --------------------------------------------------------------------
    def _build(self):
        self.setWindowTitle(f"Run tool — {self.tool_name}")
        self.resize(980, 640)
        outer = QVBoxLayout(self)

        head = QHBoxLayout()
        title = QLabel(f"<b style='font-size:14pt'>{html.escape(self.tool_name)}</b>")
        head.addWidget(title)
        head.addWidget(QLabel("version"))
        self.version_combo = QComboBox()
        self.version_combo.currentIndexChanged.connect(self._load_version)
        head.addWidget(self.version_combo)
        head.addStretch(1)
        outer.addLayout(head)
        self.source_label = QLabel()
        self.source_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.source_label.setStyleSheet("color: #555;")
        outer.addWidget(self.source_label)
        self.doc_label = QLabel()
        self.doc_label.setWordWrap(True)
        outer.addWidget(self.doc_label)

        cols = QHBoxLayout()
        outer.addLayout(cols, 1)
        # left: parameters
        self.params_box = QGroupBox("Parameters")
        pl = QVBoxLayout(self.params_box)
        self.params_scroll = QScrollArea()
        self.params_scroll.setWidgetResizable(True)
        self.params_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        pl.addWidget(self.params_scroll)
        self.tool_error_label = QLabel()
        self.tool_error_label.setStyleSheet("color: #c62828;")
        self.tool_error_label.setWordWrap(True)
        self.tool_error_label.hide()
        pl.addWidget(self.tool_error_label)
        left = QVBoxLayout()
        left.addWidget(self.params_box, 1)
        cols.addLayout(left, 1)
        self.form = ParameterForm([], self.tz, self.tool_name)

        # right: inputs and output, scrolling rather than squeezing when the output warning is long
        self.right_scroll = QScrollArea()
        self.right_scroll.setWidgetResizable(True)
        self.right_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.right_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        right_widget = QWidget()
        right = QVBoxLayout(right_widget)
        right.setContentsMargins(0, 0, 0, 0)
        self.right_scroll.setWidget(right_widget)
        cols.addWidget(self.right_scroll, 1)
        in_box = QGroupBox("Input streams")
        il = QVBoxLayout(in_box)
        self.expected_label = QLabel()
        self.expected_label.setWordWrap(True)  # a tool's own description of its inputs can be long
        il.addWidget(self.expected_label)
        row = QHBoxLayout()
        self.inputs = StreamListWidget()
        self.inputs.setMaximumHeight(90)
        self.inputs.setToolTip("drag streams here from the stream tree, or use Add…")
        row.addWidget(self.inputs, 1)
        bcol = QVBoxLayout()
        self.add_input_button = QPushButton("Add…")
        self.add_input_button.clicked.connect(self.pick_inputs)
        self.remove_input_button = QPushButton("Remove")
        self.remove_input_button.clicked.connect(self.inputs.remove_selected)
        up = QPushButton("↑")
        up.clicked.connect(lambda: self.inputs.move_selected(-1))
        down = QPushButton("↓")
        down.clicked.connect(lambda: self.inputs.move_selected(1))
        for b in (self.add_input_button, self.remove_input_button):
            bcol.addWidget(b)
        ud = QHBoxLayout()
        ud.addWidget(up)
        ud.addWidget(down)
        bcol.addLayout(ud)
        bcol.addStretch(1)
        row.addLayout(bcol)
        il.addLayout(row)
        il.addWidget(QLabel("alignment stream (optional; e.g. the windows for aggregate)"))
        arow = QHBoxLayout()
        self.alignment = StreamListWidget(max_items=1)
        self.alignment.setFixedHeight(self.fontMetrics().height() + 10)
        self.alignment.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.alignment.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.alignment.setToolTip("drop one stream here from the stream tree, or use Pick…")
        arow.addWidget(self.alignment, 1)
        pick_al = QPushButton("Pick…")
        pick_al.clicked.connect(self.pick_alignment)
        clear_al = QPushButton("Clear")
        clear_al.clicked.connect(lambda: (self.alignment.clear(), self.alignment.sigChanged.emit()))
        arow.addWidget(pick_al)
        arow.addWidget(clear_al)
        il.addLayout(arow)
        right.addWidget(in_box)

        out_box = QGroupBox("Output")
        ol = QFormLayout(out_box)
        self.output_channel = QComboBox()
        for ch in self.manager.writable_channels:
            self.output_channel.addItem(ch.channel_id, ch.channel_id)
        ol.addRow("channel", self.output_channel)
        self.output_name = QLineEdit()
        self.output_name.setPlaceholderText("stream name")
        ol.addRow("stream name", self.output_name)
        self.meta = MetaDataEditor()
        ol.addRow("meta-data", self.meta)
        self.output_label = QLabel()
        self.output_label.setWordWrap(True)
        self.output_label.setTextFormat(Qt.TextFormat.RichText)
        ol.addRow(self.output_label)
        right.addWidget(out_box)

        right.addStretch(1)
        # the interval sits under the parameters: the left column has room, the right one does not
        iv_box = QGroupBox("Interval")
        ivl = QVBoxLayout(iv_box)
        self.interval_edit = IntervalEdit(self.tz)
        ivl.addWidget(self.interval_edit)
        self.interval_note = QLabel()     # which interval was chosen on opening, and why
        self.interval_note.setWordWrap(True)
        self.interval_note.setStyleSheet("color: #555;")
        ivl.addWidget(self.interval_note)
        self._noted_interval = None       # the interval the note speaks of: shown only while that is the interval
        keep_place = self.interval_note.sizePolicy()
        keep_place.setRetainSizeWhenHidden(True)   # the layout does not jump when it goes
        self.interval_note.setSizePolicy(keep_place)
        self.interval_edit.sigChanged.connect(self._show_note_while_current)
        left.addWidget(iv_box)

        # bottom: status, progress, buttons
        self.problems_label = QLabel()
        self.problems_label.setStyleSheet("color: #c62828;")
        self.problems_label.setWordWrap(True)
        self.problems_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.problems_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # problems sit beside the buttons in a fixed, scrolling box: the dialog never jumps when one appears
        self.problems_scroll = QScrollArea()
        self.problems_scroll.setWidgetResizable(True)
        self.problems_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.problems_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.problems_scroll.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 6)
        self.problems_scroll.setWidget(self.problems_label)
        prow = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        prow.addWidget(self.progress, 1)
        self.status_label = QLabel("ready")
        self.status_label.setMinimumWidth(260)
        prow.addWidget(self.status_label)
        outer.addLayout(prow)
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #c62828;")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        outer.addWidget(self.error_label)
        brow = QHBoxLayout()
        brow.addWidget(self.problems_scroll, 1)
        self.run_button = QPushButton("Run")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel run")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_run)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        for b in (self.run_button, self.cancel_button, self.close_button):
            brow.addWidget(b)
        outer.addLayout(brow)

    def set_default_interval(self, requested: TimeInterval | None) -> None:
        """Open with an interval that can run: ``requested`` (the visible range) clipped to the inputs'
        calculated span and to now; the note under it says what was chosen."""
        try:
            inputs = self._resolve_all(self.inputs.streams())
        except (ChannelsError, KeyError):
            inputs = []
        ch = self.output_channel_obj()
        horizon = getattr(ch, "up_to_timestamp", None) if ch is not None else None
        iv, note = runnable_interval(requested, inputs, utcnow(), horizon, self.tz)
        self._noted_interval = iv
        self.interval_note.setText(note)
        self.interval_edit.set_interval(iv)

    def _show_note_while_current(self):
        try:
            current = self.interval_edit.interval() == self._noted_interval
        except ValueError:   # being typed: not the noted interval
            current = False
        self.interval_note.setVisible(current)

    # -- tool version / form ----------------------------------------------------------
    @property
    def version(self) -> str | None:
        return self.version_combo.currentData()

    def _load_version(self, *_):
        old = {}
        if self.form is not None and self.form.fields:
            old = {n: f.value() for n, f in self.form.fields.items() if f.is_valid}
        self.load_error = None
        self.tool_class = None
        specs = []
        try:
            tv = self.tool_channel.find_tool_version(self.tool_name, self.version)
            self.source_label.setText(f"source: {tv.path}  (channel {self.tool_channel.channel_id})")
            self.tool_class = self.tool_channel.get_tool_class(self.tool_name, self.version)
            specs = parameter_specs(self.tool_class)
        except Exception as e:  # noqa: BLE001 - a broken tool file is shown, never a crash
            self.load_error = str(e)
        doc = (inspect.getdoc(self.tool_class) or "").split("\n\n")[0] if self.tool_class else ""
        self.doc_label.setText(rst_to_html(" ".join(doc.split())))
        self.form = ParameterForm(specs, self.tz, self.tool_name)
        if old:
            self.form.set_values({k: v for k, v in old.items() if k in self.form.fields})
        self.form.sigValuesChanged.connect(self.update_state)
        self.params_scroll.setWidget(self.form)
        self.update_state()

    def _fill_output_defaults(self):
        idx = self.output_channel.findData("mongo")
        if idx < 0:
            idx = self.output_channel.findData("memory")
        if idx >= 0:
            self.output_channel.setCurrentIndex(idx)
        if not self.output_name.text():
            self.output_name.setText(self.tool_name)

    # -- reading the dialog -------------------------------------------------------------
    def output_stream_id(self) -> StreamId:
        return StreamId(self.output_name.text().strip(), self.meta.pairs())

    def output_channel_obj(self):
        cid = self.output_channel.currentData()
        return self.manager.get_channel(cid) if cid else None

    def parameters(self) -> dict:
        return self.form.values()

    def _resolve_all(self, items):
        return [self.resolve_stream(cid, sid) for cid, sid in items]

    # -- validation ------------------------------------------------------------------------
    def update_state(self, *_):
        problems = []
        tool_error = None
        self.form.clear_errors()
        if self.load_error:
            tool_error = f"cannot load tool: {self.load_error}"
        elif self.form.is_valid():
            try:
                self.tool_class(**self.form.values())
            except ToolParameterError as e:
                if e.parameter in self.form.fields:
                    self.form.set_error(e.parameter, reason_text(e))
                else:
                    tool_error = humanise_reprs(str(e))
            except Exception as e:  # noqa: BLE001
                tool_error = f"the tool rejects these parameters: {humanise_reprs(str(e))}"
        self.tool_error_label.setText(tool_error or "")
        self.tool_error_label.setVisible(bool(tool_error))
        if tool_error:
            problems.append(tool_error)
        for name, why in self.form.errors().items():   # every one, not only the first
            problems.append(f"parameter {name}: {why}")

        expected = expected_input_count(self.tool_class) if self.tool_class else None
        n = len(self.inputs.streams())
        if expected is None:
            # no count to enforce: show what the tool says it takes, if anything (it checks when it runs)
            doc = input_description(self.tool_class) if self.tool_class else None
            if doc:
                self.expected_label.setText(f"expects {doc} · {n} chosen")
            else:
                self.expected_label.setText(f"{n} chosen · the tool does not declare how many it expects")
            self.expected_label.setStyleSheet("")
        else:
            ok = n == expected
            self.expected_label.setText(f"expects {expected} input stream{'s' if expected != 1 else ''} · "
                                        f"{n} chosen")
            self.expected_label.setStyleSheet("" if ok else "color: #c62828;")
            if not ok:
                problems.append(f"the tool expects {expected} input stream{'s' if expected != 1 else ''}, "
                                f"{n} chosen")
        try:
            self._resolve_all(self.inputs.streams() + self.alignment.streams())
        except (ChannelsError, KeyError) as e:
            problems.append(f"input stream not found: {e}")

        if self.output_channel.currentData() is None:
            problems.append("no writable output channel")
        try:
            self.output_stream_id()
        except StreamIdError as e:
            problems.append(f"output: {e}")
        try:
            iv = self.interval_edit.interval()
            now = utcnow()
            if iv.end > now:
                problems.append(f"interval end {fmt_time(iv.end, self.tz)} is in the future")
            ch = self.output_channel_obj()
            if ch is not None and iv.end > ch.up_to_timestamp:
                problems.append(f"channel {ch.channel_id} is only available up to {fmt_time(ch.up_to_timestamp, self.tz)}")
        except (ValueError, ChannelsError) as e:
            problems.append(f"interval: {e}")
        self.problems = problems
        # always shown, space reserved: the layout does not jump when a problem comes or goes
        self.problems_label.setText(readable_times("Cannot run:\n" + "\n".join(f"• {p}" for p in problems), self.tz)
                                    if problems else "")
        self.run_button.setEnabled(not problems and not self.is_running)
        return not problems

    def can_run(self) -> bool:
        return self.update_state() and not self.is_running

    @property
    def is_running(self) -> bool:
        return self.job is not None and self.last_outcome is None

    # -- output state (background count) -------------------------------------------------------------
    def _on_output_or_interval_changed(self, *_):
        self.update_state()
        self._state_timer.start()

    def refresh_output_state(self) -> None:
        """Show whether the output already has data / calculated intervals in the interval (counted by a job)."""
        self.runner.cancel_latest(self._counting)
        self._set_nothing_to_compute(False)
        try:
            sid = self.output_stream_id()
            iv = self.interval_edit.interval()
            ch = self.output_channel_obj()
        except (ValueError, ChannelsError):
            self.output_label.setText("")
            return
        if ch is None or not sid.name:
            self.output_label.setText("")
            return
        stream = ch.known_stream(sid)   # one definition read, not the channel listed
        if stream is None:
            self.output_label.setText(f"<span style='color:#2e7d32'>new stream {html.escape(str(sid))} "
                                      f"in {html.escape(ch.channel_id)}</span>")
            self.output_state = (0, TimeIntervals())
            return
        self.output_label.setText("existing stream: counting its instances in the interval…")
        self.runner.latest(self._counting, f"count {ch.channel_id}/{sid}", output_state_job, stream, iv,
                           kind=JobKind.READ, owner=self, on_result=lambda res: self._show_output_state(iv, res))

    def _show_output_state(self, iv, result):
        n, calc = result
        self.output_state = result
        missing = TimeIntervals([iv]) - calc
        if n == 0 and calc.is_empty:
            self.output_label.setText("existing stream, no data in this interval")
            return
        parts = [f"⚠ the output already has <b>{n:,}</b> instance{'s' if n != 1 else ''} in this interval",
                 f"already calculated: {html.escape(fmt_intervals(calc, self.tz))}"]
        if missing.is_empty:
            parts.append("<b>everything is calculated: Run will compute nothing</b> (purge first to recompute)")
            self._set_nothing_to_compute(True)
        else:
            parts.append(f"Run computes only the missing part: {html.escape(fmt_intervals(missing, self.tz))} "
                         f"({format_duration(missing.total_width)})")
        self.output_label.setText("<span style='color:#b26a00'>" + "<br>".join(parts) + "</span>")

    def _set_nothing_to_compute(self, nothing: bool) -> None:
        """Say on the Run button that the run will compute nothing (it stays enabled: running records the
        run and is harmless)."""
        self.run_button.setText("Run (nothing to compute)" if nothing else "Run")
        self.run_button.setToolTip("the output already has everything in this interval calculated; purge it "
                                   "first to recompute" if nothing else "")

    # -- pickers --------------------------------------------------------------------------------------
    def pick_inputs(self) -> None:
        dlg = StreamPickerDialog(self.manager, self, runner=self.runner)
        if dlg.exec():
            self.inputs.add_streams(dlg.selected())

    def pick_alignment(self) -> None:
        dlg = StreamPickerDialog(self.manager, self, "Pick the alignment stream", runner=self.runner)
        dlg.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        if dlg.exec():
            self.alignment.set_streams(dlg.selected()[:1])

    # -- run -------------------------------------------------------------------------------------------
    def run(self):
        """Start the run as a background job (no-op when the dialog is not valid); returns the Job."""
        if not self.can_run():
            return None
        out_channel = self.output_channel_obj()
        sid = self.output_stream_id()
        al = self.alignment.streams()
        request = RunRequest(tool=self.tool_name, version=self.version, tool_channel=self.tool_channel.channel_id,
                             parameters=self.form.values(), inputs=self.inputs.streams(),
                             alignment=al[0] if al else None, output=(out_channel.channel_id, sid),
                             interval=self.interval_edit.interval(), chunk=self.chunk)
        self._out = (out_channel, sid)
        self.last_record = None
        self.last_error = None
        self.last_outcome = None
        self.error_label.hide()
        self.progress.setValue(0)
        self.status_label.setText("queued")
        self.job = self.runner.submit(
            f"run {self.tool_name} → {out_channel.channel_id}/{sid}", run_request_job, self.manager, request,
            kind=JobKind.TOOL, writes=[(out_channel.channel_id, sid)],
            # outcome slots go in through submit() so they are connected before the job can finish
            on_result=self._on_succeeded, on_error=self._on_failed, on_cancel=self._on_cancelled)
        self.job.progress.connect(self._on_progress)
        self._set_running(True)
        return self.job

    def cancel_run(self) -> None:
        """Stop after the current chunk (finished chunks stay written, with their calculated intervals)."""
        if self.is_running:
            self.job.cancel()
            self.status_label.setText("cancelling after the current chunk…")
            self.cancel_button.setEnabled(False)

    def _set_running(self, running: bool):
        self.cancel_button.setEnabled(running)
        for w in (self.params_box, self.version_combo, self.add_input_button, self.remove_input_button,
                  self.output_channel, self.output_name, self.meta, self.interval_edit, self.inputs, self.alignment):
            w.setEnabled(not running)
        self.run_button.setEnabled(not running and not self.problems)

    def _on_progress(self, fraction, text):
        if self.last_outcome is not None:
            return
        self.progress.setValue(int(round(fraction * 1000)))
        self.status_label.setText(text)

    def _on_succeeded(self, record):
        self.last_record = record
        self.last_outcome = "ok"
        self.progress.setValue(1000)
        if record.instances_written == 0 and record.computed.is_empty:
            self.status_label.setText("done: nothing was missing")
        else:
            self.status_label.setText(f"done: {record.instances_written:,} instances in {record.duration_s:.2f} s")
        self._on_finished()

    def _on_failed(self, message):
        self.last_error = message
        self.last_outcome = "error"
        self.status_label.setText("failed")
        self.error_label.setText(f"Run failed: {readable_times(message, self.tz)}")
        self.error_label.show()
        self._on_finished()

    def _on_cancelled(self):
        self.last_outcome = "cancelled"
        self.status_label.setText("cancelled: finished chunks were kept")
        self._on_finished()

    def _on_finished(self):
        self._set_running(False)
        self.update_state()
        out_channel, sid = self._out
        stream = out_channel.known_stream(sid)
        self.sigRunRecorded.emit(self.last_record)
        if stream is not None:
            self.sigRunFinished.emit(stream)
        self.refresh_output_state()

    def reject(self):
        if self.is_running:
            self.cancel_run()  # closing the dialog never leaves a run going unseen
        super().reject()

    # -- run again -----------------------------------------------------------------------------------
    def set_from_run(self, record) -> None:
        """Fill the dialog from a RunRecord (``Run again``): version, parameters, inputs, output, interval."""
        if record.tool_version:
            idx = self.version_combo.findData(str(record.tool_version).lstrip("v"))
            if idx >= 0 and idx != self.version_combo.currentIndex():
                self.version_combo.setCurrentIndex(idx)
        self.form.set_values(record.parameters or {})
        inputs = []
        for cid, s in zip(record.input_channels or [], record.input_streams or []):
            inputs.append((cid, get_stream_id(s)))
        self.inputs.set_streams(inputs)
        if record.alignment_stream and record.alignment_channel:
            self.alignment.set_streams([(record.alignment_channel, get_stream_id(record.alignment_stream))])
        else:
            self.alignment.clear()
            self.alignment.sigChanged.emit()
        if record.output_channel:
            idx = self.output_channel.findData(record.output_channel)
            if idx >= 0:
                self.output_channel.setCurrentIndex(idx)
        if record.output_stream:
            sid = get_stream_id(record.output_stream)
            self.output_name.setText(sid.name)
            self.meta.set_pairs(list(sid.meta_data))
        if record.interval is not None:
            self.interval_edit.set_interval(record.interval)
        self.update_state()


__all__ = ["RunToolDialog", "expected_input_count", "input_description"]
