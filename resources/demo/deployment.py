"""The shape of the largest public HyperStream deployment (a smart-home study), built with our built-in tools.

:func:`build_deployment` writes, through the public API (``add_meta_data``, ``add_plates``, ``add_workflow``),
the meta-data of ``homes`` homes, 7 plates and one workflow of **111 nodes and 76 factors**;
:func:`record_inputs` writes the recordings the workflow reads (its 35 input nodes) over an interval, as an
import would. Nodes live in the store's channel (``"mongo"``), never in memory.

Per home: 8 environmental sensors x 6 fields, 2 wearables x 3 coordinates, 5 access points, 3 cameras. The
plates and their values per home::

    H (1)   H.EnvSensors (8)   H.EnvSensors.Fields (48)   H.W (2)   H.W.Coords3d (6)   H.APs (5)   H.Cameras (3)
    and nodes on the product [H.W, H.APs] (10: every wearable seen by every access point)

How the counts come out (per home; :func:`deployment_counts` computes them from the definition):

* nodes (111) = 35 input nodes (recordings: 10 per sensor field, 3 per sensor, 4 per wearable, 4 per
  wearable x access point, 3 per access point, 5 per camera, 6 per home) + 76 written nodes, one per factor;
  3 of them (the 1 min / 5 min / 1 h windows) are on no plate and shared by every home.
* tool runs = factor x sink plate value (the splitter: once per wearable, writing its 3 coordinates):
  12 factors on the fields x 48 = 576, 4 on the sensors x 8 = 32, 7 on the coordinates x 6 + the splitter x 2
  = 44, 5 on the wearables x 2 = 10, 3 on the product x 10 = 30, 5 on the access points x 5 = 25, 8 on the
  cameras x 3 = 24, 28 on the home = 28: **769 per home**, + 3 window runs for the whole store
  (7,693 for 10 homes, 76,903 for 100).
* node streams = node x plate value: 22 nodes on the fields x 48 = 1,056, 7 on the sensors x 8 = 56, 8 on the
  coordinates x 6 = 48, 9 on the wearables x 2 = 18, 7 on the product x 10 = 70, 8 on the access points x 5
  = 40, 13 on the cameras x 3 = 39, 34 on the home = 34: **1,361 per home** (588 of them recordings), + 3
  windows (13,613 for 10 homes, 136,103 for 100).

The factors read what a smart-home pipeline reads: raw field readings cleaned and aggregated over sliding
windows, summaries merged per field and per sensor, accelerometer packets split onto their coordinates
(a ``MultiOutputFactor`` with the ``splitter``), RSSI of every wearable at every access point aggregated
into a location per wearable and a load per access point, camera counts per minute, and home-level
summaries that fan in from many nodes.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from channels.workflows import (FactorDefinition, MetaDataItem, NodeDefinition, PlateDefinition, ToolSpec,
                                WorkflowDefinition, add_meta_data, add_plates, add_workflow)

WORKFLOW_ID = "deployment"
CHANNEL = "mongo"
SENSORS = 8
FIELDS = ("temperature", "humidity", "pressure", "light", "noise", "co2")
WEARABLES = 2
COORDS = ("x", "y", "z")
APS = 5
CAMERAS = 3

H, S, F, W, C, A, K = "H", "H.EnvSensors", "H.EnvSensors.Fields", "H.W", "H.W.Coords3d", "H.APs", "H.Cameras"
WA = (W, A)
#: plate id -> (meta-data tag, parent plate, description)
PLATES = {H: ("home", None, "homes"), S: ("env_sensor", H, "environmental sensors of a home"),
          F: ("field", S, "fields an environmental sensor measures"), W: ("wearable", H, "wearables of a home"),
          C: ("coord", W, "3-D accelerometer coordinates of a wearable"), A: ("ap", H, "access points of a home"),
          K: ("camera", H, "cameras of a home")}

#: input nodes: recordings the workflow reads (name, plates, kind of values)
INPUTS = (
    [(f"env_{n}", [F], "float") for n in ("raw", "raw_quality", "raw_seq", "raw_gateway_rssi", "raw_sample_age",
                                           "raw_calibration", "raw_drift", "raw_error", "raw_saturation", "raw_offset")]
    + [(f"env_{n}", [S], "float") for n in ("battery", "rssi", "link_quality")]
    + [("wear_coord_code", [W], "code"), ("wear_accel", [W], "float"), ("wear_battery", [W], "float"),
       ("wear_heart_rate", [W], "float")]
    + [(f"rssi_{n}", list(WA), "float") for n in ("raw", "snr", "latency", "packet_loss")]
    + [(f"ap_{n}", [A], "float") for n in ("clients", "uptime", "noise")]
    + [(f"cam_{n}", [K], "float") for n in ("people", "motion", "bbox_x", "bbox_y", "bbox_area")]
    + [(f"home_{n}", [H], "float") for n in ("electricity", "water", "gas", "door_front", "door_back",
                                              "thermostat")])


def _agg(func, source, sink, window):
    return ("aggregate", {"func": func}, [source], sink, f"windows_{window}")


def _merge(sources, sink, names=True):
    """``names``: True = the source nodes' names, False = a list value, else the names to use."""
    names = list(sources) if names is True else list(names) if names else None
    return ("aligned_merge", {"names": names} if names else {}, list(sources), sink, None)


