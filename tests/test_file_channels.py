"""FileChannel, FileDateTimeVersion, ModuleChannel and ToolChannel on folders made in tmp_path."""
from __future__ import annotations

import logging
import os
import sys
from datetime import datetime, timedelta

import pytest
import semantic_version

from channels import (MIN_DATE, UTC, FileChannel, FileDateTimeVersion, FileNameError, ModuleChannel,
                      ReadOnlyChannelError, StreamId, StreamInstance, TimeInterval, ToolChannel, ToolNotFoundError,
                      utcnow)
from channels.errors import ToolInitialisationError


def write(path, text=""):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


# ---------------------------------------------------------------------------
# FileDateTimeVersion
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, ts, version, ext", [
    ("2017-06-20_v0.0.1.py", datetime(2017, 6, 20, tzinfo=UTC), "0.0.1", ".py"),
    ("2016-07-11T1209Z_v0.1.0.py", datetime(2016, 7, 11, 12, 9, tzinfo=UTC), "0.1.0", ".py"),
    ("2016-07-11T120930_v1.2.3.json", datetime(2016, 7, 11, 12, 9, 30, tzinfo=UTC), "1.2.3", ".json"),
    ("2016-07-11T12:09:30Z_v0.0.10.csv", datetime(2016, 7, 11, 12, 9, 30, tzinfo=UTC), "0.0.10", ".csv"),
    ("2017_06_20_v2.0.0.txt", datetime(2017, 6, 20, tzinfo=UTC), "2.0.0", ".txt"),
])
def test_file_date_time_version_parses(name, ts, version, ext):
    info = FileDateTimeVersion(os.path.join("/some/folder", name))
    assert info.timestamp == ts
    assert info.timestamp.utcoffset() == timedelta(0)
    assert info.version == semantic_version.Version(version)
    assert info.extension == ext
    assert info.is_python == (ext == ".py")
    assert info.long_filename == os.path.join("/some/folder", name)
    assert info.filename_no_extension == name[: -len(ext)]


def test_file_versions_compare_semantically():
    a = FileDateTimeVersion("2017-06-20_v0.0.9.py")
    b = FileDateTimeVersion("2017-06-20_v0.0.10.py")
    assert a.version < b.version


@pytest.mark.parametrize("name", [
    "readme.txt",            # no _v<version>
    "2017-06-20.py",         # no version
    "2017-06-20_vabc.py",    # version not semantic
    "notadate_v0.0.1.py",    # timestamp unreadable
    "2017-13-45_v0.0.1.py",  # timestamp has the right shape but is not a date
    "_v0.0.1.py",            # no timestamp at all
])
def test_file_date_time_version_rejects_bad_names_naming_them(name):
    with pytest.raises(FileNameError) as ei:
        FileDateTimeVersion(os.path.join("/some/folder", name))
    assert name in str(ei.value)


# ---------------------------------------------------------------------------
# FileChannel
# ---------------------------------------------------------------------------

@pytest.fixture
def data_folder(tmp_path):
    root = tmp_path / "data"
    write(str(root / "alpha" / "2017-01-01_v0.0.1.txt"), "a1")
    write(str(root / "alpha" / "2017-01-02_v0.0.1.txt"), "a2")
    write(str(root / "alpha" / "2017-01-03_v0.0.1.txt"), "a3")
    write(str(root / "beta" / "2017-01-02T1200Z_v1.0.0.txt"), "b1")
    write(str(root / "beta" / ".hidden_v0.0.1.txt"), "hidden")
    write(str(root / "beta" / "nested" / "2017-01-01_v0.0.1.txt"), "nested file: not a document of beta")
    write(str(root / ".git" / "2017-01-01_v0.0.1.txt"), "hidden folder")
    write(str(root / "2017-01-01_v0.0.1.txt"), "a file at the top is not a stream")
    return root


