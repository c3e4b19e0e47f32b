"""A standalone window with the time-range picker over the plot panes, on generated data.

Shows the widgets without the main window, and renders the README screenshots::

    python -m hsgui.plotting.demo                      # interactive
    python -m hsgui.plotting.demo --screenshots docs   # writes docs/plot_*.png and exits
    python -m hsgui.plotting.demo --screenshots docs --big ~/.local/share/.../demo.sqlite \
        --big-channel mongo --big-stream "accelerometer: [house=1, resident=alice]"

``--big`` names an embedded store holding a 1,000,000-instance float stream
(``bench/bench_plot.py`` builds one) for the level-of-detail screenshot;
without it a 1,000,000-instance memory stream is generated.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta

import numpy as np

from channels.memory_channel import MemoryChannel
from channels.stream import StreamInstance
from channels.time_interval import TimeInterval
from channels.utils import from_ms, to_ms, utcnow


def demo_channel(big: int = 0) -> MemoryChannel:
    """Sensor-like streams over the last three days: two temperatures, humidity, a dict, a door, a switch."""
    ch = MemoryChannel("demo")
    end = (to_ms(utcnow() - timedelta(hours=1)) // 60_000) * 60_000
    n = 3 * 24 * 60
    ms = end - (n - 1 - np.arange(n)) * 60_000
    rng = np.random.default_rng(3)
    day = 2 * np.pi * (ms / 86_400_000.0)

    def write(name, values, times=ms, calc=None):
        s = ch.create_stream(name)
        s.writer([StreamInstance._make((from_ms(int(m)), v)) for m, v in zip(times, values)])
        if calc:
            s.calculated_intervals = calc
        return s

    t_in = 21 + 1.5 * np.sin(day) + rng.normal(0, 0.15, n)
    t_out = 9 + 6 * np.sin(day - 0.8) + rng.normal(0, 0.4, n)
    # the outdoor sensor was computed in two runs with a gap between them
    cut0, cut1 = n // 3, n // 3 + 240
    calc = [TimeInterval(from_ms(int(ms[0]) - 1), from_ms(int(ms[cut0 - 1]))),
            TimeInterval(from_ms(int(ms[cut1]) - 1), from_ms(int(ms[-1])))]
    keep = np.r_[0:cut0, cut1:n]
    write("kitchen_temp", t_in.tolist())
    write("outdoor_temp", t_out[keep].tolist(), ms[keep], calc)
    write("humidity", (55 + 12 * np.sin(day + 1.3) + rng.normal(0, 1.0, n)).tolist())
    env = [{"temp": round(float(a), 2), "humidity": round(float(h), 1), "co2": int(c), "room": "lounge"}
           for a, h, c in zip(t_in + 0.7, 50 + 8 * np.sin(day), 450 + 250 * np.clip(np.sin(day * 2), 0, None))]
    write("lounge_env", env)
    door_ms = ms[::90]
    write("front_door", ["open" if i % 2 else "closed" for i in range(len(door_ms))], door_ms)
    write("heating_on", [bool(v) for v in (np.sin(day[::30]) < -0.2)], ms[::30])
    if big:
        k = np.arange(big)
        bms = end - (big - 1 - k) * 1000
        vals = np.sin(k / 20_000.0) * 10 + np.sin(k / 700.0) + rng.standard_normal(big) * 0.3
        write("big_1M", vals.tolist(), bms)
    return ch


class DemoWindow:
    """Picker on top, plot panes below, wired both ways as the main window wires them."""

    def __init__(self, channels):
        from PySide6.QtWidgets import QVBoxLayout, QWidget

        from hsgui.common.background import JobRunner
        from .plot_area import PlotArea
        from .time_range import TimeRangePicker

        self.channels = {c.channel_id: c for c in channels}
        self.runner = JobRunner()
        self.widget = QWidget()
        self.widget.setWindowTitle("HyperStream Studio — plots")
        self.picker = TimeRangePicker()
        self.area = PlotArea(self.runner, lambda cid, sid: self.channels[cid][sid])
        lay = QVBoxLayout(self.widget)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.picker)
        lay.addWidget(self.area, 1)
        self.picker.sigRangeChanged.connect(self.area.set_interval)
        self.area.sigRangeChanged.connect(self.picker.set_interval)
        self.picker.sigTimeZoneChanged.connect(self.area.set_time_zone)
        self.area.set_interval(self.picker.interval())
        self.area.sigCurveUpdated.connect(self._update_spans)

    def _update_spans(self, _curve=None):
        spans = [c.curve.span for c in self.area.curves() if c.curve.span is not None]
        if spans:
            self.picker.set_data_span(TimeInterval(min(s.start for s in spans), max(s.end for s in spans)))

    def settle(self, app, timeout=20.0):
        end = time.time() + timeout
        while time.time() < end:
            app.processEvents()
            time.sleep(0.01)
            if self.area.curves() and all(c.mode for c in self.area.curves()) and not self.area.busy \
                    and not self.area._debounce.isActive():
                break
        self.area.setFocus()
        for _ in range(5):
            app.processEvents()
            time.sleep(0.02)


def screenshots(out: str, big_store: str | None, big_channel_id: str = "bench", big_stream: str = "float"):
    import pytz
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    os.makedirs(out, exist_ok=True)
    channels = [demo_channel(big=0 if big_store else 1_000_000)]
    big_channel = channels[0]
    if big_store:
        from channels.database_channel import DatabaseChannel
        from channels.stores.sqlite_store import SQLiteStore
        big_channel = DatabaseChannel(big_channel_id, SQLiteStore(big_store))
        channels.append(big_channel)
    demo = channels[0]

    # 1. two linked panes with several curves each, cursor in the middle, times in Europe/London
    w = DemoWindow(channels)
    w.widget.resize(1280, 720)
    w.widget.show()
    w.picker.set_time_zone(pytz.timezone("Europe/London"))
    end = utcnow()
    w.picker.set_interval(TimeInterval(end - timedelta(days=3), end), emit=True)
    a = w.area
    for name in ("kitchen_temp", "outdoor_temp"):
        a.add_stream(demo[name])
    lower = a.add_pane()
    a.add_stream(demo["humidity"], pane=lower)
    a.add_stream(demo["front_door"], pane=a.add_pane())
    w.settle(app)
    a.fit_to_data()
    w.settle(app)
    iv = a.interval()
    a.set_cursor((iv.start.timestamp() * 0.4 + iv.end.timestamp() * 0.6))
    w.widget.grab().save(os.path.join(out, "plot_linked_panes.png"))

    # 2. level of detail: the 1,000,000-instance stream, whole, then zoomed to 6 hours and to 10 minutes
    from PySide6.QtGui import QImage, QPainter
    w2 = DemoWindow([big_channel])
    w2.widget.resize(1280, 330)
    w2.widget.show()
    big = big_channel[big_stream] if big_store else big_channel["big_1M"]
    w2.area.add_stream(big)
    w2.settle(app)
    w2.area.fit_to_data()
    w2.settle(app)
    full = w2.area.interval()
    shots = []
    pane = w2.area.panes[0]
    for label, width in (("whole stream", None), ("zoomed to 6 h", timedelta(hours=6)),
                         ("zoomed to 10 min", timedelta(minutes=10))):
        if width is not None:
            c = full.start + (full.end - full.start) * 0.4
            w2.picker.set_interval(TimeInterval(c, c + width), emit=True)
            w2.settle(app)
        info = w2.area.curves()[0]
        shown = w2.area.interval()
        n = big.window(shown).count()
        pane.readout.setText(f"<b>{label}</b>: {n:,} instances visible → drawn as <b>{info.mode}</b>: "
                             f"{info.points:,} points fetched for a {pane.pixel_width()} px wide pane "
                             f"(the view ± 25 % for panning)")
        shots.append(w2.widget.grab().toImage() if not shots else pane.grab().toImage())
    img = QImage(shots[0].width(), sum(i.height() for i in shots), shots[0].format())
    img.fill(0xFFFFFFFF)
    p = QPainter(img)
    y = 0
    for i, shot in enumerate(shots):
        x = 0 if i == 0 else (shots[0].width() - shot.width()) // 2
        p.drawImage(x, y, shot)
        y += shot.height()
    p.end()
    img.save(os.path.join(out, "plot_lod_zoom.png"))

    # 3. a dict stream: one curve per numeric component, and the Curves menu to switch them
    w3 = DemoWindow([demo])
    w3.widget.resize(1100, 520)
    w3.widget.show()
    w3.area.add_stream(demo["lounge_env"], component="temp")
    w3.area.add_stream(demo["lounge_env"], component="humidity", pane=w3.area.add_pane())
    w3.settle(app)
    w3.area.fit_to_data()
    w3.settle(app)
    pane = w3.area.panes[0]
    pane._fill_curves_menu()
    comp_action = next(x for x in pane.curves_menu.actions() if x.menu() and "components" in x.text())
    comp = comp_action.menu()
    comp.adjustSize()
    from PySide6.QtGui import QPainter
    img = w3.widget.grab().toImage()
    menu_pix = pane.curves_menu.grab()
    sub_pix = comp.grab()
    pos = pane.curves_button.mapTo(w3.widget, pane.curves_button.rect().bottomLeft())
    x = min(pos.x(), w3.widget.width() - menu_pix.width() - sub_pix.width() - 4)
    p = QPainter(img)
    p.drawPixmap(x, pos.y(), menu_pix)
    pane.curves_menu.adjustSize()
    row = pane.curves_menu.actionGeometry(comp_action)
    p.drawPixmap(x - sub_pix.width() + 2, pos.y() + row.top() - 4, sub_pix)
    p.end()
    img.save(os.path.join(out, "plot_dict_components.png"))
    for win in (w, w2, w3):
        win.runner.shutdown(5000)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--screenshots", metavar="DIR")
    ap.add_argument("--big", metavar="SQLITE", help="embedded store with a 1,000,000-instance stream")
    ap.add_argument("--big-channel", default="bench", help="its channel id (the demo store's is 'mongo')")
    ap.add_argument("--big-stream", default="float",
                    help="its stream id, e.g. 'accelerometer: [house=1, resident=alice]' in the demo store")
    args = ap.parse_args(argv)
    if args.screenshots:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        screenshots(args.screenshots, args.big, args.big_channel, args.big_stream)
        sys.stdout.flush()
        os._exit(0)
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication([])
    w = DemoWindow([demo_channel()])
    w.widget.resize(1280, 760)
    w.widget.show()
    for name in ("kitchen_temp", "outdoor_temp"):
        w.area.add_stream(w.channels["demo"][name])
    app.exec()
    w.runner.shutdown(5000)


if __name__ == "__main__":
    main()
