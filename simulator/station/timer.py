"""The station's timer: one process for heartbeats, clock-aligned meter values (and 2.0.1's
clock-aligned samples for Ended events) and reservation expiry; and the sampled values of a
meter reading, signed where the meter or SignReadings asks for it.

:class:`TimerMixin` is one part of :class:`~simulator.station.station.SimStation` and works
only there. Its state is the station's ``_timer_wake``, ``_next_heartbeat``, ``_next_aligned``
and ``_readings_signer`` (set up in ``SimStation.__init__``) and the class default below. It
relies on the station's ``env``, ``clock``, ``clock_skew_s``, ``id``, ``version``,
``settings``, ``evses``, ``proto``, ``reservations``, ``recorder``, ``signer``, ``_online``,
``_stopped``, ``utc()``, ``timestamp()``, ``event()``, ``enqueue()`` (:mod:`.connection`)
and ``refresh_all()`` (:mod:`.status`).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from chargeloop.ocppj import OcppVersion
from simulator.meters import sampled_values
from simulator.station.evse import EvseState, Transaction

if TYPE_CHECKING:
    from simulator.ocmf import OcmfSigner

Gen = Generator[Any, Any, Any]


class TimerMixin:
    """SimStation's heartbeat, clock-aligned samples and reservation expiry (see the module)."""

    # -- timers ------------------------------------------------------------------------------------

    def _heartbeat_from_boot(self, interval: int) -> None:
        """The boot answer's interval becomes the heartbeat interval (and the setting)."""
        self.proto.store_heartbeat_interval(interval)

    def _wake_timer(self) -> None:
        wake = self._timer_wake
        if wake is not None and not wake.triggered:
            wake.succeed()

    def _aligned_after(self, t: float, every: float | None = None) -> float:
        """The next clock-aligned moment after ``t`` (default: of AlignedDataCtrlr.Interval,
        else of ``every`` seconds)."""
        interval = self.settings.aligned_interval_s if every is None else every
        epoch = self.clock.start_utc.timestamp()
        return (math.floor((epoch + t) / interval + 1e-9) + 1) * interval - epoch

    def _timer(self) -> Gen:
        """Heartbeats, clock-aligned meter values and reservation expiry: one process."""
        env = self.env
        while not self._stopped:
            now = env.now
            aligned = self.settings.aligned_interval_s
            if aligned > 0 and self._next_aligned is None:
                self._next_aligned = self._aligned_after(now)
            due_aligned = self._next_aligned if aligned > 0 and self._next_aligned is not None \
                else math.inf
            expiry = self.reservations.next_expiry()
            due_expiry = math.inf if expiry is None else self.clock.seconds(expiry) - \
                self.clock_skew_s
            due_ended = self._due_aligned_ended(now)
            due = min(self._next_heartbeat, due_aligned, due_expiry, due_ended)
            self._timer_wake = env.event()
            if math.isfinite(due):
                yield env.any_of([env.timeout(max(0.0, due - now)), self._timer_wake])
            else:
                yield self._timer_wake
            now = env.now
            if self._online and now >= self._next_heartbeat - 1e-9:
                interval = self.settings.heartbeat_interval_s
                self._next_heartbeat = now + interval if interval > 0 else math.inf
                self.enqueue(self.proto.heartbeat_message())
            if self._next_aligned is not None and self.settings.aligned_interval_s > 0 and \
                    now >= self._next_aligned - 1e-9:
                self._next_aligned = self._aligned_after(now)
                self._aligned_sample()
            if now >= due_ended - 1e-9:
                self._next_aligned_ended = None
                self._aligned_ended_sample()
            if len(self.reservations):
                for reservation in self.reservations.expired(self.utc()):
                    self.event("reservation_expired", str(reservation.id))
                    self.proto.reservation_ended(reservation.id, "Expired")
                self.refresh_all()

    _next_aligned_ended: float | None = None

    def _due_aligned_ended(self, now: float) -> float:
        """2.0.1: when the next clock-aligned sample for Ended events is due (inf: none
        configured, AlignedDataCtrlr.TxEndedInterval 0 or no TxEndedMeasurands)."""
        settings = self.settings
        every = settings.aligned_tx_ended_interval_s
        if self.version is not OcppVersion.V201 or every <= 0 or \
                not settings.aligned_tx_ended_measurands:
            return math.inf
        if self._next_aligned_ended is None:
            self._next_aligned_ended = self._aligned_after(now, every)
        return self._next_aligned_ended

    def _aligned_ended_sample(self) -> None:
        """Each running transaction keeps a clock-aligned sample of
        AlignedDataCtrlr.TxEndedMeasurands for its Ended event (J02)."""
        for evse in self.evses:
            tx = evse.tx
            if tx is not None:
                evse.settle(self.env.now)
                values = self.sample(evse, "Sample.Clock",
                                     self.settings.aligned_tx_ended_measurands, tx)
                if values:
                    tx.ended_values.append({"timestamp": self.timestamp(),
                                            "sampledValue": values})

    def _aligned_sample(self) -> None:
        if self.settings.aligned_send_during_idle and \
                any(evse.tx is not None for evse in self.evses):
            return  # AlignedDataCtrlr.SendDuringIdle: none while a transaction runs (TC_J_06)
        for evse in self.evses:
            evse.settle(self.env.now)
            if evse.tx is not None:
                self.proto.tx_sample(evse, evse.tx, "Sample.Clock")
            else:
                self.proto.meter_values(evse, "Sample.Clock")

    def sample(self, evse: EvseState, context: str, measurands: Iterable[str],
               tx: Transaction | None) -> list[dict[str, Any]]:
        """SampledValues of ``evse``'s meter now, recorded in the meter values table."""
        reading = evse.meter.reading()
        self.recorder.meter_value(self.id, evse.id, tx.local_id if tx is not None else None,
                                  self.env.now, context, reading.energy_wh, reading.power_w)
        vehicle = evse.vehicle
        soc = vehicle.soc if vehicle is not None and evse.spec.kind == "DC" else None
        signer = self._signer_for(context)
        return sampled_values(reading, measurands, version=self.version.value, context=context,
                              phases_wanted=evse.spec.phases, soc=soc, signer=signer,
                              timestamp=self.utc() if signer is not None else None,
                              id_tag=tx.id_token if tx is not None else None)

    def _signer_for(self, context: str) -> OcmfSigner | None:
        """A signing meter signs every reading; otherwise 2.0.1 SignReadings (AlignedDataCtrlr
        for clock-aligned values, SampledDataCtrlr for the others) asks for signed values,
        from a key of the station's own (TC_J_04, TC_J_11)."""
        if self.signer is not None:
            return self.signer
        settings = self.settings
        wanted = settings.aligned_sign_readings if context == "Sample.Clock" \
            else settings.sampled_sign_readings
        if context == "Transaction.Begin" and self.version is OcppVersion.V201 and \
                self.proto.starts_on_signed_data():  # type: ignore[attr-defined]
            wanted = True  # TxStartPoint DataSigned: the start is a signed reading
        if not wanted:
            return None
        if self._readings_signer is None:
            from simulator.ocmf import OcmfSigner

            seed = zlib.crc32(self.id.encode())  # its own key, the station's rng untouched
            self._readings_signer = OcmfSigner(rng=np.random.default_rng(seed),
                                               meter_serial=f"{self.id}-METER"[:25])
        return self._readings_signer
