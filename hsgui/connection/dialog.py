"""The Connect dialog: embedded store file, MongoDB URI, or HyperStream config file.

"Test connection" opens the store in a background job and reports within a
few seconds (the MongoDB store uses short timeouts, and the dialog gives up
waiting after :func:`test_wait_s` whatever happens), so a dead server never
freezes the dialog. When a timeout expired, the dialog says which and offers to
retry with longer ones, written into the URI (options written there win).
Recent connections are listed without passwords.
"""
from __future__ import annotations

import os

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QPushButton, QTabWidget, QVBoxLayout, QWidget)

from channels.utils import redact_text

from hsgui import settings as hs_settings
from hsgui.common.background import JobKind
from hsgui.common.connection import LONGER_TIMEOUT_MS, expired_timeout, longer_timeouts, open_connection, uri_timeouts

TEST_TIMEOUT_S = 8.0
EMBEDDED, MONGO, CONFIG = range(3)


def test_wait_s(uri: str) -> float:
    """How long the dialog waits for a test of ``uri``: ``TEST_TIMEOUT_S``, longer when the URI's timeouts are
    (the store may need one server selection for its check and another for its first read)."""
    longest = max(ms for ms, _ in uri_timeouts(uri).values()) / 1000
    return max(TEST_TIMEOUT_S, 2 * longest + 2)


def _test_connection(ctx, target: str) -> str:
    """Job: open the store, list its stream definitions, close it. Returns a one-line description."""
    manager = open_connection(ctx, target)
    try:
        n = sum(len(c.streams) for c in manager.database_channels)
        desc = getattr(manager.store, "description", "") or hs_settings.redact_target(target)
        return f"OK: {desc} — {n:,} streams"
    finally:
        manager.close()


