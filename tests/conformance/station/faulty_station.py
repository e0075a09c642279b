"""A deliberately faulty variant of the simulator's station, one broken rule per case.

``FAULTS[case_id](station)`` patches a freshly built ``SimStation`` (the simulated SUT builds a
new one before every case and applies the fault of that case, ``--simulated-faults
tests.conformance.station.faulty_station:FAULTS``), so each case meets a station that breaks
exactly the rule it checks and every other case meets the faithful one.
"""

from __future__ import annotations

from tests.conformance.station import (
    faults_profiles,
    faults_security,
    faults_v16_core,
    faults_v201_core,
    faults_v201_lal_res,
    faults_variants,
)
from tests.conformance.station.fault_kit import (
    Fault,
    accept_every_token,
    answer,
    boot_retry_at_once,
    config_without_key,
    connection_timeout_early,
    ignored,
    is_differential,
    message_without,
    never_expiring,
    request_changed,
    request_without,
    results_with,
    set_variables_without_storing,
    status_instead,
    stop_without_id_tag,
    unplug_unnoticed,
    with_fields,
)

_FIRST: dict[str, Fault] = {
    # OCPP 1.6
    "TC_001_CS": boot_retry_at_once,
    "TC_003_CS": status_instead({"Preparing": "Available"}),
    "TC_004_1_CS": status_instead({"Charging": "SuspendedEVSE"}),
    "TC_004_2_CS": connection_timeout_early,
    "TC_010_CS": answer("RemoteStartTransaction", with_fields(), drop_follow=True),
    "TC_011_1_CS": answer("RemoteStartTransaction", with_fields(), drop_follow=True),
    "TC_012_CS": answer("RemoteStopTransaction", with_fields(), drop_follow=True),
    "TC_013_CS": answer("Reset", with_fields(), drop_follow=True),
    "TC_014_CS": answer("Reset", with_fields(), drop_follow=True),
    "TC_019_CS": answer("GetConfiguration", config_without_key("ConnectionTimeOut")),
    "TC_021_CS": answer("GetConfiguration", lambda got, request: {
        **got, "configurationKey": [{**k, "value": "1"} for k in got["configurationKey"]]}),
    "TC_023_CS": accept_every_token,
    "TC_027_CS": answer("RemoteStartTransaction", with_fields(status="Accepted")),
    "TC_028_CS": answer("RemoteStopTransaction", with_fields(status="Accepted")),
    "TC_031_CS": answer("UnlockConnector", with_fields(status="UnlockFailed")),
    "TC_040_1_CS": answer("ChangeConfiguration", with_fields(status="Rejected")),
    "TC_040_2_CS": answer("ChangeConfiguration", with_fields(status="Accepted")),
    "TC_061_CS": answer("ClearCache", with_fields(status="Rejected")),
    "TC_068_CS": stop_without_id_tag,
    "TC_042_2_CS": answer("GetLocalListVersion", with_fields(listVersion=1)),
    "TC_043_CS": answer("SendLocalList", with_fields(status="Failed"), when=is_differential),
    "TC_043_2_CS": answer("SendLocalList", with_fields(status="Accepted"), when=is_differential),
    "TC_054_CS": answer("TriggerMessage", with_fields(), drop_follow=True),
    "TC_055_CS": answer("TriggerMessage", with_fields(status="Accepted")),
    "TC_046_1_CS": message_without("StartTransaction", "reservationId"),
    "TC_047_CS": request_changed("ReserveNow", never_expiring("expiryDate")),
    "TC_048_2_CS": answer("ReserveNow", with_fields(status="Accepted")),
    "TC_048_3_CS": answer("ReserveNow", with_fields(status="Accepted")),
    "TC_051_CS": answer("CancelReservation", with_fields(), drop_follow=True),
    "TC_052_CS": answer("CancelReservation", with_fields(status="Accepted")),
    "TC_056_CS": ignored("SetChargingProfile", {"status": "Accepted"}),
    "TC_058_1_CS": answer("SetChargingProfile", with_fields(status="Accepted")),
    "TC_058_2_CS": answer("SetChargingProfile", with_fields(status="Accepted")),
    "TC_067_CS": ignored("ClearChargingProfile", {"status": "Accepted"}),
    "TC_059_CS": request_changed("RemoteStartTransaction", request_without("chargingProfile")),
    # OCPP 2.0.1
    "TC_B_01_CS": status_instead({"Available": "Unavailable"}),
    "TC_B_06_CS": answer("GetVariables", results_with("getVariableResult", attributeValue="999")),
    "TC_B_09_CS": set_variables_without_storing,
    "TC_B_20_CS": answer("Reset", with_fields(), drop_follow=True),
    "TC_B_32_CS": answer("GetVariables", results_with("getVariableResult",
                                                  attributeStatus="Rejected")),
    "TC_B_33_CS": answer("GetVariables", results_with("getVariableResult",
                                                  attributeStatus="UnknownComponent")),
    "TC_E_28_CS": answer("GetTransactionStatus", with_fields(ongoingIndicator=True)),
    "TC_F_09_CS": answer("RequestStopTransaction", with_fields(status="Accepted")),
    "TC_F_20_CS": answer("TriggerMessage", with_fields(), drop_follow=True),
    "TC_G_03_CS": answer("ChangeAvailability", with_fields(), drop_follow=True),
    "TC_G_04_CS": answer("ChangeAvailability", with_fields(), drop_follow=True,
                         when=lambda p: p.get("operationalStatus") == "Operative"),
    "TC_D_01_CS": answer("GetLocalListVersion", with_fields(versionNumber=0)),
    "TC_D_02_CS": ignored("SendLocalList", {"status": "Accepted"}, when=is_differential),
    "TC_D_06_CS": answer("SendLocalList", with_fields(status="Accepted"), when=is_differential),
    "TC_D_08_CS": answer("GetLocalListVersion", with_fields(versionNumber=1)),
    "TC_H_06_CS": answer("ReserveNow", with_fields(status="Accepted")),
    "TC_H_07_CS": request_changed("ReserveNow", never_expiring("expiryDateTime")),
    "TC_H_17_CS": answer("CancelReservation", with_fields(), drop_follow=True),
    "TC_H_18_CS": answer("CancelReservation", with_fields(status="Accepted")),
    "TC_B_07_CS": answer("GetVariables", lambda got, request: {
        **got, "getVariableResult": got["getVariableResult"][:1]}),
    "TC_B_10_CS": set_variables_without_storing,
    "TC_B_35_CS": answer("SetVariables", results_with("setVariableResult",
                                                  attributeStatus="Rejected")),
    "TC_B_36_CS": answer("SetVariables", results_with("setVariableResult",
                                                  attributeStatus="Rejected")),
    "TC_B_39_CS": answer("SetVariables", results_with("setVariableResult",
                                                  attributeStatus="Accepted")),
    "TC_G_01_CS": status_instead({"Occupied": "Available"}),
    "TC_G_02_CS": unplug_unnoticed,
    "TC_G_05_CS": answer("ChangeAvailability", with_fields(), drop_follow=True),
    "TC_G_09_CS": answer("ChangeAvailability", with_fields(status="Rejected")),
    "TC_F_08_CS": answer("RequestStopTransaction", with_fields(), drop_follow=True),
    "TC_B_34_CS": answer("GetVariables", results_with("getVariableResult",
                                                  attributeStatus="Accepted")),
    "TC_G_06_CS": answer("ChangeAvailability", with_fields(), drop_follow=True,
                         when=lambda p: p.get("operationalStatus") == "Operative"),
    "TC_G_07_CS": status_instead({"Unavailable": "Available"}),
    "TC_G_08_CS": answer("ChangeAvailability", with_fields(), drop_follow=True,
                         when=lambda p: p.get("operationalStatus") == "Operative"),
    "TC_E_30_CS": answer("GetTransactionStatus", with_fields(ongoingIndicator=False)),
    "TC_K_37_CS": request_changed("RequestStartTransaction", request_without("chargingProfile")),
}

FAULTS: dict[str, Fault] = {**_FIRST}
for _area in (faults_v16_core, faults_v201_core, faults_v201_lal_res, faults_security,
              faults_profiles, faults_variants):
    _twice = FAULTS.keys() & _area.FAULTS.keys()
    assert not _twice, f"{_area.__name__}: cases with a fault already: {sorted(_twice)}"
    FAULTS.update(_area.FAULTS)
