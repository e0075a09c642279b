"""OCPP 2.0.1 block L (Core, conditional), charging station under test: a firmware update
that meets another one — a second UpdateFirmware cancels the first, or is refused by a
station that cannot cancel it — or a transaction: a station that downloads during a
transaction but installs only once it has ended, with and without new sessions meanwhile
(AllowNewSessionsPendingFirmwareUpdate) (L01)
(Part 6 Edition 3, errata 2025-09). Images and their signatures as in test_v201_firmware."""

from __future__ import annotations

import pytest

from conformance.station.csms import Received
from conformance.station.firmware201 import (
    firmware_sequence,
    firmware_status,
    installed_after_reboot,
    publish_firmware,
    update_firmware,
    utc_in,
)
from conformance.station.harness import Harness, check
from conformance.station.listener import file_server
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

LATER_S = 3600  # TC_L_10: the first update downloads this far ahead (it is still pending)


@pytest.mark.case("TC_L_10_CS")
async def test_TC_L_10_CS(h: Harness) -> None:
    """Secure firmware update, AcceptedCanceled (conditional on the station cancelling an
    ongoing update): UpdateFirmwareRequest #1 with retrieveDateTime an hour ahead: Accepted,
    FirmwareStatusNotification DownloadScheduled #1; UpdateFirmwareRequest #2 (retrieve two
    hours ago): AcceptedCanceled; Downloading, Downloaded, SignatureVerified, Installing #2;
    the reboot (reason FirmwareUpdate) and Installed #2; update #1 never downloads."""
    if not h.sut.claims("firmware_update_cancel"):
        not_applicable("feature firmware_update_cancel (a new UpdateFirmware cancels an "
                       "ongoing update)")
    await h.booted()
    async with file_server(h.csms.url) as files:
        location, image = publish_firmware(h, files, "firmware-10a.bin")
        first = await update_firmware(h, location, image, retrieve=utc_in(LATER_S))
        await firmware_status(h, first, ("DownloadScheduled",), step="DownloadScheduled #1")
        location, image = publish_firmware(h, files, "firmware-10b.bin")
        second = await update_firmware(h, location, image, retrieve=utc_in(-7200),
                                       expected="AcceptedCanceled")
        records = await firmware_sequence(h, second, ("Downloading", "Downloaded",
                                                      "SignatureVerified", "Installing"))
    await installed_after_reboot(h, second, records[-1])
    await h.csms.nothing("FirmwareStatusNotification", step="update #1 canceled", within_s=0.0,
                         where=lambda p: p.get("requestId") == first and
                         p.get("status") == "Downloading",
                         expected="no download for the canceled update #1")


@pytest.mark.case("TC_L_11_CS")
async def test_TC_L_11_CS(h: Harness) -> None:
    """Secure firmware update, unable to cancel (conditional: a station that cannot cancel an
    ongoing update): UpdateFirmwareRequest #1 with retrieveDateTime an hour ahead: Accepted,
    FirmwareStatusNotification DownloadScheduled #1; UpdateFirmwareRequest #2: Rejected; no
    status for update #2."""
    if h.sut.claims("firmware_update_cancel"):
        not_applicable("a station without feature firmware_update_cancel (this one cancels "
                       "an ongoing update: TC_L_10)")
    await h.booted()
    async with file_server(h.csms.url) as files:
        location, image = publish_firmware(h, files, "firmware-11a.bin")
        first = await update_firmware(h, location, image, retrieve=utc_in(LATER_S))
        await firmware_status(h, first, ("DownloadScheduled",), step="DownloadScheduled #1")
        location, image = publish_firmware(h, files, "firmware-11b.bin")
        second = await update_firmware(h, location, image, retrieve=utc_in(-7200),
                                       expected="Rejected")
        await h.csms.nothing("FirmwareStatusNotification", step="update #2 refused",
                             within_s=1.0, where=lambda p: p.get("requestId") == second,
                             expected="no status for the refused update #2")


WAIT_S = 1.0  # TC_L_12..L_15: nothing of the update for this long while the transaction runs


def _waits_for_transactions(h: Harness, *, downloads: bool) -> None:
    """TC_L_12..L_15: a station that does not install during a transaction (NOT C-43) and
    downloads during one (AQ-7: TC_L_14, L_15) or not (TC_L_12, L_13)."""
    if h.sut.claims("firmware_install_during_transaction"):
        not_applicable("a station without feature firmware_install_during_transaction "
                       "(this one installs during a transaction: TC_L_16)")
    if h.sut.claims("firmware_download_during_transaction") != downloads:
        not_applicable(("feature" if downloads else "a station without feature") +
                       " firmware_download_during_transaction (else TC_L_" +
                       ("12, L_13)" if downloads else "14, L_15)"))


