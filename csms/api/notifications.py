"""Driver notifications over REST and server-sent events.

Drivers (``/api/me/...``, their own account only): subscriptions (a free connector near a place,
or near them as they drive), the positions their app or car posts, webhooks (URL, secret, kinds),
what they want to hear (session update interval, muted kinds), their notifications with the
delivery log, and the live stream (``/api/me/events``, server-sent events; reconnect with
``Last-Event-ID`` to get what was missed).

Operators and support (``/api/notifications/...``): an account's notifications, every delivery
and its attempts, dead letters, and redelivery of a dead letter.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Literal, get_args

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from csms.api.notification_views import (
    DeliveryDetail,
    DeliveryPage,
    DeliveryView,
    NearbyView,
    NotificationDetail,
    NotificationPage,
    NotificationRecord,
    NotificationStats,
    PositionBody,
    PositionResult,
    SettingsBody,
    SubscriptionBody,
    SubscriptionView,
    WebhookBody,
    WebhookCreated,
    WebhookView,
    notification_view,
    subscription_view,
    webhook_view,
)
from csms.api.schemas import ErrorBody
from csms.api.security import Core, DriverAccount, Operator, Reader
from csms.api.transactions import MAX_PAGE
from csms.core import CsmsCore
from csms.domain.geo import Position
from csms.notifications.live import LiveStream, LiveSubscriber
from csms.notifications.model import MAX_KIND, Notification
from csms.notifications.preferences import Preferences
from csms.notifications.service import InvalidWebhook, NotificationService
from csms.notifications.store import DELIVERY_STATES
from csms.notifications.subscriptions import TooManySubscriptions
from csms.notifications.webhook_targets import TooManyWebhooks

router = APIRouter(tags=["notifications"])

KEEPALIVE_S = 15.0
NOT_FOUND = {404: {"model": ErrorBody, "description": "Not found (or not yours)."}}
CONFLICT = {409: {"model": ErrorBody, "description": "Too many of them already."}}
KIND_HELP = ("session.started, session.suspended, session.resumed, session.progress, "
             "session.idle_fee_started, session.fault, session.completed, availability.free, "
             "approaching.free, approaching.taken, payment.*, receipt.issued, booking.*, "
             "ticket.*")


def _field_error(where: str, field: str, message: str) -> HTTPException:
    return HTTPException(422, [{"loc": [where, field], "msg": message, "type": "value_error"}])


def _notifications(core: CsmsCore) -> NotificationService:
    return core.notifications


# -- driver: subscriptions, positions, webhooks, settings -----------------------------------------

@router.get("/api/me/subscriptions", response_model=list[SubscriptionView],
            summary="My availability and approaching subscriptions")
async def list_subscriptions(core: Core, account: DriverAccount) -> list[SubscriptionView]:
    return [subscription_view(s)
            for s in _notifications(core).subscriptions.of_account(account)]


@router.post("/api/me/subscriptions", response_model=SubscriptionView,
             status_code=status.HTTP_201_CREATED, responses=CONFLICT,
             summary="Subscribe: a matching connector turns free near a place, or near me")
async def create_subscription(body: SubscriptionBody, core: Core,
                              account: DriverAccount) -> SubscriptionView:
    place = Position(body.latitude, body.longitude) \
        if body.latitude is not None and body.longitude is not None else None
    try:
        created = await _notifications(core).subscribe(
            account, body.kind, body.radius_km, connector_type=body.connector_type,
            min_power_w=body.min_power_w, place=place, label=body.label)
    except TooManySubscriptions as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return subscription_view(created)


@router.delete("/api/me/subscriptions/{subscription_id}", status_code=204,
               response_class=Response, responses=NOT_FOUND, summary="Unsubscribe")
async def delete_subscription(subscription_id: int, core: Core,
                              account: DriverAccount) -> Response:
    if not await _notifications(core).unsubscribe(account, subscription_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no subscription {subscription_id}")
    return Response(status_code=204)


@router.post("/api/me/positions", response_model=PositionResult,
             summary="Where I am now (approaching subscriptions match against it)")
async def post_position(body: PositionBody, core: Core,
                        account: DriverAccount) -> PositionResult:
    service = _notifications(core)
    made, accepted = await service.position(account, Position(body.latitude, body.longitude),
                                            body.at)
    return PositionResult(
        accepted=accepted, notifications=[notification_view(n) for n in made],
        nearby=[NearbyView(subscription_id=n.subscription_id, station_id=n.station_id,
                           distance_km=n.distance_km, state=n.state)  # type: ignore[arg-type]
                for n in service.approaching.nearby(account)])


@router.get("/api/me/webhooks", response_model=list[WebhookView], summary="My webhooks")
async def list_webhooks(core: Core, account: DriverAccount) -> list[WebhookView]:
    return [webhook_view(w) for w in _notifications(core).webhooks.of_account(account)]


@router.post("/api/me/webhooks", response_model=WebhookCreated,
             status_code=status.HTTP_201_CREATED, responses=CONFLICT,
             summary="Add a webhook (its secret is shown once)")
async def create_webhook(body: WebhookBody, core: Core, account: DriverAccount) -> WebhookCreated:
    try:
        webhook = await _notifications(core).add_webhook(
            account, body.url, body.secret, tuple(body.kinds) if body.kinds is not None
            else None)
    except InvalidWebhook as exc:
        raise _field_error("body", exc.field, exc.reason) from exc
    except TooManyWebhooks as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return WebhookCreated(**webhook_view(webhook).model_dump(), secret=webhook.secret)


@router.delete("/api/me/webhooks/{webhook_id}", status_code=204, response_class=Response,
               responses=NOT_FOUND,
               summary="Remove a webhook (its pending deliveries are cancelled)")
async def delete_webhook(webhook_id: int, core: Core, account: DriverAccount) -> Response:
    if not await _notifications(core).delete_webhook(account, webhook_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no webhook {webhook_id}")
    return Response(status_code=204)


@router.get("/api/me/notification-settings", response_model=SettingsBody,
            summary="What I want to hear: session update interval, muted kinds")
async def get_settings(core: Core, account: DriverAccount) -> SettingsBody:
    chosen = _notifications(core).preferences.get(account)
    return SettingsBody(session_update_interval_s=chosen.session_update_interval_s,
                        muted_kinds=list(chosen.muted_kinds))


@router.put("/api/me/notification-settings", response_model=SettingsBody,
            summary="Choose the session update interval and muted kinds")
async def put_settings(body: SettingsBody, core: Core, account: DriverAccount) -> SettingsBody:
    await _notifications(core).set_preferences(account, Preferences(
        body.session_update_interval_s, tuple(body.muted_kinds)))
    return body


# -- driver: notifications and the live stream ---------------------------------------------------

@router.get("/api/me/notifications", response_model=NotificationPage,
            summary="My notifications, newest first, with their webhook deliveries")
async def list_my_notifications(
        core: Core, account: DriverAccount,
        kind: Annotated[str | None, Query(max_length=MAX_KIND,
                                          description="A kind or prefix: " + KIND_HELP)] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0) -> NotificationPage:
    total, rows = await _notifications(core).store.notifications_page(account, kind, limit,
                                                                      offset)
    return NotificationPage(total=total, limit=limit, offset=offset,
                            items=[NotificationRecord(**r) for r in rows])


@router.get("/api/me/notifications/{notification_id}", response_model=NotificationDetail,
            responses=NOT_FOUND, summary="One of my notifications with its delivery log")
async def get_my_notification(notification_id: int, core: Core,
                              account: DriverAccount) -> NotificationDetail:
    row = await _notifications(core).store.notification(account, notification_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no notification {notification_id}")
    return NotificationDetail(**row)


def _frame(notification: Notification) -> bytes:
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (
        notification.id, notification.kind.encode(), notification.body())


async def _live_frames(service: NotificationService, live: LiveStream,
                       subscriber: LiveSubscriber, last_id: int | None,
                       request: Request) -> AsyncIterator[bytes]:
    try:
        yield b": connected\n\n"
        newest = last_id or 0
        if last_id is not None:
            # Subscribed before reading the outbox: nothing falls between the two; what
            # arrives live and was already replayed is skipped by its id.
            for missed in await service.store.after(subscriber.account_id, last_id):
                newest = max(newest, missed.id)
                yield _frame(missed)
        dropped = 0
        while not await request.is_disconnected():
            try:
                notification = await asyncio.wait_for(subscriber.queue.get(), KEEPALIVE_S)
            except TimeoutError:
                yield b": keepalive\n\n"
                continue
            if subscriber.dropped != dropped:
                yield b": %d notifications dropped (reconnect with Last-Event-ID)\n\n" % (
                    subscriber.dropped - dropped)
                dropped = subscriber.dropped
            if notification.id > newest:
                newest = notification.id
                yield _frame(notification)
    finally:
        live.unsubscribe(subscriber)


@router.get("/api/me/events", summary="My notifications live, as text/event-stream",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "One SSE frame per notification: `id:` its id, "
                                            "`event:` its kind, `data:` the JSON a webhook "
                                            "gets."}})
async def my_events(request: Request, core: Core, account: DriverAccount,
                    last_event_id: Annotated[str | None, Header(
                        description="Resume after this notification id (sent by "
                                    "EventSource on reconnect).")] = None,
                    ) -> StreamingResponse:
    last_id: int | None = None
    if last_event_id is not None:
        if not last_event_id.strip().isdigit():
            raise _field_error("header", "last-event-id", "must be a notification id")
        last_id = int(last_event_id.strip())
    service = _notifications(core)
    subscriber = service.live.subscribe(account)
    return StreamingResponse(_live_frames(service, service.live, subscriber, last_id, request),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# -- operators: the delivery log, dead letters, redelivery ---------------------------------------

DeliveryState = Literal["pending", "delivered", "dead", "cancelled"]
assert set(get_args(DeliveryState)) == set(DELIVERY_STATES)


@router.get("/api/notifications", response_model=NotificationPage,
            summary="A driver account's notifications, newest first (support view)")
async def list_account_notifications(
        core: Core, _: Reader,
        account_id: Annotated[str, Query(min_length=1, max_length=64)],
        kind: Annotated[str | None, Query(max_length=MAX_KIND,
                                          description="A kind or prefix.")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0) -> NotificationPage:
    total, rows = await _notifications(core).store.notifications_page(account_id, kind, limit,
                                                                      offset)
    return NotificationPage(total=total, limit=limit, offset=offset,
                            items=[NotificationRecord(**r) for r in rows])


@router.get("/api/notifications/deliveries", response_model=DeliveryPage,
            summary="Webhook deliveries, newest first (filter by state, account, webhook)")
async def list_deliveries(
        core: Core, _: Reader,
        state: DeliveryState | None = None,
        account_id: Annotated[str | None, Query(max_length=64)] = None,
        webhook_id: int | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0) -> DeliveryPage:
    total, rows = await _notifications(core).store.deliveries_page(
        state=state, account_id=account_id, webhook_id=webhook_id, limit=limit, offset=offset)
    return DeliveryPage(total=total, limit=limit, offset=offset,
                        items=[DeliveryView(**r) for r in rows])


@router.get("/api/notifications/dead-letters", response_model=DeliveryPage,
            summary="Dead letters: deliveries that failed too often, newest first")
async def list_dead_letters(
        core: Core, _: Reader,
        account_id: Annotated[str | None, Query(max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0) -> DeliveryPage:
    total, rows = await _notifications(core).store.deliveries_page(
        state="dead", account_id=account_id, webhook_id=None, limit=limit, offset=offset)
    return DeliveryPage(total=total, limit=limit, offset=offset,
                        items=[DeliveryView(**r) for r in rows])


@router.get("/api/notifications/deliveries/{delivery_id}", response_model=DeliveryDetail,
            responses=NOT_FOUND, summary="One delivery with every attempt")
async def get_delivery(delivery_id: Annotated[int, Path(ge=1)], core: Core,
                       _: Reader) -> DeliveryDetail:
    row = await _notifications(core).store.delivery(delivery_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no delivery {delivery_id}")
    return DeliveryDetail(**row)


@router.post("/api/notifications/deliveries/{delivery_id}/redeliver",
             response_model=DeliveryView,
             responses={**NOT_FOUND, 409: {"model": ErrorBody,
                                           "description": "Not a dead letter."}},
             summary="Send a dead letter again (a new round of attempts)")
async def redeliver(delivery_id: Annotated[int, Path(ge=1)], core: Core,
                    who: Operator) -> DeliveryView:
    service = _notifications(core)
    row = await service.redeliver(delivery_id, who.name)
    if row is None:
        existing = await service.store.delivery(delivery_id)
        if existing is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no delivery {delivery_id}")
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"delivery {delivery_id} is {existing['state']}, not dead: only "
                            "dead letters are redelivered")
    return DeliveryView(**row, kind=None)


@router.get("/api/notifications/stats", response_model=NotificationStats,
            summary="Notification counters: sent, dropped duplicates, muted, held, coalesced")
async def notification_stats(core: Core, _: Reader) -> NotificationStats:
    service = _notifications(core)
    return NotificationStats(counters=service.stats(),
                             live_subscribers=service.live.subscriber_count)
