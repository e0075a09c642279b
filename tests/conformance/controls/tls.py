"""Negative controls of the TLS cases (security profiles 2 and 3).

Their faults are mostly in the broken run's TLS endpoints (``tests/conformance/faulty_tls.py``),
so the entries here are empty ``Faults()`` for those cases (nothing more to break once they
reach the WebSocket): a case listed with ``Faults()`` fails only if that endpoint's TLS fault
is its rule's. TC_A_07 and TC_087 meet a CSMS that refuses a station with a valid client
certificate; TC_A_19 a CSMS whose upgrade is none.
"""

from __future__ import annotations

from tests.conformance.faulty_csms import Faults

CONTROLS_16: dict[str, Faults] = {
    "TC_086_CSMS": Faults(),  # the server certificate is from a CA the station does not trust
    "TC_087_CSMS": Faults(refuse_connections=True),
}

CONTROLS_201: dict[str, Faults] = {
    "TC_A_04_CSMS": Faults(),  # the server certificate has expired
    "TC_A_06_CSMS": Faults(),  # the server agrees to TLS 1.1
    "TC_A_07_CSMS": Faults(refuse_connections=True),
    "TC_A_08_CSMS": Faults(),  # the server asks for no client certificate
    # the "upgrade" stays at profile 1 (credentials: the broken run's password cases may
    # have left the CSMS with another password; the proxy signs in with the one it holds)
    "TC_A_19_CSMS": Faults(accept_any_credentials=True, calls={"SetNetworkProfile": lambda p: {
        **p, "connectionData": {**p["connectionData"], "securityProfile": 1}}}),
}