def _factors(start):
    """(tool, parameters, sources, sink, alignment node) of every factor, and the sink's plates."""
    out = []

    def add(spec, plates):
        out.append((spec, plates))

    for w, secs in (("1min", 60.0), ("5min", 300.0), ("1h", 3600.0)):
        add(("sliding_window", {"first": start, "lower": -secs, "upper": 0.0, "increment": secs}, [],
             f"windows_{w}", None), [])
    # per sensor field (13)
    add(("apply", {"func": "abs"}, ["env_raw"], "env_clean", None), [F])
    for func, w in (("mean", "1min"), ("min", "1min"), ("max", "1min"), ("std", "1min"),
                    ("mean", "5min"), ("std", "5min"), ("range", "5min"), ("median", "5min"), ("mean", "1h")):
        add(_agg(func, "env_clean", f"env_{func}_{w}", w), [F])
    add(_agg("mean", "env_raw_quality", "env_quality_5min", "5min"), [F])
    add(_merge(["env_mean_5min", "env_std_5min", "env_range_5min", "env_median_5min", "env_quality_5min"],
               "env_summary_5min"), [F])
    # per sensor (4): its fields' minute means fan in
    add(_agg("min", "env_battery", "env_battery_5min", "5min"), [S])
    add(_agg("mean", "env_rssi", "env_rssi_5min", "5min"), [S])
    add(_merge(["env_battery_5min", "env_rssi_5min"], "env_health_5min"), [S])
    add(_merge(["env_mean_1min"], "env_sensor_1min", names=False), [S])
    # wearables and their coordinates (9)
    add(_merge(["wear_coord_code", "wear_accel"], "wear_packets", names=["coord", "v"]), [W])
    out.append((("splitter", {}, ["wear_packets"], "accel_raw", None), [C], "MultiOutputFactor"))
    add(("component", {"key": "v"}, ["accel_raw"], "accel", None), [C])
    add(_agg("mean", "accel", "accel_mean_1min", "1min"), [C])
    add(_agg("std", "accel", "accel_std_1min", "1min"), [C])
    add(_agg("max", "accel", "accel_max_1min", "1min"), [C])
    add(_agg("mean", "accel", "accel_mean_5min", "5min"), [C])
    add(_agg("min", "accel", "accel_min_1min", "1min"), [C])
    add(_agg("range", "accel", "accel_range_5min", "5min"), [C])
    add(_agg("min", "wear_battery", "wear_battery_5min", "5min"), [W])
    add(_merge(["accel_std_1min"], "activity_1min", names=False), [W])
    add(_agg("mean", "wear_heart_rate", "heart_rate_1min", "1min"), [W])
    # every wearable at every access point (3), a location per wearable, a load per access point
    add(_agg("mean", "rssi_raw", "rssi_mean_1min", "1min"), list(WA))
    add(_agg("count", "rssi_raw", "rssi_count_1min", "1min"), list(WA))
    add(_agg("mean", "rssi_snr", "rssi_snr_5min", "5min"), list(WA))
    add(_merge(["rssi_mean_1min"], "location_1min", names=False), [W])
    add(_merge(["rssi_count_1min"], "ap_load_1min", names=False), [A])
    add(_agg("mean", "ap_noise", "ap_noise_5min", "5min"), [A])
    add(_agg("max", "ap_clients", "ap_clients_5min", "5min"), [A])
    add(_agg("last", "ap_uptime", "ap_uptime_5min", "5min"), [A])
    add(_merge(["ap_noise_5min", "ap_clients_5min", "ap_uptime_5min"], "ap_summary_5min"), [A])
    # cameras (5)
    add(_agg("max", "cam_people", "cam_people_1min", "1min"), [K])
    add(_agg("mean", "cam_motion", "cam_motion_1min", "1min"), [K])
    add(_agg("mean", "cam_bbox_x", "cam_x_1min", "1min"), [K])
    add(_agg("mean", "cam_bbox_y", "cam_y_1min", "1min"), [K])
    add(_agg("mean", "cam_bbox_area", "cam_area_1min", "1min"), [K])
    add(_agg("max", "cam_people", "cam_people_5min", "5min"), [K])
    add(_agg("mean", "cam_motion", "cam_motion_5min", "5min"), [K])
    add(_merge(["cam_people_1min", "cam_motion_1min", "cam_x_1min", "cam_y_1min", "cam_area_1min"],
               "cam_summary_1min"), [K])
    # the home (16): its own meters, and summaries fanning in from every kind of device
    for n, func in (("electricity", "sum"), ("water", "sum"), ("gas", "sum"), ("door_front", "count"),
                    ("door_back", "count"), ("thermostat", "mean")):
        add(_agg(func, f"home_{n}", f"home_{n}_5min", "5min"), [H])
    for n, func in (("electricity", "mean"), ("water", "sum"), ("gas", "sum"), ("thermostat", "mean")):
        add(_agg(func, f"home_{n}", f"home_{n}_1h", "1h"), [H])
    for source, sink in (("env_mean_1h", "home_env_1h"), ("env_quality_5min", "home_env_quality_5min"),
                         ("heart_rate_1min", "home_wearables_1min"), ("wear_battery_5min", "home_batteries_5min"),
                         ("cam_summary_1min", "home_cameras_1min"), ("cam_motion_1min", "home_motion_1min"),
                         ("ap_summary_5min", "home_access_5min"), ("rssi_snr_5min", "home_rssi_5min"),
                         ("cam_people_5min", "home_occupancy_5min")):
        add(_merge([source], sink, names=False), [H])
    add(_merge(["env_mean_5min"], "home_env_5min", names=False), [H])
    add(_merge(["env_health_5min"], "home_sensor_health_5min", names=False), [H])
    add(_merge(["activity_1min"], "home_activity_1min", names=False), [H])
    add(_merge(["location_1min"], "home_locations_1min", names=False), [H])
    add(_merge(["ap_load_1min"], "home_network_1min", names=False), [H])
    add(_merge(["cam_people_1min"], "home_occupancy_1min", names=False), [H])
    add(_merge(["home_electricity_5min", "home_water_5min", "home_gas_5min"], "home_utilities_5min"), [H])
    add(_merge(["home_door_front_5min", "home_door_back_5min", "home_thermostat_5min"], "home_comfort_5min"), [H])
    add(_merge(["home_utilities_5min", "home_comfort_5min", "home_env_5min", "home_sensor_health_5min",
                "home_env_quality_5min", "home_batteries_5min", "home_access_5min", "home_rssi_5min"],
               "home_summary_5min"), [H])
    return out


