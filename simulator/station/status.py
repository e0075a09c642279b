"""Connector statuses: what each EVSE, and the station as a whole (1.6 connector 0), reports
(Reserved where a reservation holds a free EVSE); reported when it changes, and again after a
boot or a reconnect.

:class:`StatusMixin` is one part of :class:`~simulator.station.station.SimStation` and works
only there. Its state is each EVSE's ``sent_status`` and ``acked_status`` and the station's
``_station_sent_status`` and ``station_acked_status`` (set up in ``SimStation.__init__``). It
relies on the station's ``env``, ``id``, ``evses``, ``proto``, ``reservations``,
``recorder``, ``fault_code``, ``enqueue()`` (:mod:`.connection`), ``_wake()``
(:mod:`.power`) and ``_wake_timer()`` (:mod:`.timer`).
"""

from __future__ import annotations

from simulator.station.evse import EvseState
from simulator.station.reservations import EvseAvailability


class StatusMixin:
    """SimStation's connector statuses (see the module)."""

    # -- status ------------------------------------------------------------------------------------

    def status_of(self, evse: EvseState) -> str:
        """The connector status to report now: the version's status of the EVSE's state, or
        Reserved where a reservation holds a free EVSE."""
        status = self.proto.connector_status(evse)
        if status == "Available" and len(self.reservations) and \
                evse.id in self.reservations.reserved_evses(self.reservation_view()):
            return "Reserved"
        return status

    def reservation_view(self, free: EvseState | None = None) -> dict[int, EvseAvailability]:
        """EVSE states as reservations read them; ``free`` (the EVSE a driver is at, cable in
        but nothing started) counts as free, so that its reservation still holds."""
        return {e.id: EvseAvailability("Available" if e is free else
                                       self.proto.connector_status(e),
                                       tuple(c.type for c in e.spec.connectors))
                for e in self.evses}

    def refresh_all(self) -> None:
        """Report every EVSE whose status changed (after reservations, availability ...)."""
        for evse in self.evses:
            self._refresh(evse)
        self._refresh_station()
        # a new reservation may expire before the timer's next wake-up (a heartbeat away)
        self._wake_timer()

    def _refresh(self, evse: EvseState, trigger: str | None = None) -> None:
        status = self.status_of(evse)
        if status != evse.sent_status:
            evse.sent_status = status
            self.recorder.status(self.id, evse.id, evse.connector_id, self.env.now, status,
                                 evse.fault)
            for message in self.proto.status_messages(evse, status):
                self.enqueue(message)
        self.proto.after_refresh(evse, trigger)

    def _refresh_station(self) -> None:
        status = self.proto.station_status()
        if status is None or status == self._station_sent_status:
            return
        self._station_sent_status = status
        self.recorder.status(self.id, 0, 0, self.env.now, status, self.fault_code)
        for message in self.proto.station_status_messages(status):
            self.enqueue(message)

    def _report_statuses(self, everything: bool) -> None:
        """After a boot (``everything``) or a reconnect (what the CSMS has not heard)."""
        status = self.proto.station_status()
        if status is not None:
            if self._station_sent_status is None:
                self._station_sent_status = status
                self.recorder.status(self.id, 0, 0, self.env.now, status, self.fault_code)
            if everything or self.station_acked_status != status:
                for message in self.proto.station_status_messages(status):
                    self.enqueue(message)
        for evse in self.evses:
            status = self.status_of(evse)
            if status != evse.sent_status:
                self._refresh(evse)
            elif everything or evse.acked_status != status:
                for message in self.proto.status_messages(evse, status):
                    self.enqueue(message)
