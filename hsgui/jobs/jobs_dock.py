"""The Jobs dock: every background job with its progress, elapsed time and a Cancel button.

A table model over ``JobRunner.jobs`` (newest first); a delegate paints the
progress bar and the Cancel button, so a thousand finished count jobs cost
nothing. Background tree counts are hidden unless "Show tree counts" is ticked.

Reads (table pages, inspector statistics, spans, plot reads…) happen all the time and would bury the tool
run the user cares about, so unless "Show reads" is ticked a read is listed only once it has run for
:data:`READ_LISTED_AFTER_S` seconds (long enough that one may want to cancel it) and only until it ends; a
failed read stays listed. The header counts the finished reads it does not list ("104 finished reads
hidden"), so what it says and what the list shows agree.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QCheckBox, QHBoxLayout, QHeaderView, QLabel,
                               QProgressBar, QPushButton, QStyle, QStyledItemDelegate, QStyleOptionButton,
                               QStyleOptionProgressBar, QTableView, QVBoxLayout, QWidget)

from channels.utils import redact_text
from hsgui.common.background import JobKind, JobState, guarded

COL_TITLE, COL_STATE, COL_PROGRESS, COL_ELAPSED, COL_CANCEL = range(5)
HEADERS = ("Job", "State", "Progress", "Elapsed", "")
JobRole = Qt.ItemDataRole.UserRole + 1
READ_LISTED_AFTER_S = 1.0   # with "Show reads" off, a running read is listed once it ran this long


def format_elapsed(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 600:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


class JobListModel(QAbstractTableModel):
    def __init__(self, runner, parent=None):
        super().__init__(parent)
        self.runner = runner
        self._jobs: list = []   # newest first
        self._texts: dict = {}  # job id -> last progress text
        runner.jobAdded.connect(guarded(self, self._added))
        for job in reversed(runner.jobs):
            self._added(job, reset=False)
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _added(self, job, reset=True):
        if len(self._jobs) > 600:
            keep = [j for j in self._jobs[:400]] + [j for j in self._jobs[400:] if not j.is_finished]
            self.beginResetModel()
            self._jobs = keep
            self.endResetModel()
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._jobs.insert(0, job)
        self.endInsertRows()
        job.stateChanged.connect(guarded(self, lambda j=job: self._changed(j)))
        job.progress.connect(guarded(self, lambda f, text, j=job: self._progress(j, text)))

    def _row(self, job) -> int:
        try:
            return self._jobs.index(job)
        except ValueError:
            return -1

    def _changed(self, job):
        r = self._row(job)
        if r >= 0:
            self.dataChanged.emit(self.index(r, 0), self.index(r, len(HEADERS) - 1))

    def _progress(self, job, text):
        if text:
            self._texts[job.id] = text
        self._changed(job)

    def _tick(self):
        for r, job in enumerate(self._jobs):
            if job.state == JobState.RUNNING:
                self.dataChanged.emit(self.index(r, COL_PROGRESS), self.index(r, COL_ELAPSED))

    def job(self, row):
        return self._jobs[row]

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self._jobs)

    def columnCount(self, parent=QModelIndex()):
        return len(HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        job = self._jobs[index.row()]
        col = index.column()
        if role == JobRole:
            return job
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_TITLE:
                return redact_text(job.title)
            if col == COL_STATE:
                if job.state == JobState.FAILED:
                    return "failed: " + redact_text(job.error or "")
                return job.state.value
            if col == COL_PROGRESS:
                return self._texts.get(job.id, "")
            if col == COL_ELAPSED:
                return format_elapsed(job.elapsed) if job.started_at else ""
            if col == COL_CANCEL:
                return "Cancel"
        if role == Qt.ItemDataRole.ToolTipRole:
            if job.state == JobState.FAILED:
                return redact_text(job.traceback or job.error or "")
            return redact_text(job.title + (("\n" + self._texts[job.id]) if job.id in self._texts else ""))
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_STATE and job.state == JobState.FAILED:
            from PySide6.QtGui import QColor
            return QColor(190, 30, 30)
        return None


def read_is_listed(job, now: float | None = None) -> bool:
    """Whether a read job is listed while "Show reads" is off: it failed, or it is still running and has run
    for READ_LISTED_AFTER_S seconds or more. A finished read is never listed then (the header counts it)."""
    if job.state == JobState.FAILED:
        return True
    if job.is_finished or job.started_at is None:
        return False
    now = time.monotonic() if now is None else now
    return now - job.started_at >= READ_LISTED_AFTER_S


def hidden_read(job) -> bool:
    """A read the list leaves out while "Show reads" is off and the header counts: finished, not failed."""
    return job.kind == "read" and job.is_finished and job.state != JobState.FAILED


class _KindFilter(QSortFilterProxyModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.show_counts = False
        self.show_reads = False

    def accepts(self, job, now: float | None = None) -> bool:
        if job.kind is JobKind.COUNT:
            return self.show_counts
        if job.kind is JobKind.READ and not self.show_reads:
            return read_is_listed(job, now)
        return True

    def filterAcceptsRow(self, row, parent):
        return self.accepts(self.sourceModel().job(row))


class JobDelegate(QStyledItemDelegate):
    """Paints progress bars and Cancel buttons (no per-row widgets)."""

    cancelClicked = Signal(object)

    def paint(self, painter, option, index):
        job = index.data(JobRole)
        col = index.column()
        if col == COL_PROGRESS and job is not None:
            opt = QStyleOptionProgressBar()
            opt.rect = option.rect.adjusted(2, 2, -2, -2)
            opt.minimum, opt.maximum = 0, 1000
            opt.progress = int(job.fraction * 1000) if job.state != JobState.DONE else 1000
            text = index.data() or ""
            opt.text = f"{job.fraction * 100:.0f}%" + (f"  {text}" if text else "")
            opt.textVisible = True
            opt.state = option.state | QStyle.StateFlag.State_Horizontal
            QApplication.style().drawControl(QStyle.ControlElement.CE_ProgressBar, opt, painter)
            return
        if col == COL_CANCEL and job is not None:
            if job.is_finished:
                return
            opt = QStyleOptionButton()
            opt.rect = option.rect.adjusted(2, 1, -2, -1)
            opt.text = "Cancelling…" if job.cancel_event.is_set() else "Cancel"
            opt.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Raised
            QApplication.style().drawControl(QStyle.ControlElement.CE_PushButton, opt, painter)
            return
        super().paint(painter, option, index)


class JobsDock(QWidget):
    """The contents of the Jobs dock."""

    def __init__(self, runner, parent=None):
        super().__init__(parent)
        self.runner = runner
        self.model = JobListModel(runner, self)
        self.proxy = _KindFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = QTableView(self)
        self.view.setModel(self.proxy)
        self.view.setItemDelegate(JobDelegate(self.view))
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.setWordWrap(False)
        self.view.setTabKeyNavigation(False)   # Tab leaves the table instead of walking its cells
        h = self.view.horizontalHeader()
        h.setSectionResizeMode(COL_TITLE, QHeaderView.ResizeMode.Stretch)
        for c, w in ((COL_STATE, 110), (COL_PROGRESS, 220), (COL_ELAPSED, 70), (COL_CANCEL, 90)):
            h.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)
            h.resizeSection(c, w)
        self.view.clicked.connect(self._clicked)
        self.show_counts = QCheckBox("Show tree counts", self)
        self.show_counts.toggled.connect(self._toggle_counts)
        self.show_reads = QCheckBox("Show reads", self)
        self.show_reads.setToolTip("List every read (table pages, inspector, spans, plot reads…). Off: a read "
                                   f"is listed only while it runs longer than {READ_LISTED_AFTER_S:.0f} s, so "
                                   "it can be cancelled; failed reads always stay listed.")
        self.show_reads.toggled.connect(self._toggle_reads)
        self.cancel_all = QPushButton("Cancel all", self)
        self.cancel_all.clicked.connect(runner.cancel_all)
        self.summary = QLabel("", self)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.show_reads)
        bar.addWidget(self.show_counts)
        bar.addWidget(self.cancel_all)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        runner.jobAdded.connect(guarded(self, lambda _j: self._update_summary()))
        runner.jobFinished.connect(guarded(self, lambda _j: self._update_summary()))
        # a running read is listed once it ran READ_LISTED_AFTER_S (the model's progress tick re-filters running
        # rows); this timer only covers a read whose row no tick touches
        self._listing_timer = QTimer(self)
        self._listing_timer.setInterval(500)
        self._listing_timer.timeout.connect(self._refilter_reads)
        self._listing_timer.start()
        self._update_summary()

    def _set_filter(self, **flags):
        if hasattr(self.proxy, "beginFilterChange"):  # Qt >= 6.9
            self.proxy.beginFilterChange()
            for k, v in flags.items():
                setattr(self.proxy, k, v)
            self.proxy.endFilterChange()
        else:
            for k, v in flags.items():
                setattr(self.proxy, k, v)
            self.proxy.invalidateFilter()

    def _toggle_counts(self, on):
        self._set_filter(show_counts=on)
        self._update_summary()

    def _toggle_reads(self, on):
        self._set_filter(show_reads=on)
        self._update_summary()

    def _refilter_reads(self):
        """Re-filter when a running read became due for listing (nothing to do while "Show reads" is on)."""
        if self.proxy.show_reads:
            return
        now = time.monotonic()
        listed = {j.id for j in self.visible_jobs()}
        if any(self.proxy.accepts(j, now) != (j.id in listed) for j in self.runner.active if j.kind == "read"):
            self._set_filter()

    def hidden_reads(self) -> int:
        """How many finished reads the list leaves out (0 while "Show reads" is on)."""
        if self.proxy.show_reads:
            return 0
        return sum(1 for r in range(self.model.rowCount()) if hidden_read(self.model.job(r)))

    def _update_summary(self):
        active = self.runner.active
        failed = sum(1 for j in self.runner.jobs if j.state == JobState.FAILED)
        text = f"{len(active)} running" + (f", {failed} failed" if failed else "")
        hidden = self.hidden_reads()
        if hidden:
            text += f" · {hidden} finished read{'s' if hidden != 1 else ''} hidden"
        self.summary.setText(text)

    def _clicked(self, proxy_index):
        if proxy_index.column() != COL_CANCEL:
            return
        job = proxy_index.data(JobRole)
        if job is not None and not job.is_finished:
            job.cancel()
            self.model._changed(job)

    def job_at(self, row):
        return self.proxy.index(row, 0).data(JobRole)

    def visible_jobs(self) -> list:
        """The jobs listed in the view, top to bottom (newest first), after the count/read filters."""
        return [self.job_at(r) for r in range(self.proxy.rowCount())]


class JobStatusWidget(QWidget):
    """Status-bar item: the active job's title and progress (count jobs stay quiet)."""

    def __init__(self, runner, parent=None):
        super().__init__(parent)
        self.runner = runner
        self.label = QLabel("", self)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setMaximumWidth(160)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        self._timer = QTimer(self)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self.update_now)
        runner.jobAdded.connect(guarded(self, lambda _j: self._wake()))
        runner.jobFinished.connect(guarded(self, lambda _j: self.update_now()))
        self.update_now()

    def _wake(self):
        if not self._timer.isActive():
            self._timer.start()
        self.update_now()

    def active_job(self):
        active = [j for j in self.runner.active if j.kind is not JobKind.COUNT]
        running = [j for j in active if j.state == JobState.RUNNING]
        return (running or active or [None])[-1]

    def update_now(self):
        job = self.active_job()
        if job is None:
            n = len(self.runner.active)
            self.label.setText(f"counting ({n})…" if n else "")
            self.bar.setVisible(False)
            if not n:
                self._timer.stop()
            return
        others = len([j for j in self.runner.active if j.kind is not JobKind.COUNT]) - 1
        self.label.setText(redact_text(job.title) + (f"  (+{others} more)" if others > 0 else "")
                           + f"  {format_elapsed(job.elapsed)}")
        self.bar.setVisible(True)
        self.bar.setValue(int(job.fraction * 1000))
