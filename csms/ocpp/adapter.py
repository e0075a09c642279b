"""What both OCPP adapters share: boot gating, liveness, and the session's lifetime."""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from chargeloop.ocppj import ErrorKind, OcppError, OcppSession, OcppVersion
from csms.core import CsmsCore

log = logging.getLogger("chargeloop.csms.ocpp")

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]

# What a station may send before its boot is accepted (OCPP 2.0.1 B02/B03, TC_B_30_CSMS).
UNGATED = frozenset({"BootNotification"})


class Adapter:
    """Binds one station's session to the domain. Subclasses route their version's actions."""

    def __init__(self, core: CsmsCore, session: OcppSession, station_id: str) -> None:
        self.core = core
        self.session = session
        self.station_id = station_id
        # Messages the CSMS itself asked for with TriggerMessage while the boot was Pending,
        # with how many of each may still come before acceptance.
        self.triggered: Counter[str] = Counter()

    def route(self, action: str, handler: Handler) -> None:
        self.session.route(action, self._guard(action, handler))

    def _guard(self, action: str, handler: Handler) -> Handler:
        stations = self.core.stations

        @functools.wraps(handler)
        async def guarded(payload: dict[str, Any]) -> dict[str, Any]:
            stations.touch(self.station_id)
            self.core.alerts.seen(self.station_id)  # resolves an offline alert
            if action not in UNGATED:
                state = stations.get(self.station_id)
                if state is None or not state.accepted:
                    if self.triggered[action] <= 0:
                        raise OcppError(ErrorKind.SECURITY_ERROR,
                                        f"{action} before the station's boot was accepted")
                    self.triggered[action] -= 1
            return await handler(payload)

        return guarded

    def observe_time(self, station_time: datetime | None, late: bool) -> None:
        if not late:
            self.core.stations.observe_clock(self.station_id, station_time,
                                             may_be_queued=self.session.version is OcppVersion.V16)

    def now(self) -> datetime:
        return self.core.clock()
