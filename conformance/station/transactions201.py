"""OCPP 2.0.1 transaction steps the station cases share (blocks C and E): the configuration a case
starts from (TxStartPoint / TxStopPoint, authorization on), the states OCTT names
(EVConnectedPreSession, EnergyTransferStarted, EnergyTransferSuspended) and checks of the
TransactionEvents."""

from __future__ import annotations

from typing import Any

from conformance.station.csms import Where
from conformance.station.harness import (
    Harness,
    Received,
    check,
    is_charging,
    of_transaction,
    tx_id201,
)
from conformance.verdicts import not_applicable

CABLE_LOCK = ("cable_lock_before_authorization (a cable lock keeps the EV from being "
              "connected before authorization)")


def arrived_after(h: Harness, first: Received | None = None) -> Where:
    """Messages that arrived after ``first`` (default: from now on; those before do not
    count)."""
    earlier = {id(r.payload) for r in h.csms.inbox if first is None or r.index < first.index}
    return lambda p: id(p) not in earlier


async def authorization_on(h: Harness) -> None:
    """Configuration State: AuthCtrlr.Enabled true (if implemented and writable),
    AuthCtrlr.DisableRemoteAuthorization false (if implemented)."""
    await h.set_variable201_if_implemented(
        "AuthCtrlr", "Enabled", "true", step="configuration: AuthCtrlr.Enabled true")
    await h.set_if_implemented201(
        "AuthCtrlr", "DisableRemoteAuthorization", "false",
        step="configuration: AuthCtrlr.DisableRemoteAuthorization false")


async def ev_connected_pre_session(h: Harness, evse: int = 1) -> None:
    """"EVConnectedPreSession": the EV is plugged in; the station reports Occupied."""
    await h.act("plug_in", step="EVConnectedPreSession: plug in", evse=evse)
    await h.status(evse, "Occupied", step="EVConnectedPreSession: StatusNotification Occupied")


# TxStartPoint / TxStopPoint value -> the feature that claims it
START_FEATURES = {"ParkingBayOccupancy": "tx_start_parking_bay_occupancy",
                  "EVConnected": "tx_start_ev_connected", "Authorized": "tx_start_authorized",
                  "DataSigned": "tx_start_data_signed",
                  "PowerPathClosed": "tx_start_power_path_closed",
                  "EnergyTransfer": "tx_start_energy_transfer"}
STOP_FEATURES = {"ParkingBayOccupancy": "tx_stop_parking_bay_occupancy",
                 "EVConnected": "tx_stop_ev_connected", "Authorized": "tx_stop_authorized",
                 "PowerPathClosed": "tx_stop_power_path_closed",
                 "EnergyTransfer": "tx_stop_energy_transfer"}


async def ensure_variable(h: Harness, component: str, variable: str, value: str, *,
                          step: str, optional: bool = False) -> None:
    """Set-up "``variable`` is ``value``": read it; set it only when it differs (a station
    whose variable is ReadOnly with the wanted value is fine, any other must accept the
    SetVariables). ``optional``: the case says "if implemented" / "if ReadWrite", a station
    without the variable or refusing to set it goes on as it is."""
    wanted = {"component": {"name": component}, "variable": {"name": variable}}
    read = await h.csms.call("GetVariables", {"getVariableData": [wanted]},
                             step=f"{step}: GetVariables")
    result = (read.get("getVariableResult") or [{}])[0]
    known = result.get("attributeStatus") == "Accepted"
    if known and _members(result.get("attributeValue")) == _members(value):
        return
    if not optional:
        await h.set_variable201(component, variable, value, step=step)
    elif known:
        await h.csms.call("SetVariables", {"setVariableData": [{**wanted,
                                                                "attributeValue": value}]},
                          step=step)


def _members(value: str | None) -> set[str]:
    return {v.strip().casefold() for v in (value or "").split(",") if v.strip()}


async def tx_points(h: Harness, *, start: str | None = None, stop: str | None = None) -> None:
    """Set-up: the case's TxStartPoint / TxStopPoint (not applicable unless the SUT claims the
    point)."""
    for variable, point, features in (("TxStartPoint", start, START_FEATURES),
                                      ("TxStopPoint", stop, STOP_FEATURES)):
        if point is None:
            continue
        feature = features[point]
        if not h.sut.claims(feature):
            not_applicable(f"{feature} ({variable} {point} supported)")
    await h.booted()
    for variable, point in (("TxStartPoint", start), ("TxStopPoint", stop)):
        if point is not None:
            await ensure_variable(h, "TxCtrlr", variable, point, step=f"set-up: {variable}")


async def tx_event(h: Harness, *, step: str, where: Where | None = None,
                   expected: str = "a TransactionEvent", timeout_s: float | None = None
                   ) -> Received:
    """The station's next TransactionEvent that matches ``where``, periodic and clock-aligned
    meter values aside (a station may send those at any time)."""
    def wanted(p: dict[str, Any]) -> bool:
        return not str(p.get("triggerReason", "")).startswith("MeterValue") and \
            (where is None or where(p))

    return await h.csms.receive("TransactionEvent", step=step, where=wanted,
                                expected=expected, timeout_s=timeout_s)


def check_event(event: Received, step: str, **wanted: Any) -> None:
    """The TransactionEvent has the ``wanted`` fields: ``eventType``, ``triggerReason`` at the
    top; ``chargingState``, ``stoppedReason`` in transactionInfo. A tuple: one of those."""
    p = event.payload
    info = p.get("transactionInfo", {})
    got = {key: info.get(key) if key in ("chargingState", "stoppedReason") else p.get(key)
           for key in wanted}
    ok = all(got[k] in v if isinstance(v, tuple) else got[k] == v for k, v in wanted.items())
    check(ok, step, ", ".join(f"{k} {' or '.join(map(str, v)) if isinstance(v, tuple) else v}"
                              for k, v in wanted.items()), p)


async def energy_transfer_started(h: Harness, tx: str, *, step: str = "EnergyTransferStarted"
                                  ) -> Received:
    """OCTT "EnergyTransferStarted": a TransactionEvent of ``tx`` with chargingState Charging
    (the one already received counts too)."""
    done = h.csms.received("TransactionEvent", of_transaction(tx, is_charging))
    if done:
        return done[-1]
    return await tx_event(h, step=f"{step}: TransactionEvent (Charging)",
                          where=of_transaction(tx, is_charging),
                          expected=f"a TransactionEvent of {tx} with chargingState Charging")


async def charging_session(h: Harness) -> str:
    """OCTT "EnergyTransferStarted" from scratch (cable first, then the valid token): the
    transaction's id; its events so far are read (the next ones are what the case checks)."""
    tx = tx_id201(await h.charging201(h.sut.tokens.valid))
    for event in h.csms.received("TransactionEvent"):
        event.consumed = True
    return tx


async def energy_transfer_suspended(h: Harness, tx: str) -> None:
    """OCTT "EnergyTransferSuspended" (``tx`` charging): the EV suspends the energy transfer;
    a TransactionEvent of ``tx``, triggerReason ChargingStateChanged, chargingState
    SuspendedEV."""
    step = "EnergyTransferSuspended"
    await h.act("ev_suspends", step=f"{step}: the EV suspends", evse=1)
    event = await tx_event(h, step=f"{step}: TransactionEvent", where=of_transaction(tx),
                           expected=f"a TransactionEvent of {tx}")
    check_event(event, f"{step}: TransactionEventRequest", eventType="Updated",
                triggerReason="ChargingStateChanged", chargingState="SuspendedEV")
