"""Fixtures of the station-under-test suite: the harness (the CSMS the suite plays, listening
for the whole run), the simulated station when asked for, and each case's view of them."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio

from chargeloop.ocppj import OcppVersion
from conformance.plugin import SuiteState, case_of, state_of
from conformance.station.actions import make_actions
from conformance.station.csms import TestCsms
from conformance.station.harness import CONNECT_LIMIT_S, Harness
from conformance.station.listener import listen_address, tls_setup
from conformance.station.simulated import SimulatedOptions, simulated_station
from conformance.sut import Sut
from conformance.verdicts import CaseFailed


@pytest.fixture(scope="session")
def suite(request: pytest.FixtureRequest) -> SuiteState:
    return state_of(request.config)


@pytest.fixture(scope="session")
def sut(harness: Harness) -> Sut:
    return harness.sut


@pytest.fixture(scope="session")
def strict(suite: SuiteState) -> bool:
    return suite.strict


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def harness(request: pytest.FixtureRequest, suite: SuiteState
                  ) -> AsyncIterator[Harness]:
    config = request.config
    simulated = bool(config.getoption("--simulated"))
    sut = suite.sut
    if simulated and sut.security_profile in (1, 2) and sut.stations[0].password is None:
        # the simulated station gets a password for Basic auth, as a vendor would configure
        first = replace(sut.stations[0], password=secrets.token_urlsafe(18)[:24])
        sut = replace(sut, stations=(first, *sut.stations[1:]))
    host, port = listen_address(suite.listen or "127.0.0.1:0")
    folder = suite.folder.path if suite.folder is not None else None
    with contextlib.ExitStack() as stack:
        tls = tls_setup(sut, folder, stack)
        csms = TestCsms(sut, suite.trace)
        await csms.start(host, port, tls.server_context)
        control_url = None
        if simulated:
            first = sut.stations[0]
            options = SimulatedOptions(
                url=csms.url, identity=first.id, version=sut.version, evses=first.evses,
                password=first.password, ca_file=str(tls.ca_file) if tls.ca_file else None,
                client_cert=str(tls.client_cert) if tls.client_cert else None,
                fixed_cable=sut.claims("fixed_cable"), **_configured_16(sut),
                **_configured_201(sut),
                faults=config.getoption("--simulated-faults"))
            workdir = Path(folder) if folder is not None else None
            control_url = await asyncio.to_thread(
                stack.enter_context, simulated_station(options, workdir))
            await _first_boot(csms)
        actions = make_actions(sut.actions, control_url)
        made = Harness(sut, csms, actions)
        try:
            yield made
        finally:
            await actions.close()
            await csms.close()


async def _first_boot(csms: TestCsms) -> None:
    """The simulated station connects and boots as soon as it starts. Let that happen before
    the first case: an answer that case sets for the station it rebuilds (a Pending boot,
    TC_002) must not go to this first one. If it does not come, the first case says so."""
    with contextlib.suppress(CaseFailed):
        await csms.new_connection(0, CONNECT_LIMIT_S, step="the simulated station connects")
        await csms.receive("BootNotification", step="its first BootNotification",
                           timeout_s=CONNECT_LIMIT_S)


def _configured_16(sut: Sut) -> dict[str, bool]:
    """A simulated 1.6 station built as the SUT file claims: without a local list, without
    reservations of the whole station, or ending its transactions only after the reboot that
    follows a power failure, where those features are not claimed (their cases' other side)."""
    if sut.version is not OcppVersion.V16:
        return {}
    return {"local_auth_list": sut.claims("local_auth_list"),
            "reserve_connector_zero": sut.claims("reservation_connector_zero"),
            "stop_before_power_loss": sut.claims("power_loss_stop_before_down")}


def _configured_201(sut: Sut) -> dict[str, bool]:
    """A simulated 2.0.1 station without reservations of an unspecified EVSE, without the
    SummaryInventory base report or without Reset of a single EVSE where those features are
    not claimed (TC_H_13, TC_B_15, TC_B_28, TC_B_29); with charging profiles in W only where
    single_charging_rate_unit is (TC_K_12, TC_K_42); without Smart Charging where its profile
    is not claimed (TC_K_38); refusing a second firmware update where it cannot cancel the
    first (TC_L_11); without log information where log_unavailable is claimed (TC_N_34);
    downloading firmware only once no transaction runs where
    firmware_download_during_transaction is not claimed (TC_L_12, L_13); installing it during a
    transaction where firmware_install_during_transaction is (TC_L_16); with
    AdditionalRootCertificateCheck where it is claimed (TC_M_09, M_30, M_31, B_47)."""
    if sut.version is not OcppVersion.V201:
        return {}
    return {"reserve_unspecified_evse": sut.claims("reservation_unspecified_evse"),
            "summary_inventory": sut.claims("summary_inventory"),
            "evse_reset": sut.claims("reset_evse"),
            "single_rate_unit": sut.claims("single_charging_rate_unit"),
            "smart_charging": "SC" in sut.profiles,
            "firmware_update_cancel": sut.claims("firmware_update_cancel"),
            "logs_available": not sut.claims("log_unavailable"),
            "firmware_download_during_transaction":
                sut.claims("firmware_download_during_transaction"),
            "firmware_install_during_transaction":
                sut.claims("firmware_install_during_transaction"),
            "cable_lock": sut.claims("cable_lock_before_authorization"),
            "master_pass_ui": sut.claims("master_pass_ui"),
            "additional_root_certificate_check":
                sut.claims("additional_root_certificate_check")}


@pytest_asyncio.fixture(loop_scope="session")
async def csms(request: pytest.FixtureRequest, harness: Harness) -> AsyncIterator[TestCsms]:
    """The CSMS of one case; at the end any frame of the station that broke the schemas or the
    framing rules fails the case."""
    row = case_of(request.node)
    harness.case_id = row.id if row else ""
    harness.csms.begin_case()
    yield harness.csms
    violations = harness.csms.violations
    if violations:
        first = violations[0]
        raise CaseFailed("every frame", "frames that follow the schemas and the OCPP-J rules",
                         f"{first.raw} [{first.outcome}]")


@pytest.fixture
def h(harness: Harness, csms: TestCsms) -> Harness:
    """The harness for one case (its ``csms`` fixture has begun the case)."""
    return harness