class ConnectDialog(QDialog):
    """Pick a connection target. ``target()`` is a file path, a mongodb:// URI or a .json config path."""

    testFinished = Signal(bool, str)

    def __init__(self, runner, current: str | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Connect to a store")
        self.runner = runner
        self._test_job = None
        self.tabs = QTabWidget(self)

        # embedded file
        emb = QWidget()
        self.file_edit = QLineEdit(emb)
        self.file_edit.setPlaceholderText(hs_settings.default_store_path())
        open_btn = QPushButton("Open…", emb)
        new_btn = QPushButton("New…", emb)
        default_btn = QPushButton("Default", emb)
        open_btn.clicked.connect(self._open_file)
        new_btn.clicked.connect(self._new_file)
        default_btn.clicked.connect(lambda: self.file_edit.setText(hs_settings.default_store_path()))
        row = QHBoxLayout()
        row.addWidget(self.file_edit, 1)
        row.addWidget(open_btn)
        row.addWidget(new_btn)
        row.addWidget(default_btn)
        v = QVBoxLayout(emb)
        v.addWidget(QLabel("Embedded store: one SQLite file. A new file is created empty."))
        v.addLayout(row)
        v.addStretch(1)
        self.tabs.addTab(emb, "Embedded file")

        # mongodb
        mongo = QWidget()
        self.uri_edit = QLineEdit(mongo)
        self.uri_edit.setPlaceholderText("mongodb://user:password@host:27017/hyperstream")
        self.test_btn = QPushButton("Test connection", mongo)
        self.test_btn.clicked.connect(self.test_connection)
        self.retry_btn = QPushButton(f"Retry with {LONGER_TIMEOUT_MS / 1000:g} s timeouts", mongo)
        self.retry_btn.setToolTip("Writes longer serverSelectionTimeoutMS and connectTimeoutMS into the URI "
                                  "and tests again")
        self.retry_btn.clicked.connect(self.retry_with_longer_timeouts)
        self.retry_btn.hide()
        self.test_label = QLabel("", mongo)
        self.test_label.setWordWrap(True)
        self.test_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout(mongo)
        form.addRow("URI:", self.uri_edit)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_btn)
        test_row.addWidget(self.retry_btn)
        test_row.addStretch(1)
        form.addRow("", test_row)
        form.addRow("", self.test_label)
        self.tabs.addTab(mongo, "MongoDB")

        # config
        cfg = QWidget()
        self.config_edit = QLineEdit(cfg)
        self.config_edit.setPlaceholderText("hyperstream_config.json")
        browse = QPushButton("Browse…", cfg)
        browse.clicked.connect(self._browse_config)
        row = QHBoxLayout()
        row.addWidget(self.config_edit, 1)
        row.addWidget(browse)
        v = QVBoxLayout(cfg)
        v.addWidget(QLabel("HyperStream config file (its \"mongo\" section and plugins are used)."))
        v.addLayout(row)
        v.addStretch(1)
        self.tabs.addTab(cfg, "HyperStream config")

        self.recent = QListWidget(self)
        for t in hs_settings.recent_connections():
            self.recent.addItem(t)
        # only a choice sets the target: a click or the arrow keys select an item; focus arriving in the list
        # (say from a button that was disabled) makes an item current without selecting it
        self.recent.itemSelectionChanged.connect(self._recent_chosen)
        self.recent.itemClicked.connect(self._recent_chosen)
        self.recent.itemDoubleClicked.connect(lambda _i: self.accept())
        self.error_label = QLabel("", self)
        self.error_label.setStyleSheet("color: #b02020;")
        self.error_label.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Connect")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(QLabel("Recent connections:"))
        layout.addWidget(self.recent, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self.resize(620, 420)
        if current:
            self.set_target(current)

    # -- target -------------------------------------------------------------------------
    def set_target(self, target: str) -> None:
        if not target:
            return
        if hs_settings.is_mongo_uri(target):
            self.tabs.setCurrentIndex(MONGO)
            # shown redacted: the real URI stays in memory (target() gives it back while the text is unchanged)
            self.uri_edit.setText(hs_settings.remember_target(target))
        elif target.lower().endswith(".json"):
            self.tabs.setCurrentIndex(CONFIG)
            self.config_edit.setText(target)
        else:
            self.tabs.setCurrentIndex(EMBEDDED)
            self.file_edit.setText(target)

    def _recent_chosen(self, *_):
        chosen = self.recent.selectedItems()
        if chosen:
            self.set_target(chosen[0].text())

    def target(self) -> str:
        tab = self.tabs.currentIndex()
        if tab == MONGO:
            return self._uri()
        if tab == CONFIG:
            return self.config_edit.text().strip()
        return self.file_edit.text().strip() or hs_settings.default_store_path()

    def _uri(self) -> str:
        text = self.uri_edit.text().strip()
        return hs_settings.session_target(text) or text if "***" in text else text

    def validate(self) -> str | None:
        """A message when the target cannot work, else None."""
        t = self.target()
        tab = self.tabs.currentIndex()
        if not t:
            return "Enter a target first."
        if tab == MONGO and not hs_settings.is_mongo_uri(t):
            return f"{hs_settings.redact_uri(t)!r} is not a MongoDB URI (it must start with mongodb:// or mongodb+srv://)."
        if tab == MONGO and hs_settings.needs_password(t):
            return "The password is not saved: type it in place of *** in the URI."
        if tab == CONFIG and not os.path.isfile(t):
            return f"Config file {t} does not exist."
        if tab == EMBEDDED and os.path.isdir(t):
            return f"{t} is a folder; choose or name a store file."
        return None

    def accept(self):
        msg = self.validate()
        if msg:
            self.error_label.setText(msg)
            return
        self._stop_test()
        super().accept()

    def reject(self):
        self._stop_test()
        super().reject()

    # -- files ------------------------------------------------------------------------------
    def _open_file(self):
        path, _ = QFileDialog.getOpenFileName(self, "Open store", os.path.dirname(self.target()),
                                              "Store (*.sqlite *.db);;All files (*)")
        if path:
            self.file_edit.setText(path)

    def _new_file(self):
        path, _ = QFileDialog.getSaveFileName(self, "New store", os.path.dirname(self.target()),
                                              "Store (*.sqlite)")
        if path:
            self.file_edit.setText(path)

    def _browse_config(self):
        path, _ = QFileDialog.getOpenFileName(self, "HyperStream config", "", "JSON (*.json);;All files (*)")
        if path:
            self.config_edit.setText(path)

    # -- test connection ------------------------------------------------------------------
    def test_connection(self):
        self._stop_test()
        target = self._uri()
        if not hs_settings.is_mongo_uri(target):
            self._test_done(False, "Enter a mongodb:// URI first.")
            return None
        if self.test_btn.hasFocus() or self.retry_btn.hasFocus():
            self.uri_edit.setFocus()   # a disabled button hands focus on to the next widget: keep it on the URI
        self.test_btn.setEnabled(False)
        self.retry_btn.hide()
        self.test_label.setStyleSheet("")
        self.test_label.setText(f"Connecting to {hs_settings.redact_uri(target)}…")
        # every test replaced or timed out is cancelled (_stop_test, _test_done): only the current one answers
        job = self._test_job = self.runner.submit(
            f"Test connection to {hs_settings.redact_uri(target)}", _test_connection, target, kind=JobKind.TEST,
            owner=self, on_result=lambda text: self._test_done(True, text),
            on_error=lambda msg: self._test_done(False, msg))
        wait = test_wait_s(target)
        QTimer.singleShot(int(wait * 1000), self, lambda j=job: j is self._test_job and self._test_done(
            False, f"No answer from {hs_settings.redact_uri(target)} within {wait:g} s.", timed_out=True))
        return job

    def retry_with_longer_timeouts(self):
        """Test again with longer timeouts written into the URI (what Connect then uses, too)."""
        longer = longer_timeouts(self._uri())
        if longer is not None:
            self.uri_edit.setText(hs_settings.remember_target(longer))   # shown redacted, kept for this session
        return self.test_connection()

    def _stop_test(self):
        if self._test_job is not None:
            self._test_job.cancel()
            self._test_job = None

    def _test_done(self, ok: bool, text: str, timed_out: bool = False):
        if self._test_job is not None:
            self._test_job.cancel()
        self._test_job = None
        self.test_btn.setEnabled(True)
        self.test_label.setStyleSheet("" if ok else "color: #b02020;")
        text = redact_text(text)
        self.test_label.setText(text)
        if ok:
            self.error_label.setText("")   # an earlier failure is no longer the state shown
        timed_out = timed_out or expired_timeout(text) is not None
        self.retry_btn.setVisible(not ok and timed_out and longer_timeouts(self._uri()) is not None)
        self.testFinished.emit(ok, text)
