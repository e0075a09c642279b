"""Driver notifications: what a driver is told, and how it reaches them.

Other services publish what happened on the event bus (``transaction.*``, ``payment.*``,
``booking.*``, ...) or call :meth:`NotificationService.notify`; this package turns that into
notifications for a driver account, drops duplicates and what exceeds the rate limits, keeps
each one (the outbox), and delivers it over the account's channels: signed webhooks, retried
with back-off and dead-lettered after too many failures, and a live stream (server-sent
events). Modules, one idea each:

* ``model``: a notification and its wire form;
* ``throttle``: deduplication and the per-account, per-kind token buckets;
* ``store``: the outbox, deliveries and the delivery log in the database;
* ``signing``: the webhook signature (what receivers check);
* ``webhook_targets`` and ``dispatcher``: where webhooks go, and the delivery worker;
* ``live``: the per-account live stream;
* ``preferences`` and ``subscriptions``: what each driver asked for;
* ``stations``: the station facts matching needs (position, matching free connectors);
* ``availability`` and ``approaching``: "a charger near X / near me is free";
* ``sessions``: a driver's session as it goes (started, suspended, progress, completed, ...);
* ``driver_events``: payments, receipts, bookings and tickets as notifications;
* ``service``: :class:`NotificationService`, which wires them together.
"""

from csms.notifications.service import NotificationService

__all__ = ["NotificationService"]
