"""2.0.1 GetVariables within the station's limit: a station says how many getVariableData it
takes in one GetVariablesRequest (DeviceDataCtrlr.ItemsPerMessage[GetVariables], 2.0.1 Part 2
device model; TC_B_08), and the CSMS must not ask for more at once.

The limit is the one the station reported (a NotifyReport, or an earlier GetVariables answer:
the device model keeps both). A station that never reported it gets its variables in one
request: asking first would put a request of its own before every multi-variable GetVariables.
"""

from __future__ import annotations

from typing import Any

from csms.domain.commands import Actor, CommandService
from csms.domain.device_model import DeviceModelService, VariableKey

# DeviceDataCtrlr.ItemsPerMessage[GetVariables]
ITEMS_PER_GET = VariableKey("DeviceDataCtrlr", "ItemsPerMessage",
                            variable_instance="GetVariables")


async def items_per_get(device_model: DeviceModelService, station_id: str) -> int | None:
    """The station's ItemsPerMessageGetVariables as it reported it; None when unknown or not a
    positive number."""
    value = (await device_model.value(station_id, ITEMS_PER_GET) or "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


async def get_variables(commands: CommandService, device_model: DeviceModelService,
                        station_id: str, payload: dict[str, Any],
                        actor: Actor) -> dict[str, Any]:
    """GetVariables of ``payload["getVariableData"]`` in requests of at most the station's
    ItemsPerMessageGetVariables entries; one answer with the getVariableResult of every
    request, in order."""
    data = payload.get("getVariableData")
    limit = await items_per_get(device_model, station_id) if isinstance(data, list) else None
    if not isinstance(data, list) or limit is None or len(data) <= limit:
        return await commands.call(station_id, "GetVariables", payload, actor)
    results: list[Any] = []
    for start in range(0, len(data), limit):
        answer = await commands.call(station_id, "GetVariables",
                                     {**payload, "getVariableData": data[start:start + limit]},
                                     actor)
        results.extend(answer.get("getVariableResult", []))
    return {"getVariableResult": results}
