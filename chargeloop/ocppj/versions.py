"""OCPP versions as the WebSocket subprotocols that name them."""

from __future__ import annotations

from enum import StrEnum


class OcppVersion(StrEnum):
    """An OCPP-J version; the value is its WebSocket subprotocol name."""

    V16 = "ocpp1.6"
    V201 = "ocpp2.0.1"
    V21 = "ocpp2.1"

    @property
    def is_2x(self) -> bool:
        return self is not OcppVersion.V16

    @property
    def has_send(self) -> bool:
        """2.1 adds SEND (6) and CALLRESULTERROR (5)."""
        return self is OcppVersion.V21

    @property
    def package_dir(self) -> str:
        """The folder of the ``ocpp`` package that holds this version's schemas and dataclasses."""
        return {"ocpp1.6": "v16", "ocpp2.0.1": "v201", "ocpp2.1": "v21"}[self.value]

    @classmethod
    def parse(cls, text: str) -> OcppVersion:
        """Accept ``1.6``, ``ocpp1.6``, ``2.0.1``, ``ocpp2.0.1``, ``2.1`` or ``ocpp2.1``."""
        wanted = text.strip().lower()
        if not wanted.startswith("ocpp"):
            wanted = "ocpp" + wanted
        for version in cls:
            if version.value == wanted:
                return version
        valid = ", ".join(v.value.removeprefix("ocpp") for v in cls)
        raise ValueError(f"unknown OCPP version {text!r}; valid: {valid}")

    @property
    def short(self) -> str:
        return self.value.removeprefix("ocpp")

    def __str__(self) -> str:
        return self.value


# Newest first: a server that supports several picks the newest one both sides speak.
ALL_VERSIONS: tuple[OcppVersion, ...] = (OcppVersion.V21, OcppVersion.V201, OcppVersion.V16)
