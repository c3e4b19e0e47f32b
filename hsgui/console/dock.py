"""A Python console dock: an in-process IPython kernel (qtconsole) with the app's objects bound.

Optional: it needs the ``console`` extra (``pip install 'hyperstream-studio[console]'``, i.e. qtconsole and
ipykernel). Without it the dock says how to install it. The kernel starts only when the dock is first
shown, so the app pays nothing for a console it never opens.

Bound names (kept current by :meth:`ConsoleDock.bind`): ``manager`` (the ChannelManager), ``stream`` (the
selected stream or None), ``view`` (that stream over the visible time range), ``window`` (the main window).
The kernel runs in the GUI thread: a long computation typed here blocks the window, as in any in-process
console — run heavy work as a tool instead.
"""
from __future__ import annotations

import logging
import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'hyperstream-studio[console]'"
BANNER = ("HyperStream Studio console. Bound: manager, stream (the selected stream), view (it over the visible "
          "range), window.\n")


class ConsoleDock(QWidget):
    """Holds the console widget once started, or the install hint when qtconsole is missing."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.names: dict = {"manager": None, "stream": None, "view": None}
        self.kernel_manager = None
        self.kernel_client = None
        self.widget = None          # the RichJupyterWidget, once started
        self.hint: QLabel | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.placeholder = QLabel("The console starts when this dock is shown.")
        self._layout.addWidget(self.placeholder)

    @property
    def started(self) -> bool:
        return self.widget is not None

    @property
    def namespace(self) -> dict | None:
        """The kernel's user namespace (None before it started)."""
        return None if self.kernel_manager is None else self.kernel_manager.kernel.shell.user_ns

    def showEvent(self, event):
        super().showEvent(event)
        if self.widget is None and self.hint is None:
            self.start()

    def start(self) -> bool:
        """Start the kernel and the console widget; False (and the install hint shown) without the extra."""
        if self.widget is not None:
            return True
        os.environ.setdefault("QT_API", "pyside6")
        os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")   # ipykernel's debugger notice on stderr
        try:
            from qtconsole.inprocess import QtInProcessKernelManager
            from qtconsole.rich_jupyter_widget import RichJupyterWidget
        except ImportError as e:
            self._show_hint(e)
            return False
        km = QtInProcessKernelManager()
        km.start_kernel(show_banner=False)
        km.kernel.gui = "qt"
        kc = km.client()
        kc.start_channels()
        w = RichJupyterWidget()
        w.banner = BANNER
        w.kernel_manager, w.kernel_client = km, kc
        self.kernel_manager, self.kernel_client, self.widget = km, kc, w
        self.placeholder.hide()
        self._layout.addWidget(w)
        # run_script(path, argv): a HyperStream 0.3.8 script, unchanged (``import hyperstream`` is our layer);
        # HyperStream's API is imported with the kernel, not on the app's start path
        from channels.hyperstream import run_script
        km.kernel.shell.push({"run_script": run_script, **self.names})
        return True

    def focus_input(self) -> None:
        """Put the keyboard focus on the console's input line (what a user types next goes there)."""
        if self.widget is not None:
            self.widget._control.setFocus(Qt.FocusReason.OtherFocusReason)

    def _show_hint(self, error) -> None:
        self.placeholder.hide()
        self.hint = QLabel(f"The Python console needs the optional <b>console</b> extra (qtconsole, ipykernel), "
                           f"which is not installed ({error.name or error}).<br><br>Install it with "
                           f"<code>{INSTALL_HINT}</code> and restart the app.")
        self.hint.setWordWrap(True)
        self.hint.setTextInteractionFlags(self.hint.textInteractionFlags() | self.hint.textInteractionFlags().
                                          TextSelectableByMouse)
        self._layout.addWidget(self.hint)

    def bind(self, **names) -> None:
        """Set names in the console's namespace (now, or when it starts)."""
        self.names.update(names)
        if self.kernel_manager is not None:
            self.kernel_manager.kernel.shell.push(names)

    def execute(self, source: str, hidden: bool = False) -> None:
        """Run ``source`` in the console as if typed (needs a started console)."""
        self.widget.execute(source, hidden=hidden)

    def shutdown(self) -> None:
        if self.kernel_client is not None:
            self.kernel_client.stop_channels()
        if self.kernel_manager is not None:
            try:
                self.kernel_manager.shutdown_kernel()
            except Exception:  # noqa: BLE001 - quitting: a kernel that will not stop must not keep the app
                log.exception("stopping the console kernel failed")
        self.kernel_client = self.kernel_manager = None
