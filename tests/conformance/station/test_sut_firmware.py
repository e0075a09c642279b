"""The SUT file's ``firmware`` section (station under test): files relative to the SUT file,
a signed image only with its signing certificate and signature, and what the cases serve."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.station.listener import HARNESS_IMAGE, firmware_image, signed_firmware
from conformance.sut import SutError, load_sut


def test_firmware_files_are_read_relative_to_the_sut_file(tmp_path: Path) -> None:
    (tmp_path / "fw.bin").write_bytes(b"vendor image")
    (tmp_path / "signing.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    sut_file = tmp_path / "sut.yaml"
    sut_file.write_text('ocpp_version: "2.0.1"\nfirmware:\n  image: fw.bin\n'
                        "  signed_image: fw.bin\n  signing_certificate: signing.pem\n"
                        "  signature: c2lnbmF0dXJl\n")
    firmware = load_sut(sut_file).firmware
    assert firmware.image == tmp_path / "fw.bin"
    assert firmware_image(firmware) == b"vendor image"
    signed = signed_firmware(firmware, tampered=True)
    assert signed.image == b"vendor imagetampered" and signed.signature == "c2lnbmF0dXJl"
    own = signed_firmware(firmware, expired_certificate=True)
    assert own.image == HARNESS_IMAGE and "BEGIN CERTIFICATE" in own.signing_certificate


def test_a_signed_image_needs_its_certificate_and_signature(tmp_path: Path) -> None:
    (tmp_path / "fw.bin").write_bytes(b"x")
    sut_file = tmp_path / "sut.yaml"
    sut_file.write_text('ocpp_version: "1.6"\nfirmware:\n  signed_image: fw.bin\n'
                        "  image: missing.bin\n")
    with pytest.raises(SutError) as raised:
        load_sut(sut_file)
    text = str(raised.value)
    assert "signing_certificate, signature" in text and "missing.bin" in text
