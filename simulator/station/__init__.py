"""The simulated charging station (OCPP 1.6J and 2.0.1): see :class:`SimStation`."""

from simulator.station.link import BackendUnreachable, Link
from simulator.station.recorder import Recorder
from simulator.station.spec import ConnectorSpec, EvseSpec, MeterSpec, StationSpec
from simulator.station.station import SimStation, Verdict

__all__ = ["BackendUnreachable", "ConnectorSpec", "EvseSpec", "Link", "MeterSpec", "Recorder",
           "SimStation", "StationSpec", "Verdict"]
