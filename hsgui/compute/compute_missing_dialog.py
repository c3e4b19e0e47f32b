""""Compute missing…": say which interval the gaps are looked for in, and let the user choose.

Why a dialog: the old action ran at once over the visible range only. After purging a stream's
tail while looking at another time (e.g. "the last 7 days" of a store whose data is from 2024)
it computed the visible range, where the inputs have nothing — "computed 0 instances", and
that empty stretch was marked calculated, splitting the stream's calculated intervals in two —
while the purged tail, outside the view, stayed missing. Now the gaps are clipped to the
inputs' calculated span and to now, both choices (the visible range, the whole calculated span)
show the gaps they would fill, and the message after the run names the interval used.
"""
from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QButtonGroup, QDialog, QDialogButtonBox, QLabel, QRadioButton, QVBoxLayout)

from channels.errors import ChannelsError
from channels.utils import UTC, format_duration

from hsgui.common.background import JobKind
from hsgui.common.timefmt import format_intervals, format_time

from .compute_missing import compute_missing, defining_run, missing_options


class ComputeMissingDialog(QDialog):
    """Choose the visible range or the whole calculated span; ``sigCompute(key, label, interval, gaps)``."""

    sigCompute = Signal(str, str, object, object)

    def __init__(self, stream, record, options, tz=UTC, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Compute missing — {stream.stream_id}")
        self.options = options
        lay = QVBoxLayout(self)
        head = QLabel(f"Re-run <b>{html.escape(record.tool)}</b> (the run that made "
                      f"<b>{html.escape(str(stream.stream_id))}</b>) over the gaps of its calculated intervals in:")
        head.setWordWrap(True)
        lay.addWidget(head)
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        chosen = None
        for i, (key, label, interval, gaps) in enumerate(options):
            text = f"{label}: {format_time(interval.start, tz)} → {format_time(interval.end, tz)}"
            b = QRadioButton(text)
            b.setEnabled(not gaps.is_empty)
            note = QLabel(("  nothing missing here" if gaps.is_empty else
                           f"  missing: {format_intervals(gaps, tz)} ({format_duration(gaps.total_width)})"))
            note.setWordWrap(True)
            note.setStyleSheet("color: #555; margin-left: 18px;")
            self.group.addButton(b, i)
            self.buttons[key] = b
            lay.addWidget(b)
            lay.addWidget(note)
            if chosen is None and not gaps.is_empty:
                chosen = b
        if chosen is not None:
            chosen.setChecked(True)
        self.buttons_box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.compute_button = self.buttons_box.addButton("Compute", QDialogButtonBox.ButtonRole.AcceptRole)
        self.compute_button.setDefault(True)
        self.compute_button.setEnabled(chosen is not None)
        self.buttons_box.accepted.connect(self.accept)
        self.buttons_box.rejected.connect(self.reject)
        lay.addWidget(self.buttons_box)
        for b in self.buttons_box.buttons():       # Enter computes, whichever control has the focus
            b.setAutoDefault(b is self.compute_button)
        (chosen or self.compute_button).setFocus()

    def choose(self, key: str) -> None:
        self.buttons[key].setChecked(True)

    def accept(self) -> None:
        i = self.group.checkedId()
        if i < 0:
            return
        super().accept()
        self.sigCompute.emit(*self.options[i])


def start_compute_missing(shell, stream, on_job=None):
    """"Compute missing…": find the run that made ``stream`` (a job), offer the visible range or the whole
    calculated span with the gaps each would fill, run the chosen one (``on_job(job)`` is told of its job)."""
    state = shell.state
    manager, visible, tz = state.manager, state.interval, state.time_zone
    say = shell.show_status

    def found(record):
        if manager is not state.manager:
            return None
        if record is None:
            return shell.show_error(f"no recorded run made {stream.stream_id}; use Compute with…")
        try:
            options = missing_options(manager, stream, record, visible)
        except ChannelsError as e:   # its tool or an input gone since the run
            return shell.show_error(str(e))
        if all(gaps.is_empty for *_x, gaps in options):
            say(f"{stream.stream_id}: nothing missing in the visible range or its whole calculated span", 8000)
            return None
        dlg = ComputeMissingDialog(stream, record, options, tz, shell.widget)
        dlg.sigCompute.connect(lambda key, label, interval, gaps: run(record, label, interval, gaps))
        return shell.show_dialog(dlg)

    def run(record, label, interval, gaps):
        where = f"{format_intervals(gaps, tz)} ({label})"

        def done(run_record):
            n = getattr(run_record, "instances_written", 0)
            extra = " — the inputs have no data there" if n == 0 else ""
            say(f"{stream.stream_id}: computed {n:,} instances over {where}{extra}", 15000)

        try:
            job = compute_missing(manager, shell.runner, stream, interval, record, owner=shell.widget,
                                  on_result=done)
        except ChannelsError as e:
            return shell.show_error(str(e))
        if job is None:
            return say(f"{stream.stream_id}: nothing missing in {label}", 10000)
        if on_job is not None:
            on_job(job)
        return job

    return shell.runner.submit(f"Find the run that made {stream.stream_id}",
                               lambda ctx: defining_run(manager.run_history, stream), kind=JobKind.READ,
                               owner=shell.widget, on_result=found, on_error=shell.show_error)


__all__ = ["ComputeMissingDialog", "start_compute_missing"]
