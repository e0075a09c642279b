"""Fixtures of the CSMS-under-test suite: the SUT, triggers, and the stations a case plays."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from conformance.csms.harness import StationPool
from conformance.plugin import SuiteState, case_of, state_of
from conformance.sut import Sut
from conformance.triggers import Triggers, make_triggers
from conformance.verdicts import CaseFailed


@pytest.fixture
def suite(request: pytest.FixtureRequest) -> SuiteState:
    return state_of(request.config)


@pytest.fixture
def sut(suite: SuiteState) -> Sut:
    return suite.sut


@pytest.fixture
def strict(suite: SuiteState) -> bool:
    """OCTT's stricter readings (``--strict-octt``)."""
    return suite.strict


@pytest.fixture
async def triggers(sut: Sut) -> AsyncIterator[Triggers]:
    made = make_triggers(sut.triggers, sut.action_timeout_s)
    yield made
    await made.close()


@pytest.fixture
async def stations(request: pytest.FixtureRequest, suite: SuiteState
                   ) -> AsyncIterator[StationPool]:
    """The stations of one case; at the end any frame of the CSMS that broke the schemas or the
    framing rules fails the case (the plugin attaches their frames to the Allure result)."""
    row = case_of(request.node)
    pool = StationPool(suite.sut, suite.trace, row.id if row else None)
    yield pool
    violations = await pool.close()
    if violations:
        first = violations[0]
        raise CaseFailed("every frame", "frames that follow the schemas and the OCPP-J rules",
                         f"{first.raw} [{first.outcome}]")
