"""What station-under-test cases share: the harness (the CSMS it plays, the actions adapter),
how a case starts, and the OCTT reusable states (Booted, Authorized, Charging, ...)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chargeloop.ocppj import OcppVersion
from conformance.station.actions import Actions
from conformance.station.csms import Received, TestCsms, Where, now_iso
from conformance.station.listener import TlsControl, tls_control
from conformance.sut import Sut
from conformance.verdicts import CaseFailed, not_applicable, not_run

TLS_PROFILES = (2, 3)  # the security profiles whose CSMS serves TLS
CONNECT_LIMIT_S = 30.0  # at most this long for a station to (re)connect and boot


def check(condition: bool, step: str, expected: str, actual: Any) -> None:
    """A validation of the case document: fail the case with the step unless it holds."""
    if not condition:
        raise CaseFailed(step, expected, actual)


@dataclass
class Harness:
    sut: Sut
    csms: TestCsms
    actions: Actions
    case_id: str = ""
    booted_connection: int | None = None  # the connection whose boot was accepted
    notes: list[str] = field(default_factory=list)

    @property
    def version(self) -> OcppVersion:
        return self.sut.version

    @property
    def evses(self) -> int:
        return self.sut.stations[0].evses

    @property
    def connect_s(self) -> float:
        """How long the station may take to (re)connect and boot."""
        return min(CONNECT_LIMIT_S, max(5.0, self.sut.action_timeout_s * 2))

    @property
    def wait_s(self) -> float:
        """How long the station may take to do what a step implies."""
        return self.sut.action_timeout_s

    def own_test_ca(self) -> TlsControl:
        """The TLS control of the harness's own test CA, which the cases that change the
        station's TLS roots need: not applicable below security profile 2, not run where the
        SUT file names a server certificate of its own."""
        if self.sut.security_profile not in TLS_PROFILES:
            not_applicable(f"tls_server: security profile 2 or 3 (the SUT file gives "
                           f"{self.sut.security_profile})")
        control = tls_control()
        if control is None:
            not_run("needs the harness's own test CA (the SUT file names a server certificate)")
            raise AssertionError("unreachable")
        return control

    async def act(self, name: str, *, step: str, **params: Any) -> dict[str, Any]:
        return await self.actions.perform(name, step=step, case=self.case_id, **params)

    async def fresh(self, *, step: str = "initial state") -> int:
        """The station in its initial state on a new connection: the simulated station is
        rebuilt (``fresh``); a real one is power-cycled when the adapter can, else the
        connection it has is used (waiting for one if there is none). The connection number."""
        csms = self.csms
        before = len(csms.connections)
        if self.actions.can("fresh"):
            await self.act("fresh", step=step)
        elif self.actions.can("power_cycle") and csms.connected:
            await self.act("power_cycle", step=step)
        elif csms.connected:
            connection = csms.connection
            assert connection is not None
            csms.first_connection = connection.number
            return connection.number
        return await csms.new_connection(before, self.connect_s, step=step)

    async def booted(self, *, step: str = "Booted") -> None:
        """OCTT "Booted": BootNotification answered Accepted, then a status for every
        connector (1.6: connector 0 too)."""
        number = await self.fresh(step=step)
        if self.booted_connection == number and not self.actions.can("fresh"):
            return
        await self.csms.receive("BootNotification", step=f"{step}: BootNotification",
                                timeout_s=self.connect_s)
        await self.all_statuses("Available", step=step)
        self.booted_connection = number

    async def all_statuses(self, status: str, *, step: str) -> list[Received]:
        connectors = range(0 if self.version is OcppVersion.V16 else 1, self.evses + 1)
        return [await self.status(c, status, step=f"{step}: StatusNotification {c}")
                for c in connectors]

    async def status(self, connector: int, status: str, *, step: str,
                     timeout_s: float | None = None) -> Received:
        """The station's StatusNotification ``status`` for 1.6 connector / 2.0.1 EVSE
        ``connector``."""
        v16 = self.version is OcppVersion.V16
        if v16:
            def where(p: dict[str, Any]) -> bool:
                return p.get("connectorId") == connector and p.get("status") == status
        else:
            def where(p: dict[str, Any]) -> bool:
                return p.get("evseId") == connector and p.get("connectorStatus") == status
        return await self.csms.receive("StatusNotification", step=step, where=where,
                                       timeout_s=timeout_s,
                                       expected=f"StatusNotification {status} for "
                                                f"{'connector' if v16 else 'EVSE'} {connector}")

    async def go_offline(self, *, step: str = "the station goes offline") -> None:
        """The tester cuts the station's network; the harness sees its connection close."""
        connection = self.csms.connection
        check(connection is not None, step, "a connected station", "not connected")
        assert connection is not None
        await self.act("network_down", step=step)
        await self.csms.disconnected(connection.number, self.connect_s, step=step)

    async def back_online(self, *, step: str = "the station comes back online") -> None:
        """The tester restores the network; the station connects again (no reboot)."""
        before = len(self.csms.connections)
        await self.act("network_up", step=step)
        await self.csms.new_connection(before, self.connect_s, step=step)

    async def power_cycled(self, *, step: str = "the station is power-cycled") -> int:
        """The tester switches the station off and on (``power_cycle``): it connects again and
        sends its BootNotification. The new connection's number."""
        before = len(self.csms.connections)
        await self.act("power_cycle", step=step)
        number = await self.csms.new_connection(before, self.connect_s, step=f"{step}: "
                                                "reconnect")
        await self.csms.receive("BootNotification", step=f"{step}: BootNotification",
                                timeout_s=self.connect_s)
        return number

    async def configure(self, key: str, value: str, *, step: str) -> None:
        """1.6 ChangeConfiguration ``key`` = ``value``, which must be Accepted."""
        answer = await self.csms.call("ChangeConfiguration", {"key": key, "value": value},
                                      step=step)
        check(answer.get("status") == "Accepted", step, f"ChangeConfiguration {key} Accepted",
              answer)

    # -- 1.6 reusable flows ----------------------------------------------------------------

    async def charging16(self, token: str, *, step: str = "Charging", evse: int = 1
                         ) -> Received:
        """Plug in, present ``token``: StartTransaction (answered Accepted) and Charging.
        Returns the StartTransaction."""
        await self.act("plug_in", step=f"{step}: plug in", evse=evse)
        await self.status(evse, "Preparing", step=f"{step}: StatusNotification Preparing")
        await self.act("present_token", step=f"{step}: present token", evse=evse, token=token)
        start = await self.csms.receive("StartTransaction", step=f"{step}: StartTransaction",
                                        where=lambda p: p.get("connectorId") == evse)
        await self.status(evse, "Charging", step=f"{step}: StatusNotification Charging")
        return start

    # -- 2.0.1 reusable flows --------------------------------------------------------------

    async def charging201(self, token: str, *, step: str = "EnergyTransferStarted",
                          evse: int = 1) -> Received:
        """2.0.1 "EnergyTransferStarted" (cable first, then "Authorized" with ``token``): the
        TransactionEvent with chargingState Charging. Its transactionId is
        ``tx_id201(...)``."""
        await self.act("plug_in", step=f"{step}: plug in", evse=evse)
        await self.act("present_token", step=f"{step}: present token", evse=evse, token=token)
        # evse may be left out once the transaction has named it; with several EVSEs charging
        # an event that names another EVSE is not this one's
        return await self.csms.receive(
            "TransactionEvent", step=f"{step}: TransactionEvent (Charging)",
            where=lambda p: is_charging(p) and p.get("evse", {}).get("id", evse) == evse,
            expected="a TransactionEvent with chargingState Charging")

    async def set_variable201(self, component: str, variable: str, value: str, *,
                              step: str, instance: str | None = None) -> None:
        """A 2.0.1 set-up step: SetVariables ``component``.``variable`` (``instance``) =
        ``value``, which must be Accepted (a station that refuses a setting the case needs
        fails the set-up)."""
        wanted: dict[str, Any] = {"name": variable}
        if instance is not None:
            wanted["instance"] = instance
        answer = await self.csms.call("SetVariables", {"setVariableData": [{
            "component": {"name": component}, "variable": wanted,
            "attributeValue": value}]}, step=step)
        results = answer.get("setVariableResult", [])
        check(len(results) == 1 and results[0].get("attributeStatus") == "Accepted", step,
              f"SetVariables {component}.{variable} = {value} Accepted", answer)

    async def set_variable201_if_implemented(self, component: str, variable: str, value: str,
                                             *, step: str) -> None:
        """A 2.0.1 set-up step the case document makes "if implemented (AND ReadWrite)":
        SetVariables ``component``.``variable`` = ``value``; a station without the variable
        (UnknownComponent / UnknownVariable) passes, one that refuses it must hold ``value``
        already (read back: a read-only variable set so)."""
        setting = {"component": {"name": component}, "variable": {"name": variable}}
        answer = await self.csms.call("SetVariables", {"setVariableData": [
            {**setting, "attributeValue": value}]}, step=step)
        status = (answer.get("setVariableResult") or [{}])[0].get("attributeStatus")
        if status in ("Accepted", "UnknownComponent", "UnknownVariable"):
            return
        read = await self.csms.call("GetVariables", {"getVariableData": [setting]},
                                    step=f"{step}: GetVariables")
        got = (read.get("getVariableResult") or [{}])[0].get("attributeValue")
        check(str(got).lower() == value.lower(), step,
              f"{component}.{variable} = {value} (set, or read-only with that value)",
              [answer, read])

    async def set_variables201(self, *settings: tuple[str, str, str], step: str) -> None:
        """A 2.0.1 set-up step: one SetVariables with every (component, variable, value),
        each of which must be Accepted."""
        answer = await self.csms.call("SetVariables", {"setVariableData": [
            {"component": {"name": c}, "variable": {"name": v}, "attributeValue": value}
            for c, v, value in settings]}, step=step)
        statuses = [r.get("attributeStatus") for r in answer.get("setVariableResult", [])]
        check(statuses == ["Accepted"] * len(settings), step,
              f"{', '.join(f'{c}.{v} = {value}' for c, v, value in settings)} Accepted", answer)

    async def set_if_implemented201(self, component: str, variable: str, value: str, *,
                                    step: str) -> None:
        """A 2.0.1 set-up step "(if implemented)": SetVariables ``component``.``variable`` =
        ``value``, Accepted, or UnknownVariable / UnknownComponent where the station does not
        have it."""
        answer = await self.csms.call("SetVariables", {"setVariableData": [{
            "component": {"name": component}, "variable": {"name": variable},
            "attributeValue": value}]}, step=step)
        statuses = [r.get("attributeStatus") for r in answer.get("setVariableResult", [])]
        check(statuses in (["Accepted"], ["UnknownVariable"], ["UnknownComponent"]), step,
              f"{component}.{variable} = {value} Accepted (or UnknownVariable / "
              "UnknownComponent: the station does not have it)", answer)

    @property
    def stores_id_tokens(self) -> bool:
        """Whether the station keeps idTokens (a local list, Local Auth List profile, or an
        authorization cache): customer data (N09) and offline authorization (C-01)."""
        return "LAL" in self.sut.profiles or self.sut.claims("authorization_cache")

    async def id_tokens_stored(self, tokens: dict[str, str | None], *, step: str) -> None:
        """2.0.1 set-up: the station holds ``tokens`` (idToken -> groupId): in its local list
        (SendLocalList Full, Accepted) when it claims Local Auth List, else in its
        authorization cache, from a session of each online (EV plugged in, token presented
        and authorized, presented again, EV unplugged; the CSMS gives the groups); the
        set-up's transaction messages are not the case's."""
        if "LAL" in self.sut.profiles:
            entries = []
            for token, group in tokens.items():
                info: dict[str, Any] = {"status": "Accepted"}
                if group is not None:
                    info["groupIdToken"] = {"idToken": group, "type": "Central"}
                entries.append({"idToken": {"idToken": token, "type": "ISO14443"},
                                "idTokenInfo": info})
            answer = await self.csms.call("SendLocalList", {
                "versionNumber": 1, "updateType": "Full", "localAuthorizationList": entries},
                step=f"{step}: SendLocalListRequest")
            check(answer.get("status") == "Accepted", f"{step}: SendLocalListResponse",
                  "Accepted", answer)
            return
        for token in tokens:
            await self.charging201(token, step=f"{step}: session of {token}")
            await self.act("present_token", step=f"{step}: stop with {token}", evse=1,
                           token=token)
            await self.act("unplug", step=f"{step}: unplug", evse=1)
            await self.csms.receive("TransactionEvent", step=f"{step}: TransactionEvent Ended",
                                    where=lambda p: p.get("eventType") == "Ended",
                                    expected="TransactionEvent Ended")
        for record in self.csms.received("TransactionEvent"):
            record.consumed = True

    async def present_and_plug(self, token: str, *, evse: int = 1) -> None:
        """2.0.1 "Authorized" before "EVConnectedPreSession": ``token`` presented, then the
        EV plugged in."""
        await self.act("present_token", step=f"present {token}", evse=evse, token=token)
        await self.act("plug_in", step="plug in", evse=evse)

    async def offline_transaction(self, token: str) -> Received:
        """After the station is back online: the transaction it started offline for
        ``token`` arrives with ``offline`` true, carries the idToken and reaches Charging
        (also reported offline). The TransactionEvent that carries the idToken."""
        with_token = await self.csms.receive(
            "TransactionEvent", step="TransactionEventRequest (offline, idToken)",
            where=lambda p: token_of(p) == token, timeout_s=self.connect_s,
            expected=f"a TransactionEvent with idToken {token}")
        check(with_token.payload.get("offline") is True, "TransactionEventRequest",
              "offline true (it happened while offline)", with_token.payload)
        charging = await self.csms.receive(
            "TransactionEvent", step="TransactionEventRequest (charging)", where=is_charging,
            expected="a TransactionEvent with chargingState Charging")
        check(charging.payload.get("offline") is True, "TransactionEventRequest (charging)",
              "offline true", charging.payload)
        return with_token

    async def no_transaction_for(self, token: str, *, step: str) -> None:
        """Within the wait: no 2.0.1 TransactionEvent carries ``token`` and none reports
        charging."""
        await self.csms.nothing("TransactionEvent", step=step, within_s=self.wait_s,
                                where=lambda p: token_of(p) == token or is_charging(p),
                                expected=f"no transaction for {token} (no idToken, no "
                                         "charging)")

    async def authorize_request(self, token: str, *, step: str = "AuthorizeRequest"
                                ) -> Received:
        """The station's 2.0.1 AuthorizeRequest for ``token``."""
        return await self.csms.receive("Authorize", step=step,
                                       where=lambda p: token_of(p) == token,
                                       expected=f"an AuthorizeRequest with idToken {token}")

    async def charging_with(self, token: str) -> str:
        """After ``token`` was presented: the 2.0.1 TransactionEvent that carries it, then one
        with chargingState Charging ("EnergyTransferStarted"); the transaction id."""
        await self.csms.receive("TransactionEvent", step="TransactionEventRequest (idToken)",
                                where=lambda p: token_of(p) == token,
                                expected=f"a TransactionEvent with idToken {token}")
        charging = await self.csms.receive(
            "TransactionEvent", step="EnergyTransferStarted", where=is_charging,
            expected="a TransactionEvent with chargingState Charging")
        return tx_id201(charging)


