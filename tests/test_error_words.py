"""Messages say it in the user's words: no Python reprs, no pymongo internals."""
from channels.stores.mongo_store import _short
from hsgui.common.timefmt import humanise_reprs


def test_timedelta_and_datetime_reprs_become_units():
    assert humanise_reprs("must be below upper (datetime.timedelta(0)), got datetime.timedelta(seconds=10)") == \
        "must be below upper (0 s), got 10 s"
    assert humanise_reprs("at datetime.datetime(2024, 3, 1, 6, 0, tzinfo=<UTC>)") == "at 2024-03-01 06:00:00"


def test_pymongo_timeout_text_in_words():
    raw = ("127.0.0.1:9: [Errno 111] Connection refused (configured timeouts: socketTimeoutMS: 20000.0ms, "
           "connectTimeoutMS: 20000.0ms), Timeout: 2.0s, Topology Description: <TopologyDescription id: 1, "
           "topology_type: Unknown, servers: []>")
    text = _short(Exception(raw))
    assert text == "127.0.0.1:9: the server refused the connection (is MongoDB running on that port?) (gave up after 2 s)"
    assert "Errno" not in text and "Topology" not in text and "MS:" not in text
