"""locustfile: OCPP charging stations as locust users.

    locust -f loadtests/locustfile.py --host ws://127.0.0.1:8180/ocpp --mix sessions-1.6=1

or through ``chargeloop load run`` / ``chargeloop load ui``, which also add the load shapes of
``loadtests/shapes.py``. The four user classes are the behaviours ``--mix`` names; subclass
:class:`~loadtests.station_user.OcppStationUser` for others.
"""

from __future__ import annotations

from typing import Any

from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner

from chargeloop.ocppj.versions import OcppVersion
from loadtests import options, reporting  # noqa: F401 - importing registers options and hooks
from loadtests.settings import parse_mix
from loadtests.station_user import OcppStationUser


class Heartbeat16Station(OcppStationUser):
    """OCPP 1.6: boot, then heartbeats only."""

    version = OcppVersion.V16
    sessions = False


class Heartbeat201Station(OcppStationUser):
    """OCPP 2.0.1: boot, then heartbeats only."""

    version = OcppVersion.V201
    sessions = False


class Sessions16Station(OcppStationUser):
    """OCPP 1.6: boot, heartbeats and charging sessions one after another."""

    version = OcppVersion.V16
    sessions = True


class Sessions201Station(OcppStationUser):
    """OCPP 2.0.1: boot, heartbeats and charging sessions one after another."""

    version = OcppVersion.V201
    sessions = True


@events.init.add_listener
def _apply_mix(environment: Environment, **_: Any) -> None:
    """``--mix`` picks the classes and their weights. Workers keep every class: the master
    tells them which to start."""
    if isinstance(environment.runner, WorkerRunner) or environment.parsed_options is None:
        return
    weights = parse_mix(environment.parsed_options.mix)
    chosen = [cls for cls in environment.user_classes if cls.__name__ in weights]
    for cls in chosen:
        cls.weight = weights[cls.__name__]
    environment.user_classes[:] = chosen
