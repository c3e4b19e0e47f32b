"""The asset editor's Qt-free core: value trees, validation, raw JSON, diff, schemas."""
import math
import sys
from datetime import datetime, timedelta, timezone
from typing import Literal, Optional

import pytest

from channels.stores.codec import decode_json, encode_json
from channels.utils import UTC
from hsgui.forms.value_kinds import AssetValueError, JsonTextError, kind_of, SchemaError
from hsgui.forms.value_text import parse_json_text, to_json_text
from hsgui.forms.value_model import convert_value, same_value, tree_from_value
from hsgui.forms.value_schema import check_schema, default_for_schema, schema_for_node, validate_tree
from hsgui.forms.value_diff import diff_values, format_diff
from hsgui.forms.schemas import (BUILTIN_SCHEMAS, register_asset_schema, schema_for_stream, schema_for_tool,
                                 schema_from_parameter_specs)

T1 = datetime(2017, 6, 20, 12, 0, 0, 123000, tzinfo=UTC)

NESTED = {
    "houses": [
        {"house_id": 1, "name": "Ærø Cottage ☀", "installed": T1, "active": True, "rooms": ["kitchen", "hall"]},
        {"house_id": 2, "name": "北京", "installed": None, "active": False, "rooms": []},
    ],
    "threshold": 0.5,
    "count": 10 ** 30,
    "ratio": 1.0,
    "flag": False,
    "nothing": None,
    "": "empty key is a value too",
}


def messages(problems):
    return [str(p) for p in problems]


def test_tree_round_trip_keeps_int_float_bool_datetime_and_order():
    tree = tree_from_value(NESTED)
    back = tree.to_value()
    assert same_value(back, NESTED)
    assert list(back) == list(NESTED)
    assert type(back["ratio"]) is float and type(back["count"]) is int and type(back["flag"]) is bool
    assert back["houses"][0]["installed"] == T1
    assert [n.kind for n in tree.find(("houses", 0)).children] == ["integer", "string", "datetime", "boolean", "array"]


def test_same_value_is_type_strict():
    assert not same_value(1, 1.0)
    assert not same_value(1, True)
    assert not same_value({"a": 1, "b": 2}, {"b": 2, "a": 1})  # key order is part of what the user sees
    assert same_value(math.nan, math.nan)
    assert same_value([T1], [T1.astimezone(timezone(timedelta(hours=2)))])


def test_unsupported_values_are_named():
    with pytest.raises(AssetValueError, match=r"value\[0\]|\[0\].*set"):
        tree_from_value([{1, 2}])
    with pytest.raises(AssetValueError, match="naive"):
        tree_from_value({"t": datetime(2020, 1, 1)})


def test_set_text_parses_per_kind_and_keeps_bad_text_with_reason():
    tree = tree_from_value({"n": 1, "x": 1.5, "t": T1, "s": "a"})
    n = tree.child("n")
    assert n.set_text("12345678901234567890123")
    assert n.value == 12345678901234567890123
    assert not n.set_text("1.5")
    assert "whole number" in n.parse_error and n.text == "1.5" and n.value == 12345678901234567890123
    x = tree.child("x")
    assert not x.set_text("abc")
    assert messages(validate_tree(tree)) == ["n: '1.5' is not a whole number (change the type to number for decimals)",
                                             "x: 'abc' is not a number"]
    assert x.set_text("2e3") and x.value == 2000.0 and type(x.value) is float
    t = tree.child("t")
    assert t.set_text("2020-02-03T04:05:06.789+01:00")
    assert t.value == datetime(2020, 2, 3, 3, 5, 6, 789000, tzinfo=UTC)
    assert t.set_text("2020-02-03 04:05")  # no offset: UTC
    assert t.value == datetime(2020, 2, 3, 4, 5, tzinfo=UTC)
    assert not t.set_text("next tuesday") and "cannot parse date-time" in t.parse_error


def test_duplicate_and_empty_keys_are_marked_on_each_field():
    tree = tree_from_value({"a": 1, "b": 2, "c": 3})
    tree.child("b").rename("a")
    probs = validate_tree(tree)
    assert [(p.node.key, p.message) for p in probs] == [
        ("a", "duplicate key 'a': keys of an object must be unique"),
        ("a", "duplicate key 'a': keys of an object must be unique")]
    tree.child("c").rename("")
    assert "key is empty" in [p.message for p in validate_tree(tree)]


