"""2.0.1 network connection profiles (use cases B09 and B10): the slots SetNetworkProfile
fills, the order NetworkConfigurationPriority gives them, and which slot the station tries next.

Slot 0 is the station's factory profile (the URL and TLS setup it was built with); the others
hold what the CSMS sent. The station tries the slots in priority order, each for
NetworkProfileConnectionAttempts failed attempts, then the next (B10.FR.03 / FR.04: a new
profile that does not work falls back to the previous one). Once every slot of the list failed
since the last connection, the station falls back to the profile it last connected with and
keeps reconnecting to it (B10.FR.07, errata 2025-09; with ``fallback_to_last`` off it starts
the list again, B10.FR.08).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

FACTORY_SLOT = 0
SLOTS = ("0", "1", "2")  # NetworkConfigurationPriority's valuesList
SCHEMES = {0: "ws", 1: "ws", 2: "wss", 3: "wss"}  # security profile -> URL scheme


@dataclass(frozen=True)
class NetworkProfile:
    """One connection profile a SetNetworkProfile stored."""

    url: str
    security_profile: int


@dataclass
class NetworkProfiles:
    profiles: dict[int, NetworkProfile] = field(default_factory=dict)
    failures: int = 0  # failed attempts on the slot tried now
    position: int = 0  # index in the priority list of the slot tried now
    fallback_to_last: bool = True  # B10.FR.07 (C-47); False: B10.FR.08, the list again
    last_connected: int = FACTORY_SLOT  # the slot of the last successful connection
    exhausted: int = 0  # slots whose attempts all failed since the last connection
    pinned: bool = False  # reconnecting to ``last_connected`` (B10.FR.07)

    def set_profile(self, request: dict[str, Any], current_profile: int,
                    has_client_certificate: bool) -> dict[str, Any]:
        """SetNetworkProfile: Accepted and stored, or Rejected with the reason (B09.FR.01 /
        FR.02: invalid content; a lower security profile than the current one; slot 0 is
        the factory profile and not overwritten)."""
        slot = int(request["configurationSlot"])
        data = request["connectionData"]
        wanted = int(data["securityProfile"])
        url = str(data["ocppCsmsUrl"])
        problem = None
        if str(slot) not in SLOTS or slot == FACTORY_SLOT:
            problem = ("InvalidConfSlot", f"slots {', '.join(SLOTS[1:])} take a new profile")
        elif wanted < current_profile:
            problem = ("NoSecurityDowngrade", f"security profile {wanted} is below the "
                                              f"current {current_profile}")
        elif wanted == 3 and not has_client_certificate:
            problem = ("NoClientCertificate", "profile 3 needs a client certificate")
        elif data.get("ocppTransport") != "JSON" or data.get("ocppVersion") != "OCPP20":
            problem = ("UnsupportedParam", "only OCPP 2.0 over JSON")
        elif urlsplit(url).scheme.lower() != SCHEMES.get(wanted) or not urlsplit(url).hostname:
            problem = ("InvalidURL", f"security profile {wanted} needs a "
                                     f"{SCHEMES.get(wanted)}:// URL")
        if problem is not None:
            return {"status": "Rejected",
                    "statusInfo": {"reasonCode": problem[0], "additionalInfo": problem[1]}}
        self.profiles[slot] = NetworkProfile(url, wanted)
        return {"status": "Accepted"}

    def order(self, priority: str) -> list[int]:
        """The slots to try, in NetworkConfigurationPriority's order, those without a profile
        left out (the factory slot always has one)."""
        slots = [int(s) for s in priority.split(",") if s.strip().isdigit()]
        usable = [s for s in slots if s == FACTORY_SLOT or s in self.profiles]
        return usable or [FACTORY_SLOT]

    def current(self, priority: str) -> int:
        if self.pinned:
            return self.last_connected
        order = self.order(priority)
        return order[self.position % len(order)]

    def failed(self, priority: str, attempts: int) -> None:
        """A connection attempt on the current slot failed: after ``attempts`` of them, the
        next slot in priority order; after every slot of it, the slot of the last successful
        connection for good (B10.FR.07), or the list again (B10.FR.08)."""
        if self.pinned:
            return
        self.failures += 1
        if self.failures >= max(1, attempts):
            self.failures = 0
            order = self.order(priority)
            self.position = (self.position + 1) % len(order)
            self.exhausted += 1
            if self.fallback_to_last and self.exhausted >= len(order):
                self.pinned = True

    def connected(self, slot: int, priority: str | None = None) -> None:
        """Connected with ``slot``: after a connection loss the station tries it first."""
        self.failures = 0
        self.exhausted = 0
        self.pinned = False
        self.last_connected = slot
        order = self.order(priority) if priority is not None else []
        if slot in order:
            self.position = order.index(slot)

    def rebooted(self) -> None:
        """After a reboot the station starts again at the first slot of the priority list
        (the slot it last connected with it keeps)."""
        self.failures = 0
        self.position = 0
        self.exhausted = 0
        self.pinned = False

    def priority_problem(self, priority: str, has_csms_root: bool,
                         has_client_certificate: bool) -> tuple[str, str] | None:
        """Why NetworkConfigurationPriority ``priority`` is refused, if it is: a slot whose
        profile needs TLS while no valid CSMSRootCertificate is installed (A05.FR.02), or
        security profile 3 without a client certificate (A05.FR.03)."""
        for slot in self.order(priority):
            profile = self.profiles.get(slot)
            if profile is None:
                continue
            if profile.security_profile >= 2 and not has_csms_root:
                return ("NoRootCertificate", f"slot {slot}: security profile "
                        f"{profile.security_profile} needs a valid CSMSRootCertificate")
            if profile.security_profile == 3 and not has_client_certificate:
                return ("NoClientCertificate", f"slot {slot}: security profile 3 needs "
                        "a client certificate")
        return None


__all__ = ["FACTORY_SLOT", "SLOTS", "NetworkProfile", "NetworkProfiles"]
