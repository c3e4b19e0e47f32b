"""List and dict parameters get a structured editor (the asset editor's AssetValueForm) next to their
text form; both stay in sync, values come back typed, problems show next to the field and block Run."""
from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from channels.channel_manager import ChannelManager
from channels.stream import StreamId, StreamInstance
from channels.time_interval import TimeInterval
from channels.tools import Tool
from channels.tools.params import parameter_specs
from channels.utils import UTC
from hsgui.forms.value_form import AssetValueForm
from hsgui.compute.param_form import ParameterForm
from hsgui.compute.run_tool_dialog import RunToolDialog

T0 = datetime(2024, 1, 1, tzinfo=UTC)
HOUR = TimeInterval(T0, T0 + timedelta(hours=1))


class Lists(Tool):
    """Typed list and dict parameters.

    :param counts: whole numbers
    :param options: free-form settings
    """

    def __init__(self, counts: list[int] = (1, 2), options: dict = None, gaps: list[timedelta] = ()):
        super().__init__()


def click(qtbot, button):
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def type_into(qtbot, line_edit: QLineEdit, text: str):
    line_edit.setFocus()
    line_edit.selectAll()
    qtbot.keyClicks(line_edit, text)
    assert line_edit.text() == text


@pytest.fixture
def form(qtbot):
    f = ParameterForm(parameter_specs(Lists), tool_name="lists")
    qtbot.addWidget(f)
    f.resize(700, 600)
    f.show()
    return f


def test_list_parameter_edited_through_the_structured_editor(qtbot, form):
    field = form.field("counts")
    tree = form.structured_editor("counts")
    assert isinstance(tree, AssetValueForm) and isinstance(form.editor("counts"), QLineEdit)
    assert field.structure_frame.isVisible() and field.structure_button.isChecked()
    assert tree.value() == [1, 2]
    assert not tree.raw_panel.isVisible()                      # the line edit is the text form
    # the item type drives the tree: integers only
    combo = tree.type_combo((0,))
    assert [combo.itemData(i) for i in range(combo.count())] == ["integer"]
    assert tree.tree.isColumnHidden(1)                          # so no type column to choose from

    changes, validity = [], []
    form.sigValuesChanged.connect(lambda: changes.append(1))
    form.sigValidityChanged.connect(validity.append)
    type_into(qtbot, tree.value_editor((1,)), "20")
    assert form.values()["counts"] == [1, 20] and changes
    assert form.editor("counts").text() == "[1, 20]"
    tree.select((1,))
    click(qtbot, tree.add_button)                              # a new item after [1]
    type_into(qtbot, tree.value_editor((2,)), "300")
    tree.select((2,))
    click(qtbot, tree.up_button)                               # reorder
    assert form.values()["counts"] == [1, 300, 20]
    assert all(type(x) is int for x in form.values()["counts"])

    # an item that is not a whole number: error next to the field, the form invalid
    type_into(qtbot, tree.value_editor((0,)), "two")
    assert validity == [False] and not form.is_valid()
    assert "counts" in form.errors() and field.error_label.isVisible()
    assert "[0]" in field.error_label.text()
    with pytest.raises(ValueError, match="counts"):
        form.values()
    assert tree.value_editor((0,)).styleSheet() and "whole number" in tree.value_editor((0,)).toolTip()  # at the item
    type_into(qtbot, tree.value_editor((0,)), "2")
    assert validity == [False, True] and not field.error_label.isVisible()
    tree.select((2,))
    click(qtbot, tree.remove_button)
    assert form.values()["counts"] == [2, 300]


def test_text_and_tree_stay_in_sync(qtbot, form):
    tree = form.structured_editor("counts")
    form.editor("counts").setText("5, 6, 7")
    assert tree.value() == [5, 6, 7]
    assert tree.value_editor((2,)).text() == "7"
    form.editor("counts").setText("5, x")                       # text that does not convert
    assert not form.is_valid()
    assert not tree.tree.isEnabled() and form.field("counts").structure_note.isVisible()
    assert tree.value() == [5, 6, 7]                            # the last valid value stays shown
    form.editor("counts").setText("[8]")
    assert form.is_valid() and tree.tree.isEnabled() and tree.value() == [8]
    form.set_values({"counts": [9, 10], "gaps": [60.0, "5m"]})  # as a run record stores them
    assert tree.value() == [9, 10]
    assert form.structured_editor("gaps").value() == [60.0, 300.0]   # durations shown in seconds
    assert form.values()["gaps"] == [timedelta(minutes=1), timedelta(minutes=5)]
    # a duration list edited in the tree comes back as timedeltas
    type_into(qtbot, form.structured_editor("gaps").value_editor((0,)), "90")
    assert form.values()["gaps"] == [timedelta(seconds=90), timedelta(minutes=5)]


