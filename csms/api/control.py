"""Remote control and provisioning: neutral commands under ``/api/stations/{id}/commands/...``
that build the right message for the station's OCPP version and return its answer, and views
of what the CSMS keeps (configuration / device model, reports, availability, remote starts,
display messages, data transfers).

Every command answers with the station's answer, or 404 (unknown station), 409 (offline),
504 (no answer in time), 502 (CALLERROR) or 422 (invalid for the station's version).
"""

from __future__ import annotations

import binascii
import json
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field, model_validator

from chargeloop.ocppj import OcppVersion
from csms.api.commands import ERRORS, command_http_error
from csms.api.security import Commander, Core, Reader, actor
from csms.api.stations import require_station
from csms.core import CsmsCore
from csms.domain.api_tokens import ApiPrincipal
from csms.domain.commands import CommandError
from csms.domain.device_model import SECRET_VARIABLES, VariableKey
from csms.domain.get_variables import get_variables
from csms.domain.provisioning import DisplayMessage
from csms.ocpp.provisioning import component_of, message_info, variable_key, variable_of

router = APIRouter(prefix="/api/stations")
commands = APIRouter(tags=["remote control"])
views = APIRouter(tags=["device model"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such station."}, **ERRORS}

# Messages only 1.6 ExtendedTriggerMessage (Security Whitepaper) asks for.
_EXTENDED_TRIGGER_16 = frozenset({"LogStatusNotification", "SignChargePointCertificate"})
_COMPONENTLESS = ""  # 1.6 configuration keys live in the component ""


# -- bodies and answers ------------------------------------------------------------------------


class ControlResult(BaseModel):
    station_id: str
    ocpp_version: str
    action: str = Field(description="The OCPP message sent.")
    status: str | None = Field(None, description="The answer's status, when it has one.")
    response: dict[str, Any] = Field(description="The station's answer as it came.")


class RemoteStartResult(ControlResult):
    remote_start_id: int | None = Field(
        None, description="2.0.1: the remoteStartId the CSMS gave the request; the "
                          "transaction that carries it is linked (see remote-starts).")


class RequestResult(ControlResult):
    request_id: int | None = Field(
        None, description="The requestId the parts of the answer (NotifyReport, "
                          "NotifyDisplayMessages) will carry; see reports.")


class DisplayMessageResult(ControlResult):
    message_id: int


class ResetBody(BaseModel):
    type: Literal["soft", "hard", "immediate", "on-idle"] = Field(
        description="OCPP 1.6: soft or hard. OCPP 2.0.1: immediate or on-idle.")
    evse_id: int | None = Field(None, ge=0, description="2.0.1 only: reset one EVSE. Absent "
                                "(or 0): the whole station, sent without evseId.")


class UnlockBody(BaseModel):
    evse_id: int = Field(ge=1, description="The EVSE (1.6: the connector).")
    connector_id: int = Field(1, ge=1, description="The connector of the EVSE (1.6: 1).")


class AvailabilityBody(BaseModel):
    operative: bool = Field(description="true: Operative, false: Inoperative.")
    evse_id: int | None = Field(None, ge=0, description="Absent or 0: the whole station. "
                                "1.6: the connector.")
    connector_id: int | None = Field(None, ge=1, description="2.0.1: one connector of the "
                                     "EVSE.")


class RemoteStartBody(BaseModel):
    id_token: str = Field(min_length=1, max_length=36,
                          description="The token to charge for (1.6: at most 20 characters).")
    token_type: str | None = Field(None, max_length=20, description="2.0.1 IdTokenType; "
                                   "default: the type the CSMS has for the token, else Central.")
    evse_id: int | None = Field(None, ge=1, description="The EVSE (1.6: the connector).")
    group_id_token: str | None = Field(None, max_length=36, description="2.0.1 only.")
    charging_profile: dict[str, Any] | None = Field(
        None, description="A charging profile in the station's version's shape (TxProfile).")


class RemoteStopBody(BaseModel):
    transaction_id: str = Field(min_length=1, max_length=36,
                                description="The OCPP transaction id (1.6: an integer).")


class TriggerBody(BaseModel):
    message: str = Field(min_length=1, max_length=50, description="The requestedMessage, e.g. "
                         "StatusNotification, Heartbeat, MeterValues, BootNotification.")
    evse_id: int | None = Field(None, ge=0, description="The EVSE (1.6: the connector).")
    connector_id: int | None = Field(None, ge=1, description="2.0.1 only.")


class VariableRef(BaseModel):
    """A 1.6 configuration key, or a 2.0.1 variable. ``key`` "Component.Variable" is short
    for component and variable on 2.0.1."""

    key: str | None = Field(None, min_length=1, max_length=101,
                            description="1.6: the configuration key. 2.0.1: "
                            "\"Component.Variable\".")
    component: str | None = Field(None, min_length=1, max_length=50)
    component_instance: str | None = Field(None, max_length=50)
    evse_id: int | None = Field(None, ge=0)
    connector_id: int | None = Field(None, ge=0)
    variable: str | None = Field(None, min_length=1, max_length=50)
    variable_instance: str | None = Field(None, max_length=50)
    attribute_type: Literal["Actual", "Target", "MinSet", "MaxSet"] | None = None

    @model_validator(mode="after")
    def _named(self) -> VariableRef:
        if self.key is None and self.variable is None:
            raise ValueError("give key, or component and variable")
        return self


class VariableSet(VariableRef):
    value: str = Field(max_length=1000)


class GetConfigurationBody(BaseModel):
    variables: list[VariableRef] = Field(default_factory=list, description="1.6: none asks "
                                         "for the whole configuration.")


class SetConfigurationBody(BaseModel):
    values: list[VariableSet] = Field(min_length=1)


class VariableResult(BaseModel):
    key: str = Field(description="1.6: the key; 2.0.1: Component.Variable.")
    component: str
    component_instance: str = ""
    evse_id: int = 0
    connector_id: int = 0
    variable: str
    variable_instance: str = ""
    attribute_type: str = "Actual"
    status: str = Field(description="In 2.0.1's words: Accepted, Rejected, RebootRequired, "
                        "UnknownComponent, UnknownVariable, NotSupportedAttributeType.")
    value: str | None = None
    mutability: str | None = None


class ConfigurationResult(BaseModel):
    station_id: str
    ocpp_version: str
    action: str
    results: list[VariableResult]
    responses: list[dict[str, Any]] = Field(description="The station's answers as they came "
                                            "(1.6 changes one key per message).")


class BaseReportBody(BaseModel):
    report_base: Literal["ConfigurationInventory", "FullInventory", "SummaryInventory"] = \
        "FullInventory"


class ComponentVariableRef(BaseModel):
    component: str = Field(min_length=1, max_length=50)
    component_instance: str | None = Field(None, max_length=50)
    evse_id: int | None = Field(None, ge=0)
    connector_id: int | None = Field(None, ge=0)
    variable: str | None = Field(None, min_length=1, max_length=50)
    variable_instance: str | None = Field(None, max_length=50)


class CustomReportBody(BaseModel):
    component_criteria: list[Literal["Active", "Available", "Enabled", "Problem"]] | None = \
        Field(None, min_length=1, max_length=4)
    component_variables: list[ComponentVariableRef] | None = Field(None, min_length=1)


class DataTransferBody(BaseModel):
    vendor_id: str = Field(min_length=1, max_length=255)
    message_id: str | None = Field(None, max_length=50)
    data: Any = Field(None, description="2.0.1: any JSON. 1.6: text; anything else is sent "
                      "as its JSON text.")


class DisplayComponent(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    instance: str | None = Field(None, max_length=50)
    evse_id: int | None = Field(None, ge=0)
    connector_id: int | None = Field(None, ge=0)


class DisplayMessageBody(BaseModel):
    id: int | None = Field(None, ge=0, description="Replaces the station's message with this "
                           "id; default: a new id.")
    priority: Literal["AlwaysFront", "InFront", "NormalCycle"] = "NormalCycle"
    format: Literal["ASCII", "HTML", "URI", "UTF8"] = "UTF8"
    content: str = Field(min_length=1, max_length=512)
    language: str | None = Field(None, max_length=8)
    state: Literal["Charging", "Faulted", "Idle", "Unavailable"] | None = None
    start: datetime | None = None
    end: datetime | None = None
    transaction_id: str | None = Field(None, max_length=36)
    display: DisplayComponent | None = None


class DisplayMessageQuery(BaseModel):
    ids: list[int] | None = Field(None, min_length=1)
    priority: Literal["AlwaysFront", "InFront", "NormalCycle"] | None = None
    state: Literal["Charging", "Faulted", "Idle", "Unavailable"] | None = None


class VariableView(BaseModel):
    component: str = Field(description="\"\" for 1.6 configuration keys.")
    component_instance: str
    evse_id: int
    connector_id: int
    variable: str
    variable_instance: str
    attribute_type: str
    value: str | None
    mutability: str | None
    persistent: bool | None
    constant: bool | None
    characteristics: dict[str, Any] | None
    status: str | None
    updated_at: datetime


class ReportView(BaseModel):
    request_id: int
    action: str | None
    criteria: dict[str, Any] | None
    status: str | None
    started_at: datetime
    parts: int
    entries: int
    complete: bool
    completed_at: datetime | None
    generated_at: datetime | None
    missing_parts: list[int] = Field(description="seqNos not received below the last one.")


class AvailabilityView(BaseModel):
    evse_id: int
    connector_id: int
    status: str | None
    availability: str | None = Field(description="Operative / Inoperative as last in force.")
    availability_pending: str | None = Field(description="Requested, answered Scheduled.")


class RemoteStartView(BaseModel):
    remote_start_id: int
    id_token: str
    evse_id: int | None
    status: str
    transaction_id: str | None = Field(description="The station's transaction: from its "
                                       "answer, or the one that carries the remoteStartId.")
    transaction_state: str | None
    requested_at: datetime
    answered_at: datetime | None


class DisplayMessageView(BaseModel):
    message_id: int
    priority: str
    state: str | None
    start_at: datetime | None
    end_at: datetime | None
    transaction_id: str | None
    format: str
    language: str | None
    content: str
    display: dict[str, Any] | None
    source: str
    updated_at: datetime


class DataTransferView(BaseModel):
    received_at: datetime
    vendor_id: str
    message_id: str | None
    data: Any
    status: str
    answer_data: Any


# -- helpers -----------------------------------------------------------------------------------


def invalid(field: str, message: str) -> HTTPException:
    return HTTPException(422, [{"loc": ["body", field], "msg": message, "type": "value_error"}])


def version_of(core: CsmsCore, station_id: str) -> OcppVersion:
    require_station(core, station_id)
    try:
        return core.commands.version_of(station_id)
    except CommandError as error:
        raise command_http_error(error) from error


async def send(core: CsmsCore, station_id: str, who: ApiPrincipal, action: str,
               payload: dict[str, Any]) -> dict[str, Any]:
    try:
        return await core.commands.call(station_id, action, payload, actor(who))
    except CommandError as error:
        raise command_http_error(error) from error


def only_201(version: OcppVersion, what: str) -> None:
    if version is OcppVersion.V16:
        raise HTTPException(422, [{"loc": ["path", "station_id"], "type": "value_error",
                                   "msg": f"{what} needs OCPP 2.0.1; the station speaks 1.6"}])


def result(station_id: str, version: OcppVersion, action: str,
           answer: dict[str, Any]) -> ControlResult:
    return ControlResult(station_id=station_id, ocpp_version=version.value, action=action,
                         status=answer.get("status"), response=answer)


async def command(core: CsmsCore, station_id: str, who: ApiPrincipal, version: OcppVersion,
                  action: str, payload: dict[str, Any]) -> ControlResult:
    """Send ``action`` and give the station's answer as the endpoint's result."""
    return result(station_id, version, action,
                  await send(core, station_id, who, action, payload))


def variable_ref(version: OcppVersion, ref: VariableRef, field: str) -> VariableKey:
    """A body's variable as the domain's key, checked against the station's version."""
    if version is OcppVersion.V16:
        if ref.component not in (None, _COMPONENTLESS) or ref.evse_id or ref.connector_id or \
                ref.component_instance or ref.variable_instance or \
                ref.attribute_type not in (None, "Actual"):
            raise invalid(field, "OCPP 1.6 configuration keys have no component, EVSE, "
                                 "instance or attribute: give key")
        name = ref.key or ref.variable
        assert name is not None
        if len(name) > 50:
            raise invalid(field, "a 1.6 configuration key has at most 50 characters")
        return VariableKey(_COMPONENTLESS, name)
    component, variable = ref.component, ref.variable
    if ref.key is not None:
        head, dot, tail = ref.key.partition(".")
        if not dot or not head or not tail or len(head) > 50 or len(tail) > 50:
            raise invalid(field, "an OCPP 2.0.1 key is \"Component.Variable\"")
        component, variable = component or head, variable or tail
    if not component or not variable:
        raise invalid(field, "an OCPP 2.0.1 variable needs component and variable")
    if ref.connector_id and not ref.evse_id:
        raise invalid(field, "connector_id needs evse_id")
    return VariableKey(component, variable, ref.component_instance or "", ref.evse_id or 0,
                       ref.connector_id or 0, ref.variable_instance or "",
                       ref.attribute_type or "Actual")


def key_text(key: VariableKey) -> str:
    return key.variable if key.component == _COMPONENTLESS else \
        f"{key.component}.{key.variable}"


def variable_result(key: VariableKey, status_: str, value: str | None = None,
                    mutability: str | None = None) -> VariableResult:
    return VariableResult(key=key_text(key), component=key.component,
                          component_instance=key.component_instance, evse_id=key.evse_id,
                          connector_id=key.connector_id, variable=key.variable,
                          variable_instance=key.variable_instance,
                          attribute_type=key.attribute_type, status=status_, value=value,
                          mutability=mutability)


def variable_data(key: VariableKey) -> dict[str, Any]:
    data: dict[str, Any] = {"component": component_of(key), "variable": variable_of(key)}
    if key.attribute_type != "Actual":
        data["attributeType"] = key.attribute_type
    return data


def key_of_result(item: dict[str, Any]) -> VariableKey:
    return variable_key(item["component"], item["variable"], item.get("attributeType"))


# -- commands ----------------------------------------------------------------------------------


@commands.post("/{station_id}/commands/reset", response_model=ControlResult, responses=NOT_FOUND,
             summary="Reset the station (1.6 Reset Soft/Hard, 2.0.1 Reset OnIdle/Immediate)")
async def reset(station_id: str, body: ResetBody, core: Core, who: Commander) -> ControlResult:
    version = version_of(core, station_id)
    if version is OcppVersion.V16:
        if body.type not in ("soft", "hard"):
            raise invalid("type", "an OCPP 1.6 station resets soft or hard")
        if body.evse_id:
            raise invalid("evse_id", "OCPP 1.6 resets the whole station only")
        payload: dict[str, Any] = {"type": body.type.capitalize()}
    else:
        if body.type not in ("immediate", "on-idle"):
            raise invalid("type", "an OCPP 2.0.1 station resets immediate or on-idle")
        payload = {"type": "Immediate" if body.type == "immediate" else "OnIdle"}
        if body.evse_id:  # a station-wide reset carries no evseId (TC_B_20)
            payload["evseId"] = body.evse_id
    return await command(core, station_id, who, version, "Reset", payload)


@commands.post("/{station_id}/commands/unlock", response_model=ControlResult, responses=NOT_FOUND,
             summary="Unlock a connector (UnlockConnector)")
async def unlock(station_id: str, body: UnlockBody, core: Core,
                 who: Commander) -> ControlResult:
    version = version_of(core, station_id)
    if version is OcppVersion.V16:
        if body.connector_id != 1:
            raise invalid("connector_id", "an OCPP 1.6 connector is EVSE n, connector 1")
        payload: dict[str, Any] = {"connectorId": body.evse_id}
    else:
        payload = {"evseId": body.evse_id, "connectorId": body.connector_id}
    return await command(core, station_id, who, version, "UnlockConnector", payload)


@commands.post("/{station_id}/commands/availability", response_model=ControlResult,
             responses=NOT_FOUND,
             summary="Make the station, an EVSE or a connector (in)operative "
                     "(ChangeAvailability)")
async def change_availability(station_id: str, body: AvailabilityBody, core: Core,
                              who: Commander) -> ControlResult:
    version = version_of(core, station_id)
    wanted = "Operative" if body.operative else "Inoperative"
    if body.connector_id is not None and not body.evse_id:
        raise invalid("connector_id", "connector_id needs evse_id")
    if version is OcppVersion.V16:
        if body.connector_id not in (None, 1):
            raise invalid("connector_id", "an OCPP 1.6 connector is EVSE n, connector 1")
        payload: dict[str, Any] = {"connectorId": body.evse_id or 0, "type": wanted}
    else:
        payload = {"operationalStatus": wanted}
        if body.evse_id:
            payload["evse"] = {"id": body.evse_id}
            if body.connector_id is not None:
                payload["evse"]["connectorId"] = body.connector_id
    return await command(core, station_id, who, version, "ChangeAvailability", payload)


@commands.post("/{station_id}/commands/remote-start", response_model=RemoteStartResult,
             responses=NOT_FOUND,
             summary="Start a transaction (1.6 RemoteStartTransaction, 2.0.1 "
                     "RequestStartTransaction with a remoteStartId from the CSMS)")
async def remote_start(station_id: str, body: RemoteStartBody, core: Core,
                       who: Commander) -> RemoteStartResult:
    version = version_of(core, station_id)
    remote_start_id: int | None = None
    if version is OcppVersion.V16:
        if len(body.id_token) > 20:
            raise invalid("id_token", "an OCPP 1.6 idTag has at most 20 characters")
        if body.group_id_token or body.token_type:
            raise invalid("token_type" if body.token_type else "group_id_token",
                          "OCPP 1.6 has no token type or group token here")
        action, payload = "RemoteStartTransaction", {"idTag": body.id_token}
        if body.evse_id is not None:
            payload["connectorId"] = body.evse_id
        if body.charging_profile is not None:
            payload["chargingProfile"] = body.charging_profile
    else:
        known = core.auth.get(body.id_token)
        token_type = body.token_type or (known.type if known else "Central")
        remote_start_id = await core.provisioning.next_remote_start_id(station_id)
        action = "RequestStartTransaction"
        payload = {"idToken": {"idToken": body.id_token, "type": token_type},
                   "remoteStartId": remote_start_id}
        if body.evse_id is not None:
            payload["evseId"] = body.evse_id
        if body.group_id_token:
            payload["groupIdToken"] = {"idToken": body.group_id_token, "type": "Central"}
        if body.charging_profile is not None:
            payload["chargingProfile"] = body.charging_profile
        await core.provisioning.remote_start_requested(station_id, remote_start_id,
                                                       body.id_token, body.evse_id)
    try:
        answer = await core.commands.call(station_id, action, payload, actor(who))
    except CommandError as error:
        if remote_start_id is not None:
            await core.provisioning.remote_start_failed(station_id, remote_start_id,
                                                        error.outcome)
        raise command_http_error(error) from error
    return RemoteStartResult(station_id=station_id, ocpp_version=version.value, action=action,
                             status=answer.get("status"), response=answer,
                             remote_start_id=remote_start_id)


@commands.post("/{station_id}/commands/remote-stop", response_model=ControlResult,
             responses=NOT_FOUND,
             summary="Stop a transaction (1.6 RemoteStopTransaction, 2.0.1 "
                     "RequestStopTransaction)")
async def remote_stop(station_id: str, body: RemoteStopBody, core: Core,
                      who: Commander) -> ControlResult:
    version = version_of(core, station_id)
    if version is OcppVersion.V16:
        try:
            transaction: int | str = int(body.transaction_id)
        except ValueError:
            raise invalid("transaction_id", "an OCPP 1.6 transactionId is an integer") from None
        action = "RemoteStopTransaction"
    else:
        transaction, action = body.transaction_id, "RequestStopTransaction"
    return await command(core, station_id, who, version, action, {"transactionId": transaction})


@commands.post("/{station_id}/commands/trigger", response_model=ControlResult,
             responses=NOT_FOUND,
             summary="Ask the station to send a message now (TriggerMessage; 1.6 "
                     "ExtendedTriggerMessage for LogStatusNotification and "
                     "SignChargePointCertificate)")
async def trigger(station_id: str, body: TriggerBody, core: Core,
                  who: Commander) -> ControlResult:
    version = version_of(core, station_id)
    if version is OcppVersion.V16:
        if body.connector_id not in (None, 1):
            raise invalid("connector_id", "an OCPP 1.6 connector is EVSE n, connector 1")
        action = "ExtendedTriggerMessage" if body.message in _EXTENDED_TRIGGER_16 \
            else "TriggerMessage"
        payload: dict[str, Any] = {"requestedMessage": body.message}
        if body.evse_id is not None:
            payload["connectorId"] = body.evse_id
    else:
        if body.connector_id is not None and body.evse_id is None:
            raise invalid("connector_id", "connector_id needs evse_id")
        action, payload = "TriggerMessage", {"requestedMessage": body.message}
        if body.evse_id is not None:
            payload["evse"] = {"id": body.evse_id}
            if body.connector_id is not None:
                payload["evse"]["connectorId"] = body.connector_id
    return await command(core, station_id, who, version, action, payload)


async def _get_configuration(core: CsmsCore, station_id: str, who: ApiPrincipal,
                             version: OcppVersion, keys: list[VariableKey]
                             ) -> ConfigurationResult:
    if version is OcppVersion.V16:
        payload: dict[str, Any] = {"key": [k.variable for k in keys]} if keys else {}
        answer = await send(core, station_id, who, "GetConfiguration", payload)
        results = [variable_result(VariableKey(_COMPONENTLESS, item["key"]), "Accepted",
                                   item.get("value"),
                                   "ReadOnly" if item["readonly"] else "ReadWrite")
                   for item in answer.get("configurationKey", [])]
        results += [variable_result(VariableKey(_COMPONENTLESS, key), "UnknownVariable")
                    for key in answer.get("unknownKey", [])]
        return ConfigurationResult(station_id=station_id, ocpp_version=version.value,
                                   action="GetConfiguration", results=results,
                                   responses=[answer])
    if not keys:
        raise invalid("variables", "an OCPP 2.0.1 station is asked for given variables; "
                                   "the whole device model comes with base-report")
    try:  # within the station's ItemsPerMessageGetVariables, as the raw command endpoint
        answer = await get_variables(core.commands, core.provisioning.device_model, station_id,
                                     {"getVariableData": [variable_data(k) for k in keys]},
                                     actor(who))
    except CommandError as error:
        raise command_http_error(error) from error
    results = [variable_result(key_of_result(item), item["attributeStatus"],
                               item.get("attributeValue"))
               for item in answer["getVariableResult"]]
    return ConfigurationResult(station_id=station_id, ocpp_version=version.value,
                               action="GetVariables", results=results, responses=[answer])


@commands.get("/{station_id}/commands/configuration", response_model=ConfigurationResult,
            responses=NOT_FOUND,
            summary="Read configuration from the station (1.6 GetConfiguration, 2.0.1 "
                    "GetVariables); the answer is stored")
async def get_configuration(
        station_id: str, core: Core, who: Commander,
        key: list[str] = Query(default_factory=list, description="1.6: configuration keys "
                               "(none: all). 2.0.1: \"Component.Variable\".")
) -> ConfigurationResult:
    version = version_of(core, station_id)
    keys = [variable_ref(version, VariableRef(key=k), "key") for k in key]
    return await _get_configuration(core, station_id, who, version, keys)


@commands.post("/{station_id}/commands/configuration/get", response_model=ConfigurationResult,
             responses=NOT_FOUND,
             summary="Read configuration from the station, variables given in full "
                     "(component instance, EVSE, attribute)")
async def query_configuration(station_id: str, body: GetConfigurationBody, core: Core,
                              who: Commander) -> ConfigurationResult:
    version = version_of(core, station_id)
    keys = [variable_ref(version, ref, f"variables.{i}") for i, ref in enumerate(body.variables)]
    return await _get_configuration(core, station_id, who, version, keys)


def _check_secret(version: OcppVersion, key: VariableKey, value: str, field: str) -> None:
    if (key.component, key.variable) not in SECRET_VARIABLES:
        return
    if version is OcppVersion.V16:
        try:
            password = binascii.unhexlify(value)
            password.decode("utf-8")
        except (binascii.Error, ValueError):
            raise invalid(field, "AuthorizationKey is the password hex encoded, and the "
                                 "password must be UTF-8 text") from None
        if not 16 <= len(password) <= 20:
            raise invalid(field, "the AuthorizationKey password has 16 to 20 bytes")
    elif not 16 <= len(value) <= 40:
        raise invalid(field, "BasicAuthPassword has 16 to 40 characters")


@commands.put("/{station_id}/commands/configuration", response_model=ConfigurationResult,
            responses=NOT_FOUND,
            summary="Change configuration (1.6 ChangeConfiguration per key, 2.0.1 "
                    "SetVariables); accepted values are stored, a new Basic auth password "
                    "becomes the station's")
async def set_configuration(station_id: str, body: SetConfigurationBody, core: Core,
                            who: Commander) -> ConfigurationResult:
    version = version_of(core, station_id)
    keys = [variable_ref(version, item, f"values.{i}") for i, item in enumerate(body.values)]
    for i, (key, item) in enumerate(zip(keys, body.values, strict=True)):
        _check_secret(version, key, item.value, f"values.{i}.value")
    if version is OcppVersion.V16:
        results, responses = [], []
        for key, item in zip(keys, body.values, strict=True):
            answer = await send(core, station_id, who, "ChangeConfiguration",
                                {"key": key.variable, "value": item.value})
            responses.append(answer)
            word = "UnknownVariable" if answer["status"] == "NotSupported" else answer["status"]
            results.append(variable_result(key, word, None if key.secret else item.value))
        return ConfigurationResult(station_id=station_id, ocpp_version=version.value,
                                   action="ChangeConfiguration", results=results,
                                   responses=responses)
    answer = await send(core, station_id, who, "SetVariables", {"setVariableData": [
        {**variable_data(key), "attributeValue": item.value}
        for key, item in zip(keys, body.values, strict=True)]})
    sent = {key: item.value for key, item in zip(keys, body.values, strict=True)}
    results = []
    for entry in answer["setVariableResult"]:
        key = key_of_result(entry)
        results.append(variable_result(key, entry["attributeStatus"],
                                       None if key.secret else sent.get(key)))
    return ConfigurationResult(station_id=station_id, ocpp_version=version.value,
                               action="SetVariables", results=results, responses=[answer])


@commands.post("/{station_id}/commands/base-report", response_model=RequestResult,
             responses=NOT_FOUND,
             summary="Refresh the stored device model (2.0.1 GetBaseReport, answered by "
                     "NotifyReport parts; 1.6 GetConfiguration of every key)")
async def base_report(station_id: str, body: BaseReportBody, core: Core,
                      who: Commander) -> RequestResult:
    version = version_of(core, station_id)
    if version is OcppVersion.V16:
        answer = await send(core, station_id, who, "GetConfiguration", {})
        return RequestResult(station_id=station_id, ocpp_version=version.value,
                             action="GetConfiguration", status=None, response=answer)
    request_id = await core.provisioning.requests.ids.allocate(station_id)
    answer = await send(core, station_id, who, "GetBaseReport",
                        {"requestId": request_id, "reportBase": body.report_base})
    return RequestResult(station_id=station_id, ocpp_version=version.value,
                         action="GetBaseReport", status=answer["status"], response=answer,
                         request_id=request_id)


@commands.post("/{station_id}/commands/report", response_model=RequestResult,
             responses=NOT_FOUND,
             summary="Ask for a custom device model report (2.0.1 GetReport)")
async def custom_report(station_id: str, body: CustomReportBody, core: Core,
                        who: Commander) -> RequestResult:
    version = version_of(core, station_id)
    only_201(version, "GetReport")
    request_id = await core.provisioning.requests.ids.allocate(station_id)
    payload: dict[str, Any] = {"requestId": request_id}
    if body.component_criteria:
        payload["componentCriteria"] = body.component_criteria
    if body.component_variables:
        entries = []
        for ref in body.component_variables:
            if ref.connector_id and not ref.evse_id:
                raise invalid("component_variables", "connector_id needs evse_id")
            key = VariableKey(ref.component, ref.variable or "", ref.component_instance or "",
                              ref.evse_id or 0, ref.connector_id or 0,
                              ref.variable_instance or "")
            entry: dict[str, Any] = {"component": component_of(key)}
            if ref.variable:
                entry["variable"] = variable_of(key)
            entries.append(entry)
        payload["componentVariable"] = entries
    answer = await send(core, station_id, who, "GetReport", payload)
    return RequestResult(station_id=station_id, ocpp_version=version.value, action="GetReport",
                         status=answer["status"], response=answer, request_id=request_id)


@commands.post("/{station_id}/commands/data-transfer", response_model=ControlResult,
             responses=NOT_FOUND, summary="Send vendor-specific data (DataTransfer)")
async def data_transfer(station_id: str, body: DataTransferBody, core: Core,
                        who: Commander) -> ControlResult:
    version = version_of(core, station_id)
    payload: dict[str, Any] = {"vendorId": body.vendor_id}
    if body.message_id is not None:
        payload["messageId"] = body.message_id
    if body.data is not None:
        payload["data"] = body.data if version is not OcppVersion.V16 or \
            isinstance(body.data, str) else json.dumps(body.data, separators=(",", ":"))
    return await command(core, station_id, who, version, "DataTransfer", payload)


@commands.post("/{station_id}/commands/display-messages", response_model=DisplayMessageResult,
             responses=NOT_FOUND, summary="Show a message on the station (SetDisplayMessage)")
async def set_display_message(station_id: str, body: DisplayMessageBody, core: Core,
                              who: Commander) -> DisplayMessageResult:
    version = version_of(core, station_id)
    only_201(version, "SetDisplayMessage")
    if body.start and body.end and body.end <= body.start:
        raise invalid("end", "end must come after start")
    for field, moment in (("start", body.start), ("end", body.end)):
        if moment is not None and moment.tzinfo is None:
            raise invalid(field, "give a time zone (e.g. Z)")
    message_id = body.id if body.id is not None else \
        await core.provisioning.next_display_message_id(station_id)
    display = None
    if body.display is not None:
        display = {"name": body.display.name}
        if body.display.instance:
            display["instance"] = body.display.instance
        if body.display.evse_id is not None:
            display["evse"] = {"id": body.display.evse_id}
            if body.display.connector_id is not None:
                display["evse"]["connectorId"] = body.display.connector_id
    message = DisplayMessage(id=message_id, priority=body.priority, format=body.format,
                             content=body.content, language=body.language, state=body.state,
                             start_at=body.start, end_at=body.end,
                             transaction_id=body.transaction_id, display=display)
    answer = await send(core, station_id, who, "SetDisplayMessage",
                        {"message": message_info(message)})
    return DisplayMessageResult(station_id=station_id, ocpp_version=version.value,
                                action="SetDisplayMessage", status=answer["status"],
                                response=answer, message_id=message_id)


@commands.post("/{station_id}/commands/display-messages/get", response_model=RequestResult,
             responses=NOT_FOUND,
             summary="Ask the station for its display messages (GetDisplayMessages, answered "
                     "by NotifyDisplayMessages); without filters the stored list is replaced")
async def get_display_messages(station_id: str, body: DisplayMessageQuery, core: Core,
                               who: Commander) -> RequestResult:
    version = version_of(core, station_id)
    only_201(version, "GetDisplayMessages")
    request_id = await core.provisioning.requests.ids.allocate(station_id)
    payload: dict[str, Any] = {"requestId": request_id}
    if body.ids:
        payload["id"] = body.ids
    if body.priority:
        payload["priority"] = body.priority
    if body.state:
        payload["state"] = body.state
    answer = await send(core, station_id, who, "GetDisplayMessages", payload)
    return RequestResult(station_id=station_id, ocpp_version=version.value,
                         action="GetDisplayMessages", status=answer["status"],
                         response=answer, request_id=request_id)


@commands.delete("/{station_id}/commands/display-messages/{message_id}",
               response_model=ControlResult, responses=NOT_FOUND,
               summary="Remove a message from the station (ClearDisplayMessage)")
async def clear_display_message(station_id: str, message_id: int, core: Core,
                                who: Commander) -> ControlResult:
    version = version_of(core, station_id)
    only_201(version, "ClearDisplayMessage")
    return await command(core, station_id, who, version, "ClearDisplayMessage",
                         {"id": message_id})


# -- views -------------------------------------------------------------------------------------


def _known(core: CsmsCore, station_id: str) -> None:
    require_station(core, station_id)


@views.get("/{station_id}/variables", response_model=list[VariableView],
           responses={404: {"description": "No such station."}},
           summary="The stored configuration (1.6 keys, component \"\") or device model "
                   "(2.0.1)")
async def list_variables(station_id: str, core: Core, _: Reader,
                         component: str | None = Query(None, description="Only this "
                                                       "component (\"\" for 1.6 keys)."),
                         variable: str | None = Query(None, description="Only this variable.")
                         ) -> list[VariableView]:
    _known(core, station_id)
    rows = await core.provisioning.device_model.variables(station_id, component=component,
                                                          variable=variable)
    return [VariableView(**{k: v for k, v in row.items() if k in VariableView.model_fields})
            for row in rows]


@views.get("/{station_id}/reports", response_model=list[ReportView],
           responses={404: {"description": "No such station."}},
           summary="Reports and display-message queries asked of the station, with their "
                   "progress")
async def list_reports(station_id: str, core: Core, _: Reader) -> list[ReportView]:
    _known(core, station_id)
    reports: list[ReportView] = []
    for row in await core.provisioning.requests.list(station_id):
        seen = set(row["seq_nos"] or [])
        last = row["last_seq_no"] if row["last_seq_no"] is not None else \
            max(seen, default=-1)
        reports.append(ReportView(
            request_id=row["request_id"], action=row["action"], criteria=row["criteria"],
            status=row["status"], started_at=row["started_at"], parts=row["parts"],
            entries=row["entries"], complete=row["complete"],
            completed_at=row["completed_at"], generated_at=row["generated_at"],
            missing_parts=[n for n in range(last + 1) if n not in seen]))
    return reports


@views.get("/{station_id}/availability", response_model=list[AvailabilityView],
           responses={404: {"description": "No such station."}},
           summary="Availability as requested per station (0/0), EVSE (n/0) and connector")
async def list_availability(station_id: str, core: Core, _: Reader) -> list[AvailabilityView]:
    _known(core, station_id)
    return [AvailabilityView(**row)
            for row in await core.provisioning.availability(station_id)]


@views.get("/{station_id}/remote-starts", response_model=list[RemoteStartView],
           responses={404: {"description": "No such station."}},
           summary="Remote starts (2.0.1) and the transactions they started")
async def list_remote_starts(station_id: str, core: Core, _: Reader) -> list[RemoteStartView]:
    _known(core, station_id)
    return [RemoteStartView(
        remote_start_id=row["remote_start_id"], id_token=row["id_token"],
        evse_id=row["evse_id"], status=row["status"],
        transaction_id=row["transaction_id"] or row["linked_transaction"],
        transaction_state=row["transaction_state"], requested_at=row["requested_at"],
        answered_at=row["answered_at"])
        for row in await core.provisioning.remote_starts(station_id)]


@views.get("/{station_id}/display-messages", response_model=list[DisplayMessageView],
           responses={404: {"description": "No such station."}},
           summary="The display messages the station shows, as the CSMS knows them")
async def list_display_messages(station_id: str, core: Core,
                                _: Reader) -> list[DisplayMessageView]:
    _known(core, station_id)
    return [DisplayMessageView(**{k: v for k, v in row.items()
                                  if k in DisplayMessageView.model_fields})
            for row in await core.provisioning.display_messages(station_id)]


@views.get("/{station_id}/data-transfers", response_model=list[DataTransferView],
           responses={404: {"description": "No such station."}},
           summary="DataTransfer messages the station sent, newest first, with the answers")
async def list_data_transfers(station_id: str, core: Core, _: Reader,
                              limit: int = Query(100, ge=1, le=1000)
                              ) -> list[DataTransferView]:
    _known(core, station_id)
    out = []
    for row in await core.provisioning.data_transfers(station_id, limit):
        p = row["payload"]
        out.append(DataTransferView(received_at=row["received_at"], vendor_id=p["vendorId"],
                                    message_id=p.get("messageId"), data=p.get("data"),
                                    status=p["status"], answer_data=p.get("answerData")))
    return out


router.include_router(commands)
router.include_router(views)
