"""Research fleet mode: sessions as events with exact analytic energy curves (no per-sample
OCPP traffic), the same vehicle, driver and arrival models as the networked simulation, and
meter series derived afterwards with numpy."""

from simulator.fleet.chargers import ChargerClass, ChargerSpec, spread_chargers
from simulator.fleet.run import FleetArrays, FleetResult, run_fleet

__all__ = ["ChargerClass", "ChargerSpec", "FleetArrays", "FleetResult", "run_fleet",
           "spread_chargers"]
