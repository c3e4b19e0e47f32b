"""Build a HyperStream 0.3.8 database with a meta-data tree, plates and a workflow BY RUNNING HYPERSTREAM
ITSELF, execute the workflow there, and dump both (documents and the streams it computed) as JSON.

    /tmp/venvhs/bin/python bench/hs_workflow_fixture.py tests/data/hyperstream_workflow_db.json

(`bash ../shared/peer/setup.sh` builds /tmp/venvhs.) The dump is the fixture of tests/test_workflows.py:
the documents exactly as HyperStream wrote them (ObjectIds as ``{"$oid"}``, dates as ``{"$date"}``), and
what its own execution produced, to compare our execution of the same workflow with.
"""
import json
import os
import sys
import tempfile
from datetime import datetime, timedelta

PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "peer")
sys.path.insert(0, os.environ.get("HS_PEER", PEER))
import hs_compat  # noqa: E402,F401  (must precede hyperstream)

from hyperstream import HyperStream, TimeInterval  # noqa: E402
from hyperstream.utils import UTC  # noqa: E402

COLLECTIONS = ("meta_data", "plate_definitions", "workflow_definitions", "workflow_status")


def plain(x):
    """What HyperStream wrote, as JSON: ObjectIds as ``{"$oid"}``, dates as ``{"$date"}``, bytes as ``{"$binary"}``
    (base64). The other fixture scripts of this folder use it too."""
    import base64
    from bson import ObjectId
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, bytes):
        return {"$binary": base64.b64encode(x).decode("ascii")}
    if isinstance(x, ObjectId):
        return {"$oid": str(x)}
    if isinstance(x, datetime):
        return {"$date": x.astimezone(UTC).isoformat() if x.tzinfo else x.replace(tzinfo=UTC).isoformat()}
    return x


def houses_session(db):
    """HyperStream (mongomock database ``db``, in a fresh working folder) with houses 1, 2, residents alice and
    bob in each, and plates H and H.R -- the start of every fixture script of this folder."""
    work = tempfile.mkdtemp()
    hs_compat.write_config(os.path.join(work, "hyperstream_config.json"), db=db)
    os.chdir(work)
    hs = HyperStream(loglevel=30, file_logger=False, console_logger=False, mqtt_logger=None)
    md = hs.plate_manager.meta_data_manager
    for h in ("1", "2"):
        md.insert("house", f"house_{h}", "root", h)
        for r in ("alice", "bob"):
            md.insert("resident", f"house_{h}.resident_{r}", f"house_{h}", r)
    hs.plate_manager.create_plate("H", "every house", "house", [], True, None)
    hs.plate_manager.create_plate("H.R", "every resident", "resident", [], True, "H")
    return hs


def main(out_path):
    hs = houses_session("hs_workflow_fixture")
    day = datetime(2024, 3, 1, tzinfo=UTC)
    interval = TimeInterval(day, day + timedelta(hours=2))
    with hs.create_workflow("fixture_wf", "Fixture workflow", "peer", "clocks per house, merged per resident") as w:
        m = hs.channel_manager.memory
        house_ticks = w.create_node("house_ticks", m, [hs.plate_manager.plates["H"]])
        house_merged = w.create_node("house_merged", m, [hs.plate_manager.plates["H"]])
        resident_ticks = w.create_node("resident_ticks", m, [hs.plate_manager.plates["H.R"]])
        windows = w.create_node("windows_10min", m, [])
        w.create_factor(hs.tools.clock(stride=300.0), sources=[], sink=house_ticks)
        w.create_factor(hs.tools.aligned_merge(names=["tick"]), sources=[house_ticks], sink=house_merged)
        w.create_factor(hs.tools.clock(stride=600.0), sources=[], sink=resident_ticks)
        w.create_factor(hs.tools.sliding_window(lower=-600.0, upper=0.0, increment=600.0), sources=[],
                        sink=windows)
    hs.workflow_manager.commit_workflow("fixture_wf")
    w.execute(interval)
    dump(out_path, m, interval)


def dump(out_path, memory, interval, **extra):
    """Write HyperStream's four collections and the memory channel's streams over ``interval`` as JSON (the
    other fixture scripts of this folder use it too)."""
    from mongoengine.connection import get_db
    db = get_db("hyperstream")
    docs = {c: [plain(d) for d in db[c].find({})] for c in COLLECTIONS}
    results = {}
    for sid, stream in memory.streams.items():
        key = sid.name + "|" + ",".join(f"{k}={v}" for k, v in sorted(dict(sid.meta_data).items()))
        results[key] = [[inst.timestamp.isoformat(), plain(inst.value) if not hasattr(inst.value, "start") else
                         [inst.value.start.isoformat(), inst.value.end.isoformat()]]
                        for inst in memory.get_results(stream, interval)]
    with open(out_path, "w") as f:
        json.dump({**extra, "interval": [interval.start.isoformat(), interval.end.isoformat()], "documents": docs,
                   "results": results}, f, indent=1, sort_keys=False, default=str)
    print(f"wrote {out_path}: " + ", ".join(f"{c} {len(v)}" for c, v in docs.items()) + f", {len(results)} streams")

if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "hyperstream_workflow_db.json"))
