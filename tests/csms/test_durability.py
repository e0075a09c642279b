"""Kill and restart: what the CSMS answered survives a SIGKILL, and a session goes on after it.

The CSMS runs as its own process (``chargeloop csms serve``), as in production. A station boots,
starts a transaction and sends meter values; once the answers are in, the CSMS is killed with
SIGKILL (no shutdown, no flush). The database is read while nothing runs: every answered
message must be in it. The CSMS starts again on the same database, the station reconnects
without booting again (a lost connection is not a reboot), repeats its start as a station does
when it cannot tell whether its start arrived, sends more meter values and stops. Exactly one
transaction must exist, with the right energy, and every meter value exactly once.

Runs on a SQLite file and on PostgreSQL (a database per test, as in ``conftest.py``; skipped with
the reason shown when no PostgreSQL server answers).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from chargeloop.ocppj import OcppSession, OcppVersion, Role
from chargeloop.ocppj.transport import connect_ocpp
from csms.process import CsmsProcess
from csms.server import RunningCsms
from csms.storage import tables as t
from tests.csms.conftest import postgres_database
from tests.csms.support import BOOT_16, BOOT_201, stamp


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}"
        return
    async with postgres_database() as url:
        yield url


@pytest.fixture
def csms_process(database: str, tmp_path: Path) -> Iterator[CsmsProcess]:
    csms = CsmsProcess(tmp_path, database=database)
    try:
        yield csms
    finally:
        csms.stop()  # before the PostgreSQL database is dropped


class Reachable(Protocol):
    @property
    def ocpp_url(self) -> str: ...


@contextlib.asynccontextmanager
async def station(csms: Reachable, identity: str, version: OcppVersion
                  ) -> AsyncIterator[OcppSession]:
    transport = await connect_ocpp(csms.ocpp_url, identity=identity, versions=[version])
    session = OcppSession(transport, version, role=Role.STATION, identity=identity,
                          call_timeout=10.0)
    task = asyncio.create_task(session.serve())
    try:
        yield session
    finally:
        await session.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)


async def read_back(database: str, station_id: str) -> tuple[list[dict[str, Any]],
                                                              list[dict[str, Any]]]:
    """The station's transactions and energy register readings, straight from the database."""
    engine = create_async_engine(database)
    try:
        async with engine.connect() as conn:
            transactions = [dict(r) for r in (await conn.execute(
                select(t.transactions).where(t.transactions.c.station_id == station_id)
                .order_by(t.transactions.c.id))).mappings()]
            readings = [dict(r) for r in (await conn.execute(
                select(t.meter_values).where(
                    t.meter_values.c.station_id == station_id,
                    t.meter_values.c.measurand == "Energy.Active.Import.Register")
                .order_by(t.meter_values.c.timestamp, t.meter_values.c.id))).mappings()]
    finally:
        await engine.dispose()
    return transactions, readings


async def api_client(csms: CsmsProcess) -> httpx.AsyncClient:
    token = csms.token_file.read_text().strip()  # written by the first start
    return httpx.AsyncClient(base_url=csms.api_url, timeout=10,
                             headers={"Authorization": f"Bearer {token}"})


async def register_token(csms: CsmsProcess, id_token: str) -> None:
    async with await api_client(csms) as api:
        response = await api.put(f"/api/tokens/{id_token}", json={"type": "ISO14443"})
    assert response.status_code in (200, 201), response.text


async def check_station_api(csms: CsmsProcess, station_id: str) -> None:
    """The restarted CSMS knows the station, with its boot, and sees it connected."""
    async with await api_client(csms) as api:
        found = (await api.get(f"/api/stations/{station_id}")).json()
    assert found["registration"] == "Accepted"
    assert found["last_boot"] is not None
    assert found["connected"] is True


# -- OCPP 1.6 ---------------------------------------------------------------------------------


def meter_values_16(transaction_id: int, wh: float, at: str) -> dict[str, Any]:
    return {"connectorId": 1, "transactionId": transaction_id, "meterValue": [{
        "timestamp": at, "sampledValue": [
            {"value": f"{wh:.0f}", "unit": "Wh", "measurand": "Energy.Active.Import.Register",
             "context": "Sample.Periodic"},
            {"value": "7400", "unit": "W", "measurand": "Power.Active.Import",
             "context": "Sample.Periodic"}]}]}


