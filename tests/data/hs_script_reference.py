"""A HyperStream 0.3.8 script: plates H and H.R, clock -> sliding_window -> sliding_apply(lambda), commit."""
import sys
from datetime import datetime, timedelta

from hyperstream import HyperStream, TimeInterval

hs = HyperStream(loglevel=30, file_logger=False, console_logger=False)
mdm = hs.plate_manager.meta_data_manager
for h in ("1", "2"):
    mdm.insert(tag="house", identifier="house_" + h, parent="root", data=h)
    for r in ("alice", "bob"):
        mdm.insert(tag="resident", identifier="house_%s.resident_%s" % (h, r), parent="house_" + h, data=r)
H = hs.plate_manager.create_plate(plate_id="H", description="houses", meta_data_id="house", values=[],
                                  complement=True, parent_plate=None)
HR = hs.plate_manager.create_plate(plate_id="H.R", description="residents", meta_data_id="resident", values=[],
                                   complement=True, parent_plate="H")
M = hs.channel_manager.memory
D = hs.channel_manager.mongo
start = datetime(2016, 4, 28, 20, 0, 0)
interval = TimeInterval(start, start + timedelta(minutes=int(sys.argv[1]) if len(sys.argv) > 1 else 10))
offset = 3.0
with hs.create_workflow("script_wf", "script workflow", "tester", "clock, window, apply", safe=False) as w:
    ticks = w.create_node(stream_name="ticks", channel=M, plates=[HR])
    windows = w.create_node(stream_name="windows", channel=M, plates=[HR])
    counted = w.create_node(stream_name="counted", channel=D, plates=[HR])
    w.create_factor(tool=hs.tools.clock(stride=10.0), sources=None, sink=ticks)
    w.create_factor(tool=hs.tools.sliding_window(lower=-60.0, upper=0.0, increment=60.0),
                    sources=None, sink=windows)
    w.create_factor(tool=hs.tools.sliding_apply(func=lambda data, k=2: len(list(data)) * k + offset),
                    sources=[windows, ticks], sink=counted)
    w.execute(interval)
hs.workflow_manager.commit_workflow("script_wf")
for pv, s in sorted(counted.streams.items()):
    print(pv, s.window(interval).values()[:3])
