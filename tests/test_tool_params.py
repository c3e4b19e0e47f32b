"""Parameter introspection and coercion (channels.tools.params) on real built-in tools and on local ones."""
from __future__ import annotations

import enum
import os
from datetime import datetime, timedelta
from typing import Literal, Optional

import pytest

from channels import MIN_DATE, UTC, RelativeTimeInterval, TimeInterval, ToolChannel
from channels.errors import ToolParameterError
from channels.tools.functions import function_names
from channels.tools import Tool, load_tool
from channels.tools.params import (REQUIRED, coerce_parameters, coerce_value, parameter_specs, parse_param_docs,
                                  to_jsonable, value_to_text)
from channels.utils import utcnow

TOOLS = os.path.join(os.path.dirname(__file__), os.pardir, "resources", "tools")


@pytest.fixture(scope="module")
def tools():
    return ToolChannel("tools", TOOLS, up_to_timestamp=utcnow())


def specs_by_name(cls):
    return {s.name: s for s in parameter_specs(cls)}


def test_clock_specs(tools):
    specs = parameter_specs(tools.get_tool_class("clock"))
    assert [s.name for s in specs] == ["first", "stride"]
    first, stride = specs
    assert (first.kind, first.type, first.default, first.required) == ("datetime", datetime, MIN_DATE, False)
    assert (stride.kind, stride.default) == ("timedelta", timedelta(seconds=1))
    assert first.doc == "Time of the first tick (UTC)."
    assert stride.doc.startswith("Time between ticks")


def test_function_parameters_list_the_registry(tools):
    agg = specs_by_name(tools.get_tool_class("aggregate"))["func"]
    assert agg.kind == "function" and agg.default == "mean"
    assert set(agg.choices) == set(function_names("aggregate"))
    assert "median" in agg.choices and "abs" not in agg.choices
    app = specs_by_name(tools.get_tool_class("apply"))["func"]
    assert "abs" in app.choices and "sqrt" in app.choices and "mean" not in app.choices


def test_optional_list_required_and_docs_of_builtins(tools):
    merge = specs_by_name(tools.get_tool_class("aligned_merge"))["names"]
    assert merge.kind == "list" and merge.optional and merge.default is None and merge.item_type is str
    comp = specs_by_name(tools.get_tool_class("component"))["key"]
    assert comp.required and comp.default is REQUIRED and comp.kind == "str" and comp.doc == "The dict key to extract."
    csv_specs = specs_by_name(tools.get_tool_class("csv_reader"))
    assert csv_specs["path"].required and csv_specs["time_zone"].default == "UTC"
    assert csv_specs["value_columns"].optional
    # every built-in tool documents every parameter
    for name in tools.list_tools():
        for spec in parameter_specs(tools.get_tool_class(name)):
            assert spec.doc, f"{name}.{spec.name} has no doc"
            assert not spec.inferred


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Local(Tool):
    """A local tool.

    :param mode: How to run.
    :param colour: Which colour.
    :param limit: Optional upper limit
        spanning two lines.
    """

    def __init__(self, mode: Literal["fast", "slow"] = "fast", colour: Colour = Colour.RED,
                 limit: Optional[int] = None, weights: list[float] = (1.0, 2.5), options: dict = None,
                 window: TimeInterval = None, offsets: RelativeTimeInterval = RelativeTimeInterval(-60, 0),
                 flag: bool = False, count: int = 1, when: datetime = MIN_DATE, anything=3.5):
        super().__init__(mode=mode, colour=colour, limit=limit, weights=weights, options=options, window=window,
                         offsets=offsets, flag=flag, count=count, when=when, anything=anything)


def test_literal_enum_optional_and_docs():
    specs = specs_by_name(Local)
    assert specs["mode"].kind == "choice" and specs["mode"].choices == ("fast", "slow")
    assert specs["colour"].kind == "choice" and specs["colour"].choices == (Colour.RED, Colour.BLUE)
    assert specs["limit"].optional and specs["limit"].kind == "int" and specs["limit"].type is int
    assert specs["weights"].kind == "list" and specs["weights"].item_type is float
    assert specs["window"].kind == "time_interval" and specs["window"].optional
    assert specs["offsets"].kind == "relative_time_interval"
    assert specs["anything"].kind == "float" and specs["anything"].inferred
    assert specs["mode"].doc == "How to run."
    assert specs["limit"].doc == "Optional upper limit spanning two lines."


def test_google_and_numpy_docstrings():
    google = """Summary.

    Args:
        alpha (float): The first
            parameter.
        beta: The second.

    Returns:
        nothing
    """
    numpy_doc = """Summary.

    Parameters
    ----------
    alpha : float
        The first parameter.
    beta
        The second.

    Returns
    -------
    None
    """
    for doc in (google, numpy_doc):
        parsed = parse_param_docs(doc)
        assert parsed["alpha"] == "The first parameter."
        assert parsed["beta"] == "The second."


