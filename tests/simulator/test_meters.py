"""The meter model (register, phases, noise, faults) and its OCPP sampled values in 1.6 and 2.0.1,
checked against the official schemas."""

from __future__ import annotations

import base64
import datetime as dt
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ocpp.v16.enums import Measurand

from chargeloop.ocppj import Direction, OcppVersion, validate
from simulator.meters import MEASURANDS, Meter, MeterFault, MeterReading, sampled_values
from simulator.ocmf import OcmfSigner, check_ocmf

T0 = dt.datetime(2026, 1, 5, 8, 30, tzinfo=dt.UTC)
STAMP = "2026-01-05T08:30:00Z"
SIGNER = OcmfSigner(rng=np.random.default_rng(11))
V16_CONTEXTS = ["Interruption.Begin", "Interruption.End", "Sample.Clock", "Sample.Periodic",
                "Transaction.Begin", "Transaction.End", "Trigger", "Other"]


def meter(**kwargs: Any) -> Meter:
    return Meter(np.random.default_rng(kwargs.pop("seed", 0)), **kwargs)


# -- register and physics -------------------------------------------------------------------------

powers = st.floats(min_value=0, max_value=400_000, allow_nan=False)
steps = st.floats(min_value=0, max_value=3600, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(powers, steps), min_size=1, max_size=30),
       st.floats(min_value=0, max_value=1e7))
def test_energy_is_power_times_time(steps_: list[tuple[float, float]], start_wh: float) -> None:
    m = meter(start_wh=start_wh)
    for power_w, dt_s in steps_:
        before = m.energy_wh
        m.advance(power_w, dt_s)
        assert m.energy_wh - before == pytest.approx(power_w * dt_s / 3600, rel=1e-9, abs=1e-6)
        assert m.power_w == power_w
    expected = start_wh + math.fsum(p * t / 3600 for p, t in steps_)
    assert m.energy_wh == pytest.approx(expected, rel=1e-12, abs=1e-6)
    assert m.delivered_wh == pytest.approx(expected - start_wh, rel=1e-12, abs=1e-6)


operations = st.one_of(
    st.tuples(st.just("advance"), powers, steps),
    st.tuples(st.just("stuck")),
    st.tuples(st.just("drift"), st.floats(min_value=-500, max_value=500)),
    st.tuples(st.just("jump"), st.floats(min_value=0.001, max_value=1e5)),
    st.tuples(st.just("clear")),
    st.tuples(st.just("read")),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(operations, max_size=40), st.sampled_from([0.0, 0.02]))
def test_register_never_decreases_without_a_reset(ops: list[tuple], noise: float) -> None:
    m = meter(noise=noise)
    last_register = last_shown = m.energy_wh
    for op in ops:
        if op[0] == "advance":
            m.advance(op[1], op[2])
        elif op[0] == "drift":
            m.inject(MeterFault("drift", percent_per_h=op[1]))
        elif op[0] == "jump":
            m.inject(MeterFault("jump", jump_wh=op[1]))
        elif op[0] == "stuck":
            m.inject(MeterFault("stuck"))
        elif op[0] == "clear":
            m.clear_faults()
        shown = m.reading().energy_wh
        assert m.energy_wh >= last_register
        assert shown >= last_shown
        last_register, last_shown = m.energy_wh, shown


@settings(max_examples=80, deadline=None)
@given(power_w=powers, phases=st.sampled_from([1, 2, 3]),
       pf=st.floats(min_value=0.5, max_value=1.0), noise=st.sampled_from([0.0, 0.001, 0.05]),
       voltage=st.sampled_from([120.0, 230.0, 240.0]), seed=st.integers(0, 2**32))
def test_power_is_voltage_times_current(power_w: float, phases: int, pf: float, noise: float,
                                        voltage: float, seed: int) -> None:
    m = meter(phases=phases, power_factor=pf, noise=noise, nominal_voltage_v=voltage, seed=seed)
    m.advance(power_w, 1.0)
    r = m.reading()
    for k in range(3):
        assert r.phase_power_w[k] == pytest.approx(r.voltage_v[k] * r.current_a[k] * pf,
                                                   rel=1e-9, abs=1e-9)
        if k >= phases:
            assert r.current_a[k] == 0.0 and r.phase_power_w[k] == 0.0
    assert r.power_w == pytest.approx(sum(r.phase_power_w), rel=1e-12, abs=1e-9)
    if noise == 0:
        assert r.power_w == pytest.approx(voltage * r.current_a[0] * phases * pf, rel=1e-12)
        assert r.power_w == pytest.approx(power_w, rel=1e-12)