def test_dict_parameter_structured_editor(qtbot, form):
    field = form.field("options")
    tree = form.structured_editor("options")
    assert field.is_unset and not field.structure_frame.isVisible()   # unset: compact
    field.unset_box.setChecked(False)
    assert field.structure_frame.isVisible() and field.structure_frame.isEnabled()
    tree.select(())
    click(qtbot, tree.add_button)                               # a new key
    type_into(qtbot, tree.key_editor(("new_key",)), "window")
    tree.set_kind(("window",), "integer")
    type_into(qtbot, tree.value_editor(("window",)), "60")
    assert form.values()["options"] == {"window": 60}
    assert form.editor("options").text() == '{"window": 60}'
    tree.select(())
    click(qtbot, tree.add_button)
    key = tree.key_editor(("new_key",))
    type_into(qtbot, key, "window")                             # a duplicate key: invalid
    assert not form.is_valid() and "duplicate" in form.errors()["options"]
    type_into(qtbot, key, "label")
    type_into(qtbot, tree.value_editor(("label",)), "hourly")
    assert form.is_valid() and form.values()["options"] == {"window": 60, "label": "hourly"}
    form.set_values({"options": None})                          # unset again from a run record
    assert field.is_unset and form.values()["options"] is None and not field.structure_frame.isEnabled()


@pytest.fixture
def manager(tmp_path):
    m = ChannelManager.open(str(tmp_path / "s.sqlite"))
    yield m
    m.close()


def make_dialog(qtbot, manager, runner, tool, **kw):
    dlg = RunToolDialog(manager, runner, None, "tools", tool, tz=UTC, interval=HOUR, **kw)
    qtbot.addWidget(dlg)
    dlg.resize(1000, 760)
    dlg.show()
    return dlg


def test_aligned_merge_names_entered_in_the_tree_and_duplicates_block_run(qtbot, manager, runner):
    db = manager.channels["mongo"]
    for name in ("temperature", "humidity"):
        s = db.get_or_create_stream(StreamId(name, {"house": 1}))
        db.write_chunk(s, [StreamInstance(T0 + timedelta(minutes=i), float(i)) for i in range(1, 61)], HOUR)
    dlg = make_dialog(qtbot, manager, runner, "aligned_merge",
                      inputs=[("mongo", StreamId("temperature", {"house": 1})),
                              ("mongo", StreamId("humidity", {"house": 1}))])
    dlg.output_name.setText("environment")
    field = dlg.form.field("names")
    tree = dlg.form.structured_editor("names")
    assert field.is_unset and not field.structure_frame.isVisible()
    field.unset_box.setChecked(False)                           # clearing "unset" opens the structure
    assert field.structure_frame.isVisible() and field.structure_button.isChecked()
    tree.select(())
    click(qtbot, tree.add_button)
    type_into(qtbot, tree.value_editor((0,)), "temperature")
    click(qtbot, tree.add_button)                               # after the selected item
    type_into(qtbot, tree.value_editor((1,)), "temperature")
    # the tool itself refuses duplicates: shown next to the field, Run disabled
    assert not dlg.run_button.isEnabled()
    assert "distinct" in field.error_label.text() and "names" in dlg.problems_label.text()
    type_into(qtbot, tree.value_editor((1,)), "humidity")
    assert dlg.run_button.isEnabled(), dlg.problems
    assert dlg.form.values()["names"] == ["temperature", "humidity"]
    shots = os.environ.get("HSGUI_PARAM_FORM_SHOTS")
    if shots:
        qtbot.wait(700)
        dlg.grab().save(os.path.join(shots, "run_tool_aligned_merge.png"))
    with qtbot.waitSignal(dlg.sigRunFinished, timeout=15000) as blocker:
        click(qtbot, dlg.run_button)
    out = blocker.args[0]
    first = out.window(HOUR).first()
    assert first.value == {"temperature": 1.0, "humidity": 1.0}


def test_component_filter_values_required_and_typed_through_the_tree(qtbot, manager, runner):
    db = manager.channels["mongo"]
    s = db.get_or_create_stream(StreamId("motion"))
    rooms = ["kitchen", "hall", "lounge", 1]
    db.write_chunk(s, [StreamInstance(T0 + timedelta(minutes=i), {"room": rooms[i % 4]}) for i in range(1, 61)], HOUR)
    dlg = make_dialog(qtbot, manager, runner, "component_filter", inputs=[("mongo", StreamId("motion"))])
    dlg.output_name.setText("kitchen_motion")
    dlg.form.editor("key").setText("room")
    field = dlg.form.field("values")
    tree = dlg.form.structured_editor("values")
    assert field.structure_frame.isVisible()
    assert not dlg.run_button.isEnabled() and "values" in dlg.form.errors()      # required, still empty
    tree.select(())
    click(qtbot, tree.add_button)
    type_into(qtbot, tree.value_editor((0,)), "kitchen")
    click(qtbot, tree.add_button)
    tree.set_kind((1,), "integer")                              # untyped list: each item picks its type
    type_into(qtbot, tree.value_editor((1,)), "1")
    assert dlg.form.values()["values"] == ["kitchen", 1]
    assert dlg.run_button.isEnabled(), dlg.problems
    shots = os.environ.get("HSGUI_PARAM_FORM_SHOTS")
    if shots:
        qtbot.wait(700)
        dlg.grab().save(os.path.join(shots, "run_tool_component_filter.png"))
    with qtbot.waitSignal(dlg.sigRunFinished, timeout=15000) as blocker:
        click(qtbot, dlg.run_button)
    kept = [i.value["room"] for i in blocker.args[0].window(HOUR)]
    assert set(kept) == {"kitchen", 1} and len(kept) == 30
