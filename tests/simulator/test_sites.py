"""Site power limit and load balancing: the limit always holds, equal is fair, changed fires."""

from __future__ import annotations

import math
from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.sites import BALANCING_MODES, Site


def site(limit: float | None, balancing: str = "equal") -> Site:
    return Site(simpy.Environment(), "site-1", limit, balancing)  # type: ignore[arg-type]


def test_unlimited_site_grants_every_demand() -> None:
    for mode in BALANCING_MODES:
        s = site(None, mode)
        assert s.request("a", 22_000) == 22_000
        assert s.request("b", 350_000) == 350_000
        assert dict(s.grants) == {"a": 22_000, "b": 350_000}


def test_equal_split() -> None:
    s = site(22_000)
    s.request("a", 11_000)
    s.request("b", 11_000)
    assert dict(s.grants) == {"a": 11_000, "b": 11_000}
    assert s.request("c", 11_000) == pytest.approx(22_000 / 3)
    assert all(g == pytest.approx(22_000 / 3) for g in s.grants.values())
    s.release("b")
    assert dict(s.grants) == {"a": 11_000, "c": 11_000}


def test_equal_redistributes_what_small_demands_leave() -> None:
    s = site(20_000)
    s.request("small", 3_000)
    s.request("big1", 11_000)
    s.request("big2", 22_000)
    assert s.grants["small"] == 3_000
    assert s.grants["big1"] == pytest.approx(8_500)
    assert s.grants["big2"] == pytest.approx(8_500)


def test_first_come_keeps_earlier_grants() -> None:
    s = site(16_000, "first_come")
    assert s.request("a", 11_000) == 11_000
    assert s.request("b", 11_000) == 5_000
    assert s.request("c", 11_000) == 0
    assert s.request("a", 16_000) == 16_000  # the earliest may grow, at the others' cost
    assert dict(s.grants) == {"a": 16_000, "b": 0, "c": 0}
    s.release("a")
    assert dict(s.grants) == {"b": 11_000, "c": 5_000}


CONTROLLED = [m for m in BALANCING_MODES if m != "none"]


def test_none_has_no_controller_and_may_go_over_the_limit() -> None:
    s = site(16_000, "none")
    assert s.request("a", 11_000) == 11_000
    assert s.request("b", 11_000) == 11_000  # nobody holds b back: 22 kW on a 16 kW connection
    assert s.granted_w == 22_000
    s.release("a")
    assert dict(s.grants) == {"b": 11_000}


def test_zero_limit_grants_nothing() -> None:
    for mode in CONTROLLED:
        s = site(0.0, mode)
        assert s.request("a", 7_400) == 0


def test_changed_fires_and_is_replaced() -> None:
    env = simpy.Environment()
    s = Site(env, "site-1", 22_000, "equal")
    seen: list[tuple[float, dict[str, float]]] = []

    def watcher() -> Any:
        while True:
            grants = yield s.changed
            seen.append((env.now, grants))

    def evses() -> Any:
        s.request("a", 11_000)
        yield env.timeout(10)
        s.request("b", 22_000)
        yield env.timeout(10)
        s.request("b", 22_000)  # the same again: nothing changes, nothing fires
        yield env.timeout(10)
        s.release("a")
        yield env.timeout(10)
        s.release("nobody")

    env.process(watcher())
    env.process(evses())
    env.run(until=100)
    assert seen == [(0, {"a": 11_000}), (10, {"a": 11_000, "b": 11_000}), (30, {"b": 22_000})]


def test_an_evse_waiting_on_changed_gets_more_when_another_leaves() -> None:
    env = simpy.Environment()
    s = Site(env, "site-1", 11_000, "equal")
    b_grants: list[tuple[float, float]] = []

    def leaver() -> Any:
        s.request("a", 11_000)
        yield env.timeout(60)
        s.release("a")

    def stayer() -> Any:
        b_grants.append((env.now, s.request("b", 11_000)))
        while True:
            yield s.changed
            b_grants.append((env.now, s.grants["b"]))

    env.process(leaver())
    env.process(stayer())
    env.run(until=120)
    assert b_grants == [(0, 5_500), (60, 11_000)]


def test_grants_view_is_read_only() -> None:
    s = site(10_000)
    s.request("a", 1_000)
    with pytest.raises(TypeError):
        s.grants["a"] = 5.0  # type: ignore[index]
    assert s.demands == {"a": 1_000} and s.granted_w == 1_000


@pytest.mark.parametrize(("args", "message"), [
    ((-1.0, "equal"), "grid_limit_w"), ((math.inf, "equal"), "grid_limit_w"),
    ((1_000.0, "fair"), "unknown balancing 'fair'; valid: none, equal, first_come"),
])
def test_bad_site_settings_are_named(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        site(*args)


@pytest.mark.parametrize("demand", [-1.0, math.nan, math.inf])
def test_bad_demand_is_refused(demand: float) -> None:
    with pytest.raises(ValueError, match="demand_w"):
        site(1_000).request("a", demand)


keys = st.sampled_from(["a", "b", "c", "d", "e", "f"])
demands = st.one_of(st.floats(min_value=0, max_value=500_000),
                    st.sampled_from([0.0, 3_680.0, 7_360.0, 11_040.0, 22_080.0, 1e-9]))
actions = st.lists(st.one_of(st.tuples(st.just("request"), keys, demands),
                             st.tuples(st.just("release"), keys)), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(limit=st.one_of(st.floats(min_value=0, max_value=1e6),
                       st.sampled_from([0.1, 1.0 / 3, 22_000.0, 1e-300])),
       mode=st.sampled_from(CONTROLLED), steps=actions)
def test_grants_never_exceed_the_limit(limit: float, mode: str, steps: list[tuple]) -> None:
    s = site(limit, mode)
    for step in steps:
        if step[0] == "request":
            granted = s.request(step[1], step[2])
            assert 0 <= granted <= step[2]
        else:
            s.release(step[1])
        assert sum(s.grants.values()) <= limit
        assert math.fsum(s.grants.values()) <= limit
        assert set(s.grants) == set(s.demands)
        assert all(0 <= s.grants[k] <= s.demands[k] for k in s.grants)


@settings(max_examples=150, deadline=None)
@given(limit=st.floats(min_value=0, max_value=1e6),
       wanted=st.dictionaries(keys, demands, min_size=1))
def test_equal_split_is_fair_and_uses_what_it_may(limit: float,
                                                  wanted: dict[str, float]) -> None:
    s = site(limit, "equal")
    for key, demand in wanted.items():
        s.request(key, demand)
    grants = dict(s.grants)
    # Work-conserving: all of the limit is used, or every demand is met.
    assert math.fsum(grants.values()) == pytest.approx(min(limit, math.fsum(wanted.values())),
                                                       rel=1e-9, abs=1e-6)
    # Max-min fair: an EVSE short of its demand gets at least as much as anyone else.
    for key, grant in grants.items():
        if grant < wanted[key] - 1e-6:
            assert all(grant >= other - 1e-6 for other in grants.values())
