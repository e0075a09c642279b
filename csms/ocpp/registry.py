"""Live OCPP connections by station id.

A new connection for a station that is already connected replaces the old one cleanly: the old
session is closed and forgotten, and its closing does not mark the station offline (no zombie
sessions, no flapping status).
"""

from __future__ import annotations

import logging

from chargeloop.ocppj import OcppSession

log = logging.getLogger("chargeloop.csms.connections")

REPLACED_CLOSE = 4000  # application code: superseded by a newer connection


class ConnectionRegistry:
    def __init__(self) -> None:
        self._sessions: dict[str, OcppSession] = {}

    def get(self, station_id: str) -> OcppSession | None:
        session = self._sessions.get(station_id)
        return session if session is not None and not session.closed else None

    def __len__(self) -> int:
        return len(self._sessions)

    def ids(self) -> list[str]:
        return list(self._sessions)

    async def attach(self, station_id: str, session: OcppSession) -> None:
        old = self._sessions.get(station_id)
        self._sessions[station_id] = session
        if old is not None and old is not session:
            log.info("%s: new connection replaces the old one", station_id)
            await old.close(REPLACED_CLOSE, "replaced by a newer connection")

    def detach(self, station_id: str, session: OcppSession) -> bool:
        """Forget ``session`` if it is still the current one; True if it was."""
        if self._sessions.get(station_id) is session:
            del self._sessions[station_id]
            return True
        return False

    async def close_all(self) -> None:
        for session in list(self._sessions.values()):
            await session.close(1001, "CSMS shutting down")
        self._sessions.clear()
