"""Strict mode is stricter: what the lenient reading tolerates from a CSMS (a silent drop of an
unreadable frame, ProtocolError for a missing field, NotImplemented for another version's
action), ``--strict-octt`` fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.sut import Sut
from tests.conformance.conftest import run_suite, sut_yaml
from tests.conformance.faulty_csms import Faults, FaultyCsms

pytestmark = pytest.mark.slow

TOLERATED = {"OccurrenceConstraintViolation": "ProtocolError", "NotSupported": "NotImplemented"}
CASES = ("ROB_01_CSMS", "ROB_09_CSMS", "ROB_10_CSMS")


def test_strict_mode_fails_what_the_lenient_reading_tolerates(reference: Sut, tmp_path: Path
                                                              ) -> None:
    # a CSMS that drops frames it cannot read and answers with the codes seen in the field
    tolerant = Faults(error_code=lambda code: TOLERATED.get(code, code),
                      drop_unreadable=True)
    passwords = {s.id: s.password for s in reference.stations if s.password}
    with FaultyCsms(reference.url or "", dict.fromkeys(CASES, tolerant),
                    passwords).running() as proxy:
        sut = sut_yaml(reference, proxy.url, "2.0.1")
        selection = ["-k", " or ".join(CASES)]
        (tmp_path / "lenient").mkdir()
        (tmp_path / "strict").mkdir()
        lenient = run_suite(tmp_path / "lenient", sut, *selection)
        strict = run_suite(tmp_path / "strict", sut, *selection, "--strict-octt")
    assert [lenient.verdict(c) for c in CASES] == ["passed"] * 3, lenient.output
    assert [strict.verdict(c) for c in CASES] == ["failed"] * 3, strict.output
    assert strict.summary["strict"] is True and lenient.summary["strict"] is False
