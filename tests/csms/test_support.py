"""User support over real websockets and a real database: a driver's ticket, the facts gathered
for the agent, agent actions that reach the station (and the audit log and the ticket), the
status rules, and who may see what."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from chargeloop.ocppj import ErrorKind, OcppError, OcppVersion
from csms.domain.api_tokens import ApiRole
from csms.server import RunningCsms
from tests.csms.control_support import Answers, audit_rows
from tests.csms.harness import custom_csms, watch_events
from tests.csms.support import boot, connected_station, stamp

V16, V201 = OcppVersion.V16, OcppVersion.V201


@dataclass
class People:
    agent: httpx.AsyncClient  # role support, token name "agent-sue"
    ann: httpx.AsyncClient  # driver of account acct-ann
    bob: httpx.AsyncClient  # driver of account acct-bob


@pytest.fixture
async def people(csms: RunningCsms) -> AsyncIterator[People]:
    async with contextlib.AsyncExitStack() as stack:
        async def client(name: str, role: ApiRole, subject: str | None = None
                         ) -> httpx.AsyncClient:
            token = await csms.core.api_tokens.create(name, role, subject)
            return await stack.enter_async_context(httpx.AsyncClient(
                base_url=csms.api_url, timeout=10.0,
                headers={"Authorization": f"Bearer {token}"}))

        yield People(agent=await client("agent-sue", ApiRole.SUPPORT),
                     ann=await client("ann-phone", ApiRole.DRIVER, "acct-ann"),
                     bob=await client("bob-phone", ApiRole.DRIVER, "acct-bob"))


def status_201(status: str, evse_id: int = 1) -> dict[str, Any]:
    return {"timestamp": stamp(), "connectorStatus": status, "evseId": evse_id,
            "connectorId": 1}


def status_16(status: str, error_code: str = "NoError") -> dict[str, Any]:
    return {"connectorId": 1, "errorCode": error_code, "status": status, "timestamp": stamp()}


def entries(ticket: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in ticket["thread"] if e["kind"] == kind]


async def test_cable_stuck_ticket_from_driver_to_resolved(
        csms: RunningCsms, api: httpx.AsyncClient, people: People) -> None:
    """A driver reports a stuck cable after a session; the agent sees the connector's state,
    history and the failed unlock, unlocks it (the station gets UnlockConnector, the answer is
    on the ticket and in the audit log), resolves; the driver sees the thread without the
    agent's internal note."""
    assert (await api.put("/api/tokens/TAG-ANN", json={"account_id": "acct-ann"})
            ).status_code == 200
    station = Answers(UnlockConnector={"status": "UnlockFailed"})
    async with connected_station(csms, "CS-SUP", V201, routes=station.routes) as cs:
        await boot(cs)
        await cs.call("StatusNotification", status_201("Occupied"))
        await cs.call("TransactionEvent", {
            "eventType": "Started", "timestamp": stamp(), "triggerReason": "Authorized",
            "seqNo": 0, "transactionInfo": {"transactionId": "TX-ANN"},
            "idToken": {"idToken": "TAG-ANN", "type": "ISO14443"},
            "evse": {"id": 1, "connectorId": 1}})
        await cs.call("TransactionEvent", {
            "eventType": "Ended", "timestamp": stamp(1), "triggerReason": "StopAuthorized",
            "seqNo": 1, "transactionInfo": {"transactionId": "TX-ANN",
                                            "stoppedReason": "Local"}})
        # The operator's console tried an unlock before the driver called: it failed.
        tried = await api.post("/api/stations/CS-SUP/commands/unlock", json={"evse_id": 1})
        assert tried.json()["status"] == "UnlockFailed"

        with watch_events(csms, "ticket.") as events:
            opened = await people.ann.post("/api/me/tickets", json={
                "category": "cable_stuck", "station_id": "CS-SUP", "transaction_id": "TX-ANN",
                "message": "Charging ended but the cable will not come out."})
            assert opened.status_code == 201, opened.text
            ticket_id = opened.json()["id"]
            assert (opened.json()["status"], opened.json()["evse_id"]) == ("open", 1)
            event = await events.next("ticket.opened", ticket_id=ticket_id)
            assert (event.data["account_id"], event.data["status"]) == ("acct-ann", "open")

            url = f"/api/support/tickets/{ticket_id}"
            facts = (await people.agent.get(url)).json()["facts"]
            assert "unavailable" not in facts
            assert facts["station"]["online"] is True
            assert {(c["evse_id"], c["status"]) for c in facts["station"]["connectors"]} == {
                (1, "Occupied")}
            assert (facts["session"]["state"], facts["session"]["id_token"]) == (
                "Completed", "TAG-ANN")
            assert [h["status"] for h in facts["connector"]["status_history"]] == ["Occupied"]
            assert [(a["actor"], a["outcome"], a["response"])
                    for a in facts["connector"]["unlock_attempts"]] == [
                ("admin", "answered", {"status": "UnlockFailed"})]

            note = await people.agent.post(f"{url}/messages", json={
                "body": "Lock motor failed once already; try again.", "internal": True})
            assert note.status_code == 200, note.text
            taken = await people.agent.patch(url, json={"status": "in_progress",
                                                        "assignee": "agent-sue"})
            assert (taken.json()["status"], taken.json()["assignee"]) == (
                "in_progress", "agent-sue")
            await events.next("ticket.updated", ticket_id=ticket_id, status="in_progress")

            station.set("UnlockConnector", {"status": "Unlocked"})
            acted = await people.agent.post(f"{url}/actions/unlock")
            assert acted.status_code == 200, acted.text
            action = acted.json()
            assert (action["ocpp_action"], action["outcome"], action["status"]) == (
                "UnlockConnector", "answered", "Unlocked")
            assert station.last("UnlockConnector") == {"evseId": 1, "connectorId": 1}

            resolved = await people.agent.patch(url, json={
                "status": "resolved", "note": "Unlocked remotely; the cable is free."})
            assert resolved.json()["status"] == "resolved"
            assert resolved.json()["resolved_at"] is not None
            event = await events.next("ticket.resolved", ticket_id=ticket_id)
            assert (event.data["account_id"], event.data["status"]) == ("acct-ann", "resolved")

    audit = await audit_rows(csms, "CS-SUP", "UnlockConnector")
    assert [(a["actor"], a["role"], a["response"]) for a in audit] == [
        ("admin", "admin", {"status": "UnlockFailed"}),
        ("agent-sue", "support", {"status": "Unlocked"})]
    agent_view = (await people.agent.get(url)).json()
    [recorded] = entries(agent_view, "action")
    assert recorded["id"] == action["entry_id"]
    assert recorded["author"] == "agent-sue"
    assert recorded["details"]["audit_id"] == audit[-1]["id"]
    assert recorded["details"]["response"] == {"status": "Unlocked"}
    assert [e["body"] for e in entries(agent_view, "note")] == [
        "Lock motor failed once already; try again."]

    seen = (await people.ann.get(f"/api/me/tickets/{ticket_id}")).json()
    assert seen["status"] == "resolved"
    assert [e["kind"] for e in seen["thread"]] == ["message", "status", "action", "status"]
    assert "Lock motor" not in str(seen)
    assert "details" not in seen["thread"][2] and "Unlocked" in seen["thread"][2]["body"]
    assert seen["thread"][-1]["body"].endswith("Unlocked remotely; the cable is free.")

    # Only the owner may read it; the status rules hold.
    assert (await people.bob.get(f"/api/me/tickets/{ticket_id}")).status_code == 403
    assert (await people.bob.get("/api/me/tickets")).json()["total"] == 0
    backwards = await people.agent.patch(url, json={"status": "waiting_for_driver"})
    assert backwards.status_code == 409
    assert "closed, in_progress" in backwards.json()["detail"]
    assert (await people.agent.patch(url, json={"status": "closed"})).status_code == 200
    assert (await people.ann.post(f"/api/me/tickets/{ticket_id}/messages",
                                  json={"body": "thanks"})).status_code == 409
    assert (await people.agent.patch(url, json={"status": "in_progress"})).status_code == 409
    assert (await people.agent.post(f"{url}/actions/unlock")).status_code == 409


