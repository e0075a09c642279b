"""OCMF signing and verification: round trips, tampering, foreign keys, garbage, a real record."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.ocmf import OcmfCheck, OcmfSigner, check_ocmf, load_public_key, verify_ocmf

T0 = dt.datetime(2026, 1, 5, 8, 30, 0, 123_000, tzinfo=dt.UTC)

# The public KEBA KCP30 sample from the S.A.F.E. transparency software documentation (XML format):
# a record from a real meter, so our verifier is checked against something we did not sign.
KEBA_RECORD = (
    'OCMF|{"FV":"1.0","GI":"KEBA_KCP30","GS":"17619300","GV":"2.8.5","PG":"T32","IS":false,'
    '"IL":"NONE","IF":["RFID_NONE","OCPP_NONE","ISO15118_NONE","PLMN_NONE"],"IT":"NONE","ID":"",'
    '"RD":[{"TM":"2019-08-13T10:03:15,000+0000 I","TX":"B","EF":"","ST":"G","RV":0.2596,'
    '"RI":"1-b:1.8.0","RU":"kWh"},{"TM":"2019-08-13T10:03:36,000+0000 R","TX":"E","EF":"",'
    '"ST":"G","RV":0.2597,"RI":"1-b:1.8.0","RU":"kWh"}]}|{"SD":"304502200E2F107C987A300AC1695C'
    'A89EA149A8CDFA16188AF0A33EE64B67964AA943F9022100889A72B6D65364BEA8562E7F6A0253157ACFF84FE'
    '4929A93B5964D23C4265699"}'
)
KEBA_KEY = (
    "3059301306072A8648CE3D020106082A8648CE3D030107034200043AEEB45C392357820A58FDFB0857BD77ADA3"
    "1585C61C430531DFA53B440AFBFDD95AC887C658EA55260F808F55CA948DF235C2108A0D6DC7D4AB1A5E1A7955BE"
)


@pytest.fixture(scope="module")
def signer() -> OcmfSigner:
    return OcmfSigner(rng=np.random.default_rng(7))


@pytest.fixture(scope="module")
def other() -> OcmfSigner:
    return OcmfSigner(rng=np.random.default_rng(8))


def sections(text: str) -> tuple[dict, dict]:
    _, payload, signature = text.split("|")
    return json.loads(payload), json.loads(signature)


def test_sign_then_verify_with_every_key_form(signer: OcmfSigner) -> None:
    text = signer.sign(12_345.6, timestamp=T0, tx="B", id_tag="04A1B2C3D4E5F6")
    pem = signer.public_key.public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    for key in (signer.public_key, signer.public_key_der, signer.public_key_hex,
                signer.public_key_hex.lower(), signer.public_key_base64, pem, pem.decode()):
        assert verify_ocmf(text, key), key
    check = check_ocmf(text, signer.public_key_hex)
    assert check and check.valid and check.reason == "ok"


def test_payload_has_the_fields_real_meters_use(signer: OcmfSigner) -> None:
    text = signer.sign(12_345.6, timestamp=T0, tx="B", id_tag="04A1B2C3D4E5F6")
    assert text.startswith("OCMF|") and text.count("|") == 2
    payload, signature = sections(text)
    assert list(payload) == ["FV", "GI", "GS", "GV", "PG", "MV", "MM", "MS", "IS", "IT", "ID",
                             "RD"]
    assert payload["IS"] is True and payload["IT"] == "ISO14443"
    assert payload["ID"] == "04A1B2C3D4E5F6"
    assert re.fullmatch(r"T\d+", payload["PG"])
    (reading,) = payload["RD"]
    assert reading == {"TM": "2026-01-05T08:30:00,123+0000 S", "TX": "B", "RV": 12.3456,
                       "RI": "1-b:1.8.0", "RU": "kWh", "ST": "G"}
    assert '"RV":12.3456,' in text  # the decimals are kept in the text
    assert signature["SA"] == "ECDSA-secp256r1-SHA256"
    assert re.fullmatch(r"[0-9A-F]+", signature["SD"])


def test_fixed_decimals_survive_in_the_text() -> None:
    signer = OcmfSigner(rng=np.random.default_rng(1))
    assert '"RV":2.5000,' in signer.sign(2500.0, timestamp=T0)
    assert '"RV":0.0000,' in signer.sign(0, timestamp=T0)


def test_pagination_counts_up_and_no_user_means_none() -> None:
    signer = OcmfSigner(rng=np.random.default_rng(1), first_page=41)
    first, second = (sections(signer.sign(1.0, timestamp=T0))[0] for _ in range(2))
    assert (first["PG"], second["PG"]) == ("T41", "T42")
    assert first["IS"] is False and first["IT"] == "NONE" and "ID" not in first


def test_same_seed_same_key_and_same_strings() -> None:
    a = OcmfSigner(rng=np.random.default_rng(3))
    b = OcmfSigner(rng=np.random.default_rng(3))
    assert a.public_key_hex == b.public_key_hex
    assert a.sign(10.0, timestamp=T0) == b.sign(10.0, timestamp=T0)
    assert OcmfSigner(rng=np.random.default_rng(4)).public_key_hex != a.public_key_hex


def test_pipe_in_identification_is_escaped(signer: OcmfSigner) -> None:
    text = signer.sign(1.0, timestamp=T0, id_tag="A|B", id_type="CENTRAL")
    assert text.count("|") == 2
    check = check_ocmf(text, signer.public_key)
    assert check.valid and check.payload is not None and check.payload["ID"] == "A|B"


def test_given_private_key_and_os_random_key() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    signer = OcmfSigner(key)
    assert verify_ocmf(signer.sign(5.0, timestamp=T0), key.public_key())
    assert verify_ocmf(OcmfSigner().sign(5.0, timestamp=T0), OcmfSigner().public_key) is False
    with pytest.raises(ValueError, match="secp256r1"):
        OcmfSigner(ec.generate_private_key(ec.SECP384R1()))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"timestamp": T0.replace(tzinfo=None)}, "timezone-aware"),
    ({"timestamp": T0, "tx": "Q"}, "tx 'Q' is not valid; allowed: A, B, C"),
    ({"timestamp": T0, "meter_status": "?"}, "meter_status"),
    ({"timestamp": T0, "id_tag": "x", "id_type": "RFID"}, "id_type 'RFID'.*ISO14443"),
    ({"timestamp": T0, "current_type": "HVDC"}, "current_type"),
])
def test_bad_sign_arguments_are_named(signer: OcmfSigner, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        signer.sign(1.0, **kwargs)


def test_negative_energy_is_refused(signer: OcmfSigner) -> None:
    with pytest.raises(ValueError, match="energy_wh"):
        signer.sign(-1.0, timestamp=T0)


def test_tampered_payload_fails(signer: OcmfSigner) -> None:
    text = signer.sign(12_345.6, timestamp=T0)
    tampered = text.replace('"RV":12.3456', '"RV":12.3457')
    assert tampered != text
    check = check_ocmf(tampered, signer.public_key)
    assert not check.valid and "signature does not match" in check.reason
    # Whitespace counts too: the payload is verified as received, never re-serialised.
    assert not verify_ocmf(text.replace('"FV":', '"FV": '), signer.public_key)


def test_tampered_signature_fails(signer: OcmfSigner) -> None:
    text = signer.sign(100.0, timestamp=T0)
    head, sd = text.rsplit('"SD":"', 1)
    flipped = sd[:20] + ("0" if sd[20] != "0" else "1") + sd[21:]
    assert not verify_ocmf(f'{head}"SD":"{flipped}', signer.public_key)
    truncated = f'{head}"SD":"{sd[:10]}"}}'
    check = check_ocmf(truncated, signer.public_key)
    assert not check.valid and "signature" in check.reason


def test_other_key_fails(signer: OcmfSigner, other: OcmfSigner) -> None:
    text = signer.sign(100.0, timestamp=T0)
    assert not verify_ocmf(text, other.public_key_hex)


def test_base64_form_from_ocpp_201_verifies(signer: OcmfSigner) -> None:
    text = signer.sign(100.0, timestamp=T0)
    assert verify_ocmf(base64.b64encode(text.encode()).decode(), signer.public_key_base64)


def test_real_keba_record_verifies_and_tampering_is_caught() -> None:
    assert verify_ocmf(KEBA_RECORD, KEBA_KEY)
    raw_point = KEBA_KEY[len("3059301306072A8648CE3D020106082A8648CE3D03010703420004"):]
    assert verify_ocmf(KEBA_RECORD, raw_point)  # X||Y without the SPKI header
    assert not verify_ocmf(KEBA_RECORD.replace('"RV":0.2597', '"RV":0.2598'), KEBA_KEY)


GARBAGE = [
    "", "OCMF", "OCMF|", "OCMF||", "OCMF|{}|{}", "OCMF|[]|{}", "OCMF|{\"RD\":[]}|{}",
    'OCMF|{"RD":[{}]}|{"SD":"zz"}', 'OCMF|{"RD":[{}]}|{"SD":"3045"}',
    'OCMF|{"RD":[{}]}|{"SA":"ECDSA-secp384r1-SHA256","SD":"00"}',
    'OCMF|{"RD":[{}]}|{"SE":"base64","SD":"!!"}', 'OCMF|{"RD":[{}]}|[]', 'OCMF|{"RD":[1]}|{}',
    "OCMF|" + "[" * 100_000 + "|{}", "OCMF|{}|{}|{}", "not ocmf at all", "T0NNRg==",
    base64.b64encode(b"\xff\xfe garbage").decode(), "\x00\x01\x02", "OCMF|{\"RD\":[{}]}|{\"SD\":1}",
    None, 42, 3.5, ["OCMF"], {"OCMF": 1}, b"\xff\xfe", b"OCMF|{}|{}", "x" * 200_000,
]


@pytest.mark.parametrize("garbage", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_is_false_without_exceptions(signer: OcmfSigner, garbage: object) -> None:
    check = check_ocmf(garbage, signer.public_key)
    assert isinstance(check, OcmfCheck)
    assert check.valid is False and check.reason
    assert verify_ocmf(garbage, signer.public_key) is False


@pytest.mark.parametrize("key", [None, 1, "", "zz", "00", b"", b"\x04" + b"\x00" * 64,
                                 "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----",
                                 KEBA_KEY[:-2], object()])
def test_garbage_keys_are_false_without_exceptions(signer: OcmfSigner, key: object) -> None:
    check = check_ocmf(signer.sign(1.0, timestamp=T0), key)
    assert not check.valid and "public key" in check.reason
    with pytest.raises(ValueError):
        load_public_key(key)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300),
                 st.text(max_size=300).map(lambda s: "OCMF|" + s),
                 st.text(max_size=300).map(lambda s: 'OCMF|{"RD":[{}]}|' + s)))
def test_fuzzed_input_never_raises(text: object) -> None:
    assert check_ocmf(text, KEBA_KEY).valid is False


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len(KEBA_RECORD) - 1), junk=st.text(max_size=20))
def test_mangled_real_record_never_raises_nor_verifies(cut: int, junk: str) -> None:
    mangled = KEBA_RECORD[:cut] + junk
    if mangled.strip() != KEBA_RECORD:  # surrounding whitespace is no part of the record
        assert verify_ocmf(mangled, KEBA_KEY) is False
