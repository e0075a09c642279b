"""Requests within a station's ItemsPerMessage limits (2.0.1 Part 2 device model: how many
entries a station takes in one GetVariablesRequest, ClearVariableMonitoringRequest, ...).

A list longer than the station's limit goes out in as many requests as it takes, in order, and
their results are joined into one answer, so the operator (or a conformance trigger) sees one
command and one answer.
"""

from __future__ import annotations

from typing import Any

from csms.domain.commands import Actor, CommandService


async def call_in_chunks(commands: CommandService, station_id: str, action: str,
                         payload: dict[str, Any], *, items_key: str, results_key: str,
                         limit: int | None, actor: Actor) -> dict[str, Any]:
    """``action`` with ``payload[items_key]`` split into requests of at most ``limit`` entries
    (no limit, or a list that fits: one request as given); one answer whose ``results_key``
    holds every request's results in order."""
    items = payload.get(items_key)
    if not isinstance(items, list) or limit is None or len(items) <= limit:
        return await commands.call(station_id, action, payload, actor)
    results: list[Any] = []
    for start in range(0, len(items), limit):
        answer = await commands.call(station_id, action,
                                     {**payload, items_key: items[start:start + limit]}, actor)
        results.extend(answer.get(results_key, []))
    return {results_key: results}


def positive_int(value: Any) -> int | None:
    """A limit as the station gave it (a string in the device model): None unless a positive
    whole number."""
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None
