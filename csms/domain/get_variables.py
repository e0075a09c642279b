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
from csms.domain.items_per_message import call_in_chunks, positive_int

# DeviceDataCtrlr.ItemsPerMessage[GetVariables]
ITEMS_PER_GET = VariableKey("DeviceDataCtrlr", "ItemsPerMessage",
                            variable_instance="GetVariables")


async def items_per_get(device_model: DeviceModelService, station_id: str) -> int | None:
    """The station's ItemsPerMessageGetVariables as it reported it; None when unknown or not a
    positive number."""
    return positive_int(await device_model.value(station_id, ITEMS_PER_GET))


async def get_variables(commands: CommandService, device_model: DeviceModelService,
                        station_id: str, payload: dict[str, Any],
                        actor: Actor) -> dict[str, Any]:
    """GetVariables of ``payload["getVariableData"]`` in requests of at most the station's
    ItemsPerMessageGetVariables entries; one answer with the getVariableResult of every
    request, in order."""
    limit = (await items_per_get(device_model, station_id)
             if isinstance(payload.get("getVariableData"), list) else None)
    return await call_in_chunks(commands, station_id, "GetVariables", payload,
                                items_key="getVariableData", results_key="getVariableResult",
                                limit=limit, actor=actor)
