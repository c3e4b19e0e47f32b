"""Asset editor, driven through its widgets, checked through the channel API.

Runs on the database-backed AssetsChannel (embedded SQLite store and MongoDB via
mongomock) and on the file-backed AssetsFileChannel.
"""
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QDateTime, QEvent, QPoint, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QLineEdit

from channels import AssetsChannel, AssetsFileChannel, StreamInstance, TimeInterval
from channels.utils import UTC, utcnow
from hsgui.assets.editor import AssetEditor
from hsgui.assets.dialogs import AssetEditorDialog, CreateAssetDialog
from hsgui.forms.datetime_edit import DateTimeEdit
from hsgui.forms.value_model import same_value
from hsgui.forms.schemas import schema_for_tool

T0 = datetime(2024, 1, 5, 9, 0, 0, 250000, tzinfo=UTC)

DEMO = {
    "site": "Bristol ☀",
    "houses": [
        {"house_id": 1, "name": "Ærø Cottage", "installed": datetime(2017, 6, 20, 12, 0, 0, 123000, tzinfo=UTC),
         "active": True, "rooms": ["kitchen", "hall"]},
        {"house_id": 2, "name": "北京 flat", "installed": None, "active": False, "rooms": []},
    ],
    "threshold": 0.5,
    "big": 10 ** 25,
    "ratio": 1.0,
}


def _store_channel(kind, tmp_path):
    if kind == "sqlite":
        from channels.stores.sqlite_store import SQLiteStore
        return AssetsChannel("assets", SQLiteStore(str(tmp_path / "s.sqlite")))
    if kind == "mongomock":
        mongomock = pytest.importorskip("mongomock")
        from channels.stores.mongo_store import MongoStore
        return AssetsChannel("assets", MongoStore(mongomock.MongoClient()))
    return AssetsFileChannel("file_assets", str(tmp_path / "assets"))


@pytest.fixture(params=["sqlite", "mongomock", "files"])
def channel(request, tmp_path):
    ch = _store_channel(request.param, tmp_path)
    yield ch
    store = getattr(ch, "store", None)
    if store is not None:
        store.close()


@pytest.fixture
def sqlite_channel(tmp_path):
    ch = _store_channel("sqlite", tmp_path)
    yield ch
    ch.store.close()


def versions(channel, name):
    return channel[name].window(TimeInterval.all_time()).items()


def open_editor(qtbot, runner, channel, name, **kwargs):
    editor = AssetEditor(runner, **kwargs)
    qtbot.addWidget(editor)
    editor.resize(1100, 650)
    editor.show()
    with qtbot.waitSignal(editor.sigLoaded, timeout=5000):
        editor.set_stream(channel, channel[name])
    return editor


def key_text(qtbot, widget, text: str):
    """Type text key by key. QTest only maps ASCII to keys; other characters arrive as key events
    that carry their text, as they do from a keyboard layout or input method."""
    for ch in text:
        if ch == "\n":
            qtbot.keyClick(widget, Qt.Key.Key_Return)
        elif ch.isascii():
            qtbot.keyClicks(widget, ch)
        else:
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(widget, QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier,
                                                         ch))


def type_into(qtbot, line_edit: QLineEdit, text: str):
    """Replace a line edit's text the way a user does: select all, type."""
    line_edit.setFocus()
    line_edit.selectAll()
    if text:
        key_text(qtbot, line_edit, text)
    else:
        qtbot.keyClick(line_edit, Qt.Key.Key_Backspace)
    assert line_edit.text() == text


def save_through_dialog(qtbot, editor, ok=True):
    """Click Save, check the diff dialog appears, confirm; wait for the write and the reload."""
    assert editor.save_button.isEnabled(), editor.save_blocked_reason()
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    dlg = editor.confirm_dialog
    assert dlg is not None and dlg.isVisible()
    diff_text = dlg.diff_view.toPlainText()
    if ok:
        with qtbot.waitSignals([editor.sigSaved, editor.sigLoaded], timeout=5000, order="strict"):
            qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    else:
        qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    return diff_text