def test_structure_edits_add_remove_rename_move():
    tree = tree_from_value({"items": [1, 2, 3], "obj": {}})
    items = tree.child("items")
    items.children[2].move(-1)
    assert tree.to_value()["items"] == [1, 3, 2]
    items.children[0].remove()
    assert tree.to_value()["items"] == [3, 2]
    items.insert("x", index=0)
    assert tree.to_value()["items"] == ["x", 3, 2]
    obj = tree.child("obj")
    obj.insert(1)
    obj.insert(2)
    assert tree.to_value()["obj"] == {"new_key": 1, "new_key_2": 2}
    obj.children[0].rename("renamed")
    assert list(tree.to_value()["obj"]) == ["renamed", "new_key_2"]
    assert tree.find(("items", 1)).path_text == "items[1]"
    with pytest.raises(ValueError, match="root"):
        tree.remove()
    with pytest.raises(ValueError, match="cannot move"):
        items.children[0].move(-1)


def test_explicit_type_changes_convert_where_possible():
    assert convert_value("12", "integer") == 12
    assert convert_value("12.7", "integer") == 13
    assert convert_value("abc", "number") == 0.0
    assert convert_value(3, "number") == 3.0 and type(convert_value(3, "number")) is float
    assert convert_value(2.0, "string") == "2.0"
    assert convert_value("2017-06-20T12:00:00.123Z", "datetime") == T1
    assert convert_value(T1, "string") == "2017-06-20T12:00:00.123Z"
    assert convert_value([1, 2], "object") == {"0": 1, "1": 2}
    assert convert_value({"a": 1}, "array") == [1]
    assert convert_value(5, "array") == [5]
    assert convert_value("true", "boolean") is True
    node = tree_from_value({"v": "41"}).child("v")
    node.change_kind("integer")
    assert node.kind == "integer" and node.value == 41
    node.set_text("oops")
    node.change_kind("string")  # converts what the user sees, not the last good value
    assert node.value == "oops" and node.parse_error is None


def test_raw_json_round_trip_with_datetimes_unicode_big_ints_and_tag_lookalikes():
    value = dict(NESTED, tricky={"$datetime": "not a date, just a key"}, tricky2={"$object": 1},
                 nan=math.nan, neg_inf=-math.inf)
    text = to_json_text(value)
    assert '{"$datetime": "2017-06-20T12:00:00.123Z"}' in text
    assert "Ærø Cottage ☀" in text and "北京" in text  # written as text, not \u escapes
    back = parse_json_text(text)
    assert same_value(back, value)
    # and through the store codec, the way the channel keeps it
    assert same_value(decode_json(encode_json(back)), value)


def test_raw_json_errors_have_line_and_column():
    with pytest.raises(JsonTextError) as e:
        parse_json_text('{\n  "a": 1\n  "b": 2\n}')
    assert (e.value.line, e.value.column) == (3, 3) and "delimiter" in e.value.message
    with pytest.raises(JsonTextError) as e:
        parse_json_text('{"a": 1,\n "a": 2}')
    assert e.value.line == 2 and "duplicate key 'a'" in str(e.value)
    with pytest.raises(JsonTextError, match="ISO date-time text"):
        parse_json_text('{"t": {"$datetime": 5}}')
    with pytest.raises(JsonTextError, match="cannot parse date-time"):
        parse_json_text('{"$datetime": "yesterday"}')
    with pytest.raises(JsonTextError, match="empty"):
        parse_json_text("   ")


def test_diff_lists_added_removed_changed_paths():
    old = {"houses": [{"id": 1}, {"id": 2}], "t": 1, "gone": "x", "when": T1}
    new = {"houses": [{"id": 1}, {"id": 9}, {"id": 2}], "t": 1.0, "when": T1 + timedelta(hours=1), "new": [1]}
    lines = format_diff(diff_values(old, new))
    assert lines == [
        "- gone = 'x'",
        "+ houses[1] = {\"id\": 9}",
        "~ t: 1 (integer) → 1.0 (number)",
        "~ when: 2017-06-20T12:00:00.123Z (date-time) → 2017-06-20T13:00:00.123Z (date-time)",
        "+ new = [1]",
    ]
    assert diff_values(NESTED, tree_from_value(NESTED).to_value()) == []


