"""Faulty-station variants for the cases of a station configured otherwise than the usual one
(conformance/station/test_v16_variants.py) and the last 2.0.1 Core ones
(test_v201_core_last.py), and the 2.0.1 network profile cases TC_A_20 / TC_B_49
(test_v201_network_fallback.py): case id -> the fault that breaks the rule the case
checks (merged into ``faulty_station.FAULTS``; the suite meets them in its variant runs)."""

from __future__ import annotations

from simulator.station import SimStation
from tests.conformance.station.fault_kit import (
    Fault,
    answer,
    ignored,
    message_without,
    with_fields,
)


def _station_reservation(payload: dict[str, object]) -> bool:
    return payload.get("connectorId") == 0


def back_off_never_doubles(station: SimStation) -> None:
    """Every reconnection attempt waits RetryBackOffWaitMinimum, a failed one too."""
    station._backoff_s = lambda attempt: float(  # type: ignore[method-assign]
        station.settings.retry_backoff_wait_minimum_s)


def unsigned_firmware_taken(station: SimStation) -> None:
    """A secure update without signing certificate and signature is Accepted."""
    station.signed_firmware_only = False


def serves_while_rejected(station: SimStation) -> None:
    """A station the CSMS rejected answers its requests as if it had been accepted."""
    station._not_accepted = lambda: False  # type: ignore[method-assign]


def tls_priority_without_root(station: SimStation) -> None:
    """NetworkConfigurationPriority with a TLS profile is Accepted though the station holds
    no CSMS root certificate (A05.FR.02 not checked)."""
    station.settings.value_checks.pop(  # type: ignore[attr-defined]
        "OCPPCommCtrlr.NetworkConfigurationPriority", None)


def restarts_priority_list(station: SimStation) -> None:
    """After every NetworkConfigurationPriority entry failed, the station starts the list
    again (B10.FR.08) instead of reconnecting with its last connected profile (B10.FR.07)."""
    station.network.fallback_to_last = False


FAULTS: dict[str, Fault] = {
    # a fixed cable that claims to unlock
    "TC_017_2_CS": answer("UnlockConnector", with_fields(status="Unlocked")),
    # NotSupported, and the transaction runs on (it is not finished first)
    "TC_018_2_CS": ignored("UnlockConnector", {"status": "NotSupported"}),
    # the StopTransaction after the reboot gives no reason (Local), not PowerLoss
    "TC_032_2_CS": message_without("StopTransaction", "reason"),
    # a station without a local list that reports an empty one
    "TC_042_1_CS": answer("GetLocalListVersion", with_fields(listVersion=0)),
    # ... or accepts a list it cannot keep
    "TC_043_1_CS": answer("SendLocalList", with_fields(status="Accepted")),
    # a reservation of connector 0 accepted by a station that does not take them
    "TC_050_4_CS": answer("ReserveNow", with_fields(status="Accepted"),
                          when=_station_reservation),
    # 2.0.1: the back-off is not doubled after a failed reconnection attempt
    "TC_B_57_CS": back_off_never_doubles,
    "TC_L_18_CS": unsigned_firmware_taken,
    "TC_B_30_CS": serves_while_rejected,
    "TC_A_20_CS": tls_priority_without_root,
    "TC_B_49_CS": restarts_priority_list,
}