# -- edit, save, read back ---------------------------------------------------------------------------------

def test_edit_nested_value_through_widgets_and_save_a_new_instance(qtbot, runner, channel):
    channel.write_to_stream("site_config", StreamInstance(T0, DEMO))
    editor = open_editor(qtbot, runner, channel, "site_config")
    form = editor.form
    assert form.value_editor(("houses", 0, "name")).text() == "Ærø Cottage"
    assert not editor.save_button.isEnabled() and editor.changes_label.text() == "No changes"

    type_into(qtbot, form.value_editor(("houses", 1, "name")), "Bäckerei 7")       # nested text
    type_into(qtbot, form.value_editor(("threshold",)), "0.75")                    # number
    type_into(qtbot, form.value_editor(("houses", 0, "house_id")), "11")           # integer
    box = form.value_editor(("houses", 1, "active"))                               # boolean
    assert isinstance(box, QCheckBox) and not box.isChecked()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))  # on the indicator
    assert box.isChecked() and box.text() == "true"
    dt_edit = form.value_editor(("houses", 0, "installed"))                        # date-time
    assert isinstance(dt_edit, DateTimeEdit)
    dt_edit.setDateTime(dt_edit.dateTime().addSecs(3600))
    type_into(qtbot, form.key_editor(("site",)), "site_name")                      # rename a key
    form.select(("houses", 0, "rooms", 1))                                         # reorder list items
    qtbot.mouseClick(form.up_button, Qt.MouseButton.LeftButton)
    form.select(("houses", 1, "rooms"))                                            # add a list item
    qtbot.mouseClick(form.add_button, Qt.MouseButton.LeftButton)
    type_into(qtbot, form.value_editor(("houses", 1, "rooms", 0)), "garage")
    form.select(("ratio",))                                                        # remove a key
    qtbot.mouseClick(form.remove_button, Qt.MouseButton.LeftButton)
    assert editor.changes_label.text() == "11 unsaved changes", editor.pending_changes()

    diff = save_through_dialog(qtbot, editor)
    assert "~ houses[1].name: '北京 flat' → 'Bäckerei 7'" in diff
    assert "~ threshold: 0.5 (number) → 0.75 (number)" in diff
    assert "- ratio = 1.0 (number)" in diff and "+ site_name = 'Bristol ☀'" in diff

    stored = versions(channel, "site_config")
    assert len(stored) == 2 and same_value(stored[0].value, DEMO)  # nothing overwritten
    assert stored[1].timestamp > T0 and stored[1].timestamp <= utcnow()
    new = stored[1].value
    assert list(new) == ["site_name", "houses", "threshold", "big"]  # a renamed key keeps its place
    assert new["site_name"] == "Bristol ☀"
    assert new["threshold"] == 0.75 and type(new["threshold"]) is float
    assert new["houses"][0]["house_id"] == 11 and type(new["houses"][0]["house_id"]) is int
    assert new["houses"][0]["installed"] == datetime(2017, 6, 20, 13, 0, 0, 123000, tzinfo=UTC)
    assert new["houses"][0]["rooms"] == ["hall", "kitchen"]
    assert new["houses"][1] == {"house_id": 2, "name": "Bäckerei 7", "installed": None, "active": True,
                                "rooms": ["garage"]}
    assert new["big"] == 10 ** 25
    # the editor now shows the saved version as current, with no pending changes
    assert same_value(editor.current_value, new) and not editor.save_button.isEnabled()
    assert editor.history_list.count() == 2
    assert "Saved as version" in editor.status_label.text()


