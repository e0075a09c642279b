"""Faulty TLS configurations for the security-profile cases' negative controls.

A TLS fault happens before the suite's ``X-Conformance-Case`` header is seen, so it cannot be
picked per case as the proxy's other faults are: each broken run gets one faulty endpoint per
security profile (``FaultyCsms`` serving wss:// with the contexts below), whose faults break
the rules of every case that connects there, each case's own rule:

* profile 2, 2.0.1: a server certificate of the right CA that has expired (TC_A_04), on a
  server that agrees to TLS 1.0 and 1.1 (TC_A_06);
* profile 2, 1.6: a server certificate of a CA the station does not trust (TC_086);
* profile 3: a server that asks for no client certificate at all, so a station with an
  invalid one gets in (TC_A_08); TC_A_07 and TC_087 get a refused upgrade there instead
  (``Faults(refuse_connections=True)``, by case header: a CSMS that turns away a station whose
  certificate is valid).
"""

from __future__ import annotations

import ssl
import warnings
from pathlib import Path

import trustme

from chargeloop.ocppj.transport.tls import TestPki
from conformance.sut import TlsSettings


def station_material(pki: TestPki, station_id: str, folder: Path) -> TlsSettings:
    """The CA and the station certificate the broken run's SUT file names (the suite trusts
    ``pki``'s CA and presents its certificate for ``station_id``)."""
    files = pki.write(folder)
    client = folder / "station.pem"
    pki.client_cert(station_id).private_key_and_cert_chain_pem.write_to_path(str(client))
    return TlsSettings(ca=files["ca"], client_cert=client)


def _server(cert: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    return context


def expired_and_old_versions(pki: TestPki) -> ssl.SSLContext:
    """Profile 2 (2.0.1 run): an expired certificate, TLS 1.0 and 1.1 welcome."""
    context = _server(pki.expired_server_cert())
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():  # the very fault this endpoint stands for
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    return context


def foreign_certificate() -> ssl.SSLContext:
    """Profile 2 (1.6 run): a certificate for the right host from a CA nobody trusts."""
    return _server(TestPki().server_cert)


def no_client_certificate(pki: TestPki) -> ssl.SSLContext:
    """Profile 3: a valid server certificate, but client certificates are not asked for."""
    context = _server(pki.server_cert)
    context.verify_mode = ssl.CERT_NONE
    return context
