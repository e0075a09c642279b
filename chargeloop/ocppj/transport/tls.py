"""A throwaway PKI for TLS security profiles 2 and 3: a test CA, a server certificate for the
loopback host names, and client certificates whose CN is the station identity.

Built on ``trustme``. ``write()`` puts the PEM files in a folder, for CLI runs and for stations
outside this process.
"""

from __future__ import annotations

import datetime as dt
import ssl
from dataclasses import dataclass, field
from pathlib import Path

import trustme

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass
class TestPki:
    """A CA with a server certificate; client certificates are issued on demand."""

    __test__ = False  # not a pytest test class, despite the name

    server_names: tuple[str, ...] = LOOPBACK_NAMES
    ca: trustme.CA = field(default_factory=trustme.CA)

    def __post_init__(self) -> None:
        self.server_cert = self.ca.issue_cert(*self.server_names)
        self._clients: dict[str, trustme.LeafCert] = {}

    def client_cert(self, identity: str) -> trustme.LeafCert:
        if identity not in self._clients:
            # trustme wants a DNS-like identity for the SAN; the CN carries the station id.
            self._clients[identity] = self.ca.issue_cert(
                "station.invalid", common_name=identity, organization_name="chargeloop test")
        return self._clients[identity]

    def expired_server_cert(self) -> trustme.LeafCert:
        now = dt.datetime.now(dt.UTC)
        return self.ca.issue_cert(*self.server_names, not_before=now - dt.timedelta(days=30),
                                  not_after=now - dt.timedelta(days=1))

    def server_context(self, *, require_client_cert: bool = False,
                       cert: trustme.LeafCert | None = None) -> ssl.SSLContext:
        """TLS 1.2 or later, as OCPP security profiles 2 and 3 require."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        (cert or self.server_cert).configure_cert(context)
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            self.ca.configure_trust(context)
        return context

    def client_context(self, identity: str | None = None) -> ssl.SSLContext:
        """Trusts the test CA; presents a client certificate for ``identity`` when given."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.ca.configure_trust(context)
        if identity is not None:
            self.client_cert(identity).configure_cert(context)
        return context

    def write(self, folder: str | Path) -> dict[str, Path]:
        """Write ca.pem, server.pem (key and chain) and return their paths."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = {"ca": folder / "ca.pem", "server": folder / "server.pem"}
        self.ca.cert_pem.write_to_path(str(paths["ca"]))
        self.server_cert.private_key_and_cert_chain_pem.write_to_path(str(paths["server"]))
        return paths