def test_cancel_in_diff_dialog_writes_nothing(qtbot, runner, sqlite_channel):
    sqlite_channel.write_to_stream("a", StreamInstance(T0, {"x": 1}))
    editor = open_editor(qtbot, runner, sqlite_channel, "a")
    type_into(qtbot, editor.form.value_editor(("x",)), "2")
    diff = save_through_dialog(qtbot, editor, ok=False)
    assert diff == "~ x: 1 (integer) → 2 (integer)"
    qtbot.wait(50)
    assert len(versions(sqlite_channel, "a")) == 1
    assert editor.save_button.isEnabled()  # edits are still there


# -- invalid input ----------------------------------------------------------------------------------------

def test_text_in_number_field_is_marked_and_blocks_saving(qtbot, runner, channel):
    channel.write_to_stream("p", StreamInstance(T0, {"limits": {"low": 1.5, "high": 3}}))
    editor = open_editor(qtbot, runner, channel, "p")
    form = editor.form
    type_into(qtbot, form.value_editor(("limits", "low")), "abc")
    type_into(qtbot, form.value_editor(("limits", "high")), "3.5")
    assert form.note_text(("limits", "low")) == "⚠ 'abc' is not a number"
    assert "not a whole number" in form.note_text(("limits", "high"))
    assert "border: 1px solid #c62828" in form.value_editor(("limits", "low")).styleSheet()
    assert form.raw_stale_label.text().startswith("2 form fields hold text that does not parse")
    assert form.summary_label.text().startswith("✖ 2 problems — fix before saving: limits.low: 'abc' is not a number")
    assert not editor.save_button.isEnabled()
    assert editor.request_save() is None and "Cannot save: fix the problems first" in editor.status_label.text()
    type_into(qtbot, form.value_editor(("limits", "low")), "2")
    type_into(qtbot, form.value_editor(("limits", "high")), "4")
    assert form.note_text(("limits", "low")) == "" and form.summary_label.text() == "✔ No problems"
    assert editor.save_button.isEnabled()
    save_through_dialog(qtbot, editor)
    assert versions(channel, "p")[-1].value == {"limits": {"low": 2.0, "high": 4}}


def test_duplicate_key_is_marked_and_blocks_saving(qtbot, runner, sqlite_channel):
    sqlite_channel.write_to_stream("p", StreamInstance(T0, {"a": 1, "b": 2}))
    editor = open_editor(qtbot, runner, sqlite_channel, "p")
    form = editor.form
    type_into(qtbot, form.key_editor(("b",)), "a")
    first, second = form.root.children
    assert form._widgets[id(second)]["key"].styleSheet().startswith("border: 1px solid #c62828")
    assert form._items[id(second)].text(3) == "⚠ duplicate key 'a': keys of an object must be unique"
    assert form._items[id(first)].text(3) == "⚠ duplicate key 'a': keys of an object must be unique"
    assert not editor.save_button.isEnabled()
    assert "duplicate key 'a'" in editor.save_button.toolTip()


def test_malformed_raw_json_is_marked_and_blocks_saving(qtbot, runner, sqlite_channel):
    sqlite_channel.write_to_stream("p", StreamInstance(T0, {"a": 1}))
    editor = open_editor(qtbot, runner, sqlite_channel, "p")
    form = editor.form
    form.raw_edit.setFocus()
    form.raw_edit.selectAll()
    key_text(qtbot, form.raw_edit, '{"a": 2,\n"b": }')
    qtbot.waitUntil(lambda: form.raw_error is not None, timeout=2000)
    assert form.raw_error_label.isVisible()
    assert form.raw_error_label.text() == "✖ line 2, column 6: Expecting value"
    assert not form.tree.isEnabled() and form.raw_blocked_label.isVisible()
    assert not editor.save_button.isEnabled()
    assert form.summary_label.text().startswith("✖ 1 problem — fix before saving: raw JSON: line 2")
    # fixing the text brings the form back, with the new value
    qtbot.keyClick(form.raw_edit, Qt.Key.Key_Backspace)
    key_text(qtbot, form.raw_edit, ' "two"}')
    qtbot.waitUntil(lambda: form.raw_error is None, timeout=2000)
    assert form.tree.isEnabled() and editor.save_button.isEnabled()
    assert form.value_editor(("b",)).text() == "two"