def deployment_workflow(start: datetime, channel_id: str = CHANNEL) -> WorkflowDefinition:
    """The workflow (111 nodes, 76 factors); its windows start at ``start``."""
    nodes = {name: NodeDefinition(name, list(plates), channel_id) for name, plates, _kind in INPUTS}
    factors = []
    for entry in _factors(start):
        (tool, params, sources, sink, alignment), plates = entry[0], entry[1]
        factor_type = entry[2] if len(entry) > 2 else "Factor"
        nodes[sink] = NodeDefinition(sink, list(plates), channel_id)
        if tool == "splitter":
            # the recorded code is a number (0.0, 1.0, 2.0): the splitter maps its text to the coordinate
            params = {"element": "coord", "mapping": {str(float(i)): c for i, c in enumerate(COORDS)},
                      "meta_key": "coord"}
        factors.append(FactorDefinition(ToolSpec(tool, None, dict(params)), factor_type, list(sources), [sink],
                                        alignment_node=alignment))
    return WorkflowDefinition(WORKFLOW_ID, "Smart-home deployment",
                              "the shape of the largest public HyperStream deployment: 111 nodes, 76 factors over 7 "
                              "plates", nodes, factors, owner="hsgui")


def meta_data_items(homes: int) -> list[MetaDataItem]:
    items = []
    for h in range(1, homes + 1):
        home = f"home_{h}"
        items.append(MetaDataItem("home", str(h)))
        for s in range(1, SENSORS + 1):
            items.append(MetaDataItem("env_sensor", str(s), home))
            items += [MetaDataItem("field", f, f"{home}.env_sensor_{s}") for f in FIELDS]
        for w in range(1, WEARABLES + 1):
            items.append(MetaDataItem("wearable", str(w), home))
            items += [MetaDataItem("coord", c, f"{home}.wearable_{w}") for c in COORDS]
        items += [MetaDataItem("ap", str(a), home) for a in range(1, APS + 1)]
        items += [MetaDataItem("camera", str(c), home) for c in range(1, CAMERAS + 1)]
    return items


