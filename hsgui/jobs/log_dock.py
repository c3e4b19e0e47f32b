"""The Log dock: the library's and the app's log records, newest at the bottom.

A ``logging.Handler`` hands each record to a QObject signal, so records logged
on worker threads reach the widget through a queued connection. Only
``channels``, ``hsgui`` and ``resources`` loggers are attached.

The dock is also the history of what happened: every job's end (done, failed or cancelled, with how long it
took and what it last reported) is a record — at Info, reads and tree counts at Debug, so the thousands of
plot reads stay out of the Info view — and so is every status-bar message (:func:`log_status_messages`), which
the status bar shows only for a few seconds. Choosing "Debug" lowers the attached loggers to Debug while it is
chosen.
"""
from __future__ import annotations

import logging
from datetime import datetime

from PySide6.QtCore import QObject, Signal

from channels.utils import redact_text
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from .jobs_dock import format_elapsed

LOGGERS = ("channels", "hsgui", "resources")
#: job kinds that run all the time (plot reads, inspector, table pages, tree counts): their ends log at Debug
QUIET_KINDS = frozenset({"read", "count"})
job_log = logging.getLogger("hsgui.jobs")
status_log = logging.getLogger("hsgui.status")
LEVELS = (("Debug", logging.DEBUG), ("Info", logging.INFO), ("Warning", logging.WARNING), ("Error", logging.ERROR))


class RedactFilter(logging.Filter):
    """Redacts every URI in a record (its message, arguments and traceback) with the project's one rule
    (:func:`channels.utils.redact_text`) before any handler writes it: the Log dock, stderr, a log file."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record whose arguments do not fit its format: keep it as it is
            return True
        clean = redact_text(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


def install_redaction(logger: logging.Logger | None = None) -> None:
    """Put :class:`RedactFilter` on every handler of ``logger`` (the root logger: stderr) that lacks one."""
    for h in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactFilter) for f in h.filters):
            h.addFilter(RedactFilter())


def job_end_text(job) -> str:
    """One line for a finished job: its outcome, title, duration and what it last reported (or its error)."""
    outcome = job.state.value
    text = f"{outcome}: {job.title} ({format_elapsed(job.elapsed)})"
    if job.error:
        text += f" — {job.error}"
    else:
        detail = getattr(job, "last_progress_text", "") or _result_text(job.result)
        if detail:
            text += f" — {detail}"
    return redact_text(text)


def _result_text(result) -> str:
    """A short word on a job's result when it is a plain count or message (other results say nothing here)."""
    if isinstance(result, bool) or result is None:
        return ""
    if isinstance(result, int):
        return f"{result:,}"
    if isinstance(result, str) and len(result) <= 200:
        return result
    return ""


def log_job_end(job) -> None:
    """Log ``job``'s end: at Info, or at Debug for a read or count that did not fail."""
    quiet = job.kind in QUIET_KINDS and job.state.value != "failed"
    job_log.log(logging.DEBUG if quiet else logging.INFO, "%s", job_end_text(job))


def log_job_ends(runner) -> None:
    """Log the end of every job ``runner`` (a :class:`hsgui.common.background.JobRunner`) finishes from now on;
    remembers each job's last progress text for the line."""
    def added(job):
        job.last_progress_text = ""
        job.progress.connect(lambda _f, text, j=job: setattr(j, "last_progress_text", text) if text else None)
    runner.jobAdded.connect(added)
    runner.jobFinished.connect(log_job_end)


def log_status_messages(status_bar) -> None:
    """Log every message ``status_bar`` (a QStatusBar) shows, at Info: it shows one for seconds only, the Log
    dock keeps it. The shell calls this once for its window's status bar."""
    status_bar.messageChanged.connect(lambda text: status_log.info("%s", text) if text else None)


class _Emitter(QObject):
    record = Signal(object)


class QtLogHandler(logging.Handler):
    """Forwards records (from any thread) to :attr:`emitter.record`."""

    def __init__(self, level=logging.DEBUG):
        super().__init__(level)
        self.emitter = _Emitter()
        self.addFilter(RedactFilter())

    def emit(self, record):
        try:
            self.emitter.record.emit(record)
        except RuntimeError:  # the emitter was deleted at shutdown
            pass


class LogDock(QWidget):
    MAX_LINES = 5000

    def __init__(self, parent=None, loggers=LOGGERS, runner=None):
        """``runner``: the app's JobRunner, whose jobs' ends this dock logs (:func:`log_job_ends`)."""
        super().__init__(parent)
        self.records: list[logging.LogRecord] = []
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(self.MAX_LINES)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.level = QComboBox(self)
        for name, value in LEVELS:
            self.level.addItem(name, value)
        self.level.setCurrentIndex(1)
        self.level.currentIndexChanged.connect(self._level_chosen)
        clear = QPushButton("Clear", self)
        clear.clicked.connect(self.clear)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("Show:", self))
        bar.addWidget(self.level)
        bar.addStretch(1)
        bar.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.text, 1)
        self.handler = QtLogHandler()
        self.handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        self.handler.emitter.record.connect(self._add)
        install_redaction()   # stderr too (the handlers the app set up with logging.basicConfig)
        self._loggers = [logging.getLogger(n) for n in loggers]
        for lg in self._loggers:
            lg.addHandler(self.handler)
            if lg.level == logging.NOTSET or lg.level > logging.INFO:
                lg.setLevel(logging.INFO)
        self._levels = {lg.name: lg.level for lg in self._loggers}   # as set up; Debug lowers them while chosen
        if runner is not None:
            log_job_ends(runner)

    def _level_chosen(self):
        chosen = self.level.currentData()
        for lg in self._loggers:
            lg.setLevel(min(chosen, self._levels[lg.name]))
        self._refill()

    def detach(self):
        for lg in self._loggers:
            lg.removeHandler(self.handler)
            lg.setLevel(self._levels[lg.name])

    def clear(self):
        self.records.clear()
        self.text.clear()

    def _line(self, record) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        try:
            msg = self.handler.format(record)
        except Exception:  # noqa: BLE001
            msg = str(record.msg)
        return f"{when} {record.levelname:<7} {msg}"

    def _append(self, record):
        fmt = QTextCharFormat()
        if record.levelno >= logging.ERROR:
            fmt.setForeground(QColor(190, 30, 30))
        elif record.levelno >= logging.WARNING:
            fmt.setForeground(QColor(160, 100, 0))
        cursor = self.text.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if not self.text.document().isEmpty():
            cursor.insertBlock()
        cursor.insertText(self._line(record), fmt)
        self.text.ensureCursorVisible()

    def _add(self, record):
        self.records.append(record)
        if len(self.records) > self.MAX_LINES:
            del self.records[: len(self.records) - self.MAX_LINES]
        if record.levelno >= self.level.currentData():
            self._append(record)

    def _refill(self):
        self.text.clear()
        for r in self.records:
            if r.levelno >= self.level.currentData():
                self._append(r)

    def plain_text(self) -> str:
        return self.text.toPlainText()