def token_of(payload: dict[str, Any]) -> str | None:
    """The idToken.idToken of a 2.0.1 message (Authorize, TransactionEvent), if any."""
    return payload.get("idToken", {}).get("idToken")


def is_charging(payload: dict[str, Any]) -> bool:
    """A 2.0.1 TransactionEvent that reports chargingState Charging."""
    return payload.get("transactionInfo", {}).get("chargingState") == "Charging"


def is_ended(payload: dict[str, Any]) -> bool:
    """A 2.0.1 TransactionEvent of eventType Ended."""
    return payload.get("eventType") == "Ended"


def is_offline(payload: dict[str, Any]) -> bool:
    """A 2.0.1 TransactionEvent the station queued while it was offline."""
    return payload.get("offline") is True


def of_transaction(tx: str, where: Where | None = None) -> Where:
    """The 2.0.1 TransactionEvents of transaction ``tx`` (that also match ``where``)."""
    return lambda p: p.get("transactionInfo", {}).get("transactionId") == tx and \
        (where is None or where(p))


# -- charging schedules (GetCompositeSchedule validations) ------------------------------------

CLOCK_DEVIATION_S = 5  # how far the station's clock may be off ours (OCTT: the configured
# maximum time deviation); absolute profiles start this much in the past, so that they are in
# force on a station whose clock is behind
STACK_SLACK_S = 2.0  # startPeriod rounding and the time the harness's calls take