async def _stopped(h: Harness, token: str, evse: int) -> Received:
    """The driver stops the transaction on ``evse`` (StopAuthorized) and unplugs: its
    TransactionEvent Ended."""
    await h.act("present_token", step=f"StopAuthorized at EVSE {evse}", evse=evse,
                token=token)
    await h.act("unplug", step=f"EV unplugged at EVSE {evse}", evse=evse)
    return await h.csms.receive(
        "TransactionEvent", step=f"TransactionEvent Ended at EVSE {evse}",
        where=lambda p: p.get("eventType") == "Ended" and
        p.get("evse", {}).get("id", evse) == evse,
        expected=f"TransactionEvent Ended for EVSE {evse}")


def _unavailable(h: Harness, evse: int, after: Received) -> list[Received]:
    """StatusNotification Unavailable for ``evse`` after ``after``."""
    return [r for r in h.csms.received("StatusNotification",
                                       lambda p: p.get("evseId") == evse and
                                       p.get("connectorStatus") == "Unavailable")
            if r.index > after.index]


async def _update_after_transaction(h: Harness, *, allow_new_sessions: bool,
                                    downloads: bool) -> None:
    """(AllowNewSessionsPendingFirmwareUpdate set, EnergyTransferStarted on EVSE 1)
    UpdateFirmware: Accepted; ``downloads``: Downloading, Downloaded, SignatureVerified while
    the transaction runs and no Installing; else no Downloading while it runs. With a
    second EVSE: new sessions allowed, one starts there while the update waits, and the
    update goes on waiting for it; not allowed, that free EVSE is made Unavailable
    (L01.FR.07). The driver stops each transaction (StopAuthorized) and unplugs; after the
    last one ended (the download and) Installing, the reboot and Installed. Not allowed,
    EVSE 1 is made Unavailable once free, before the reboot."""
    tokens = h.sut.tokens
    await h.booted()
    await h.set_variable201("ChargingStation", "AllowNewSessionsPendingFirmwareUpdate",
                            str(allow_new_sessions).lower(),
                            step="set-up: AllowNewSessionsPendingFirmwareUpdate")
    await h.charging201(tokens.valid)
    waiting = ("Downloading", "Downloaded", "SignatureVerified")
    held = "Installing" if downloads else "Downloading"

    async def still_waiting(step: str) -> None:
        await h.csms.nothing("FirmwareStatusNotification", step=step, within_s=WAIT_S,
                             where=lambda p: p.get("requestId") == request_id and
                             p.get("status") == held,
                             expected=f"no {held} while a transaction runs (L01.FR.06)")

    async with file_server(h.csms.url) as files:
        location, image = publish_firmware(h, files, "firmware-tx.bin")
        past = utc_in(-7200)
        request_id = await update_firmware(h, location, image, retrieve=past, install=past)
        if downloads:
            await firmware_sequence(h, request_id, waiting)
        await still_waiting(f"no {held} yet")
        second = h.evses >= 2
        if second and allow_new_sessions:
            await h.charging201(tokens.valid_2, step="a new session at EVSE 2", evse=2)
        elif second:
            await h.status(2, "Unavailable", step="EVSE 2 Unavailable while the update waits")
        ended = await _stopped(h, tokens.valid, 1)
        if second and allow_new_sessions:
            await still_waiting(f"no {held} while the session at EVSE 2 runs")
            ended = await _stopped(h, tokens.valid_2, 2)
        records = await firmware_sequence(h, request_id, ("Installing",) if downloads
                                          else (*waiting, "Installing"))
    check(records[0].index > ended.index, held, "after the last transaction ended",
          [ended.payload, records[0].payload])
    boot = await h.csms.receive("BootNotification", step="BootNotification after the update",
                                where=lambda p: p.get("reason") == "FirmwareUpdate",
                                timeout_s=h.connect_s,
                                expected="BootNotification with reason FirmwareUpdate")
    await firmware_status(h, request_id, ("Installed",), step="Installed", timeout_s=h.connect_s)
    if not allow_new_sessions:
        check(any(r.index < boot.index for r in _unavailable(h, 1, ended)),
              "StatusNotification", "Unavailable for EVSE 1 once its transaction ended (no "
              "new session while the update waits)",
              [r.payload for r in h.csms.received("StatusNotification")
               if r.index > ended.index])


