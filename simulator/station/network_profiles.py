"""2.0.1 network connection profiles (use cases B09 and B10): the slots SetNetworkProfile
fills, the order NetworkConfigurationPriority gives them, and which slot the station tries next.

Slot 0 is the station's factory profile (the URL and TLS setup it was built with); the others
hold what the CSMS sent. The station tries the slots in priority order, each for
NetworkProfileConnectionAttempts failed attempts, then the next (B10.FR.03 / FR.04: a new
profile that does not work falls back to the previous one).
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
            problem = ("NoCertificateAvailable", "profile 3 needs a client certificate")
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
        order = self.order(priority)
        return order[self.position % len(order)]

    def failed(self, priority: str, attempts: int) -> None:
        """A connection attempt on the current slot failed: after ``attempts`` of them, the
        next slot in priority order."""
        self.failures += 1
        if self.failures >= max(1, attempts):
            self.failures = 0
            self.position = (self.position + 1) % len(self.order(priority))

    def connected(self) -> None:
        self.failures = 0

    def rebooted(self) -> None:
        """After a reboot the station starts again at the first slot of the priority list."""
        self.failures = 0
        self.position = 0


__all__ = ["FACTORY_SLOT", "SLOTS", "NetworkProfile", "NetworkProfiles"]