async def test_wont_start_facts_and_session_actions_on_16(
        csms: RunningCsms, api: httpx.AsyncClient, people: People) -> None:
    """An agent opens a won't-start ticket for a driver: the facts give the token's verdict,
    its sessions and the station's recent errors; stop and restart reach the 1.6 station;
    a CALLERROR and an offline station are reported and recorded."""
    await api.put("/api/tokens/TAG-BOB", json={"account_id": "acct-bob"})

    def refuse_start(_: dict[str, Any]) -> dict[str, Any]:
        raise OcppError(ErrorKind.INTERNAL_ERROR, "busy")

    station = Answers(RemoteStopTransaction={"status": "Accepted"},
                      RemoteStartTransaction=refuse_start)
    async with connected_station(csms, "CS-W16", V16, routes=station.routes) as cs:
        await boot(cs)
        await cs.call("StatusNotification", status_16("Faulted", "GroundFailure"))
        await cs.call("StatusNotification", status_16("Preparing"))
        started = await cs.call("StartTransaction", {
            "connectorId": 1, "idTag": "TAG-BOB", "meterStart": 0, "timestamp": stamp()})
        tx = started["transactionId"]

        opened = await people.agent.post("/api/support/tickets", json={
            "account_id": "acct-bob", "category": "wont_start", "station_id": "CS-W16",
            "transaction_id": str(tx), "message": "Driver says the car never charges."})
        assert opened.status_code == 201, opened.text
        ticket = opened.json()
        url = f"/api/support/tickets/{ticket['id']}"
        assert (ticket["opened_by"], ticket["opened_by_role"]) == ("agent-sue", "support")
        assert "unavailable" not in ticket["facts"]
        assert ticket["facts"]["payment_standing"]["account"] is None  # not billed
        auth = ticket["facts"]["authorization"]
        assert [(t["token"], t["verdict_now"], t["in_a_session_now"])
                for t in auth["tokens"]] == [("TAG-BOB", "ConcurrentTx", True)]
        assert [(s["transaction_id"], s["state"]) for s in auth["recent_sessions"]] == [
            (str(tx), "Active")]
        assert [(e["status"], e["error_code"])
                for e in ticket["facts"]["station_problems"]["recent_errors"]] == [
            ("Faulted", "GroundFailure")]

        early = await people.agent.post(f"{url}/actions/restart")
        assert early.status_code == 409 and "still running" in early.json()["detail"]
        stopped = await people.agent.post(f"{url}/actions/stop")
        assert stopped.status_code == 200, stopped.text
        assert (stopped.json()["ocpp_action"], stopped.json()["status"]) == (
            "RemoteStopTransaction", "Accepted")
        assert station.last("RemoteStopTransaction") == {"transactionId": tx}
        await cs.call("StopTransaction", {"transactionId": tx, "meterStop": 0,
                                          "timestamp": stamp(1), "reason": "Remote"})
        assert (await people.agent.post(f"{url}/actions/stop")).status_code == 409

        refused = await people.agent.post(f"{url}/actions/restart")
        assert refused.status_code == 502
        assert refused.json()["detail"]["outcome"] == "callerror"
        station.set("RemoteStartTransaction", {"status": "Accepted"})
        restarted = await people.agent.post(f"{url}/actions/restart")
        assert restarted.json()["status"] == "Accepted"
        assert station.last("RemoteStartTransaction") == {"idTag": "TAG-BOB", "connectorId": 1}

    offline = await people.agent.post(f"{url}/actions/unlock")
    assert offline.status_code == 409
    assert offline.json()["detail"]["outcome"] == "offline"
    refreshed = (await people.agent.post(f"{url}/facts")).json()
    assert refreshed["facts"]["station"]["online"] is False
    assert [(e["details"]["ocpp_action"], e["details"]["outcome"])
            for e in entries(refreshed, "action")] == [
        ("RemoteStopTransaction", "answered"), ("RemoteStartTransaction", "callerror"),
        ("RemoteStartTransaction", "answered"), ("UnlockConnector", "offline")]
    assert [a["outcome"] for a in await audit_rows(csms, "CS-W16", "UnlockConnector")] == [
        "offline"]