async def test_ocpp16_session_survives_a_kill(csms_process: CsmsProcess, database: str) -> None:
    csms, station_id = csms_process, "CS-DUR-16"
    csms.start()
    await register_token(csms, "TAG-DUR-16")
    start = {"connectorId": 1, "idTag": "TAG-DUR-16", "meterStart": 1000, "timestamp": stamp()}
    async with station(csms, station_id, OcppVersion.V16) as cs:
        assert (await cs.call("BootNotification", BOOT_16))["status"] == "Accepted"
        await cs.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                             "status": "Charging", "timestamp": stamp()})
        tx = (await cs.call("StartTransaction", start))["transactionId"]
        for n, wh in enumerate((1500, 2000, 2500), start=1):
            assert await cs.call("MeterValues", meter_values_16(tx, wh, stamp(n))) == {}
        csms.kill()  # every call above was answered

    transactions, readings = await read_back(database, station_id)
    assert len(transactions) == 1
    assert transactions[0]["ocpp_transaction_id"] == str(tx)
    assert transactions[0]["state"] == "Active"
    assert transactions[0]["meter_start_wh"] == 1000
    assert [r["value"] for r in readings] == [1500, 2000, 2500]
    assert {r["transaction_id"] for r in readings} == {transactions[0]["id"]}

    csms.start()
    async with station(csms, station_id, OcppVersion.V16) as cs:
        # No new boot: the CSMS remembers the accepted one (else this would be SecurityError).
        await cs.call("Heartbeat")
        await check_station_api(csms, station_id)
        # Unsure whether its start arrived, the station sends it again: same transaction.
        assert (await cs.call("StartTransaction", start))["transactionId"] == tx
        for n, wh in enumerate((3000, 3500), start=4):
            assert await cs.call("MeterValues", meter_values_16(tx, wh, stamp(n))) == {}
        stopped = await cs.call("StopTransaction", {
            "transactionId": tx, "meterStop": 4000, "timestamp": stamp(6),
            "idTag": "TAG-DUR-16", "reason": "Local"})
        assert stopped["idTagInfo"]["status"] == "Accepted"
    csms.stop()

    transactions, readings = await read_back(database, station_id)
    assert len(transactions) == 1, "a second transaction was created"
    done = transactions[0]
    assert done["state"] == "Completed"
    assert done["meter_stop_wh"] == 4000
    assert done["energy_wh"] == pytest.approx(3000.0)
    assert [r["value"] for r in readings] == [1500, 2000, 2500, 3000, 3500]
    assert all(r["flag"] is None for r in readings)


# -- OCPP 2.0.1 -------------------------------------------------------------------------------


def tx_event(event_type: str, seq_no: int, wh: float, at: str, **extra: Any) -> dict[str, Any]:
    context = {"Started": "Transaction.Begin", "Ended": "Transaction.End"}.get(
        event_type, "Sample.Periodic")
    return {"eventType": event_type, "timestamp": at, "seqNo": seq_no,
            "triggerReason": {"Started": "Authorized", "Ended": "EVDeparted"}.get(
                event_type, "MeterValuePeriodic"),
            "transactionInfo": {"transactionId": "TX-DUR-201", "chargingState": "Charging"},
            "meterValue": [{"timestamp": at, "sampledValue": [
                {"value": wh, "context": context,
                 "measurand": "Energy.Active.Import.Register",
                 "unitOfMeasure": {"unit": "Wh"}}]}], **extra}


async def test_ocpp201_session_survives_a_kill(csms_process: CsmsProcess,
                                               database: str) -> None:
    csms, station_id = csms_process, "CS-DUR-201"
    csms.start()
    await register_token(csms, "TAG-DUR-201")
    at = stamp()
    started = tx_event("Started", 0, 1000, at, evse={"id": 1, "connectorId": 1},
                       idToken={"idToken": "TAG-DUR-201", "type": "ISO14443"})
    async with station(csms, station_id, OcppVersion.V201) as cs:
        assert (await cs.call("BootNotification", BOOT_201))["status"] == "Accepted"
        answer = await cs.call("TransactionEvent", started)
        assert answer["idTokenInfo"]["status"] == "Accepted"
        for seq_no, wh in enumerate((1500, 2000, 2500), start=1):
            assert await cs.call("TransactionEvent",
                                 tx_event("Updated", seq_no, wh, stamp(seq_no))) == {}
        csms.kill()

    transactions, readings = await read_back(database, station_id)
    assert len(transactions) == 1
    assert transactions[0]["ocpp_transaction_id"] == "TX-DUR-201"
    assert transactions[0]["state"] == "Active"
    assert transactions[0]["last_seq_no"] == 3
    assert [r["value"] for r in readings] == [1000, 1500, 2000, 2500]

    csms.start()
    async with station(csms, station_id, OcppVersion.V201) as cs:
        await cs.call("Heartbeat")  # no new boot needed
        await check_station_api(csms, station_id)
        # The Started event again (its answer could have been lost): no second transaction.
        assert (await cs.call("TransactionEvent", started))["idTokenInfo"]["status"] == \
            "Accepted"
        for seq_no, wh in enumerate((3000, 3500), start=4):
            assert await cs.call("TransactionEvent",
                                 tx_event("Updated", seq_no, wh, stamp(seq_no))) == {}
        ended = tx_event("Ended", 6, 4000, stamp(6))
        ended["transactionInfo"]["stoppedReason"] = "EVDisconnected"
        assert await cs.call("TransactionEvent", ended) == {}
    csms.stop()

    transactions, readings = await read_back(database, station_id)
    assert len(transactions) == 1, "a second transaction was created"
    done = transactions[0]
    assert done["state"] == "Completed"
    assert done["stop_reason"] == "EVDisconnected"
    assert done["energy_wh"] == pytest.approx(3000.0)
    assert done["seq_gaps"] == []
    # Every reading once: the repeated Started stored nothing again.
    assert [r["value"] for r in readings] == [1000, 1500, 2000, 2500, 3000, 3500, 4000]


async def test_ocpp201_repeated_start_stores_no_second_reading(csms: RunningCsms) -> None:
    await csms.core.auth.upsert("TAG-REPEAT")
    started = tx_event("Started", 0, 1000, stamp(), evse={"id": 1, "connectorId": 1},
                       idToken={"idToken": "TAG-REPEAT", "type": "ISO14443"})
    async with station(csms, "CS-REPEAT", OcppVersion.V201) as cs:
        await cs.call("BootNotification", BOOT_201)
        await cs.call("TransactionEvent", started)
        await cs.call("TransactionEvent", started)  # a new message id: not an answer replay
    _, readings = await read_back(csms.core.config.database_url, "CS-REPEAT")
    assert [r["value"] for r in readings] == [1000]
