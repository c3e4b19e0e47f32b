"""The Purge dialog: delete data of one or more streams, after showing how much and asking.

Scopes:

* **all data** – every instance; the stream stays defined with no calculated intervals;
* **only the time range** – the instances in ``(start, end]`` (the same half-open rule as
  everywhere), and that range is removed from the calculated intervals, so a tool
  recomputes it on the next run;
* **data and definition** – everything, and the stream disappears from its channel.

A purge is refused, with a message naming the job, while a job that writes one of
the streams runs (a tool run, an import, a workflow run: see
``JobRunner.writers_of``): the purge and the job would race over the same data and
calculated intervals. The user waits for the job or cancels it, then purges.

The count of what will go is computed by a background job, and the purge itself
is a job (one stream at a time, each stream's purge one store transaction; cancel
stops between streams, so every stream is either untouched or fully purged).
Streams of read-only channels are left out (and a dialog with only those offers
nothing to do).
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QDialog, QGroupBox, QHBoxLayout, QLabel, QListWidget,
                               QProgressBar, QPushButton, QRadioButton, QVBoxLayout)

from channels.time_interval import TimeInterval
from channels.utils import MAX_DATE, MIN_DATE, UTC

from hsgui.common.background import JobKind
from hsgui.common.timefmt import as_zone as _tz, format_interval as fmt_interval, readable_times

SCOPE_ALL = "all"
SCOPE_RANGE = "range"
SCOPE_DEFINITION = "definition"
ALL_TIME = TimeInterval(MIN_DATE, MAX_DATE)


def _count_job(ctx, streams, interval):
    """Per stream: (instances in all time, instances in ``interval`` or None)."""
    out = []
    for i, s in enumerate(streams):
        ctx.check()
        total = s.window(ALL_TIME).count()
        in_range = s.window(interval).count() if interval is not None else None
        out.append((total, in_range))
        ctx.report((i + 1) / len(streams), f"counted {i + 1} of {len(streams)} streams")
    return out


def _purge_job(ctx, streams, scope, interval, done: list):
    """Purge each stream in turn; ``done`` collects the stream ids purged so far (read after a cancel)."""
    deleted = 0
    for i, s in enumerate(streams):
        ctx.check()
        channel = s.channel
        if scope == SCOPE_RANGE:
            deleted += channel.purge_interval(s.stream_id, interval) or 0
        else:
            channel.purge_stream(s.stream_id, remove_definition=(scope == SCOPE_DEFINITION))
        done.append((channel.channel_id, s.stream_id))
        ctx.report((i + 1) / len(streams), f"purged {i + 1} of {len(streams)} streams")
    return deleted


class PurgeDialog(QDialog):
    """Confirm and run a purge of ``streams`` (Stream objects); ``interval`` is the current time range."""

    sigPurged = Signal(list, bool)   # StreamIds purged, whether their definitions were removed
    sigPurgedStreams = Signal(list, bool)   # the same as (channel_id, StreamId) pairs

    def __init__(self, runner, streams, interval: TimeInterval | None = None, parent=None, tz=UTC,
                 scope: str = SCOPE_ALL):
        super().__init__(parent)
        self.runner = runner
        self.tz = _tz(tz)
        self.interval = interval
        all_streams = list(streams)
        self.streams = [s for s in all_streams if not getattr(s.channel, "read_only", False)]
        self.skipped = [s for s in all_streams if getattr(s.channel, "read_only", False)]
        self.counts: list | None = None
        self.count_job = None
        self.job = None
        self.purged: list = []
        self.outcome: str | None = None
        self.error: str | None = None
        self._build(scope)
        self._start_count()

    def _build(self, scope):
        self.setWindowTitle("Purge streams")
        self.resize(560, 480)
        lay = QVBoxLayout(self)
        n = len(self.streams)
        head = QLabel(f"<b>Purge {n} stream{'s' if n != 1 else ''}</b>")
        lay.addWidget(head)
        if self.skipped:
            lay.addWidget(QLabel(f"{len(self.skipped)} stream(s) of read-only channels are left out"))

        box = QGroupBox("What to delete")
        bl = QVBoxLayout(box)
        self.scope_group = QButtonGroup(self)
        self.scope_all = QRadioButton("all data (the streams stay defined, nothing calculated)")
        rng = fmt_interval(self.interval, self.tz) if self.interval is not None else "no range chosen"
        self.scope_range = QRadioButton(f"only the current time range {rng}")
        self.scope_range.setEnabled(self.interval is not None)
        self.scope_definition = QRadioButton("the data and the definition (the streams disappear)")
        for b, key in ((self.scope_all, SCOPE_ALL), (self.scope_range, SCOPE_RANGE),
                       (self.scope_definition, SCOPE_DEFINITION)):
            b.setProperty("scope", key)
            self.scope_group.addButton(b)
            bl.addWidget(b)
        {SCOPE_ALL: self.scope_all, SCOPE_RANGE: self.scope_range,
         SCOPE_DEFINITION: self.scope_definition}.get(scope, self.scope_all).setChecked(True)
        self.scope_group.buttonToggled.connect(self._on_scope)
        lay.addWidget(box)

        self.count_label = QLabel("counting instances…")
        self.count_label.setWordWrap(True)
        lay.addWidget(self.count_label)
        self.stream_list = QListWidget()
        for s in self.streams:
            self.stream_list.addItem(f"{s.channel.channel_id} / {s.stream_id}")
        lay.addWidget(self.stream_list, 1)

        self.confirm_box = QCheckBox("I understand that this cannot be undone")
        self.confirm_box.toggled.connect(self._update_buttons)
        lay.addWidget(self.confirm_box)
        prow = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        prow.addWidget(self.progress, 1)
        self.status_label = QLabel("")
        prow.addWidget(self.status_label)
        lay.addLayout(prow)
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #c62828;")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        lay.addWidget(self.error_label)
        brow = QHBoxLayout()
        brow.addStretch(1)
        self.purge_button = QPushButton("Purge")
        self.purge_button.setStyleSheet("QPushButton:enabled { color: #c62828; font-weight: bold; }")
        self.purge_button.clicked.connect(self.purge)
        self.cancel_button = QPushButton("Cancel purge")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_purge)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        for b in (self.purge_button, self.cancel_button, self.close_button):
            brow.addWidget(b)
        lay.addLayout(brow)
        if not self.streams:
            self.count_label.setText("Nothing to purge: read-only channels offer no purge.")
            self.confirm_box.setEnabled(False)
        self._update_buttons()

    # -- scope / count -------------------------------------------------------------
    @property
    def scope(self) -> str:
        b = self.scope_group.checkedButton()
        return b.property("scope") if b is not None else SCOPE_ALL

    def set_scope(self, scope: str) -> None:
        {SCOPE_ALL: self.scope_all, SCOPE_RANGE: self.scope_range,
         SCOPE_DEFINITION: self.scope_definition}[scope].setChecked(True)

    def _start_count(self):
        if not self.streams:
            return
        self.count_job = self.runner.submit(f"count instances of {len(self.streams)} stream(s) to purge", _count_job,
                                            self.streams, self.interval, kind=JobKind.READ,
                                            on_result=self._on_counted, on_error=self._on_count_failed)

    def _on_counted(self, counts):
        self.counts = counts
        self._show_count()
        self._update_buttons()

    def _on_count_failed(self, message):
        self.count_label.setText(f"could not count the instances: {message}")

    def instances_to_delete(self) -> int | None:
        """How many instances the chosen scope deletes (None until counted)."""
        if self.counts is None:
            return None
        if self.scope == SCOPE_RANGE:
            return sum(r or 0 for _t, r in self.counts)
        return sum(t for t, _r in self.counts)

    def _show_count(self):
        n = self.instances_to_delete()
        if n is None:
            return
        k = len(self.streams)
        what = {SCOPE_ALL: "from", SCOPE_RANGE: "in the time range from",
                SCOPE_DEFINITION: "and the definitions of"}[self.scope]
        self.count_label.setText(f"<b>{n:,}</b> instance{'s' if n != 1 else ''} will be deleted {what} "
                                 f"{k} stream{'s' if k != 1 else ''}:")
        self.count_label.setTextFormat(Qt.TextFormat.RichText)

    def _on_scope(self, *_):
        self._show_count()
        self._update_buttons()

    def _update_buttons(self, *_):
        running = self.job is not None and self.outcome is None
        ready = bool(self.streams) and self.confirm_box.isChecked() and not running and self.outcome is None
        self.purge_button.setEnabled(ready)
        self.cancel_button.setEnabled(running)
        for b in (self.scope_all, self.scope_range, self.scope_definition, self.confirm_box):
            b.setEnabled(not running and self.outcome is None and bool(self.streams)
                         and (b is not self.scope_range or self.interval is not None))

    # -- purge ---------------------------------------------------------------------
    def purge(self):
        """Start the purge job (only when confirmed); returns the Job."""
        if not self.purge_button.isEnabled():
            return None
        busy = self.writing_jobs()
        if busy:
            names = "; ".join(f"“{j.title}”" for j in busy[:3])
            if len(busy) > 3:
                names += f" and {len(busy) - 3} more"
            one = len(busy) == 1
            what = "this stream" if len(self.streams) == 1 else "these streams"
            them = "it" if one else "them"
            self.error_label.setText(f"Not purged: {len(busy)} running job{'' if one else 's'} "
                                     f"write{'s' if one else ''} {what} ({names}). Wait for {them} to finish "
                                     f"or cancel {them} in the Jobs dock, then purge.")
            self.error_label.show()
            return None
        self.error_label.hide()
        self.purged = []
        self._removed_definition = self.scope == SCOPE_DEFINITION
        # outcome slots go in through submit() so they are connected before the job can finish
        self.job = self.runner.submit(f"purge {len(self.streams)} stream(s) ({self.scope})", _purge_job,
                                      self.streams, self.scope, self.interval, self.purged, kind=JobKind.PURGE,
                                      writes=[(s.channel.channel_id, s.stream_id) for s in self.streams],
                                      on_result=self._on_done, on_error=self._on_failed,
                                      on_cancel=self._on_cancelled)
        self.job.progress.connect(self._on_progress)
        self._update_buttons()
        return self.job

    def writing_jobs(self) -> list:
        """Running jobs that write any of the streams to purge (the purge is refused while there are any)."""
        writers_of = getattr(self.runner, "writers_of", None)
        if writers_of is None:
            return []
        return writers_of([(s.channel.channel_id, s.stream_id) for s in self.streams])

    def cancel_purge(self):
        if self.job is not None and self.outcome is None:
            self.job.cancel()
            self.status_label.setText("stopping after the current stream…")

    def _on_progress(self, fraction, text):
        if self.outcome is None:
            self.progress.setValue(int(fraction * 1000))
            self.status_label.setText(text)

    def _on_done(self, deleted):
        self.outcome = "ok"
        self.progress.setValue(1000)
        self.status_label.setText(f"purged {len(self.purged)} stream(s)")
        self._on_finished()

    def _on_failed(self, message):
        self.outcome = "error"
        self.error = message
        self.error_label.setText(f"Purge failed after {len(self.purged)} stream(s): "
                                 f"{readable_times(message, self.tz)}")
        self.error_label.show()
        self._on_finished()

    def _on_cancelled(self):
        self.outcome = "cancelled"
        self.status_label.setText(f"cancelled: {len(self.purged)} of {len(self.streams)} stream(s) purged")
        self._on_finished()

    def _on_finished(self):
        self._update_buttons()
        if self.purged:
            self.sigPurged.emit([sid for _c, sid in self.purged], self._removed_definition)
            self.sigPurgedStreams.emit(list(self.purged), self._removed_definition)

    def reject(self):
        if self.job is not None and self.outcome is None:
            return  # a purge in progress finishes (or is cancelled) before the dialog goes
        super().reject()


__all__ = ["PurgeDialog", "SCOPE_ALL", "SCOPE_RANGE", "SCOPE_DEFINITION"]