# -- raw JSON <-> form ---------------------------------------------------------------------------------------

def test_raw_json_edits_round_trip_into_the_form_and_back(qtbot, runner, sqlite_channel):
    sqlite_channel.write_to_stream("cfg", StreamInstance(T0, {"n": 1, "when": T0}))
    editor = open_editor(qtbot, runner, sqlite_channel, "cfg")
    form = editor.form
    assert '"when": {"$datetime": "2024-01-05T09:00:00.250Z"}' in form.raw_edit.toPlainText()
    text = ('{"n": 2.0, "when": {"$datetime": "2024-02-01T10:00:00.500+01:00"},\n'
            ' "list": [true, null, "ü", {"deep": [1]}], "big": 123456789012345678901234567890}')
    form.raw_edit.setFocus()
    form.raw_edit.selectAll()
    key_text(qtbot, form.raw_edit, text)
    qtbot.waitUntil(lambda: form.root.find(("list",)) is not None if "list" in form.value() else False,
                    timeout=2000)
    assert form.type_combo(("n",)).currentText() == "number"
    assert form.value_editor(("n",)).text() == "2.0"
    assert isinstance(form.value_editor(("when",)), DateTimeEdit)
    assert form.value_editor(("when",)).dateTime() == QDateTime.fromString("2024-02-01T09:00:00.500Z",
                                                                           Qt.DateFormat.ISODateWithMs)
    assert isinstance(form.value_editor(("list", 0)), QCheckBox) and form.value_editor(("list", 0)).isChecked()
    assert form.value_editor(("list", 1)).text() == "null"
    assert form.value_editor(("list", 2)).text() == "ü"
    assert form.value_editor(("list", 3, "deep", 0)).text() == "1"
    assert form.value_editor(("big",)).text() == "123456789012345678901234567890"
    # form -> raw
    type_into(qtbot, form.value_editor(("list", 3, "deep", 0)), "7")
    assert '"list": [true, null, "ü", {"deep": [7]}]' in form.raw_edit.toPlainText()
    save_through_dialog(qtbot, editor)
    assert versions(sqlite_channel, "cfg")[-1].value == {
        "n": 2.0, "when": datetime(2024, 2, 1, 9, 0, 0, 500000, tzinfo=UTC),
        "list": [True, None, "ü", {"deep": [7]}], "big": 123456789012345678901234567890}


def test_type_change_is_explicit_and_converts(qtbot, runner, sqlite_channel):
    sqlite_channel.write_to_stream("p", StreamInstance(T0, {"n": "42", "t": "2020-01-02T03:04:05Z"}))
    editor = open_editor(qtbot, runner, sqlite_channel, "p")
    form = editor.form
    type_into(qtbot, form.value_editor(("n",)), "43")  # text stays text until the type is changed
    assert form.value()["n"] == "43"
    form.set_kind(("n",), "integer")
    form.set_kind(("t",), "datetime")
    assert isinstance(form.value_editor(("t",)), DateTimeEdit)
    assert form.value() == {"n": 43, "t": datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)}
    save_through_dialog(qtbot, editor)
    assert versions(sqlite_channel, "p")[-1].value == {"n": 43, "t": datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)}


# -- history and restore ----------------------------------------------------------------------------------------