def test_coercion_of_form_text():
    out = coerce_parameters(Local, {
        "mode": "slow", "colour": "BLUE", "limit": "7", "weights": "[1, 2.5]", "options": '{"a": 1}',
        "window": "2026-01-01T00:00:00Z/2026-01-01T01:00:00Z", "offsets": "-90s, 0", "flag": "true",
        "count": "3", "when": "2026-01-01T10:00:00", "anything": "4.5"})
    assert out == {
        "mode": "slow", "colour": Colour.BLUE, "limit": 7, "weights": [1.0, 2.5], "options": {"a": 1},
        "window": TimeInterval(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 1, tzinfo=UTC)),
        "offsets": RelativeTimeInterval(-90, 0), "flag": True, "count": 3,
        "when": datetime(2026, 1, 1, 10, tzinfo=UTC),  # text without an offset is read as UTC
        "anything": 4.5}
    assert coerce_parameters(Local, {"limit": ""}) == {"limit": None}
    assert coerce_parameters(Local, {"flag": "no", "count": 2.0, "weights": "1, 2"}) == {
        "flag": False, "count": 2, "weights": [1.0, 2.0]}
    Local(**out)  # the coerced values construct the tool


def test_coercion_of_builtin_durations(tools):
    cls = tools.get_tool_class("sliding_window")
    out = coerce_parameters(cls, {"lower": "-5m", "upper": "0", "increment": 60, "first": "2026-01-01"})
    assert out == {"lower": timedelta(minutes=-5), "upper": timedelta(0), "increment": timedelta(seconds=60),
                   "first": datetime(2026, 1, 1, tzinfo=UTC)}


@pytest.mark.parametrize("raw, param, fragment", [
    ({"count": "three"}, "count", "'three'"),
    ({"count": True}, "count", "int"),
    ({"flag": "maybe"}, "flag", "'maybe'"),
    ({"mode": "medium"}, "mode", "'medium'"),
    ({"colour": "green"}, "colour", "RED, BLUE"),
    ({"when": "yesterday"}, "when", "'yesterday'"),
    ({"when": datetime(2026, 1, 1)}, "when", "naive"),
    ({"weights": "[1, 'x']"}, "weights", "list"),
    ({"options": "[1, 2]"}, "options", "dict"),
    ({"limit": "1.5"}, "limit", "Optional[int]"),
    ({"offsets": "0, -60"}, "offsets", "after start"),
])
def test_coercion_errors_name_parameter_type_and_value(raw, param, fragment):
    with pytest.raises(ToolParameterError) as err:
        coerce_parameters(Local, raw)
    assert err.value.parameter == param
    assert f"'{param}'" in str(err.value) and "Local" in str(err.value)
    assert fragment in str(err.value)


def test_unknown_and_missing_parameters(tools):
    with pytest.raises(ToolParameterError, match="unknown parameter") as err:
        coerce_parameters(Local, {"colour": "RED", "speed": 3})
    assert err.value.parameter == "speed" and "mode" in str(err.value)
    with pytest.raises(ToolParameterError, match="required parameter is missing") as err:
        coerce_parameters(tools.get_tool_class("component"), {})
    assert err.value.parameter == "key"


def test_load_tool_from_form_text_records_version_and_source(tools):
    tool = load_tool(tools, "clock", {"first": "2026-01-01T00:00:00Z", "stride": "5m"})
    assert tool.parameters == {"first": datetime(2026, 1, 1, tzinfo=UTC), "stride": timedelta(minutes=5)}
    assert tool.tool_version == "1.0.0" and tool.tool_source.endswith(os.path.join("clock", "2026-11-25_v1.0.0.py"))
    with pytest.raises(ToolParameterError) as err:
        load_tool(tools, "clock", {"stride": "-5s"})
    assert err.value.parameter == "stride"
    with pytest.raises(ToolParameterError) as err:
        load_tool(tools, "aggregate", {"func": "average"})
    assert err.value.parameter == "func" and "mean" in str(err.value)


def test_text_and_json_forms_round_trip():
    for spec in parameter_specs(Local):
        if spec.default is None:
            continue
        expected = list(spec.default) if isinstance(spec.default, tuple) else spec.default  # list-typed
        assert coerce_value(spec, value_to_text(spec.default)) == expected, spec.name
    assert to_jsonable({"t": datetime(2026, 1, 1, tzinfo=UTC), "d": timedelta(minutes=2), "c": Colour.RED,
                        "s": {3, 1}, "r": RelativeTimeInterval(-60, 0)}) == {
        "t": "2026-01-01T00:00:00+00:00", "d": 120.0, "c": "red", "s": [1, 3], "r": {"start": -60.0, "end": 0.0}}


def test_recorded_json_parameters_rebuild_the_same_tool(tools):
    from channels import MemoryChannel
    from channels.tools import MemoryRunHistory
    first = datetime(2026, 1, 1, tzinfo=UTC)
    original = load_tool(tools, "sliding_window", {"first": first, "lower": "-90s", "upper": "-30s",
                                                   "increment": "1m"})
    history = MemoryRunHistory()
    original.execute([], MemoryChannel("m").create_stream("w"), TimeInterval(first, first + timedelta(minutes=5)),
                     history=history)
    rec = history.list()[0]
    assert rec.parameters == {"first": first.isoformat(), "lower": -90.0, "upper": -30.0, "increment": 60.0}
    again = load_tool(tools, rec.tool, dict(rec.parameters), rec.tool_version)
    assert again == original