def test_file_channel_streams_are_sub_folders(data_folder):
    ch = FileChannel("files", str(data_folder), up_to_timestamp=utcnow())
    assert sorted(str(s.stream_id) for s in ch) == ["alpha", "beta"]
    alpha = ch["alpha"].window().items()
    assert [i.timestamp for i in alpha] == [datetime(2017, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
    assert all(isinstance(i.value, FileDateTimeVersion) for i in alpha)
    assert [os.path.basename(i.value.long_filename) for i in alpha] == [
        "2017-01-01_v0.0.1.txt", "2017-01-02_v0.0.1.txt", "2017-01-03_v0.0.1.txt"]
    beta = ch["beta"].window().items()
    assert [i.timestamp for i in beta] == [datetime(2017, 1, 2, 12, tzinfo=UTC)]


def test_file_channel_update_state_loads_up_to_the_time(data_folder):
    ch = FileChannel("files", str(data_folder))
    assert len(ch) == 0  # constructed at MIN_DATE: nothing loaded yet
    up_to = datetime(2017, 1, 2, 6, tzinfo=UTC)
    ch.update_state(up_to)
    assert [i.timestamp.day for i in ch["alpha"].window()] == [1, 2]
    assert ch["beta"].window().items() == []
    for s in ch:
        assert list(s.calculated_intervals) == [TimeInterval(MIN_DATE, up_to)]
    up_to = datetime(2017, 1, 5, tzinfo=UTC)
    ch.update_state(up_to)
    assert [i.timestamp.day for i in ch["alpha"].window()] == [1, 2, 3]
    assert len(ch["beta"].window().items()) == 1
    assert ch["alpha"].calculated_intervals == TimeInterval(MIN_DATE, up_to)


def test_file_channel_custom_data_loader(data_folder):
    class TextChannel(FileChannel):
        def data_loader(self, short_path, file_info):
            with open(file_info.long_filename) as f:
                return f"{short_path}:{f.read()}"

    ch = TextChannel("text", str(data_folder), up_to_timestamp=utcnow())
    assert ch["alpha"].window().values() == ["alpha:a1", "alpha:a2", "alpha:a3"]
    assert ch["beta"].window().values() == ["beta:b1"]


def test_file_channel_skips_bad_names_with_a_warning(data_folder, caplog):
    write(str(data_folder / "alpha" / "notes.txt"), "not a document")
    write(str(data_folder / "alpha" / "2017-01-04_vX.txt"), "bad version")
    caplog.set_level(logging.WARNING)
    ch = FileChannel("files", str(data_folder), up_to_timestamp=utcnow())
    assert len(ch["alpha"].window().items()) == 3
    text = caplog.text
    assert "notes.txt" in text
    assert "2017-01-04_vX.txt" in text
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    skipped = [os.path.basename(p) for p, _reason in ch.skipped]
    assert sorted(skipped) == ["2017-01-04_vX.txt", "notes.txt"]


def test_file_channel_skips_impossible_dates_with_a_warning(data_folder, caplog):
    write(str(data_folder / "alpha" / "2017-13-45_v0.0.1.txt"), "month 13")
    caplog.set_level(logging.WARNING)
    ch = FileChannel("files", str(data_folder), up_to_timestamp=utcnow())
    assert len(ch["alpha"].window().items()) == 3
    assert "2017-13-45_v0.0.1.txt" in caplog.text


def test_file_channel_ignores_future_files(data_folder):
    write(str(data_folder / "alpha" / "2999-01-01_v0.0.1.txt"), "far future")
    ch = FileChannel("files", str(data_folder), up_to_timestamp=utcnow())
    assert [i.timestamp.year for i in ch["alpha"].window()] == [2017, 2017, 2017]


def test_file_channel_same_timestamp_keeps_the_newest_version(tmp_path):
    root = tmp_path / "data"
    write(str(root / "s" / "2017-01-01_v0.0.10.txt"))
    write(str(root / "s" / "2017-01-01_v0.0.9.txt"))
    ch = FileChannel("files", str(root), up_to_timestamp=utcnow())
    (inst,) = ch["s"].window().items()
    assert str(inst.value.version) == "0.0.10"


def test_file_channel_is_read_only(data_folder):
    ch = FileChannel("files", str(data_folder), up_to_timestamp=utcnow())
    with pytest.raises(ReadOnlyChannelError):
        ch["alpha"].writer([StreamInstance(datetime(2017, 1, 9, tzinfo=UTC), "x")])
    with pytest.raises(ReadOnlyChannelError):
        ch.create_stream(StreamId("gamma"))
    with pytest.raises(ReadOnlyChannelError):
        ch.purge_stream("alpha")
    assert len(ch["alpha"].window().items()) == 3
    assert os.path.exists(data_folder / "alpha" / "2017-01-01_v0.0.1.txt")


def test_file_channel_missing_folder_is_an_error_naming_it(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError) as ei:
        FileChannel("files", str(missing))
    assert str(missing) in str(ei.value)
    assert "'files'" in str(ei.value)


def test_walk_levels(tmp_path):
    root = tmp_path / "w"
    for d in ("a/b/c/d", "x"):
        os.makedirs(root / d)
    write(str(root / "a" / "f.txt"))
    rel = lambda level: sorted(os.path.relpath(r, root) for r, _d, _f in FileChannel.walk(str(root), level))  # noqa
    assert rel(1) == [".", "a", "x"]
    assert rel(2) == [".", "a", os.path.join("a", "b"), "x"]
    assert rel(3) == [".", "a", os.path.join("a", "b"), os.path.join("a", "b", "c"), "x"]
    files = {os.path.relpath(r, root): f for r, _d, f in FileChannel.walk(str(root) + os.sep, 1)}
    assert files["a"] == ["f.txt"]


def test_walk_rejects_missing_directory_naming_it(tmp_path):
    missing = str(tmp_path / "nope")
    with pytest.raises((FileNotFoundError, NotADirectoryError)) as ei:
        list(FileChannel.walk(missing, 1))
    assert missing in str(ei.value)


# ---------------------------------------------------------------------------
# ModuleChannel
# ---------------------------------------------------------------------------

MODULE_A = '''
VALUE = "a"
CALLS = []

class Thing:
    origin = "a"

def double(x):
    return 2 * x
'''

MODULE_B = '''
VALUE = "b"
CALLS = []

class Thing:
    origin = "b"

def double(x):
    return 2 * x + 1
'''


@pytest.fixture
def module_folder(tmp_path):
    root = tmp_path / "modules"
    write(str(root / "first" / "2017-01-01_v0.0.1.py"), MODULE_A)
    write(str(root / "second" / "2017-01-01_v0.0.1.py"), MODULE_B)  # same file name, same names inside
    write(str(root / "first" / "2017-02-01_v0.0.2.py"), MODULE_B.replace('"b"', '"a2"'))
    write(str(root / "first" / "2017-03-01_v0.0.3.txt"), "not python: ignored")
    return root


def test_module_channel_values_are_version_and_importer(module_folder):
    before = set(sys.modules)
    ch = ModuleChannel("modules", str(module_folder), up_to_timestamp=utcnow())
    insts = ch["first"].window().items()
    assert [str(v) for _ts, (v, _imp) in insts] == ["0.0.1", "0.0.2"]
    assert isinstance(insts[0].value[0], semantic_version.Version)
    m1 = insts[0].value[1]()
    m2 = insts[1].value[1]()
    assert m1.VALUE == "a" and m2.VALUE == "a2"
    assert m1 is not m2 and m1.Thing is not m2.Thing
    assert set(sys.modules) == before


def test_module_channel_same_names_in_two_files_stay_distinct(module_folder):
    before = dict(sys.modules)
    ch = ModuleChannel("modules", str(module_folder), up_to_timestamp=utcnow())
    (_v, imp_a) = ch["first"].window().first().value
    (_v, imp_b) = ch["second"].window().first().value
    a, b = imp_a(), imp_b()
    assert a.VALUE == "a" and b.VALUE == "b"
    assert a.Thing.origin == "a" and b.Thing.origin == "b"
    assert a.double(3) == 6 and b.double(3) == 7
    a.CALLS.append(1)
    assert b.CALLS == []
    # importing again gives the same module state back
    assert imp_a().VALUE == "a" and imp_b().VALUE == "b"
    assert set(sys.modules) == set(before)
    assert all(sys.modules[k] is v for k, v in before.items())


def test_module_channel_leaves_a_user_module_of_the_same_name_alone(tmp_path):
    root = tmp_path / "modules"
    write(str(root / "json" / "2017-01-01_v0.0.1.py"), "VALUE = 'mine'\n")
    import json
    ch = ModuleChannel("modules", str(root), up_to_timestamp=utcnow())
    mod = ch["json"].window().first().value[1]()
    assert mod.VALUE == "mine"
    assert sys.modules["json"] is json
    assert hasattr(sys.modules["json"], "dumps")


def test_module_channel_import_error_names_the_file(tmp_path):
    root = tmp_path / "modules"
    path = write(str(root / "broken" / "2017-01-01_v0.0.1.py"), "raise RuntimeError('boom')\n")
    before = set(sys.modules)
    ch = ModuleChannel("modules", str(root), up_to_timestamp=utcnow())
    importer = ch["broken"].window().first().value[1]
    with pytest.raises(ToolInitialisationError) as ei:
        importer()
    assert path in str(ei.value)
    assert "boom" in str(ei.value)
    assert set(sys.modules) == before


def test_module_channel_records_versions(module_folder):
    ch = ModuleChannel("modules", str(module_folder), up_to_timestamp=utcnow())
    assert set(ch.versions) == {("first", "0.0.1"), ("first", "0.0.2"), ("second", "0.0.1")}
    ch.update_state(datetime(2017, 1, 15, tzinfo=UTC))
    assert set(ch.versions) == {("first", "0.0.1"), ("second", "0.0.1")}


# ---------------------------------------------------------------------------
# ToolChannel
# ---------------------------------------------------------------------------

def tool_source(class_name, version):
    return f'''
class {class_name}:
    VERSION = "{version}"

    def __init__(self, size=1):
        if not isinstance(size, int):
            raise TypeError("size must be an int")
        self.size = size
'''


@pytest.fixture
def tool_folder(tmp_path):
    root = tmp_path / "tools"
    # same timestamp: only the semantic version tells them apart (0.0.10 > 0.0.9, but "0.0.10" < "0.0.9" as text)
    for v in ("0.0.9", "0.0.10", "0.0.2"):
        write(str(root / "sliding_window" / f"2017-06-20_v{v}.py"), tool_source("SlidingWindow", v))
    write(str(root / "clock" / "2017-01-01_v0.1.0.py"), tool_source("Clock", "0.1.0"))
    write(str(root / "clock" / "2017-02-01_v0.2.0.py"), tool_source("Clock", "0.2.0"))
    write(str(root / "wrong_class" / "2017-01-01_v0.1.0.py"), tool_source("SomethingElse", "0.1.0"))
    return root


@pytest.fixture
def tools(tool_folder):
    return ToolChannel("tools", str(tool_folder), up_to_timestamp=utcnow())


def test_tool_channel_returns_class_by_camel_case_name(tools):
    cls = tools.get_tool_class("clock")
    assert cls.__name__ == "Clock"
    assert cls.VERSION == "0.2.0"


def test_tool_channel_picks_newest_semantic_version(tools):
    cls = tools.get_tool_class("sliding_window")
    assert cls.__name__ == "SlidingWindow"
    assert cls.VERSION == "0.0.10"
    assert str(tools.find_tool_version("sliding_window").version) == "0.0.10"
    assert [str(tv.version) for tv in tools.tool_versions("sliding_window")] == ["0.0.2", "0.0.9", "0.0.10"]


def test_tool_channel_stream_items_are_classes(tools):
    (sw,) = tools["sliding_window"].window().items()  # one timestamp: the newest version of that day
    assert sw.value.__name__ == "SlidingWindow"
    assert sw.value.VERSION == "0.0.10"
    clocks = tools["clock"].window().items()
    assert [c.timestamp for c in clocks] == [datetime(2017, 1, 1, tzinfo=UTC), datetime(2017, 2, 1, tzinfo=UTC)]
    assert [c.value.VERSION for c in clocks] == ["0.1.0", "0.2.0"]


def test_tool_channel_stream_first_and_last_are_classes(tools):
    # HyperStream picks a tool with tool_stream.window(...).last(): it must give the class, like items() does
    last = tools["clock"].window().last()
    assert isinstance(last.value, type)
    assert last.value.__name__ == "Clock" and last.value.VERSION == "0.2.0"
    first = tools["clock"].window().first()
    assert isinstance(first.value, type)
    assert first.value.VERSION == "0.1.0"
    assert tools["sliding_window"].window().last().value.VERSION == "0.0.10"


def test_tool_channel_explicit_version(tools):
    assert tools.get_tool_class("sliding_window", "0.0.9").VERSION == "0.0.9"
    assert tools.get_tool_class("sliding_window", "v0.0.2").VERSION == "0.0.2"
    assert tools.get_tool_class("clock", semantic_version.Version("0.1.0")).VERSION == "0.1.0"
    v9 = tools.get_tool_class("sliding_window", "0.0.9")
    v10 = tools.get_tool_class("sliding_window", "0.0.10")
    assert v9 is not v10


def test_tool_channel_get_tool_instance(tools):
    tool = tools.get_tool("sliding_window", {"size": 3})
    assert tool.size == 3 and tool.VERSION == "0.0.10"
    assert tools.get_tool("clock").size == 1
    with pytest.raises(ToolInitialisationError) as ei:
        tools.get_tool("sliding_window", {"size": "big"})
    assert "sliding_window" in str(ei.value)
    with pytest.raises(ToolInitialisationError) as ei:
        tools.get_tool("sliding_window", {"colour": "red"})
    assert "colour" in str(ei.value)


def test_tool_channel_unknown_tool_names_it(tools):
    with pytest.raises(ToolNotFoundError) as ei:
        tools.get_tool_class("no_such_tool")
    assert "no_such_tool" in str(ei.value)
    with pytest.raises(KeyError):
        tools.get_tool_class("no_such_tool")


def test_tool_channel_unknown_version_names_it(tools):
    with pytest.raises(ToolNotFoundError) as ei:
        tools.get_tool_class("sliding_window", "0.0.3")
    msg = str(ei.value)
    assert "sliding_window" in msg and "0.0.3" in msg
    assert "0.0.10" in msg  # says what is available


def test_tool_channel_malformed_version_names_it(tools):
    with pytest.raises((ToolNotFoundError, ValueError)) as ei:
        tools.get_tool_class("sliding_window", "latest-ish")
    assert "latest-ish" in str(ei.value)


def test_tool_channel_missing_class_names_it(tools):
    with pytest.raises(ToolInitialisationError) as ei:
        tools.get_tool_class("wrong_class")
    assert "'WrongClass'" in str(ei.value)


def test_tool_channel_list_tools(tools):
    listed = tools.list_tools()
    assert sorted(listed) == ["clock", "sliding_window", "wrong_class"]
    assert [str(tv.version) for tv in listed["clock"]] == ["0.1.0", "0.2.0"]
    assert all(tv.channel_id == "tools" for tv in listed["clock"])
    assert listed["clock"][-1].path.endswith("2017-02-01_v0.2.0.py")


def test_tool_channel_two_versions_do_not_touch_sys_modules(tool_folder):
    before = set(sys.modules)
    tools = ToolChannel("tools", str(tool_folder), up_to_timestamp=utcnow())
    classes = {v: tools.get_tool_class("sliding_window", v) for v in ("0.0.2", "0.0.9", "0.0.10")}
    assert {v: c.VERSION for v, c in classes.items()} == {"0.0.2": "0.0.2", "0.0.9": "0.0.9", "0.0.10": "0.0.10"}
    assert len({id(c) for c in classes.values()}) == 3
    assert set(sys.modules) == before


def test_tool_channel_respects_up_to_timestamp(tool_folder):
    tools = ToolChannel("tools", str(tool_folder), up_to_timestamp=datetime(2017, 1, 15, tzinfo=UTC))
    assert tools.get_tool_class("clock").VERSION == "0.1.0"  # v0.2.0 is dated later
    with pytest.raises(ToolNotFoundError) as ei:
        tools.get_tool_class("sliding_window")
    assert "sliding_window" in str(ei.value)
