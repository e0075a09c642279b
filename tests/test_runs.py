"""Run folders: naming, manifest, summary, Parquet tables and the frame trace."""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pytest

import chargeloop
from chargeloop.ocppj.trace import TraceRecord
from chargeloop.runs import RunFolder, safe_name, text_sha256, utc_stamp

START = datetime(2026, 11, 21, 12, 34, 56, tzinfo=UTC)

ROWS = [
    {"station_id": "OFFICE-001", "evse": 1, "energy_wh": 12_345.5,
     "started_at": datetime(2026, 1, 5, 8, 30, tzinfo=UTC), "stop_reason": "EVDisconnected"},
    {"station_id": "OFFICE-002", "evse": 2, "energy_wh": 0.0,
     "started_at": datetime(2026, 1, 5, 9, 0, tzinfo=UTC), "stop_reason": None},
]


def record(n: int) -> TraceRecord:
    return TraceRecord(direction="out", identity="OFFICE-001", version="ocpp1.6",
                       wall_time=1_700_000_000.0 + n, sim_time=float(n),
                       raw=f'[2,"{n}","Heartbeat",{{}}]', message_type=2, message_id=str(n),
                       action="Heartbeat", outcome="ok")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- naming ------------------------------------------------------------------------------------


def test_folder_is_named_by_utc_stamp_and_name(tmp_path):
    folder = RunFolder.create(tmp_path / "runs", "quickstart", kind="scenario",
                              clock_start=START)
    assert folder.path == tmp_path / "runs" / "20261121T123456Z-quickstart"
    assert folder.path.is_dir()
    assert folder.name == "20261121T123456Z-quickstart"
    assert folder.kind == "scenario"


def test_stamp_is_utc_whatever_the_zone_of_the_start():
    assert utc_stamp(START.astimezone(timezone(timedelta(hours=1)))) == "20261121T123456Z"
    assert utc_stamp(START.astimezone(timezone(timedelta(hours=-7)))) == "20261121T123456Z"
    assert utc_stamp(START.replace(tzinfo=None)) == "20261121T123456Z"  # naive means UTC


def test_taken_names_get_a_numeric_suffix(tmp_path):
    names = [RunFolder.create(tmp_path, "suite", kind="suite", clock_start=START).name
             for _ in range(3)]
    assert names == ["20261121T123456Z-suite", "20261121T123456Z-suite-2",
                     "20261121T123456Z-suite-3"]


def test_names_are_made_safe_for_folders(tmp_path):
    folder = RunFolder.create(tmp_path, "OCTT TC_B_01/CS", kind="suite", clock_start=START)
    assert folder.name == "20261121T123456Z-OCTT-TC_B_01-CS"
    assert safe_name("../x") == "x"
    with pytest.raises(ValueError):
        safe_name("///")


def test_a_name_is_required(tmp_path):
    with pytest.raises(ValueError, match="needs a name"):
        RunFolder.create(tmp_path, kind="scenario")


def test_default_clock_start_is_now(tmp_path):
    before = datetime.now(UTC).replace(microsecond=0)
    folder = RunFolder.create(tmp_path, "now", kind="hil")
    after = datetime.now(UTC)
    assert before <= folder.created_at <= after
    assert folder.name.endswith("Z-now")


# -- manifest and summary ----------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    name: str
    duration_s: float
    replay: Path | None


def test_manifest_has_versions_kind_time_and_what_the_caller_adds(tmp_path):
    folder = RunFolder.create(tmp_path, "quickstart", kind="scenario", clock_start=START)
    path = folder.write_manifest({
        "seed": 42,
        "configuration": Config("quickstart", 86_400.0, Path("sessions.csv")),
        "scenario_sha256": text_sha256("name: quickstart\n"),
    })
    assert path == folder.path / "manifest.json"
    manifest = folder.manifest()
    assert manifest["chargeloop_version"] == chargeloop.__version__
    assert manifest["python_version"] == platform.python_version()
    assert manifest["platform"] == platform.platform()
    assert manifest["kind"] == "scenario"
    assert manifest["created_at"] == "2026-11-21T12:34:56Z"
    assert manifest["run_id"] == "20261121T123456Z-quickstart"
    assert manifest["seed"] == 42
    assert manifest["configuration"] == {"name": "quickstart", "duration_s": 86_400.0,
                                         "replay": "sessions.csv"}
    assert manifest["scenario_sha256"] == hashlib.sha256(b"name: quickstart\n").hexdigest()
    assert {"numpy", "pandas", "pyarrow", "simpy"} <= set(manifest["versions"])


