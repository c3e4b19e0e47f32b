"""Channel manager and config: opening stores, plugin folders, clear errors for bad config."""
import json
from datetime import datetime, timedelta

import pytest

from channels import (AssetsChannel, AssetsFileChannel, ChannelManager, ChannelNotFoundError, Config, ConfigError,
                      DatabaseChannel, MemoryChannel, StreamId, StreamInstance, ToolChannel, UTC)
from channels.errors import StoreError, ToolNotFoundError
from channels.stores.base import StreamDefinition

T0 = datetime(2024, 3, 1, tzinfo=UTC)

TOOL_SOURCE = '''
class Double:
    """Doubles things."""
    def __init__(self, factor: float = 2.0):
        self.factor = factor
'''


def make_plugin(root, prefix="example", with_assets=True):
    tools = root / prefix / "tools" / "double"
    tools.mkdir(parents=True)
    (tools / "2016-07-11T1209Z_v0.1.0.py").write_text(TOOL_SOURCE)
    (tools / "notes.txt").write_text("not a tool")
    if with_assets:
        (root / prefix / "assets").mkdir()
    return root / prefix


def test_open_sqlite_path_gives_the_standard_channels(tmp_path):
    m = ChannelManager.open(str(tmp_path / "s.sqlite"))
    try:
        assert isinstance(m.get_channel("memory"), MemoryChannel)
        assert isinstance(m.get_channel("mongo"), DatabaseChannel)
        assert isinstance(m.get_channel("assets"), AssetsChannel)
        tools = m.get_channel("tools")
        assert isinstance(tools, ToolChannel)
        assert {"clock", "sliding_window", "aggregate"} <= set(tools.list_tools())
        assert m.memory is m["memory"]
        assert m.get_channel("assets") in m.asset_channels
        assert all(not c.read_only for c in m.writable_channels)
        assert tools not in m.writable_channels
    finally:
        m.close()


def test_unknown_channel_error_lists_known_ones(tmp_path):
    m = ChannelManager()
    with pytest.raises(ChannelNotFoundError) as e:
        m.get_channel("mongoo")
    assert "mongoo" in str(e.value) and "memory" in str(e.value)


def test_definitions_of_other_channels_get_their_own_channel(tmp_path):
    from channels.stores.sqlite_store import SQLiteStore
    path = str(tmp_path / "s.sqlite")
    store = SQLiteStore(path)
    store.create_definition(StreamDefinition(StreamId("raw", {"h": "1"}), "sphere"))
    store.insert(StreamId("raw", {"h": "1"}), [StreamInstance(T0, 1.5)])
    store.close()
    m = ChannelManager.open(path)
    try:
        sphere = m.get_channel("sphere")
        assert isinstance(sphere, DatabaseChannel)
        assert sphere[StreamId("raw", {"h": "1"})].window().values() == [1.5]
    finally:
        m.close()


def test_data_written_through_one_manager_is_there_in_the_next(tmp_path):
    path = str(tmp_path / "s.sqlite")
    m = ChannelManager.open(path)
    s = m["mongo"].create_stream(StreamId("t", {"house": "1"}))
    s.writer([StreamInstance(T0 + timedelta(seconds=i), i) for i in range(1, 4)])
    m.close()
    m2 = ChannelManager.open(path)
    try:
        assert m2["mongo"][StreamId("t", {"house": "1"})].window().values() == [1, 2, 3]
    finally:
        m2.close()


def test_hyperstream_config_with_plugins(tmp_path):
    plugin = make_plugin(tmp_path / "plugins")
    cfg_path = tmp_path / "hyperstream_config.json"
    cfg_path.write_text(json.dumps({
        "store": {"sqlite": "store.sqlite"},
        "plugins": [{"path": "plugins/example", "channel_id_prefix": "example", "has_tools": True,
                     "has_assets": True}],
    }))
    m = ChannelManager.open(str(cfg_path))
    try:
        tools = m.get_channel("example_tools")
        assert isinstance(tools, ToolChannel)
        assert tools.get_tool_class("double")(factor=3.0).factor == 3.0
        assert isinstance(m.get_channel("example_assets"), AssetsFileChannel)
        channel, version = m.find_tool("double")
        assert channel is tools and str(version.version) == "0.1.0"
        assert (tmp_path / "store.sqlite").exists()
        with pytest.raises(ToolNotFoundError, match="triple"):
            m.find_tool("triple")
    finally:
        m.close()
    assert str(plugin) in Config.load(str(cfg_path)).plugins[0].path


def test_missing_plugin_folder_is_reported_not_fatal(tmp_path):
    cfg = Config.from_dict({"plugins": [{"path": str(tmp_path / "gone"), "channel_id_prefix": "gone"}]})
    m = ChannelManager(config=cfg)
    assert "gone_tools" not in m
    assert any("gone" in where for where, _ in m.load_errors)
    assert "tools" in m


def test_hyperstream_mongo_section_is_read(tmp_path):
    cfg = Config.from_dict({"mongo": {"host": "localhost", "port": 27017, "db": "hyperstream", "tz_aware": True}})
    assert cfg.store_kind == "mongo"
    assert cfg.mongo["db"] == "hyperstream"


@pytest.mark.parametrize("raw, key", [
    ({"mongo": "localhost"}, "mongo"),
    ({"mongo": {"port": "27017"}}, "mongo.port"),
    ({"plugins": {"path": "x"}}, "plugins"),
    ({"plugins": [{"channel_id_prefix": "x"}]}, "plugins[0].path"),
    ({"plugins": [{"path": "x", "channel_id_prefix": "x", "has_tools": "yes"}]}, "plugins[0].has_tools"),
    ({"store": {"postgres": "x"}}, "store"),
    ([1, 2], "JSON object"),
])
def test_malformed_config_names_the_key(raw, key):
    with pytest.raises(ConfigError) as e:
        Config.from_dict(raw)
    assert key in str(e.value)


def test_config_file_that_is_not_json(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{mongo: ")
    with pytest.raises(ConfigError, match="not valid JSON"):
        Config.load(str(p))
    with pytest.raises(ConfigError, match="does not exist"):
        Config.load(str(tmp_path / "missing.json"))


def test_corrupt_store_file_is_a_clear_error(tmp_path):
    p = tmp_path / "notes.sqlite"
    p.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="notes.sqlite"):
        ChannelManager.open(str(p))
