"""Scenarios: the published JSON Schema (``scenario.schema.json``), the YAML loader that names
file, line, key and what would be valid in every error, and the typed ``ScenarioSpec``."""

from simulator.scenario.durations import format_duration, parse_duration
from simulator.scenario.loader import (
    Problem,
    ScenarioError,
    load_scenario,
    load_scenario_text,
    scenario_schema,
)
from simulator.scenario.spec import ScenarioSpec

__all__ = [
    "Problem",
    "ScenarioError",
    "ScenarioSpec",
    "format_duration",
    "load_scenario",
    "load_scenario_text",
    "parse_duration",
    "scenario_schema",
]