async def test_a_station_that_does_not_answer_is_recorded_as_a_timeout(
        database_url: str, tmp_path: Path) -> None:
    release = asyncio.Event()

    async def stall(_: dict[str, Any]) -> dict[str, Any]:
        await release.wait()  # answers only after the CSMS gave up
        return {"status": "Unlocked"}

    async with custom_csms(database_url, tmp_path, call_timeout_s=0.3) as (csms, api):
        await api.put("/api/tokens/TAG-CY", json={"account_id": "acct-cy"})
        async with connected_station(csms, "CS-SLOW", V201,
                                     routes={"UnlockConnector": stall}) as cs:
            await boot(cs)
            opened = await api.post("/api/support/tickets", json={
                "account_id": "acct-cy", "category": "cable_stuck", "station_id": "CS-SLOW",
                "evse_id": 2, "message": "cable stuck at EVSE 2"})
            url = f"/api/support/tickets/{opened.json()['id']}"
            timed_out = await api.post(f"{url}/actions/unlock")
            release.set()
            assert timed_out.status_code == 504, timed_out.text
            assert timed_out.json()["detail"]["outcome"] == "timeout"
            [recorded] = entries((await api.get(url)).json(), "action")
            assert (recorded["details"]["request"], recorded["details"]["outcome"]) == (
                {"evseId": 2, "connectorId": 1}, "timeout")
            assert "did not answer" in recorded["body"]


