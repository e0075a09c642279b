"""Where and how the harness listens: the address, and TLS for security profiles 2 and 3.

Without a certificate in the SUT file, the harness makes a test CA (``trustme``, via
``chargeloop.ocppj.transport.tls.TestPki``) and writes ``ca.pem`` into the run folder: the
station under test must trust it (for the simulated station the suite passes it on). Profile 3
also needs the station's client certificate: from the SUT file's CA (``tls.ca``), or issued by
the test CA (``client.pem`` in the run folder) for the simulated station.
"""

from __future__ import annotations

import contextlib
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from chargeloop.ocppj.transport.tls import TestPki
from conformance.sut import Sut


@dataclass
class TlsSetup:
    server_context: ssl.SSLContext | None = None
    ca_file: Path | None = None  # what the station must trust
    client_cert: Path | None = None  # profile 3: the simulated station's certificate


def listen_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` -> (host, port); ValueError saying what is valid."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"listen address {text!r}: use HOST:PORT, e.g. 127.0.0.1:9000")
    return host.strip("[]"), int(port)


def tls_setup(sut: Sut, folder: Path | None, stack: contextlib.ExitStack) -> TlsSetup:
    profile = sut.security_profile
    if profile < 2:
        return TlsSetup()
    out = folder or Path(stack.enter_context(tempfile.TemporaryDirectory(
        prefix="chargeloop-tls-")))
    tls = sut.tls
    if tls.server_cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(tls.server_cert),
                                str(tls.server_key) if tls.server_key else None)
        if profile == 3:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cafile=str(tls.ca) if tls.ca else None)
        return TlsSetup(context, tls.ca)
    pki = TestPki()
    paths = pki.write(out)
    client = None
    if profile == 3:
        client = out / "client.pem"
        pki.client_cert(sut.stations[0].id).private_key_and_cert_chain_pem.write_to_path(
            str(client))
    return TlsSetup(pki.server_context(require_client_cert=profile == 3), paths["ca"], client)
