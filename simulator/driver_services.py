"""The driver services of the reference CSMS, set up for a run through its REST API.

Before the stations start: the scenario's tariffs (created, then assigned), each station's
position and connectors (the locations API, so search and approach alerts know them), and for
each driver group with ``account``: one account per driver with a card of the test payment
provider, the driver's token linked, and a driver API token. Everything goes through the API an
operator or a driver's app uses, in process, so a run exercises its checks; what the drivers do
later (bookings, positions) goes through :class:`DriverApp` at simulation times.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import simpy

from chargeloop.clock import SimClock
from chargeloop.yamldoc import Locator, Path_, Problem, format_path, parse_yaml
from simulator.drivers import IdToken
from simulator.operations import API_BASE_URL
from simulator.scenario.loader import ScenarioError, unprocessable
from simulator.scenario.spec import PopulationSpec, ScenarioSpec, TariffSpec

log = logging.getLogger("chargeloop.simulator.driver_services")

# The scenario's connector types as the CSMS's locations API names them (OCPP 2.0.1
# ConnectorEnumType: c = cable, s = socket; CHAdeMO is JEVS G105).
CSMS_CONNECTOR_TYPES = {"Type2": "sType2", "CCS2": "cCCS2", "CCS1": "cCCS1", "CHAdeMO": "cG105",
                        "Type1": "cType1", "Schuko": "sCEE-7-7"}
# The test provider's cards (csms/payments/cards.py): one that pays, one always short of funds.
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000009995"
CARD_EXPIRY = (12, 2099)
CARD_FUNDS = "100000.00"  # room enough that a paying card never runs out in a run

ACCOUNT_COLUMNS = ("account_id", "population", "driver", "id_token", "card", "declines")
DRIVER_API_COLUMNS = ("t_s", "account_id", "action", "method", "path", "http_status", "detail")


class ProvisioningError(RuntimeError):
    """The CSMS refused part of the set-up; the message says which request and why."""


@dataclass(frozen=True, slots=True)
class DriverAccount:
    account_id: str
    population: str
    driver: int
    token: IdToken
    declines: bool
    api_token: str


class Api:
    """The in-process REST API with one bearer token."""

    def __init__(self, app: Any, token: str) -> None:
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=API_BASE_URL,
            headers={"Authorization": f"Bearer {token}"}, timeout=120.0)

    async def call(self, method: str, path: str, body: Any = None,
                   params: dict[str, Any] | None = None) -> Any:
        """The answer's JSON; a refusal raises :class:`ProvisioningError` (set-up must not
        half-succeed silently)."""
        response = await self.client.request(method, path, json=body, params=params)
        if response.status_code >= 300:
            raise ProvisioningError(f"{method} {path}: HTTP {response.status_code} "
                                    f"{response.text[:500]}")
        return response.json() if response.content else None

    async def close(self) -> None:
        await self.client.aclose()


async def create_tariffs(api: Api, spec: ScenarioSpec) -> None:
    """Each tariff, then its assignments; a 422 names the scenario key that caused it."""
    for tariff in spec.tariffs:
        response = await api.client.post("/api/tariffs", json=tariff.document)
        if response.status_code == 422:
            raise tariff_error(spec, tariff, response.json().get("detail", []))
        if response.status_code >= 300:
            raise ProvisioningError(f"{tariff.location}: tariff {tariff.id}: HTTP "
                                    f"{response.status_code} {response.text[:500]}")
        targets: list[dict[str, Any]] = [{}] if tariff.default else []
        targets += [{"station_id": s} for s in tariff.station_ids]
        for target in targets:
            await api.call("POST", f"/api/tariffs/{tariff.id}/assignments", target)


def tariff_error(spec: ScenarioSpec, tariff: TariffSpec, detail: Any) -> ScenarioError:
    index = spec.tariffs.index(tariff)
    entries = detail if isinstance(detail, list) else [{"loc": [], "msg": str(detail)}]
    return ScenarioError([problem_at(spec, ("tariffs", index, *path), f"the CSMS refused "
                                     f"tariff {tariff.id}: {message}", tariff.location)
                          for path, message in unprocessable(entries)])


def problem_at(spec: ScenarioSpec, path: Path_, message: str, fallback: str) -> Problem:
    """A problem at ``path`` of the scenario file (read again: the spec keeps no line
    numbers), or at ``fallback`` ("file:line") when the file cannot be read."""
    try:
        with open(spec.source, encoding="utf-8") as file:
            tree = parse_yaml(file.read(), spec.source, ScenarioError)
        return Locator(tree, spec.source).problem(path, message)
    except (OSError, ScenarioError, KeyError, IndexError, TypeError):
        source, _, line = fallback.rpartition(":")
        return Problem(source or spec.source, int(line) if line.isdigit() else 1, 1,
                       format_path(path), message)


async def locate_stations(api: Api, spec: ScenarioSpec) -> None:
    """Each station at its site's position, with its connectors' types and powers."""
    for site in spec.sites:
        for station_id in site.station_ids:
            template = spec.station(station_id).template
            body: dict[str, Any] = {"name": station_id, "connectors": [
                {"evse_id": evse, "connector_id": n,
                 "connector_type": CSMS_CONNECTOR_TYPES[c.type], "max_power_w": c.max_power_w}
                for evse in range(1, template.evses + 1)
                for n, c in enumerate(template.connectors, start=1)]}
            if site.location is not None:
                body |= {"latitude": site.location.lat, "longitude": site.location.lon}
            await api.call("PUT", f"/api/stations/{station_id}/location", body)


async def open_accounts(operator: Api, admin: Api, spec: ScenarioSpec,
                        tokens: dict[str, dict[int, IdToken]], rng: np.random.Generator
                        ) -> list[DriverAccount]:
    """One account per driver of each group with ``account``; ``tokens[group]`` are its
    drivers' tokens by driver number. Which drivers decline is drawn from ``rng``."""
    accounts: list[DriverAccount] = []
    for index, group in enumerate(spec.drivers):
        if group.account is None:
            continue
        drivers = tokens[group.name]
        declining = _declining(group, sorted(drivers), rng)
        for driver, token in sorted(drivers.items()):
            account_id = f"{group.name}-{driver:04d}"[:64]
            declines = driver in declining
            await operator.call("POST", "/api/accounts", {
                "id": account_id, "name": f"{group.name} driver {driver}",
                "email": f"driver{driver}@p{index}.example.com",
                "currency": group.account.currency})
            await operator.call("POST", f"/api/accounts/{account_id}/payment-methods", {
                "card_number": CARD_DECLINED if declines else CARD_OK,
                "exp_month": CARD_EXPIRY[0], "exp_year": CARD_EXPIRY[1],
                "test_funds": CARD_FUNDS})
            await operator.call("POST", f"/api/accounts/{account_id}/tokens",
                                {"token": token.id, "type": token.type_201})
            made = await admin.call("POST", "/api/api-tokens", {
                "name": f"app of {account_id}", "role": "driver", "subject": account_id})
            accounts.append(DriverAccount(account_id, group.name, driver, token, declines,
                                          made["token"]))
    return accounts


