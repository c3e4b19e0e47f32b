"""Exports a user asks for: a pane's curves as aligned CSV columns over the visible range; all panes as one PNG
or SVG."""
from __future__ import annotations

import csv
from datetime import datetime, timedelta

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QFileDialog

from channels.memory_channel import MemoryChannel
from channels.stream import StreamInstance
from channels.time_interval import TimeInterval
from channels.utils import UTC
from hsgui.common.background import JobRunner
from hsgui.plotting.plot_area import PlotArea
from hsgui.plotting.plot_data import align_columns

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def make_area(qtbot):
    ch = MemoryChannel("mem")
    ch.create_stream("hourly").writer([StreamInstance._make((T0 + timedelta(hours=i + 1), float(i)))
                                       for i in range(24)])
    ch.create_stream("two_hourly").writer([StreamInstance._make((T0 + timedelta(hours=2 * (i + 1)), 100.0 + i))
                                           for i in range(12)])
    runner = JobRunner()
    area = PlotArea(runner, lambda cid, sid: ch[sid])
    qtbot.addWidget(area)
    area.resize(900, 600)
    area.show()
    qtbot.waitExposed(area)
    area.add_stream(ch["hourly"])
    area.add_stream(ch["two_hourly"])
    qtbot.waitUntil(lambda: len(area.curves()) == 2 and not area.busy, timeout=5000)
    return area, runner, ch


def test_pane_csv_has_one_aligned_column_per_curve(qtbot, tmp_path, monkeypatch):
    area, runner, _ch = make_area(qtbot)
    try:
        area.set_interval(TimeInterval(T0 + timedelta(hours=4), T0 + timedelta(hours=8)))
        out = tmp_path / "pane.csv"
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "CSV (*.csv)"))
        pane = area.panes[0]
        menu = pane.export_button.menu()
        next(a for a in menu.actions() if a.text().startswith("Visible data of every curve")).trigger()
        qtbot.waitUntil(lambda: out.exists(), timeout=5000)
        rows = list(csv.reader(out.open()))
        assert rows[0][:2] == ["time", "epoch_ms"] and sorted(rows[0][2:]) == ["hourly", "two_hourly"]
        h, t = rows[0].index("hourly"), rows[0].index("two_hourly")
        # hours 5..8: hourly at each, two_hourly at 6 and 8 only
        assert [[r[h], r[t]] for r in rows[1:]] == [["4.0", ""], ["5.0", "102.0"], ["6.0", ""], ["7.0", "103.0"]]
        assert rows[1][0] == "2024-03-01T05:00:00.000+00:00"
    finally:
        area.close()
        assert runner.shutdown(10000)


def answer_png_size(qtbot, width=None, dpi=None):
    """When the PNG size dialog comes up: type ``width`` and ``dpi`` (None: leave as offered) and press Enter."""
    def answer():
        dlg = QApplication.activeModalWidget()
        if dlg is None:
            QTimer.singleShot(20, answer)
            return
        for box, value in ((dlg.width_box, width), (dlg.dpi_box, dpi)):
            if value is not None:
                box.setFocus()
                box.selectAll()
                qtbot.keyClicks(box, str(value))
        qtbot.keyClick(dlg.width_box, Qt.Key.Key_Return)
    QTimer.singleShot(0, answer)


def test_a_pane_exports_as_png_at_the_size_and_dpi_asked(qtbot, tmp_path, monkeypatch):
    area, runner, _ch = make_area(qtbot)
    try:
        pane = area.panes[0]
        out = tmp_path / "pane.png"
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "PNG (*.png)"))
        answer_png_size(qtbot, width=2400, dpi=300)
        next(a for a in pane.export_button.menu().actions() if a.text() == "Pane as PNG…").trigger()
        img = QImage(str(out))
        on_screen = pane.plot_widget.width(), pane.plot_widget.height()
        assert img.width() == 2400 and on_screen[0] < 1000
        assert abs(img.height() - round(on_screen[1] * 2400 / on_screen[0])) <= 1    # the on-screen shape
        assert round(img.dotsPerMeterX() * 0.0254) == 300
        # drawn at that size, not a blown-up screenshot: the curve's line is still about one pixel wide
        dark = sum(1 for x in range(0, img.width(), 7) for y in range(img.height())
                   if QImage.pixelColor(img, x, y).lightness() < 120)
        assert dark < img.width() * img.height() / 40
    finally:
        area.close()
        assert runner.shutdown(10000)


def test_all_panes_in_one_png(qtbot, tmp_path, monkeypatch):
    area, runner, ch = make_area(qtbot)
    try:
        pane2 = area.add_pane()
        area.add_stream(ch["hourly"], pane=pane2)
        qtbot.waitUntil(lambda: len(area.curves()) == 3 and not area.busy, timeout=5000)
        out = tmp_path / "all.png"
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "PNG (*.png)"))
        answer_png_size(qtbot)                  # Enter: the size on screen
        area._ask_export_all()
        img = QImage(str(out))
        assert img.width() >= 800
        top, bottom = area.panes[0].height(), area.panes[1].height()
        assert img.height() >= top + bottom          # both panes, stacked
    finally:
        area.close()
        assert runner.shutdown(10000)


def test_all_panes_in_one_svg_time_and_xy(qtbot, tmp_path, monkeypatch):
    from xml.dom import minidom
    area, runner, ch = make_area(qtbot)
    try:
        pane2 = area.add_pane()
        area.add_stream(ch["hourly"], pane=pane2)
        area.add_xy_pane(ch["hourly"], ch["two_hourly"])
        area.set_interval(TimeInterval(T0, T0 + timedelta(hours=24)))
        qtbot.waitUntil(lambda: len(area.curves()) == 3 and not area.busy, timeout=5000)
        out = tmp_path / "all.svg"
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "SVG (*.svg)"))
        area._ask_export_all()
        root = minidom.parse(str(out)).documentElement
        parts = [n for n in root.childNodes if getattr(n, "tagName", None) == "g"]
        assert len(parts) == 3                                   # two time panes and the XY pane, in order
        ys = [float(p.getAttribute("transform").split(",")[1].rstrip(")")) for p in parts]
        assert ys == sorted(ys) and ys[2] - ys[0] > 200 and float(root.getAttribute("height")) > ys[2] + 100
        assert all(p.getElementsByTagName("path") for p in parts)  # each pane's vector drawing is there
        ids = [e.getAttribute("id") for e in root.getElementsByTagName("*") if e.getAttribute("id")]
        assert len(ids) == len(set(ids))                         # no pane's clip path stands in for another's
        # a renderer of SVG Tiny draws it: something on the page in each pane's band
        from PySide6.QtGui import QColor, QPainter
        from PySide6.QtSvg import QSvgRenderer
        r = QSvgRenderer(str(out))
        assert r.isValid()
        img = QImage(r.defaultSize(), QImage.Format.Format_ARGB32)
        img.fill(QColor("white"))
        painter = QPainter(img)
        r.render(painter)
        painter.end()
        for top in ys:
            row = int(top) + 60
            assert any(img.pixelColor(x, row) != QColor("white") for x in range(0, img.width(), 3)), top
        assert not (tmp_path / "all.svg.part").exists()
    finally:
        area.close()
        assert runner.shutdown(10000)


def test_align_columns():
    assert align_columns([[(1, "a"), (3, "c")], [(2, 20.0), (3, 30.0)]]) == \
        [(1, ["a", None]), (2, [None, 20.0]), (3, ["c", 30.0])]