def test_history_shows_every_version_and_restore_creates_an_equal_new_instance(qtbot, runner, channel):
    values = [{"v": 1, "when": T0, "name": "één"}, {"v": 2, "when": T0, "name": "twee"}, {"v": 3, "name": "drie"}]
    for i, v in enumerate(values):
        channel.write_to_stream("hist", StreamInstance(T0 + timedelta(hours=i), v))
    editor = open_editor(qtbot, runner, channel, "hist")
    assert editor.tabs.tabText(1) == "History (3)"
    assert [editor.history_list.item(i).text() for i in range(3)] == [
        "2024-01-05T11:00:00.250Z  (current)", "2024-01-05T10:00:00.250Z", "2024-01-05T09:00:00.250Z"]
    editor.tabs.setCurrentIndex(1)
    editor.history_list.setCurrentRow(2)
    view = editor.history_view
    assert view.read_only and view.raw_edit.isReadOnly()
    assert view.item_for(("name",)).text(2) == "één"
    assert view.item_for(("when",)).text(2) == "2024-01-05T09:00:00.250Z"
    assert editor.history_diff.toPlainText().splitlines() == [
        "~ v: 3 (integer) → 1 (integer)", "+ when = 2024-01-05T09:00:00.250Z (date-time)", "~ name: 'drie' → 'één'"]
    assert editor.restore_button.isEnabled()
    editor.history_list.setCurrentRow(0)
    assert not editor.restore_button.isEnabled()  # the current one
    editor.history_list.setCurrentRow(2)
    qtbot.mouseClick(editor.restore_button, Qt.MouseButton.LeftButton)
    dlg = editor.confirm_dialog
    assert dlg.isVisible() and "~ name: 'drie' → 'één'" in dlg.diff_view.toPlainText()
    with qtbot.waitSignal(editor.sigLoaded, timeout=5000):
        qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    stored = versions(channel, "hist")
    assert len(stored) == 4
    assert [s.value for s in stored[:3]] == values
    assert same_value(stored[3].value, values[0]) and stored[3].timestamp > stored[2].timestamp
    assert editor.history_list.count() == 4 and same_value(editor.form.value(), values[0])


def test_save_never_overwrites_a_version_written_meanwhile(qtbot, runner, sqlite_channel):
    sqlite_channel.write_to_stream("p", StreamInstance(T0, {"x": 1}))
    editor = open_editor(qtbot, runner, sqlite_channel, "p")
    type_into(qtbot, editor.form.value_editor(("x",)), "5")
    sqlite_channel.write_to_stream("p", {"x": 2})  # someone else saves first
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(editor.sigFailed, timeout=5000) as blocker:
        qtbot.mouseClick(editor.confirm_dialog.ok_button, Qt.MouseButton.LeftButton)
    assert "has a newer version" in blocker.args[0]
    assert "Not saved: asset p has a newer version" in editor.status_label.text()
    assert [v.value for v in versions(sqlite_channel, "p")] == [{"x": 1}, {"x": 2}]


# -- datetimes and unicode -----------------------------------------------------------------------------------------