def test_schema_validation_required_types_choices_and_ranges():
    schema = BUILTIN_SCHEMAS["workflow_parameters"]
    tree = tree_from_value({"workflow_id": 3, "aggregate": "avg", "chunk_seconds": 0, "end": None,
                            "window_seconds": 5, "tool_parameters": {"x": 1}})
    msgs = messages(validate_tree(tree, schema))
    assert msgs == [
        "(root): missing required key 'start'",
        "workflow_id: expected text, not integer",
        "aggregate: 'avg' is not one of the choices: 'mean', 'median', 'min', 'max', 'sum', 'count', 'std'",
        "chunk_seconds: must be at least 1",
        "tool_parameters.x: expected object, not integer",
    ]
    # "number" accepts an integer, "datetime or null" accepts null
    assert schema_for_node(schema, tree.child("end")) == schema["properties"]["end"]
    assert default_for_schema(schema)["chunk_seconds"] == 3600
    assert set(default_for_schema(schema)) == {"workflow_id", "start", "chunk_seconds"}
    houses = tree_from_value([{"house_id": "1", "name": "a", "extra": 1}])
    assert messages(validate_tree(houses, schema_for_stream("houses"))) == [
        "[0].house_id: expected integer, not text"]


def test_builtin_schemas_are_well_formed_and_bad_ones_are_rejected():
    for name, schema in BUILTIN_SCHEMAS.items():
        check_schema(schema, name)
        assert schema_for_stream(name) == schema
    assert schema_for_stream("houses: [site=bristol]") == BUILTIN_SCHEMAS["houses"]
    assert schema_for_stream("something_else") is None
    with pytest.raises(SchemaError, match="unknown keyword"):
        register_asset_schema("x", {"type": "object", "propertys": {}})
    with pytest.raises(SchemaError, match="not one of"):
        check_schema({"type": "float"})


class _Aggregate:
    """Aggregate a window.

    :param func: function applied to each window
    :param window: window length
    """

    def __init__(self, func: Literal["mean", "max"], window: timedelta = timedelta(seconds=60),
                 start: Optional[datetime] = None, columns: list[str] = ("a",), strict: bool = True, scale: float = 1):
        pass


def test_schema_from_tool_parameter_specs():
    from channels.tools.params import parameter_specs
    schema = schema_from_parameter_specs(parameter_specs(_Aggregate), title="_Aggregate")
    assert schema == schema_for_tool(_Aggregate)
    props = schema["properties"]
    assert schema["required"] == ["func"] and schema["additionalProperties"] is False
    assert props["func"] == {"enum": ["mean", "max"], "description": "function applied to each window"}
    assert props["window"] == {"type": "number", "default": 60.0, "description": "window length (seconds)"}
    assert props["start"] == {"type": ["datetime", "null"], "default": None}
    assert props["columns"] == {"type": "array", "items": {"type": "string"}, "default": ["a"]}
    assert props["strict"]["type"] == "boolean" and props["scale"]["type"] == "number"
    tree = tree_from_value({"func": "median", "strict": "yes", "typo": 1})
    assert messages(validate_tree(tree, schema)) == [
        "func: 'median' is not one of the choices: 'mean', 'max'",
        "strict: expected boolean, not text",
        "typo: unknown key 'typo' (allowed: func, window, start, columns, strict, scale)"]
    # a tool_parameters asset picks the schema of the tool named in its meta-data
    assert schema_for_stream("tool_parameters: [tool=aggregate]", tool_lookup=lambda name: _Aggregate) == schema


def test_kind_of_rejects_time_intervals_with_a_clear_message():
    from channels.time_interval import TimeInterval
    with pytest.raises(AssetValueError, match="TimeInterval"):
        kind_of(TimeInterval(T1, T1 + timedelta(1)), "value['w']")


def test_core_does_not_import_qt():
    import subprocess
    code = ("import sys, hsgui.forms.value_model, hsgui.forms.schemas; "
            "print(any(m.startswith('PySide6') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