def started_earlier(seconds: float = CLOCK_DEVIATION_S) -> str:
    """Now less ``seconds`` (default: the maximum clock deviation), as an OCPP timestamp."""
    at = datetime.now(UTC) - timedelta(seconds=seconds)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def periods_match(schedule: dict[str, Any], expected: list[tuple[float, float]],
                  slack_s: float = STACK_SLACK_S) -> bool:
    """``schedule``'s chargingSchedulePeriod is ``expected`` (startPeriod, limit), each start
    within ``slack_s``."""
    periods = [(float(p["startPeriod"]), float(p["limit"]))
               for p in schedule.get("chargingSchedulePeriod", [])]
    return len(periods) == len(expected) and all(
        limit == want_limit and abs(at - want_at) <= slack_s
        for (at, limit), (want_at, want_limit) in zip(periods, expected, strict=True))


def transaction_id(start: Received) -> int:
    assert start.answer is not None
    return int(start.answer["transactionId"])


def tx_id201(event: Received) -> str:
    """The transactionId of a 2.0.1 TransactionEvent."""
    return str(event.payload["transactionInfo"]["transactionId"])


__all__ = ["CLOCK_DEVIATION_S", "STACK_SLACK_S", "Harness", "Received", "check", "is_charging",
           "now_iso", "of_transaction", "parse_utc", "periods_match", "started_earlier", "token_of",
           "transaction_id", "tx_id201"]