def test_datetimes_and_unicode_survive_a_round_trip(qtbot, runner, channel):
    value = {"名前": "Zoë ☃ 🚀", "times": [datetime(1999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
                                            datetime(2017, 6, 20, 12, tzinfo=UTC)],
             "nested": {"ключ": {"at": datetime(1, 1, 1, tzinfo=UTC)}}, "f": 1.0, "i": 1, "b": True, "n": None}
    channel.write_to_stream("uni", StreamInstance(T0, value))
    editor = open_editor(qtbot, runner, channel, "uni")
    form = editor.form
    assert form.value_editor(("名前",)).text() == "Zoë ☃ 🚀"
    assert same_value(form.value(), value)
    # a change elsewhere: every other field is written back exactly
    type_into(qtbot, form.value_editor(("名前",)), "Zoë ☃ 🚀 ✓")
    dt = form.value_editor(("times", 0))
    dt.setDateTime(dt.dateTime().addMSecs(1))
    save_through_dialog(qtbot, editor)
    back = versions(channel, "uni")[-1].value
    expected = dict(value, **{"名前": "Zoë ☃ 🚀 ✓"})
    expected["times"] = [datetime(2000, 1, 1, tzinfo=UTC), value["times"][1]]
    assert same_value(back, expected)
    assert back["nested"]["ключ"]["at"].tzinfo is not None


# -- schema hints ------------------------------------------------------------------------------------------------

def test_schema_hints_required_keys_types_and_choices(qtbot, runner, sqlite_channel):
    sqlite_channel.write_to_stream("workflow_parameters", StreamInstance(T0, {"workflow_id": "w1", "aggregate": "mean",
                                                                              "chunk_seconds": "60"}))
    editor = open_editor(qtbot, runner, sqlite_channel, "workflow_parameters")
    form = editor.form
    assert "schema: Workflow parameters" in editor.info_label.text()
    assert form.item_for(()).text(3) == "⚠ missing required key 'start'"
    assert form.note_text(("chunk_seconds",)) == "⚠ expected integer, not text"
    # types enforced: the selector offers only what the schema allows (plus the current kind)
    combo = form.type_combo(("chunk_seconds",))
    assert [combo.itemData(i) for i in range(combo.count())] == ["integer", "string"]
    form.set_kind(("chunk_seconds",), "integer")
    assert form.value()["chunk_seconds"] == 60
    # choices offered
    agg = form.value_editor(("aggregate",))
    assert isinstance(agg, QComboBox)
    assert [agg.itemText(i) for i in range(agg.count())] == ["mean", "median", "min", "max", "sum", "count", "std"]
    agg.setCurrentIndex(3)
    agg.activated.emit(3)
    assert form.value()["aggregate"] == "max"
    # required keys: "Add" on the object adds the missing one with a fitting default
    assert not editor.save_button.isEnabled()
    form.select(())
    assert [a.text() for a in form.add_menu.actions()][0].startswith("start  (required)")
    qtbot.mouseClick(form.add_button, Qt.MouseButton.LeftButton)
    assert isinstance(form.value_editor(("start",)), DateTimeEdit)
    assert "*" in [w.text() for w in form.item_for(("workflow_id",)).treeWidget().itemWidget(
        form.item_for(("workflow_id",)), 0).findChildren(type(form.summary_label))]
    assert form.summary_label.text() == "✔ No problems" and editor.save_button.isEnabled()
    save_through_dialog(qtbot, editor)
    saved = versions(sqlite_channel, "workflow_parameters")[-1].value
    assert saved["chunk_seconds"] == 60 and saved["aggregate"] == "max" and isinstance(saved["start"], datetime)


class Resample:
    """Resample a stream.

    :param func: aggregation applied per bucket
    :param period: bucket length
    """

    def __init__(self, func: str = "mean", period: timedelta = timedelta(minutes=5), fill: bool = False,
                 method: "str" = "left"):
        pass


def test_tool_parameter_schema_drives_the_form(qtbot, runner, sqlite_channel):
    sqlite_channel.write_to_stream("tool_parameters: [tool=resample]", StreamInstance(T0, {"func": "max"}))
    editor = open_editor(qtbot, runner, sqlite_channel, "tool_parameters: [tool=resample]",
                         tool_lookup=lambda name: {"resample": Resample}[name])
    form = editor.form
    assert form.schema == schema_for_tool(Resample)
    func = form.value_editor(("func",))
    assert isinstance(func, QComboBox) and "median" in [func.itemText(i) for i in range(func.count())]
    assert form.note_text(("func",)) == "aggregation applied per bucket"
    form.select(())
    assert [a.text() for a in form.add_menu.actions()[:3]] == ["period — bucket length (seconds)", "fill", "method"]
    form.add_menu.actions()[0].trigger()
    assert form.value()["period"] == 300.0
    form.add_key(form.root, "typo")
    assert form.note_text(("typo",)).startswith("⚠ unknown key 'typo'")
    assert not editor.save_button.isEnabled()


# -- creating an asset -----------------------------------------------------------------------------------------------

def test_create_asset_dialog_writes_a_new_stream(qtbot, runner, channel):
    channel.write_to_stream("houses: [site=bristol]", StreamInstance(T0, []))
    dlg = CreateAssetDialog(runner, channel)
    qtbot.addWidget(dlg)
    dlg.show()
    assert not dlg.create_button.isEnabled()
    key_text(qtbot, dlg.name_edit, "houses")
    assert dlg.schema_label.text() == "Houses"
    dlg.add_meta_pair("site", "bristol")
    assert not dlg.create_button.isEnabled()
    assert "already exists" in dlg.name_error.text()
    dlg.meta_table.item(0, 1).setText("bath")
    assert dlg.create_button.isEnabled()
    form = dlg.form
    form.select(())
    qtbot.mouseClick(form.add_button, Qt.MouseButton.LeftButton)   # a house from the schema's defaults
    assert form.value() == [{"house_id": 0, "name": ""}]
    type_into(qtbot, form.value_editor((0, "name")), "Løkke 3")
    type_into(qtbot, form.value_editor((0, "house_id")), "x")
    assert not dlg.create_button.isEnabled()
    type_into(qtbot, form.value_editor((0, "house_id")), "7")
    with qtbot.waitSignal(dlg.sigCreated, timeout=5000) as blocker:
        qtbot.mouseClick(dlg.create_button, Qt.MouseButton.LeftButton)
    stream = blocker.args[0]
    assert str(stream.stream_id) == "houses: [site=bath]"
    assert [v.value for v in versions(channel, "houses: [site=bath]")] == [[{"house_id": 7, "name": "Løkke 3"}]]
    assert not dlg.isVisible()


def test_create_asset_dialog_accepts_the_names_a_tool_output_may_have(qtbot, runner, sqlite_channel):
    """Same editor and same rule as the Run Tool dialog's output: whatever StreamId accepts."""
    from channels.stream import StreamId, get_stream_id
    from hsgui.forms.meta_editor import MetaDataEditor
    dlg = CreateAssetDialog(runner, sqlite_channel)
    qtbot.addWidget(dlg)
    dlg.show()
    assert isinstance(dlg.meta, MetaDataEditor) and dlg.meta_table is dlg.meta.table
    assert dlg.meta.visible_row_capacity() >= 3
    key_text(qtbot, dlg.name_edit, "limits: [a]")                  # ':', '[' and ']' are allowed in a name
    assert dlg.name_error.text() == ""
    assert dlg.create_button.isEnabled(), dlg.blocked_reason()
    assert dlg.stream_id() == StreamId("limits: [a]")
    dlg.add_meta_pair("", "orphan")                                   # a value without a key is still refused
    assert not dlg.create_button.isEnabled()
    assert "no key" in dlg.name_error.text()
    dlg.meta_table.item(0, 0).setText("site")
    assert dlg.create_button.isEnabled()
    with qtbot.waitSignal(dlg.sigCreated, timeout=5000) as blocker:
        qtbot.mouseClick(dlg.create_button, Qt.MouseButton.LeftButton)
    sid = blocker.args[0].stream_id
    assert sid == StreamId("limits: [a]", {"site": "orphan"})
    assert get_stream_id(str(sid)) == sid                             # the text form quotes the name
    assert sid in sqlite_channel.streams


def test_asset_editor_dialog_wraps_the_editor(qtbot, runner, sqlite_channel):
    sqlite_channel.write_to_stream("p", StreamInstance(T0, {"x": [1, 2]}))
    dlg = AssetEditorDialog(runner, sqlite_channel, sqlite_channel["p"])
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.editor.sigLoaded, timeout=5000):
        dlg.show()
    assert dlg.windowTitle() == "Asset — p"
    assert dlg.editor.form.value() == {"x": [1, 2]}
    dlg.editor.form.select(("x", 1))
    qtbot.mouseClick(dlg.editor.form.add_button, Qt.MouseButton.LeftButton)
    assert dlg.editor.form.value() == {"x": [1, 2, 0]}
    save_through_dialog(qtbot, dlg.editor)
    assert versions(sqlite_channel, "p")[-1].value == {"x": [1, 2, 0]}
    dlg.reject()
    assert not dlg.isVisible()
