"""The simulated 2.0.1 station: a transaction started at a reader shared by the EVSEs before
the EVSE is known (TC_J_08), and a firmware update installed during a transaction (C-43:
TC_L_16); against the reference CSMS, on simulated time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chargeloop.ocppj import OcppVersion
from simulator.station import EvseSpec, SimStation, StationSpec
from simulator.station.outbox import OutMessage
from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from tests.simulator.station_support import events, world

V201 = OcppVersion.V201
TWO_EVSES = (EvseSpec(1, 22_000), EvseSpec(2, 22_000))


def _transaction_events(station: SimStation) -> list[dict[str, Any]]:
    """The payloads of the TransactionEvents the station sends from now on."""
    seen: list[dict[str, Any]] = []
    original = station.enqueue

    def enqueue(message: OutMessage) -> None:
        if message.action == "TransactionEvent":
            seen.append(message.payload)
        original(message)

    station.enqueue = enqueue  # type: ignore[method-assign]
    return seen


def _car() -> Vehicle:
    return Vehicle(VEHICLE_CATALOG["VW ID.3"], soc=0.2, target_soc=0.8)


async def test_a_transaction_starts_before_its_evse_is_known(tmp_path: Path) -> None:
    """TxStartPoint Authorized, a token at the station's reader: Started without evse or
    meterValue; the plug-in at EVSE 2 names it in an Updated event with the Transaction.Begin
    values, and the transaction goes on there."""
    async with world(tmp_path) as w:
        await w.core.auth.upsert("TOKEN-J08")
        station = w.station(StationSpec("CS-J08", V201, evses=TWO_EVSES, start_jitter_s=0.0))
        station.settings.tx_start_points = ("Authorized",)
        station.start()
        await w.run(10)
        seen = _transaction_events(station)
        outcome: dict[str, Any] = {}

        def driver() -> Any:
            outcome["accepted"] = yield from station.present_token_station("TOKEN-J08")
            yield w.clock.env.timeout(5)
            yield from station.plug_in(2, _car())

        w.drive(driver())
        await w.run(60)
        assert outcome == {"accepted": True}
        started, known = seen[0], seen[1]
        assert started["eventType"] == "Started" and "evse" not in started
        assert "meterValue" not in started and started["idToken"]["idToken"] == "TOKEN-J08"
        assert known["eventType"] == "Updated" and known["triggerReason"] == "CablePluggedIn"
        assert known["evse"] == {"id": 2, "connectorId": 1}
        assert {sv["context"] for mv in known["meterValue"] for sv in mv["sampledValue"]} == \
            {"Transaction.Begin"}
        tx = station.transaction(2)
        assert tx is not None and tx.local_id == started["transactionInfo"]["transactionId"]
        assert station.transaction(1) is None and station.power_w(2) > 0


async def test_an_authorization_at_the_reader_lapses_without_an_ev(tmp_path: Path) -> None:
    """No EV within EVConnectionTimeOut: the transaction that had no EVSE yet ends
    (EVConnectTimeout, Timeout), still without an evse; the next EV starts nothing."""
    async with world(tmp_path) as w:
        await w.core.auth.upsert("TOKEN-J08")
        station = w.station(StationSpec("CS-J08-T", V201, evses=TWO_EVSES, start_jitter_s=0.0))
        station.settings.tx_start_points = ("Authorized",)
        station.start()
        await w.run(10)
        seen = _transaction_events(station)
        w.drive(station.present_token_station("TOKEN-J08"))
        await w.run(station.settings.ev_connection_timeout_s + 5)
        assert [(e["eventType"], "evse" in e) for e in seen] == [("Started", False),
                                                                 ("Ended", False)]
        assert seen[1]["triggerReason"] == "EVConnectTimeout"
        assert seen[1]["transactionInfo"]["stoppedReason"] == "Timeout"
        w.drive(station.plug_in(1, _car()))
        await w.run(5)
        assert station.station_auth is None and station.transaction(1) is None


async def test_firmware_installed_during_a_transaction(tmp_path: Path) -> None:
    """C-43 (``firmware_install_during_transaction``): Installing and Installed while the
    transaction runs, which goes on; without it Installing waits for the transaction."""
    for install_during, station_id in ((True, "CS-L16"), (False, "CS-L16-NOT")):
        (tmp_path / station_id).mkdir()
        async with world(tmp_path / station_id) as w:
            await w.core.auth.upsert("TOKEN-L16")
            station = w.station(StationSpec(station_id, V201, start_jitter_s=0.0))
            station.firmware_install_during_transaction = install_during
            station.start()
            await w.run(10)
            w.drive(station.plug_in(1, _car()))
            w.drive(station.present_token(1, "TOKEN-L16"))
            await w.run(30)
            assert station.transaction(1) is not None
            answer = await w.command(station_id, "UpdateFirmware", {
                "requestId": 16, "firmware": {
                    "location": "https://fw.example.com/v16.bin",
                    "retrieveDateTime": w.clock.iso(w.clock.now - 7200),
                    "installDateTime": w.clock.iso(w.clock.now - 7200),
                    "signingCertificate": "-----BEGIN CERTIFICATE-----", "signature": "c2ln"}})
            assert answer["status"] == "Accepted"
            await w.run(300)
            statuses = [e["detail"] for e in events(w.recorder, station_id, "firmware_status")]
            assert station.transaction(1) is not None  # still charging
            assert not events(w.recorder, station_id, "transaction_ended")
            if install_during:
                assert statuses[-3:] == ["Installing", "InstallRebooting", "Installed"]
            else:
                assert statuses == ["Downloading", "Downloaded", "SignatureVerified"]
