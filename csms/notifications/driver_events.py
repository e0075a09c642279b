"""What other driver services publish, as notifications for the driver concerned.

Payments (held, declined, captured, released, refunded), receipts, bookings (created, reserved
on the station, reminders, cancelled, expired, no-show, used) and support tickets each publish an
event with the ``account_id`` they concern (docs/driver-services.md); the notification keeps the
event's kind and fields. The dedup key makes the same fact told twice (a retried capture, a
booking reminder published again after a restart) reach the driver once.
"""

from __future__ import annotations

from typing import Any

from csms.events import Event
from csms.notifications.model import Outgoing, plain

FORWARDED_PREFIXES = ("payment.", "receipt.", "booking.", "ticket.")

# The field that identifies what each kind is about; a kind not listed can happen more than
# once for the same thing (partial refunds, ticket messages, a ticket resolved again after
# reopening) and is never deduplicated.
_SUBJECT = {
    "payment.authorized": "payment_id", "payment.declined": "payment_id",
    "payment.captured": "payment_id", "payment.released": "payment_id",
    "receipt.issued": "receipt_id",
    "booking.created": "booking_id", "booking.reserved": "booking_id",
    "booking.cancelled": "booking_id", "booking.expired": "booking_id",
    "booking.no_show": "booking_id", "booking.used": "booking_id",
    "booking.reminder": "booking_id", "booking.failed": "booking_id",
    "ticket.opened": "ticket_id",
}


def forwarded(event: Event) -> Outgoing | None:
    """The notification an event of another driver service makes, if any."""
    if not event.kind.startswith(FORWARDED_PREFIXES):
        return None
    account_id = event.data.get("account_id")
    if not account_id or event.data.get("internal"):
        return None  # nothing for a driver (an agent's internal change, an operator's own)
    if event.kind == "ticket.updated" and event.data.get("by") == "driver":
        return None  # the driver's own message: they know
    data: dict[str, Any] = {k: plain(v) for k, v in event.data.items() if k != "account_id"}
    subject = _SUBJECT.get(event.kind)
    dedup = f"{event.kind}:{data[subject]}" \
        if subject is not None and data.get(subject) is not None else None
    return Outgoing(str(account_id), event.kind, data, dedup)