async def test_bad_input_roles_and_the_agents_list(
        csms: RunningCsms, api: httpx.AsyncClient, people: People) -> None:
    for station_id in ("CS-A", "CS-B"):
        assert (await api.post("/api/stations", json={"id": station_id})).status_code == 201

    async def refused(client: httpx.AsyncClient, path: str, body: dict[str, Any],
                      field: str) -> str:
        response = await client.post(path, json=body)
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert error["loc"][-1] == field
        return str(error["msg"])

    base = {"category": "other", "message": "help"}
    await refused(people.ann, "/api/me/tickets", {**base, "category": "broken"}, "category")
    await refused(people.ann, "/api/me/tickets", {**base, "message": ""}, "message")
    assert "station_id" in await refused(people.ann, "/api/me/tickets",
                                         {**base, "transaction_id": "7"}, "transaction_id")
    assert "unknown station" in await refused(people.ann, "/api/me/tickets",
                                              {**base, "station_id": "CS-X"}, "station_id")
    assert "no session" in await refused(people.ann, "/api/me/tickets", {
        **base, "station_id": "CS-A", "transaction_id": "7"}, "transaction_id")
    await refused(people.agent, "/api/support/tickets", base, "account_id")
    assert "no account" in await refused(people.agent, "/api/support/tickets", {
        **base, "account_id": "acct-typo"}, "account_id")
    assert "no payment" in await refused(people.ann, "/api/me/tickets", {
        **base, "payment_id": "pay_nothing"}, "payment_id")

    # Drivers have no agent routes; read-only tokens no support routes; drivers only theirs.
    assert (await people.ann.get("/api/support/tickets")).status_code == 403
    assert (await api.get("/api/me/tickets")).status_code == 403
    assert (await people.ann.get("/api/me/tickets/9999")).status_code == 404
    assert (await people.agent.get("/api/support/tickets/9999")).status_code == 404

    made = {}
    for who, body in (
            ("ann", {"category": "payment", "station_id": "CS-A", "message": "double charge"}),
            ("ann", {"category": "other", "message": "app crashes"}),
            ("bob", {"category": "wont_start", "station_id": "CS-B", "message": "nothing"})):
        response = await getattr(people, who).post("/api/me/tickets", json=body)
        assert response.status_code == 201, response.text
        made[body["category"]] = response.json()["id"]
    await people.agent.patch(f"/api/support/tickets/{made['other']}", json={"status": "resolved"})
    payment_ticket = f"/api/support/tickets/{made['payment']}"
    nobody = await people.agent.patch(payment_ticket, json={"assignee": "nobody"})
    assert nobody.status_code == 422 and nobody.json()["detail"][0]["loc"][-1] == "assignee"
    assert (await people.agent.patch(payment_ticket, json={"assignee": "agent-sue"})
            ).json()["assignee"] == "agent-sue"
    relinked = (await people.agent.patch(payment_ticket, json={
        "links": {"station_id": "CS-B", "evse_id": 2}})).json()
    assert (relinked["station_id"], relinked["evse_id"]) == ("CS-B", 2)
    assert relinked["facts"]["station"]["id"] == "CS-B"  # gathered again
    assert "now about station CS-B, EVSE 2" in [e["body"] for e in relinked["thread"]]
    no_session = await people.agent.post(f"{payment_ticket}/actions/stop")
    assert no_session.status_code == 409 and "names no session" in no_session.json()["detail"]

    async def listed(**params: Any) -> list[int]:
        page = (await people.agent.get("/api/support/tickets", params=params)).json()
        return sorted(t["id"] for t in page["items"])

    assert await listed() == sorted([made["payment"], made["wont_start"]])  # unfinished
    assert await listed(status=["open", "resolved"]) == sorted(made.values())
    assert await listed(category="payment") == [made["payment"]]
    assert await listed(account_id="acct-bob") == [made["wont_start"]]
    assert await listed(station_id="CS-B") == sorted([made["payment"], made["wont_start"]])
    assert await listed(assignee="agent-sue") == [made["payment"]]
    assert (await people.agent.get("/api/support/tickets",
                                   params={"status": "lost"})).status_code == 422
    mine = (await people.ann.get("/api/me/tickets")).json()
    assert sorted(t["id"] for t in mine["items"]) == sorted([made["payment"], made["other"]])


