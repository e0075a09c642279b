"""Small parts of the station: the bounded offline queue, recorder tables."""

from __future__ import annotations

from datetime import UTC, datetime

from simulator.station.outbox import Kind, Outbox, OutMessage
from simulator.station.recorder import Recorder


def test_full_offline_queue_drops_the_oldest_meter_values_never_starts_or_stops() -> None:
    box = Outbox(limit=3)
    start = OutMessage("StartTransaction", {}, Kind.TRANSACTION, essential=True)
    meters = [OutMessage("MeterValues", {"n": n}, Kind.TRANSACTION) for n in range(3)]
    assert box.push(start) is None
    assert box.push(meters[0]) is None and box.push(meters[1]) is None
    assert box.push(meters[2]) is meters[0]  # the oldest that may go
    stop = OutMessage("StopTransaction", {}, Kind.TRANSACTION, essential=True)
    assert box.push(stop) is meters[1]
    assert box.push(OutMessage("StopTransaction", {}, Kind.TRANSACTION, essential=True)) is \
        meters[2]
    assert box.push(OutMessage("StartTransaction", {}, Kind.TRANSACTION,
                               essential=True)) is None  # only essentials left: kept
    assert len(box) == 4


def test_going_offline_drops_what_is_not_held() -> None:
    box = Outbox(limit=10)
    start = OutMessage("StartTransaction", {}, Kind.TRANSACTION, essential=True)
    live = OutMessage("StatusNotification", {}, Kind.LIVE)
    aligned = OutMessage("MeterValues", {}, Kind.ALIGNED)
    for message in (start, live, aligned):
        box.push(message)
    assert box.drop_live() == [live] and len(box) == 2
    assert start.queued and aligned.queued  # their delivery is now a replay


def test_recorder_rows_frames_and_transaction_ids() -> None:
    recorder = Recorder(datetime(2026, 1, 5, tzinfo=UTC))
    recorder.meter_value("CS", 1, "CS-1", 90.0, "Transaction.Begin", 0.0, 0.0)
    recorder.message("CS", "Heartbeat", "out", 1.5, 0.7, "ok")
    recorder.transaction_id("CS", "CS-1", "17")
    [row] = recorder.rows("meter_values")
    assert row["transaction_id"] == "17" and row["t_utc"] == "2026-01-05T00:01:30Z"
    assert recorder.rows("messages", wall_time=False) == [{
        "station_id": "CS", "action": "Heartbeat", "direction": "out", "t_s": 1.5,
        "t_utc": "2026-01-05T00:00:01.500Z", "outcome": "ok"}]
    frame = recorder.frame("meter_values")
    assert list(frame["transaction_id"]) == ["17"]
    assert str(frame["t_utc"].iloc[0]) == "2026-01-05 00:01:30+00:00"
    quiet = Recorder(messages=False)
    quiet.message("CS", "Heartbeat", "out", 0.0, 1.0, "ok")
    assert quiet.count("messages") == 0