@pytest.mark.case("TC_L_12_CS")
async def test_TC_L_12_CS(h: Harness) -> None:
    """Secure firmware update, unable to download/install with an ongoing transaction,
    AllowNewSessionsPendingFirmwareUpdate true (conditional: neither downloads nor installs
    during a transaction): (the variable true, EnergyTransferStarted) UpdateFirmwareRequest
    Accepted; no Downloading while a transaction runs (with a second EVSE a new session
    starts there meanwhile); after the last one ended Downloading, Downloaded,
    SignatureVerified, Installing, the reboot and Installed."""
    _waits_for_transactions(h, downloads=False)
    await _update_after_transaction(h, allow_new_sessions=True, downloads=False)


@pytest.mark.case("TC_L_13_CS")
async def test_TC_L_13_CS(h: Harness) -> None:
    """Secure firmware update, unable to download/install with an ongoing transaction,
    AllowNewSessionsPendingFirmwareUpdate false (conditional as TC_L_12): as TC_L_12 without
    the new session: a free EVSE is made Unavailable while the update waits, EVSE 1 too once
    its transaction ended (StatusNotification Unavailable, L01.FR.07), before the reboot."""
    _waits_for_transactions(h, downloads=False)
    await _update_after_transaction(h, allow_new_sessions=False, downloads=False)


@pytest.mark.case("TC_L_14_CS")
async def test_TC_L_14_CS(h: Harness) -> None:
    """Secure firmware update, unable to install with an ongoing transaction,
    AllowNewSessionsPendingFirmwareUpdate true (conditional: downloads during a transaction,
    installs after it): (the variable true, EnergyTransferStarted) UpdateFirmwareRequest
    Accepted; Downloading, Downloaded, SignatureVerified; no Installing while a transaction
    runs (with a second EVSE a new session starts there meanwhile); after the last one ended
    Installing, the reboot and Installed."""
    _waits_for_transactions(h, downloads=True)
    await _update_after_transaction(h, allow_new_sessions=True, downloads=True)


@pytest.mark.case("TC_L_15_CS")
async def test_TC_L_15_CS(h: Harness) -> None:
    """Secure firmware update, unable to install with an ongoing transaction,
    AllowNewSessionsPendingFirmwareUpdate false (conditional as TC_L_14): as TC_L_14 without
    the new session: a free EVSE is made Unavailable while the update waits, EVSE 1 too once
    its transaction ended (StatusNotification Unavailable, L01.FR.07), before the reboot."""
    _waits_for_transactions(h, downloads=True)
    await _update_after_transaction(h, allow_new_sessions=False, downloads=True)


@pytest.mark.case("TC_L_16_CS")
async def test_TC_L_16_CS(h: Harness) -> None:
    """Secure firmware update, able to update with an ongoing transaction (conditional: a
    station that installs firmware during a transaction, C-43): (EnergyTransferStarted)
    UpdateFirmwareRequest (retrieve and install two hours ago): Accepted; Downloading,
    Downloaded, SignatureVerified, Installing while the transaction runs (no TransactionEvent
    Ended before Installing); the reboot (reason FirmwareUpdate) and Installed. The driver
    then ends the transaction."""
    if not h.sut.claims("firmware_install_during_transaction"):
        not_applicable("feature firmware_install_during_transaction (installs firmware while "
                       "a transaction runs)")
    tokens = h.sut.tokens
    await h.booted()
    started = await h.charging201(tokens.valid)
    async with file_server(h.csms.url) as files:
        location, image = publish_firmware(h, files, "firmware-16.bin")
        past = utc_in(-7200)
        request_id = await update_firmware(h, location, image, retrieve=past, install=past)
        records = await firmware_sequence(h, request_id, ("Downloading", "Downloaded",
                                                          "SignatureVerified", "Installing"))
    installing = records[-1]
    ended = [r for r in h.csms.received("TransactionEvent",
                                        lambda p: p.get("eventType") == "Ended")
             if r.index > started.index and r.index < installing.index]
    check(not ended, "Installing", "while the transaction runs (no TransactionEvent Ended "
          "before it)", [r.payload for r in ended])
    await installed_after_reboot(h, request_id, installing)
    await _stopped(h, tokens.valid, 1)
