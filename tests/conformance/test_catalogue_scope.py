"""Which catalogue cases a run has in scope, and how the results list those OCA does not
certify (the catalogue's note "not in certification programme")."""

from __future__ import annotations

from chargeloop.ocppj import OcppVersion
from conformance.catalogue import case, catalogue, in_scope
from conformance.plugin import SuiteState, all_results
from conformance.sut import Sut
from conformance.verdicts import CaseResult, Verdict

V201 = OcppVersion.V201


def test_a_case_outside_the_programme_is_in_scope_through_its_block() -> None:
    publish, limit, display = case("TC_L_17_CSMS"), case("TC_K_48_CSMS"), case("TC_O_25_CSMS")
    assert not publish.in_programme and publish.profiles == ()
    assert in_scope(publish, ("Core",))  # block L is covered whatever the profiles
    assert limit.scope_profiles == ("SC",)
    assert not in_scope(limit, ("Core",)) and in_scope(limit, ("Core", "SC"))
    assert in_scope(display, ("UI",)) and not in_scope(display, ("Core",))
    assert in_scope(case("TC_B_08_CSMS"), ("Core",))
    # a case of the programme keeps its own profiles
    assert case("TC_K_01_CSMS").scope_profiles == case("TC_K_01_CSMS").profiles


def test_the_results_list_every_case_of_the_side_and_say_which_oca_does_not_certify() -> None:
    state = SuiteState(sut=Sut(version=V201), strict=False, folder=None, trace=None)
    state.results["TC_L_17_CSMS"] = CaseResult("TC_L_17_CSMS", Verdict.PASSED, "ran")
    state.deselected.add("TC_L_19_CSMS")
    results = {r.case_id: r for r in all_results(state)}
    rows = [row for row in catalogue(V201) if row.sut == "CSMS"]
    assert set(results) == {row.id for row in rows}
    assert results["TC_L_17_CSMS"].verdict is Verdict.PASSED
    assert results["TC_L_19_CSMS"].verdict is Verdict.NOT_RUN
    assert results["TC_L_19_CSMS"].title.endswith("[not in certification programme]")
    unlisted = results["TC_B_08_CSMS"]
    assert unlisted.verdict is Verdict.NOT_IMPLEMENTED and unlisted.profiles == ()
    assert unlisted.reason.endswith("(not in certification programme)")
    assert results["TC_B_06_CSMS"].title == case("TC_B_06_CSMS").title