def _declining(group: PopulationSpec, drivers: list[int], rng: np.random.Generator) -> set[int]:
    assert group.account is not None
    if group.account.card == "declined":
        return set(drivers)
    count = round(group.account.declined_share * len(drivers))
    return {drivers[int(i)] for i in rng.permutation(len(drivers))[:count]}


def account_rows(accounts: list[DriverAccount]) -> list[dict[str, Any]]:
    return [{"account_id": a.account_id, "population": a.population, "driver": a.driver,
             "id_token": a.token.id, "card": CARD_DECLINED[-4:] if a.declines else CARD_OK[-4:],
             "declines": a.declines} for a in accounts]


class DriverApp:
    """The drivers' app: driver API requests at simulation times (bridged like operator
    commands, so runs repeat), one row each in the ``driver_api`` table."""

    def __init__(self, clock: SimClock, app: Any, accounts: list[DriverAccount]) -> None:
        self.clock = clock
        self.rows: list[dict[str, Any]] = []
        self.accounts = {a.token.id: a for a in accounts}
        self._clients = {a.account_id: Api(app, a.api_token) for a in accounts}

    def account_of(self, token: IdToken) -> DriverAccount | None:
        return self.accounts.get(token.id)

    async def setup_call(self, account: DriverAccount, method: str, path: str,
                         body: Any = None) -> Any:
        """A request before the run starts (not bridged: simulated time has not begun)."""
        return await self._clients[account.account_id].call(method, path, body)

    def send(self, account: DriverAccount, action: str, method: str, path: str,
             body: Any = None) -> simpy.Event:
        """The event's value is (HTTP status, answer JSON)."""
        t_s = self.clock.now
        client = self._clients[account.account_id].client

        async def call() -> tuple[int, Any]:
            response = await client.request(method, path, json=body)
            try:
                answer = response.json()
            except ValueError:
                answer = {"detail": response.text}
            ok = response.status_code < 300
            self.rows.append({"t_s": t_s, "account_id": account.account_id, "action": action,
                              "method": method, "path": path,
                              "http_status": response.status_code,
                              "detail": "" if ok else str(answer.get("detail", ""))[:500]})
            return response.status_code, answer

        return self.clock.bridge(call())

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
