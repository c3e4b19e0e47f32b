"""PNG export at a chosen size: the pixel width (the height follows the on-screen shape) and the resolution
(DPI) written into the file, so a figure for a report or a print is not stuck at the pane's on-screen size.

:func:`render_png` draws any widget (a pane, the stacked panes) scaled into an image — the plots are vector
drawings, so a larger image is sharper, not a blown-up screenshot.
"""
from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QWidget

SCREEN_DPI = 96
MAX_WIDTH = 20000
INCH_M = 0.0254


def render_png(widget: QWidget, path: str, width: int | None = None, dpi: int | None = None) -> tuple[int, int]:
    """Write ``widget`` as it looks, scaled to ``width`` pixels (default: its on-screen width), with ``dpi``
    recorded in the file (default 96); returns the image's ``(width, height)``."""
    w0, h0 = max(1, widget.width()), max(1, widget.height())
    width = int(width or w0)
    if not 1 <= width <= MAX_WIDTH:
        raise ValueError(f"PNG width must be 1…{MAX_WIDTH} pixels, got {width}")
    dpi = int(dpi or SCREEN_DPI)
    if not 10 <= dpi <= 2400:
        raise ValueError(f"PNG resolution must be 10…2400 DPI, got {dpi}")
    scale = width / w0
    height = max(1, round(h0 * scale))
    image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.scale(scale, scale)
        QWidget.render(widget, painter, QPoint(0, 0))   # the widget as drawn (a QGraphicsView's own render is the scene)
    finally:
        painter.end()
    per_metre = round(dpi / INCH_M)
    image.setDotsPerMeterX(per_metre)
    image.setDotsPerMeterY(per_metre)
    if not image.save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    return width, height


class PngSizeDialog(QDialog):
    """Asks for the PNG's width in pixels (height shown, following the on-screen shape) and its DPI."""

    def __init__(self, on_screen_width: int, on_screen_height: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle("PNG size")
        self._ratio = on_screen_height / max(1, on_screen_width)
        self.width_box = QSpinBox(self)
        self.width_box.setRange(100, MAX_WIDTH)
        self.width_box.setSuffix(" px")
        self.width_box.setValue(max(100, on_screen_width))
        self.dpi_box = QSpinBox(self)
        self.dpi_box.setRange(10, 2400)
        self.dpi_box.setSuffix(" DPI")
        self.dpi_box.setValue(SCREEN_DPI)
        self.height_label = QLabel(self)
        self.width_box.valueChanged.connect(self._show_height)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(f"Width (on screen {on_screen_width} px):", self.width_box)
        form.addRow("Height:", self.height_label)
        form.addRow("Resolution:", self.dpi_box)
        form.addRow(buttons)
        self._show_height()

    def _show_height(self):
        self.height_label.setText(f"{round(self.width_box.value() * self._ratio)} px")

    def size(self) -> tuple[int, int]:
        """``(width, dpi)`` as chosen."""
        return self.width_box.value(), self.dpi_box.value()


__all__ = ["render_png", "PngSizeDialog"]