def register(wh: int, offset_s: float = 0.0) -> list[dict[str, Any]]:
    """A 2.0.1 meterValue with the energy register at ``wh``."""
    return [{"timestamp": stamp(offset_s), "sampledValue": [{
        "value": wh, "measurand": "Energy.Active.Import.Register",
        "unitOfMeasure": {"unit": "Wh"}}]}]


async def test_wrong_charge_facts_refund_and_the_account_at_a_glance(
        csms: RunningCsms, api: httpx.AsyncClient, people: People) -> None:
    """A driver disputes a paid session: the facts show the energy, the meter reading that went
    backwards, the tariff and cost (by hand: 10 kWh x 0.40 = 4.00, fee 1.00, VAT 20 % 1.00:
    6.00 EUR) and the captured payment; the agent refunds part of it once (a repeated request
    with the same key refunds nothing more), a refund beyond what is left is refused and
    recorded; the agent's view of the driver shows the sessions (live for the running one),
    payments, tickets and the station."""
    for path, body in (
            ("/api/accounts", {"id": "acct-ann", "name": "Ann", "email": "ann@example.com"}),
            ("/api/accounts/acct-ann/payment-methods",
             {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2099}),
            ("/api/accounts/acct-ann/tokens", {"token": "CARD-ANN"}),
            ("/api/tariffs", {"id": "ac-bill", "name": "AC", "currency": "EUR",
                              "energy_price_per_kwh": "0.40", "session_fee": "1.00",
                              "vat_percent": "20", "preauth_amount": "30.00"}),
            ("/api/stations", {"id": "CS-BILL"}),
            ("/api/tariffs/ac-bill/assignments", {"station_id": "CS-BILL"})):
        made = await api.post(path, json=body)
        assert made.status_code == 201, made.text

    def event(kind: str, seq: int, wh: int, **extra: Any) -> dict[str, Any]:
        return {"eventType": kind, "timestamp": stamp(seq), "seqNo": seq,
                "triggerReason": "MeterValuePeriodic", "meterValue": register(wh, seq),
                "transactionInfo": {"transactionId": extra.pop("tx", "TX-BILL"),
                                    **extra.pop("info", {})}, **extra}

    start = {"idToken": {"idToken": "CARD-ANN", "type": "ISO14443"},
             "evse": {"id": 1, "connectorId": 1}}
    with watch_events(csms, "payment.captured") as payments:
        async with connected_station(csms, "CS-BILL", V201) as cs:
            await boot(cs)
            await cs.call("TransactionEvent", event("Started", 0, 1_000, **start))
            await cs.call("TransactionEvent", event("Updated", 1, 6_000))
            await cs.call("TransactionEvent", event("Updated", 2, 5_000))  # backwards
            await cs.call("TransactionEvent", event("Ended", 3, 11_000,
                                                    info={"stoppedReason": "Local"}))
            captured = await payments.next("payment.captured", transaction_id="TX-BILL")
            assert captured.data["amount"] == "6.00"
            payment_id = captured.data["payment_id"]

            opened = await people.ann.post("/api/me/tickets", json={
                "category": "wrong_charge", "station_id": "CS-BILL",
                "transaction_id": "TX-BILL", "message": "6 EUR for that?"})
            assert opened.status_code == 201, opened.text
            url = f"/api/support/tickets/{opened.json()['id']}"
            facts = (await people.agent.get(url)).json()["facts"]
            assert "unavailable" not in facts
            metering = facts["metering"]
            assert (metering["energy_wh"], metering["flags"]) == (10_000, {"non_monotonic": 1})
            assert facts["cost"]["tariff"]["tariff_id"] == "ac-bill"
            breakdown = facts["cost"]["breakdown"]
            assert breakdown["final"] is True
            assert [(line["kind"], line["amount"]) for line in breakdown["lines"]] == [
                ("energy", "4.00"), ("session_fee", "1.00")]
            assert (breakdown["vat"]["amount"], breakdown["total"]["amount"]) == (
                "1.00", "6.00")
            [paid] = facts["payments"]
            assert (paid["payment_id"], paid["status"], paid["captured"]) == (
                payment_id, "captured", "6.00")

            refund = {"amount": "2.00", "reason": "meter went backwards"}
            first = await people.agent.post(f"{url}/actions/refund", json=refund,
                                            headers={"Idempotency-Key": "k1"})
            assert first.status_code == 200, first.text
            assert (first.json()["status"], first.json()["response"]["amount"]) == (
                "partially_refunded", "2.00")
            again = await people.agent.post(f"{url}/actions/refund", json=refund,
                                            headers={"Idempotency-Key": "k1"})
            assert again.status_code == 200, again.text
            too_much = await people.agent.post(f"{url}/actions/refund", json={
                "amount": "4.01", "reason": "goodwill"})
            assert too_much.status_code == 409
            assert too_much.json()["detail"]["outcome"] == "refused"
            assert "4.00 EUR" in too_much.json()["detail"]["message"]
            for bad in ({"amount": "-1", "reason": "x"}, {"amount": "0.001", "reason": "x"},
                        {"reason": ""}):
                assert (await people.agent.post(f"{url}/actions/refund", json=bad)
                        ).status_code == 422, bad
            payment = (await api.get(f"/api/payments/{payment_id}")).json()
            assert (payment["refunded"], [r["amount"] for r in payment["refunds"]]) == (
                "2.00", ["2.00"])
            thread = (await people.agent.get(url)).json()
            assert [(e["details"]["outcome"], e["author"]) for e in entries(thread, "action")
                    ] == [("answered", "agent-sue")] * 2 + [("refused", "agent-sue")]

            # A second session runs while the agent looks at the driver.
            await cs.call("StatusNotification", status_201("Occupied"))
            await cs.call("TransactionEvent", event("Started", 0, 20_000, tx="TX-NOW",
                                                    **start))
            view = await people.agent.get("/api/support/accounts/acct-ann")
            assert view.status_code == 200, view.text
            glance = view.json()
            assert [(s["transaction_id"], s["state"]) for s in glance["sessions"]] == [
                ("TX-NOW", "Active"), ("TX-BILL", "Completed")]
            live = glance["sessions"][0]["live"]
            assert (live["station_online"], live["connector_status"]) == (True, "Occupied")
            assert live["cost"]["tariff_id"] == "ac-bill" and live["cost"]["final"] is False
            assert any(p["payment_id"] == payment_id and p["status"] == "partially_refunded"
                       for p in glance["payments"])
            assert [t["category"] for t in glance["tickets"]] == ["wrong_charge"]
            assert [s["id"] for s in glance["stations"]] == ["CS-BILL"]
            assert glance["tokens"][0]["token"] == "CARD-ANN"
    assert (await people.agent.get("/api/support/accounts/nobody")).status_code == 404