def test_single_phase_meter_reads_zero_amps_on_l2_l3() -> None:
    m = meter(phases=1)
    m.advance(7360.0, 60)
    r = m.reading()
    assert r.current_a == (pytest.approx(32.0), 0.0, 0.0)
    assert r.voltage_v == (230.0, 230.0, 230.0)
    assert r.phase_power_w == (7360.0, 0.0, 0.0)
    assert r.export_energy_wh == 0.0 and r.frequency_hz == 50.0 and r.power_factor == 1.0


def test_three_phase_current_with_power_factor() -> None:
    m = meter(phases=3, power_factor=0.8)
    m.advance(11_040.0, 1)
    assert m.reading().current_a == pytest.approx((20.0, 20.0, 20.0))


def test_noise_never_touches_the_register() -> None:
    clean, noisy = meter(), meter(noise=0.05, seed=5)
    for power_w, dt_s in [(11_000, 60), (7_000, 30.5), (0, 10), (22_000, 900)]:
        clean.advance(power_w, dt_s)
        noisy.advance(power_w, dt_s)
        readings = [noisy.reading() for _ in range(5)]
        assert all(r.energy_wh == clean.energy_wh == noisy.energy_wh for r in readings)
        if power_w:
            assert len({r.power_w for r in readings}) == 5  # the instantaneous values do vary
            assert len({r.voltage_v for r in readings}) == 5


def test_noise_is_reproducible_from_the_seed() -> None:
    a, b = meter(noise=0.01, seed=42), meter(noise=0.01, seed=42)
    a.advance(11_000, 10)
    b.advance(11_000, 10)
    assert [a.reading() for _ in range(3)] == [b.reading() for _ in range(3)]
    c, d = meter(noise=0.01, seed=43), meter(noise=0.01, seed=42)
    c.advance(11_000, 10)
    d.advance(11_000, 10)
    assert c.reading() != d.reading()
    assert type(a.reading().voltage_v[0]) is float  # no numpy scalars towards the wire


def test_noise_has_the_configured_spread() -> None:
    m = meter(noise=0.01, seed=1)
    m.advance(10_000, 1)
    values = np.array([m.reading().power_w for _ in range(4000)])
    assert values.mean() == pytest.approx(10_000, rel=0.002)
    # Three phases with independent noise: the total's spread is 1 % / sqrt(3).
    assert values.std() / 10_000 == pytest.approx(0.01 / math.sqrt(3), rel=0.1)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"phases": 4}, "phases"), ({"nominal_voltage_v": 0}, "nominal_voltage_v"),
    ({"noise": -0.1}, "noise"), ({"start_wh": -1}, "start_wh"), ({"power_factor": 1.2},
                                                                  "power_factor"),
])
def test_bad_meter_settings_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        meter(**kwargs)


@pytest.mark.parametrize(("power_w", "dt_s"), [(-1, 1), (1, -1), (math.nan, 1), (1, math.inf)])
def test_bad_advance_is_refused(power_w: float, dt_s: float) -> None:
    with pytest.raises(ValueError):
        meter().advance(power_w, dt_s)


# -- faults ---------------------------------------------------------------------------------------


def test_stuck_freezes_values_while_energy_still_flows() -> None:
    m = meter(noise=0.01)
    m.advance(11_000, 3600)
    m.inject(MeterFault("stuck"))
    frozen = m.reading()
    m.advance(7_000, 3600)
    assert m.reading() == frozen and m.reading() is frozen
    assert m.faults == (MeterFault("stuck"),)
    assert m.energy_wh == pytest.approx(18_000)
    m.clear_faults()
    assert m.reading().energy_wh == pytest.approx(18_000)
    assert m.reading().power_w != frozen.power_w and m.faults == ()


def test_drift_error_grows_by_percent_per_hour() -> None:
    m = meter()
    m.advance(10_000, 3600)
    m.inject(MeterFault("drift", percent_per_h=2.0))
    m.advance(10_000, 3600)  # gain rises 1.00 -> 1.02 over the hour: 1 % extra on average
    assert m.energy_wh == pytest.approx(10_000 + 10_100)
    for _ in range(60):  # in small steps: the same integral
        m.advance(10_000, 60)
    assert m.energy_wh == pytest.approx(10_000 + 10_100 + 10_300)
    assert m.delivered_wh == pytest.approx(30_000)
    assert m.faults == (MeterFault("drift", percent_per_h=2.0),)
    m.clear_faults()
    before = m.energy_wh
    m.advance(10_000, 3600)
    assert m.energy_wh - before == pytest.approx(10_000)