def test_manifest_is_sorted_indented_and_merges_later_writes(tmp_path):
    folder = RunFolder.create(tmp_path, "x", kind="loadtest", clock_start=START)
    folder.write_manifest({"seed": 1, "zeta": True})
    folder.write_manifest({"finished_at": "2026-11-21T13:00:00Z"})
    text = folder.file("manifest.json").read_text()
    assert text.startswith('{\n  "chargeloop_version"')
    keys = list(json.loads(text))
    assert keys == sorted(keys)
    manifest = folder.manifest()
    assert manifest["seed"] == 1 and manifest["finished_at"] == "2026-11-21T13:00:00Z"


def test_summary_is_sorted_json_with_indent_two(tmp_path):
    folder = RunFolder.create(tmp_path, "x", kind="scenario", clock_start=START)
    folder.write_summary({"verdict": "pass", "kpis": {"sessions": np.int64(12),
                                                       "energy_wh": np.float64(1.5)},
                          "alerts": ["offline"]})
    text = folder.file("summary.json").read_text()
    assert text == orjson.dumps(
        {"alerts": ["offline"], "kpis": {"energy_wh": 1.5, "sessions": 12}, "verdict": "pass"},
        option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"
    assert folder.summary()["kpis"]["sessions"] == 12


def test_json_files_are_the_same_bytes_for_the_same_data(tmp_path):
    a = RunFolder.create(tmp_path, "a", kind="scenario", clock_start=START)
    b = RunFolder.create(tmp_path, "b", kind="scenario", clock_start=START)
    for folder in (a, b):
        folder.write_summary({"b": 1, "a": [1, 2], "c": {"y": 1, "x": 2}})
    assert sha(a.file("summary.json")) == sha(b.file("summary.json"))


# -- tables ------------------------------------------------------------------------------------


def test_rows_round_trip_through_parquet(tmp_path):
    folder = RunFolder.create(tmp_path, "x", kind="scenario", clock_start=START)
    path = folder.write_table("sessions", ROWS)
    assert path == folder.path / "sessions.parquet"
    pd.testing.assert_frame_equal(folder.read_table("sessions"), pd.DataFrame(ROWS))


def test_rows_with_different_keys_give_the_union_of_columns(tmp_path):
    folder = RunFolder.create(tmp_path, "x", kind="scenario", clock_start=START)
    rows = [{"a": 1}, {"a": 2, "b": "x"}]
    folder.write_table("t", rows)
    table = folder.read_table("t")
    assert list(table.columns) == ["a", "b"]
    pd.testing.assert_frame_equal(table, pd.DataFrame(rows))


def test_dataframes_round_trip_with_their_index(tmp_path):
    folder = RunFolder.create(tmp_path, "x", kind="scenario", clock_start=START)
    frame = pd.DataFrame({"power_w": [0.0, 7400.0, 11_000.0]},
                         index=pd.date_range("2026-01-05", periods=3, freq="min", tz="UTC",
                                             name="time"))
    folder.write_table("meter_values", frame)
    pd.testing.assert_frame_equal(folder.read_table("meter_values"), frame, check_freq=False)
    plain = pd.DataFrame(ROWS)
    folder.write_table("sessions", plain)
    pd.testing.assert_frame_equal(folder.read_table("sessions"), plain)


def test_the_same_table_gives_the_same_bytes(tmp_path):
    a = RunFolder.create(tmp_path, "a", kind="scenario", clock_start=START)
    b = RunFolder.create(tmp_path, "b", kind="scenario", clock_start=START)
    a.write_table("sessions", ROWS)
    b.write_table("sessions", pd.DataFrame(ROWS))
    first = sha(a.file("sessions.parquet"))
    assert first == sha(b.file("sessions.parquet"))
    a.write_table("sessions", ROWS)  # rewritten in place
    assert sha(a.file("sessions.parquet")) == first


def test_an_empty_table_is_still_a_file(tmp_path):
    folder = RunFolder.create(tmp_path, "x", kind="scenario", clock_start=START)
    folder.write_table("alerts", [])
    assert folder.file("alerts.parquet").is_file()
    assert len(folder.read_table("alerts")) == 0


def test_an_empty_table_can_carry_its_columns(tmp_path):
    folder = RunFolder.create(tmp_path, "x", kind="scenario", clock_start=START)
    schema = pa.schema([("station_id", pa.string()), ("energy_wh", pa.float64())])
    folder.write_table("sessions", [], schema=schema)
    table = folder.read_table("sessions")
    assert list(table.columns) == ["station_id", "energy_wh"]
    assert len(table) == 0
    folder.write_table("typed", [{"station_id": "A", "energy_wh": 1}], schema=schema)
    assert folder.read_table("typed")["energy_wh"].dtype == np.float64


def test_table_names_stay_inside_the_folder(tmp_path):
    folder = RunFolder.create(tmp_path, "x", kind="scenario", clock_start=START)
    for bad in ("../escape", "a/b", "", ".hidden"):
        with pytest.raises(ValueError):
            folder.write_table(bad, ROWS)


def test_tables_are_listed(tmp_path):
    folder = RunFolder.create(tmp_path, "x", kind="scenario", clock_start=START)
    folder.write_table("status_changes", [])
    folder.write_table("sessions", ROWS)
    assert folder.tables() == ["sessions", "status_changes"]


# -- trace -------------------------------------------------------------------------------------


def test_trace_writer_appends_records_as_json_lines(tmp_path):
    folder = RunFolder.create(tmp_path, "x", kind="scenario", clock_start=START)
    writer = folder.trace_writer()
    writer(record(1))
    writer(record(2))
    writer.close()
    with RunFolder.open(folder.path) as again:  # a later writer appends, never truncates
        again.trace_writer()(record(3))
    lines = folder.file("ocpp.jsonl").read_text().splitlines()
    assert [json.loads(line)["message_id"] for line in lines] == ["1", "2", "3"]
    assert json.loads(lines[0]) == record(1).to_dict()


def test_close_closes_the_writers_it_made(tmp_path):
    folder = RunFolder.create(tmp_path, "x", kind="scenario", clock_start=START)
    first, second = folder.trace_writer(), folder.trace_writer()
    first(record(1))
    second(record(2))
    folder.close()
    assert len(folder.file("ocpp.jsonl").read_text().splitlines()) == 2


# -- opening for readers -----------------------------------------------------------------------


def test_open_reads_an_existing_folder(tmp_path):
    made = RunFolder.create(tmp_path, "quickstart", kind="scenario", clock_start=START)
    made.write_manifest({"seed": 7})
    made.write_table("sessions", ROWS)
    made.write_summary({"verdict": "pass"})

    folder = RunFolder.open(str(made.path))
    assert folder.path == made.path
    assert folder.kind == "scenario"
    assert folder.created_at == START
    assert folder.manifest()["seed"] == 7
    assert folder.summary() == {"verdict": "pass"}
    pd.testing.assert_frame_equal(folder.read_table("sessions"), pd.DataFrame(ROWS))


def test_open_without_a_manifest_and_missing_folders(tmp_path):
    (tmp_path / "bare").mkdir()
    folder = RunFolder.open(tmp_path / "bare")
    assert folder.kind is None and folder.created_at is None
    with pytest.raises(FileNotFoundError):
        RunFolder.open(tmp_path / "nothing")


def test_no_temporary_files_are_left_behind(tmp_path):
    folder = RunFolder.create(tmp_path, "x", kind="scenario", clock_start=START)
    folder.write_manifest({})
    folder.write_summary({})
    folder.write_table("t", ROWS)
    assert sorted(p.name for p in folder.path.iterdir()) == ["manifest.json", "summary.json",
                                                            "t.parquet"]
