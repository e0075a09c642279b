"""What the simulator's station claims as a system under test, as a vendor's SUT file would:
the certification profiles it implements besides Core, its optional features, and how long
it may take to answer or act.

``--simulated`` without a SUT file and without ``--profile`` runs with these claims, so the
one-command demo checks everything the simulated station does, not Core alone. The suite's
own tests claim the same (tests/conformance/station/test_station_suite.py).
"""

from __future__ import annotations

from chargeloop.ocppj import OcppVersion

SIMULATED_PROFILES: dict[OcppVersion, tuple[str, ...]] = {
    OcppVersion.V16: ("local-auth-list", "remote-trigger", "reservation", "smart-charging",
                      "firmware-management", "security"),
    OcppVersion.V201: ("local-auth-list", "reservation", "smart-charging"),
}
# the optional station features it has (conformance.sut.STATION_FEATURES)
SIMULATED_FEATURES: dict[OcppVersion, tuple[str, ...]] = {
    OcppVersion.V16: ("local_auth_list", "reservation_connector_zero",
                      "power_loss_stop_before_down"),
    OcppVersion.V201: ("reservation_unspecified_evse",
                       "reservation_connector_type",
                       "reservation_enabled_variable", "summary_inventory",
                       # remote control (block F) and Reset of an EVSE
                       "detachable_cable", "authorize_remote_start_true",
                       "authorize_remote_start_false", "reset_evse", "trigger_meter_values",
                       "trigger_transaction_event", "trigger_log_status",
                       "trigger_firmware_status", "trigger_status_notification",
                       "trigger_boot_notification",
                       "customer_identifier", "log_upload_cancel",
                       "aligned_send_during_idle", "signed_meter_values",
                       "firmware_update_cancel", "firmware_download_during_transaction",
                       # the master pass, without a user interface (C16);
                       # AuthCtrlr.DisableRemoteAuthorization
                       "master_pass", "disable_remote_authorization",
                       # the authorization cache (block C)
                       "authorization_cache", "authorization_cache_persistent",
                       "auth_cache_lifetime", "auth_cache_disable_post_authorize",
                       "max_energy_on_invalid_id", "offline_tx_unknown_id",
                       # every transaction start/stop point (a parking bay detector, signed
                       # meter readings) and an IEC 61851-1 EV
                       "tx_start_parking_bay_occupancy", "tx_start_ev_connected",
                       "tx_start_authorized", "tx_start_data_signed",
                       "tx_start_power_path_closed", "tx_start_energy_transfer",
                       "tx_stop_parking_bay_occupancy", "tx_stop_ev_connected",
                       "tx_stop_authorized", "tx_stop_power_path_closed",
                       "tx_stop_energy_transfer", "iec61851_ev",
                       # no CSMS root at security profile 1 (AQ-1); the fallback to the last
                       # connected network profile (C-47, B10.FR.07)
                       "csms_root_removable", "network_profile_fallback_to_last",
                       # a reader shared by the EVSEs (a transaction before the EVSE is known)
                       "transaction_before_evse_known"),
}

# How long the harness gives the simulated station (without a SUT file) to answer or to act,
# and so how long a "no such message" window lasts: it acts within milliseconds, and a real
# charger's default (60 s) would make the one-command demo take hours.
SIMULATED_TIMEOUT_S = 5.0