def test_negative_drift_slows_the_register_but_never_reverses_it() -> None:
    m = meter()
    m.inject(MeterFault("drift", percent_per_h=-50.0))
    m.advance(1_000, 3600)
    assert m.energy_wh == pytest.approx(750)
    m.advance(1_000, 3 * 3600)  # the gain reaches 0 after two hours and stays there
    assert m.energy_wh == pytest.approx(1_000)  # 750 + the last 250 before the gain hit 0
    m.advance(1_000, 3600)
    assert m.energy_wh == pytest.approx(1_000)
    assert m.delivered_wh == pytest.approx(5_000)


def test_jump_moves_the_register_once() -> None:
    m = meter(start_wh=100.0)
    m.inject(MeterFault("jump", jump_wh=5_000))
    assert m.energy_wh == 5_100 and m.reading().energy_wh == 5_100 and m.faults == ()
    m.advance(3_600, 1)
    assert m.energy_wh == pytest.approx(5_101)
    m.clear_faults()
    assert m.energy_wh == pytest.approx(5_101)


def test_reset_restarts_the_register() -> None:
    m = meter(start_wh=12_345.0)
    m.advance(3_600, 3600)
    m.inject(MeterFault("reset"))
    assert m.energy_wh == 0 and m.reading().energy_wh == 0
    m.advance(3_600, 3600)
    assert m.energy_wh == pytest.approx(3_600)
    m.inject(MeterFault("reset", reset_to_wh=10.0))
    assert m.energy_wh == 10.0
    assert m.delivered_wh == pytest.approx(7_200)


