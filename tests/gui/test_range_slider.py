"""The time-range picker's overview slider: handles and bar follow the mouse, the keys move the range."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from hsgui.plotting.range_slider import RangeSlider


@pytest.fixture
def slider(qtbot):
    s = RangeSlider()
    s.resize(400, s.sizeHint().height())
    qtbot.addWidget(s)
    s.show()
    qtbot.waitExposed(s)
    s.setValue((0.2, 0.6))
    return s


def centre_of(slider, v) -> QPoint:
    return slider.handle_rect(v).center()


def drag(qtbot, slider, start: QPoint, end: QPoint):
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(slider, end)
    qtbot.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=end)


def test_dragging_a_handle_moves_that_end_only(qtbot, slider):
    with qtbot.waitSignal(slider.valueChanged):
        drag(qtbot, slider, centre_of(slider, 0.6), centre_of(slider, 0.9))
    low, high = slider.value()
    assert low == 0.2 and high == pytest.approx(0.9, abs=0.01)


def test_a_handle_never_passes_the_other(qtbot, slider):
    drag(qtbot, slider, centre_of(slider, 0.2), centre_of(slider, 0.95))
    low, high = slider.value()
    assert low == high == pytest.approx(0.6)


def test_dragging_the_bar_moves_both_ends_and_keeps_the_width(qtbot, slider):
    drag(qtbot, slider, centre_of(slider, 0.4), centre_of(slider, 0.6))
    low, high = slider.value()
    assert (low, high) == (pytest.approx(0.4, abs=0.01), pytest.approx(0.8, abs=0.01))
    drag(qtbot, slider, centre_of(slider, 0.6), QPoint(slider.width() + 50, 5))      # far past the end
    assert slider.value() == (pytest.approx(0.6), 1.0)


def test_a_click_beside_the_bar_brings_the_nearer_handle(qtbot, slider):
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=centre_of(slider, 0.05))
    assert slider.value() == (pytest.approx(0.05, abs=0.01), 0.6)


def test_keys_move_the_whole_range(qtbot, slider):
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_Right)
    assert slider.value() == (pytest.approx(0.21), pytest.approx(0.61))
    qtbot.keyClick(slider, Qt.Key.Key_PageUp)
    assert slider.value() == (pytest.approx(0.31), pytest.approx(0.71))
    qtbot.keyClick(slider, Qt.Key.Key_End)
    assert slider.value() == (pytest.approx(0.6), 1.0)
    qtbot.keyClick(slider, Qt.Key.Key_Home)
    assert slider.value() == (0.0, pytest.approx(0.4))


def test_a_value_out_of_order_is_refused_with_its_numbers(slider):
    with pytest.raises(ValueError, match=r"\(0.7, 0.3\)"):
        slider.setValue((0.7, 0.3))
    assert slider.value() == (0.2, 0.6)
