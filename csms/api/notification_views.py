"""Request and response bodies of the notification API (csms/api/notifications.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from csms.api.reservations import ConnectorType
from csms.notifications.model import MAX_KIND, Notification
from csms.notifications.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER
from csms.notifications.subscriptions import AVAILABILITY, Subscription
from csms.notifications.webhook_targets import MAX_URL, Webhook

MAX_RADIUS_KM = 500.0
MAX_POWER_W = 10_000_000.0


class SubscriptionBody(BaseModel):
    kind: Literal["availability", "approaching"] = Field(
        description="availability: a connector near a place turns free; approaching: a free "
                    "connector near the positions you post.")
    radius_km: float = Field(gt=0, le=MAX_RADIUS_KM)
    connector_type: ConnectorType | None = Field(None, description="Any type when left out.")
    min_power_w: float | None = Field(None, gt=0, le=MAX_POWER_W,
                                      description="At least this power, in W.")
    latitude: float | None = Field(None, ge=-90, le=90,
                                   description="availability: the place (WGS 84 degrees).")
    longitude: float | None = Field(None, ge=-180, le=180)
    label: str | None = Field(None, max_length=100, description="Your name for it, e.g. Home.")

    @model_validator(mode="after")
    def _place_fits_kind(self) -> SubscriptionBody:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        if self.kind == AVAILABILITY and self.latitude is None:
            raise ValueError("an availability subscription needs latitude and longitude")
        if self.kind != AVAILABILITY and self.latitude is not None:
            raise ValueError("an approaching subscription follows your positions; "
                             "leave latitude and longitude out")
        return self


class SubscriptionView(BaseModel):
    id: int
    kind: str
    radius_km: float
    connector_type: str | None
    min_power_w: float | None
    latitude: float | None
    longitude: float | None
    label: str | None
    created_at: datetime | None


class PositionBody(BaseModel):
    latitude: float = Field(ge=-90, le=90, description="WGS 84 degrees.")
    longitude: float = Field(ge=-180, le=180)
    at: datetime | None = Field(None, description="When it was measured (default: now); "
                                                  "a position older than the last is ignored.")

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone (e.g. Z)")
        return value


class NotificationView(BaseModel):
    id: int
    kind: str
    created_at: datetime
    data: dict[str, Any]


class NearbyView(BaseModel):
    subscription_id: int
    station_id: str
    distance_km: float
    state: Literal["watching", "alerted", "taken", "arrived"] = Field(
        description="watching: in range, nothing free; alerted: you were told it is free; "
                    "taken: you were told it was taken; arrived: you are there.")


class PositionResult(BaseModel):
    accepted: bool = Field(description="False: older than the last position, ignored.")
    notifications: list[NotificationView] = Field(
        description="What this position caused (also sent over your channels).")
    nearby: list[NearbyView] = Field(description="Stations your approaching subscriptions "
                                                 "are following now.")


class WebhookBody(BaseModel):
    url: str = Field(min_length=1, max_length=MAX_URL, description="http(s) URL to POST to.")
    secret: str | None = Field(None, min_length=16, max_length=128,
                               description="HMAC key; one is made for you when left out.")
    kinds: list[Annotated[str, Field(min_length=1, max_length=MAX_KIND)]] | None = Field(
        None, max_length=50, description="Kinds or prefixes (e.g. `session`, "
                                         "`payment.declined`); every kind when left out.")


class WebhookView(BaseModel):
    id: int
    url: str
    kinds: list[str] | None
    secret_hint: str = Field(description="The last characters of the secret.")
    created_at: datetime


class WebhookCreated(WebhookView):
    secret: str = Field(description=f"Shown once. Deliveries carry `{TIMESTAMP_HEADER}` and "
                                    f"`{SIGNATURE_HEADER}: sha256=hex(HMAC-SHA256(secret, "
                                    "timestamp + '.' + body))`.")


class SettingsBody(BaseModel):
    session_update_interval_s: int | None = Field(
        None, ge=60, le=86400, description="Energy and cost of a running session this often; "
                                           "none when left out.")
    muted_kinds: list[Annotated[str, Field(min_length=1, max_length=MAX_KIND)]] = Field(
        default_factory=list, max_length=50,
        description="Kinds or prefixes you do not want at all, e.g. `session.progress`.")


class AttemptView(BaseModel):
    at: datetime
    attempt: int
    status_code: int | None
    latency_ms: float | None
    error: str | None
    outcome: Literal["delivered", "retry", "dead"]


class DeliveryView(BaseModel):
    id: int
    notification_id: int
    kind: str | None = None
    webhook_id: int
    account_id: str
    url: str
    state: Literal["pending", "delivered", "dead", "cancelled"]
    attempts: int = Field(description="Attempts in the current round.")
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    dead_at: datetime | None
    redelivered_by: str | None


class DeliveryDetail(DeliveryView):
    attempt_log: list[AttemptView]


class NotificationRecord(NotificationView):
    state: Literal["sent", "held", "coalesced"] = Field(
        description="held: waiting for the rate limit; coalesced: replaced by a later one "
                    "of the same kind before it could be sent.")
    dedup_key: str | None
    sent_at: datetime | None
    deliveries: list[DeliveryView]


class NotificationDetail(NotificationRecord):
    deliveries: list[DeliveryDetail]  # type: ignore[assignment]


class NotificationPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[NotificationRecord]


class DeliveryPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[DeliveryView]


class NotificationStats(BaseModel):
    counters: dict[str, int] = Field(description="sent, duplicate, muted, held, coalesced "
                                                 "since start; held_now; webhook_backlog.")
    live_subscribers: int


def subscription_view(s: Subscription) -> SubscriptionView:
    return SubscriptionView(id=s.id, kind=s.kind, radius_km=s.radius_km,
                            connector_type=s.connector_type, min_power_w=s.min_power_w,
                            latitude=s.latitude, longitude=s.longitude, label=s.label,
                            created_at=s.created_at)


def webhook_view(w: Webhook) -> WebhookView:
    return WebhookView(id=w.id, url=w.url, kinds=list(w.kinds) if w.kinds is not None else None,
                       secret_hint=w.secret_hint, created_at=w.created_at)


def notification_view(n: Notification) -> NotificationView:
    return NotificationView(id=n.id, kind=n.kind, created_at=n.created_at, data=n.data)