@pytest.mark.parametrize(("args", "message"), [
    (("melt",), "unknown meter fault kind 'melt'; valid: stuck, drift, jump, reset"),
    (("jump",), "jump_wh > 0"),
    (("jump", 0.0, -5.0), "jump_wh > 0"),
    (("stuck", 1.0), "percent_per_h does not apply to a 'stuck'"),
    (("reset", 0.0, 0.0, -1.0), "reset_to_wh"),
    (("drift", math.nan), "finite"),
])
def test_bad_meter_faults_are_named(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        MeterFault(*args)


def test_meter_fault_from_params() -> None:
    assert MeterFault.from_params("drift", {"percent_per_h": 3}) == MeterFault("drift", 3.0)
    assert MeterFault.from_params("reset", {}) == MeterFault("reset")
    with pytest.raises(ValueError, match=r"unknown parameter.*wh.*allowed: jump_wh"):
        MeterFault.from_params("jump", {"wh": 5})
    with pytest.raises(ValueError, match="needs percent_per_h"):
        MeterFault.from_params("drift", {})
    with pytest.raises(ValueError, match="must be numbers"):
        MeterFault.from_params("jump", {"jump_wh": "lots"})


# -- OCPP sampled values --------------------------------------------------------------------------


def sample_reading() -> MeterReading:
    m = meter(phases=3, power_factor=0.98)
    m.advance(11_000, 3600)
    return m.reading()


def meter_values_request(version: str, samples: list[dict]) -> dict[str, Any]:
    mv = [{"timestamp": STAMP, "sampledValue": samples}]
    if version == "1.6":
        return {"connectorId": 1, "transactionId": 7, "meterValue": mv}
    return {"evseId": 1, "meterValue": mv}


def validate_everywhere(version: str, samples: list[dict]) -> None:
    """MeterValues in both versions; TransactionEvent (2.0.1) / StopTransaction data (1.6)."""
    if version == "1.6":
        validate(OcppVersion.V16, "MeterValues", Direction.REQUEST,
                 meter_values_request(version, samples))
        validate(OcppVersion.V16, "StopTransaction", Direction.REQUEST, {
            "meterStop": 11_000, "timestamp": STAMP, "transactionId": 7,
            "transactionData": [{"timestamp": STAMP, "sampledValue": samples}]})
    else:
        validate(OcppVersion.V201, "MeterValues", Direction.REQUEST,
                 meter_values_request(version, samples))
        validate(OcppVersion.V201, "TransactionEvent", Direction.REQUEST, {
            "eventType": "Updated", "timestamp": STAMP, "triggerReason": "MeterValuePeriodic",
            "seqNo": 1, "transactionInfo": {"transactionId": "tx-7"},
            "meterValue": [{"timestamp": STAMP, "sampledValue": samples}]})


def test_wire_structures_1_6() -> None:
    samples = sampled_values(sample_reading(), MEASURANDS, version="1.6",
                             context="Sample.Periodic", phases_wanted=3, soc=0.425)
    by = {(s["measurand"], s.get("phase")): s for s in samples}
    assert by[("Energy.Active.Import.Register", None)] == {
        "value": "11000.0", "context": "Sample.Periodic",
        "measurand": "Energy.Active.Import.Register", "location": "Outlet", "unit": "Wh"}
    assert by[("Energy.Active.Export.Register", None)]["value"] == "0.0"
    assert by[("Power.Active.Import", None)]["value"] == "11000.0"
    assert by[("Current.Import", "L1")]["value"] == "16.27"
    assert by[("Current.Import", "L1")]["unit"] == "A"
    assert by[("Voltage", "L2-N")] == {"value": "230.0", "context": "Sample.Periodic",
                                       "measurand": "Voltage", "phase": "L2-N",
                                       "location": "Outlet", "unit": "V"}
    assert by[("Frequency", None)]["value"] == "50.00"
    assert "unit" not in by[("Frequency", None)]  # StopTransaction.json knows no "Hertz"
    assert by[("Power.Factor", None)]["value"] == "0.980" and "unit" not in by[("Power.Factor",
                                                                                  None)]
    assert by[("SoC", None)] == {"value": "42.5", "context": "Sample.Periodic",
                                 "measurand": "SoC", "location": "EV", "unit": "Percent"}
    assert all(isinstance(s["value"], str) for s in samples)
    assert len(samples) == 1 + 1 + 1 + 3 + 3 + 1 + 1 + 1
    validate_everywhere("1.6", samples)


def test_wire_structures_2_0_1() -> None:
    samples = sampled_values(sample_reading(), MEASURANDS, version="2.0.1",
                             context="Transaction.Begin", phases_wanted=["L1"], soc=0.5)
    by = {(s["measurand"], s.get("phase")): s for s in samples}
    assert by[("Energy.Active.Import.Register", None)] == {
        "value": 11000.0, "context": "Transaction.Begin",
        "measurand": "Energy.Active.Import.Register", "location": "Outlet",
        "unitOfMeasure": {"unit": "Wh"}}
    assert by[("Current.Import", "L1")]["value"] == 16.27
    assert ("Current.Import", "L2") not in by and ("Voltage", "L1-N") in by
    assert by[("Frequency", None)]["unitOfMeasure"] == {"unit": "Hz"}
    assert "unitOfMeasure" not in by[("Power.Factor", None)]
    assert by[("SoC", None)]["value"] == 50.0 and by[("SoC", None)]["location"] == "EV"
    assert all(isinstance(s["value"], float) for s in samples)
    validate_everywhere("2.0.1", samples)


def test_soc_left_out_when_unknown_and_duplicates_once() -> None:
    samples = sampled_values(sample_reading(), ["SoC", "Voltage", "Voltage"], version="1.6",
                             context="Trigger", phases_wanted=2)
    assert [(s["measurand"], s["phase"]) for s in samples] == [("Voltage", "L1-N"),
                                                               ("Voltage", "L2-N")]


def test_enum_members_are_accepted() -> None:
    samples = sampled_values(sample_reading(), [Measurand.energy_active_import_register],
                             version=OcppVersion.V16, context="Sample.Clock", phases_wanted=3)
    assert samples[0]["measurand"] == "Energy.Active.Import.Register"


@settings(max_examples=60, deadline=None)
@given(measurands=st.lists(st.sampled_from(MEASURANDS), min_size=1, max_size=8),
       version=st.sampled_from(["1.6", "2.0.1"]), context=st.sampled_from(V16_CONTEXTS),
       phases=st.one_of(st.integers(1, 3), st.lists(st.sampled_from(["L1", "L2", "L3"]),
                                                    min_size=1, max_size=3)),
       soc=st.one_of(st.none(), st.floats(0, 1)), power_w=powers, hours=steps,
       noise=st.sampled_from([0.0, 0.02]), meter_phases=st.sampled_from([1, 3]),
       signed=st.booleans())
def test_sampled_values_always_validate(measurands: list[str], version: str, context: str,
                                        phases: Any, soc: float | None, power_w: float,
                                        hours: float, noise: float, meter_phases: int,
                                        signed: bool) -> None:
    m = meter(noise=noise, phases=meter_phases, start_wh=123_456.7)
    m.advance(power_w, hours)
    samples = sampled_values(m.reading(), measurands, version=version, context=context,
                             phases_wanted=phases, soc=soc,
                             signer=SIGNER if signed else None, timestamp=T0, id_tag="TAG-1")
    if samples:
        validate_everywhere(version, samples)


def test_signed_register_1_6() -> None:
    signer = OcmfSigner(rng=np.random.default_rng(2))
    begin = sampled_values(sample_reading(), ["Energy.Active.Import.Register", "Voltage"],
                           version="1.6", context="Transaction.Begin", phases_wanted=1,
                           signer=signer, timestamp=T0, id_tag="04A1B2C3")
    raw, signed, _voltage = begin
    assert raw["value"] == "11000.0" and "format" not in raw
    assert signed["format"] == "SignedData"
    assert signed["measurand"] == "Energy.Active.Import.Register"
    assert signed["context"] == "Transaction.Begin"
    check = check_ocmf(signed["value"], signer.public_key_hex)
    assert check.valid and check.payload is not None
    assert check.payload["RD"][0]["TX"] == "B" and check.payload["RD"][0]["RV"] == 11.0
    assert check.payload["ID"] == "04A1B2C3"
    validate_everywhere("1.6", begin)

    end = sampled_values(sample_reading(), ["Energy.Active.Import.Register"], version="1.6",
                         context="Transaction.End", phases_wanted=1, signer=signer, timestamp=T0)
    end_payload = check_ocmf(end[1]["value"], signer.public_key).payload
    assert end_payload is not None and end_payload["RD"][0]["TX"] == "E"
    assert (check.payload["PG"], end_payload["PG"]) == ("T1", "T2")


def test_signed_register_2_0_1() -> None:
    signer = OcmfSigner(rng=np.random.default_rng(2))
    samples = sampled_values(sample_reading(), ["Power.Active.Import",
                                                "Energy.Active.Import.Register"],
                             version="2.0.1", context="Sample.Periodic", phases_wanted=3,
                             signer=signer, timestamp=T0)
    assert len(samples) == 2 and "signedMeterValue" not in samples[0]
    signed = samples[1]["signedMeterValue"]
    assert signed["signingMethod"] == "ECDSA-secp256r1-SHA256"
    assert signed["encodingMethod"] == "OCMF"
    assert base64.b64decode(signed["publicKey"]) == signer.public_key_der
    ocmf = base64.b64decode(signed["signedMeterData"]).decode()
    assert ocmf.startswith("OCMF|")
    check = check_ocmf(ocmf, signed["publicKey"])
    assert check.valid and check.payload is not None and check.payload["RD"][0]["TX"] == "C"
    assert check_ocmf(signed["signedMeterData"], signed["publicKey"]).valid
    validate_everywhere("2.0.1", samples)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"measurands": ["Energy.Active.Import"]},
     "'Energy.Active.Import' is no OCPP 1.6 measurand; allowed: .*Energy.Active.Import.Register"),
    ({"measurands": ["Energy.Active.Net"]}, "is no OCPP 1.6 measurand"),
    ({"measurands": ["Temperature"]}, "does not measure it; supported: Energy.Active.Import"),
    ({"context": "Periodic"}, "unknown reading context 'Periodic'; valid: .*Sample.Periodic"),
    ({"phases_wanted": 4}, "phases_wanted"),
    ({"phases_wanted": ["L4"]}, "unknown phase 'L4'"),
    ({"version": "2.1"}, "supports OCPP 1.6 and 2.0.1"),
    ({"version": "3.0"}, "unknown OCPP version"),
    ({"soc": 42.0}, "fraction"),
    ({"signer": SIGNER}, "aware timestamp"),
])
def test_bad_sampled_values_arguments_are_named(kwargs: dict, message: str) -> None:
    args: dict[str, Any] = {"measurands": ["Voltage"], "version": "1.6",
                            "context": "Sample.Periodic", "phases_wanted": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        sampled_values(sample_reading(), args.pop("measurands"), **args)


def test_2_0_1_only_measurand_is_refused_only_where_unknown() -> None:
    with pytest.raises(ValueError, match="supported"):  # valid 2.0.1, just not measured
        sampled_values(sample_reading(), ["Energy.Active.Net"], version="2.0.1",
                       context="Sample.Periodic", phases_wanted=3)
