"""The load test's knobs as locust command-line options (and web UI fields).

locust sends these options from the master to its workers, so a distributed run needs them
only on the master's command line. Importing this module registers them.
"""

from __future__ import annotations

from typing import Any

from locust import events

from chargeloop.ocppj.schemas import ValidationMode
from loadtests import settings
from loadtests.settings import DEFAULT_MIX, StationTiming
from loadtests.shape_plan import SHAPES


@events.init_command_line_parser.add_listener
def _add_options(parser: Any) -> None:
    # Plain arguments, not groups: only parser.add_argument knows include_in_web_ui.
    group = shape = report = parser
    group.add_argument("--mix", default=DEFAULT_MIX, include_in_web_ui=False,
                       help="Behaviours and weights, e.g. 'sessions-1.6=3,heartbeat-2.0.1=1' "
                            f"(behaviours: {', '.join(settings.BEHAVIOURS)}).")
    group.add_argument("--station-prefix", default="LOAD", include_in_web_ui=True,
                       help="Station ids are <prefix>-<worker>-<n>; each is also its id token.")
    group.add_argument("--station-password", default="", include_in_web_ui=False,
                       help="HTTP Basic auth password of every station (security profile 1).")
    group.add_argument("--speed", type=float, default=1.0, include_in_web_ui=True,
                       help="Divide every station interval by this (60: a minute a second).")
    group.add_argument("--heartbeat-interval", type=float, default=0.0,
                       include_in_web_ui=True,
                       help="Seconds between heartbeats; 0: what the CSMS says at boot.")
    group.add_argument("--meter-interval", type=float, default=60.0, include_in_web_ui=True,
                       help="Seconds between meter values during a session.")
    group.add_argument("--session-duration", type=float, default=1200.0,
                       include_in_web_ui=True, help="Seconds a session charges.")
    group.add_argument("--session-pause", type=float, default=600.0, include_in_web_ui=True,
                       help="Seconds between sessions (the first starts within one pause).")
    group.add_argument("--call-timeout", type=float, default=30.0,
                       help="Wall seconds to wait for a CALLRESULT (not divided by --speed).")
    group.add_argument("--connect-timeout", type=float, default=30.0,
                       help="Wall seconds for the WebSocket handshake.")
    group.add_argument("--reconnect-at", type=float, default=0.0,
                       help="Reconnect storm: wall seconds after the start when every station "
                            "drops its connection; 0: none.")
    group.add_argument("--reconnect-within", type=float, default=5.0,
                       help="Reconnect storm: stations come back spread over these seconds.")
    group.add_argument("--validation", default="strict", choices=["strict", "lenient", "off"],
                       help="Schema checks of what the CSMS sends.")
    group.add_argument("--seed", type=int, default=0, help="Seed of every station's randomness.")
    shape.add_argument("--shape", default="steady", choices=SHAPES,
                       help="steady, ramp, boot-storm, reconnect-storm or soak.")
    shape.add_argument("--stations", type=int, default=10, help="How many stations.")
    shape.add_argument("--shape-duration", type=float, default=60.0,
                       help="Seconds the shape runs, then the test stops.")
    shape.add_argument("--arrive-within", type=float, default=0.0,
                       help="Seconds in which all stations connect (boot storm: the storm; "
                            "ramp: the ramp; 0: the shape's default).")
    report.add_argument("--summary-json", default="",
                        help="Write the run's figures as JSON here when it ends.")


def timing(parsed: Any) -> StationTiming:
    return StationTiming(
        speed=parsed.speed, heartbeat_interval_s=parsed.heartbeat_interval,
        meter_interval_s=parsed.meter_interval, session_duration_s=parsed.session_duration,
        session_pause_s=parsed.session_pause, call_timeout_s=parsed.call_timeout,
        connect_timeout_s=parsed.connect_timeout, reconnect_at_s=parsed.reconnect_at,
        reconnect_within_s=parsed.reconnect_within)


def password(parsed: Any) -> str | None:
    return parsed.station_password or None


def validation(parsed: Any) -> ValidationMode:
    return settings.validation_mode(parsed.validation)


def prefix(parsed: Any) -> str:
    return settings.check_prefix(parsed.station_prefix)


def seed(parsed: Any) -> int:
    return int(parsed.seed)
