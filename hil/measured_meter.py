"""A simulated station's meter that shows what a real meter measured.

Put one in place of an EVSE's simulated meter (:func:`attach`) and feed it the reader's
measurements (:meth:`MeasuredMeter.update`): the station's OCPP MeterValues, transaction start
and stop values and OCMF signatures then carry real measurements. The station's own physics
still runs through :meth:`advance` (so the vehicle fills up as simulated), and what it would have
metered stays readable as :attr:`simulated_wh` for comparison.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.meters import Meter, MeterReading


class MeasuredMeter(Meter):
    """A :class:`~simulator.meters.Meter` whose readings come from outside."""

    def __init__(self, phases: int = 3, nominal_voltage_v: float = 230.0) -> None:
        # no noise: the randomness is in the real world
        super().__init__(np.random.default_rng(0), phases=phases,
                         nominal_voltage_v=nominal_voltage_v)
        self._measured: MeterReading | None = None
        self.updates = 0

    def update(self, reading: MeterReading) -> None:
        self._measured = reading
        self.updates += 1

    @property
    def measured(self) -> MeterReading | None:
        return self._measured

    @property
    def simulated_wh(self) -> float:
        """What the simulation's own meter would show."""
        return super().energy_wh

    @property
    def energy_wh(self) -> float:
        return self._measured.energy_wh if self._measured is not None else 0.0

    @property
    def power_w(self) -> float:
        return self._measured.power_w if self._measured is not None else 0.0

    def reading(self) -> MeterReading:
        if self._measured is None:
            return MeterReading(0.0, 0.0, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), 0.0, 1.0)
        return self._measured


def attach(station: Any, evse_id: int, meter: MeasuredMeter) -> MeasuredMeter:
    """Make ``meter`` the meter of ``station``'s EVSE ``evse_id`` (a SimStation)."""
    station.evse(evse_id).meter = meter
    return meter