def build_deployment(store, homes: int, start: datetime) -> WorkflowDefinition:
    """Write the meta-data of ``homes`` homes, the 7 plates and the workflow into ``store``; return the workflow."""
    add_meta_data(store, meta_data_items(homes))
    add_plates(store, [PlateDefinition(pid, tag, desc, [], True, parent) for pid, (tag, parent, desc) in PLATES.items()])
    workflow = deployment_workflow(start)
    add_workflow(store, workflow)
    return workflow


def deployment_counts(homes: int) -> dict:
    """Nodes, factors, input nodes, tool runs and node streams of the workflow for ``homes`` homes."""
    per_home = {H: 1, S: SENSORS, F: SENSORS * len(FIELDS), W: WEARABLES, C: WEARABLES * len(COORDS), A: APS,
                K: CAMERAS}

    def values(plates):
        if not plates:
            return 1
        if len(plates) == 2:
            return homes * per_home[plates[0]] * per_home[plates[1]]
        return homes * per_home[plates[0]]
    wf = deployment_workflow(datetime(2000, 1, 1))
    runs = 0
    for f in wf.factors:
        sink = wf.nodes[f.sinks[0]]
        runs += values(wf.nodes[f.sources[0]].plate_ids) if f.factor_type == "MultiOutputFactor" else \
            values(sink.plate_ids)
    streams = sum(values(n.plate_ids) for n in wf.nodes.values())
    inputs = sum(values(p) for _n, p, _k in INPUTS)
    return {"nodes": len(wf.nodes), "factors": len(wf.factors), "input_nodes": len(INPUTS), "tool_runs": runs,
            "node_streams": streams, "input_streams": inputs}


def record_inputs(manager, interval, stride: timedelta = timedelta(seconds=10), seed: int = 7) -> int:
    """Write the recordings of every input node over ``interval`` (one value per ``stride``; deterministic), with
    their calculated intervals, as an import would; return the instance count. ``wear_coord_code`` cycles
    through the coordinates (0, 1, 2) so the splitter has every coordinate to split."""
    from channels.stream import StreamId
    from channels.time_interval import TimeIntervals
    from channels.workflows import load_model
    model = load_model(manager.store)
    wf = model.workflows[WORKFLOW_ID]
    channel = manager.get_channel(wf.nodes[INPUTS[0][0]].channel_id)
    step_ms = int(stride.total_seconds() * 1000)
    lo = int(interval.start.timestamp() * 1000)
    hi = int(interval.end.timestamp() * 1000)
    ms = np.arange(lo - lo % step_ms + step_ms, hi + 1, step_ms, dtype=np.int64)
    rng = np.random.default_rng(seed)
    total = 0
    ci = TimeIntervals([interval])
    for name, _plates, kind in INPUTS:
        for sid in model.node_streams(wf.nodes[name]).values():
            values = (np.arange(len(ms)) % len(COORDS)).astype(np.float64) if kind == "code" else \
                rng.normal(20.0, 3.0, len(ms))
            stream = channel.get_or_create_stream(StreamId(sid.name, list(sid.meta_data)))
            total += channel.insert_arrays(stream, ms, values, calculated_intervals=ci)
    return total


__all__ = ["build_deployment", "deployment_workflow", "deployment_counts", "record_inputs", "meta_data_items",
           "WORKFLOW_ID", "PLATES", "INPUTS"]
