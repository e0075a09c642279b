"""Ticket categories and statuses, and which status may follow which.

::

    open ──────────────> in_progress <──────> waiting_for_driver
      │                     │    ^                   │
      │                     v    │ (reopened)        │
      └────────────────> resolved <──────────────────┘
                            │
                            v
                          closed   (final: a new problem gets a new ticket)

``open`` may also go straight to ``waiting_for_driver`` or ``resolved``. Anything else is a
conflict (HTTP 409). A driver's message moves ``waiting_for_driver`` back to ``in_progress``
(the driver answered) and reopens a ``resolved`` ticket; a ``closed`` ticket takes no messages.
"""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    CABLE_STUCK = "cable_stuck"
    WONT_START = "wont_start"
    WRONG_CHARGE = "wrong_charge"
    PAYMENT = "payment"
    OTHER = "other"


class Status(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING_FOR_DRIVER = "waiting_for_driver"
    RESOLVED = "resolved"
    CLOSED = "closed"


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.IN_PROGRESS, Status.WAITING_FOR_DRIVER, Status.RESOLVED}),
    Status.IN_PROGRESS: frozenset({Status.WAITING_FOR_DRIVER, Status.RESOLVED}),
    Status.WAITING_FOR_DRIVER: frozenset({Status.IN_PROGRESS, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.CLOSED: frozenset(),
}

# Statuses a driver's message moves on from: the driver answered, or the fix did not hold.
AFTER_DRIVER_MESSAGE: dict[Status, Status] = {
    Status.WAITING_FOR_DRIVER: Status.IN_PROGRESS,
    Status.RESOLVED: Status.IN_PROGRESS,
}

# A ticket an agent still has to work on (the default of the agents' list).
UNFINISHED = frozenset({Status.OPEN, Status.IN_PROGRESS, Status.WAITING_FOR_DRIVER})


def may_move(current: Status, wanted: Status) -> bool:
    return wanted in TRANSITIONS[current]


def allowed_text(current: Status) -> str:
    allowed = sorted(TRANSITIONS[current])
    return ", ".join(allowed) if allowed else "nothing (closed is final)"
