"""Webhooks to a real local HTTP receiver, on SQLite and PostgreSQL: signed deliveries a
receiver can verify, retried after a 500, dead-lettered after N failures (at once when the
receiver refuses) and redelivered by an operator, private receivers refused, and deliveries that
survive a restart."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import httpx

from csms.notifications.signing import signature, verify
from csms.server import RunningCsms
from tests.csms.harness import custom_csms, watch_events
from tests.csms.notification_support import driver_client, webhook_receiver

FAST = {"webhook_allow_private": True, "webhook_backoff_s": 0.01,
        "webhook_backoff_max_s": 0.05, "webhook_max_attempts": 3}


async def test_delivery_is_signed_and_retried_after_a_500(database_url: str,
                                                          tmp_path: Path) -> None:
    async with custom_csms(database_url, tmp_path, **FAST) as (csms, api), \
            webhook_receiver() as receiver:
        driver = await driver_client(csms, api, "acct-hook")
        async with driver:
            made = await driver.post("/api/me/webhooks", json={"url": receiver.url})
            assert made.status_code == 201, made.text
            secret = made.json()["secret"]
            assert made.json()["secret_hint"] == "…" + secret[-4:]
            assert "secret" not in (await driver.get("/api/me/webhooks")).json()[0]

            receiver.statuses.append(500)
            with watch_events(csms, "notification.delivery") as deliveries:
                sent = await csms.core.notifications.notify(
                    "acct-hook", "payment.captured",
                    {"payment_id": "pay_1", "amount": Decimal("12.34"), "currency": "EUR"},
                    dedup_key="payment.captured:pay_1")
                assert sent is not None
                first, second = await receiver.next(), await receiver.next()
                await deliveries.next("notification.delivery", outcome="delivered")

            # The receiver's check: HMAC-SHA256 over timestamp, dot and the raw body.
            for got in (first, second):
                assert got.method == "POST" and got.path == "/hooks/chargeloop"
                assert got.headers["content-type"] == "application/json"
                assert got.headers["x-chargeloop-kind"] == "payment.captured"
                assert verify(secret, got.headers, got.body)
                stamp = int(got.headers["x-chargeloop-timestamp"])
                assert got.headers["x-chargeloop-signature"] == signature(secret, stamp, got.body)
            assert second.body == first.body  # the same payload on every attempt
            assert second.headers["x-chargeloop-delivery"] == first.headers[
                "x-chargeloop-delivery"]
            assert not verify("another-secret-of-16+", second.headers, second.body)
            assert not verify(secret, second.headers, second.body.replace(b"12.34", b"1.34"))
            assert not verify(secret, second.headers, second.body, now=stamp + 3600)
            body = second.json()
            assert body == {"id": sent.id, "kind": "payment.captured", "account_id": "acct-hook",
                            "created_at": body["created_at"],
                            "data": {"payment_id": "pay_1", "amount": "12.34",
                                     "currency": "EUR"}}

            # The delivery log, as the driver sees it.
            detail = (await driver.get(f"/api/me/notifications/{sent.id}")).json()
            [delivery] = detail["deliveries"]
            assert delivery["state"] == "delivered" and delivery["attempts"] == 2
            log = delivery["attempt_log"]
            assert [(a["attempt"], a["outcome"], a["status_code"]) for a in log] == [
                (1, "retry", 500), (2, "delivered", 200)]
            assert log[0]["error"] == "HTTP 500"
            assert all(a["latency_ms"] >= 0 for a in log)


async def test_dead_letter_after_n_failures_and_operator_redelivery(
        database_url: str, tmp_path: Path) -> None:
    async with custom_csms(database_url, tmp_path, **FAST) as (csms, api), \
            webhook_receiver() as receiver:
        driver = await driver_client(csms, api, "acct-dead")
        async with driver:
            assert (await driver.post("/api/me/webhooks", json={
                "url": receiver.url, "secret": "s" * 20})).status_code == 201
            receiver.statuses.extend([503, 503, 503])
            with watch_events(csms, "notification.delivery") as deliveries:
                sent = await csms.core.notifications.notify(
                    "acct-dead", "booking.reminder", {"booking_id": 7})
                assert sent is not None
                for _ in range(3):
                    await receiver.next()
                dead = await deliveries.next("notification.delivery", outcome="dead")
            assert dead.data["attempt"] == 3 and dead.data["status_code"] == 503
            delivery_id = dead.data["delivery_id"]

            letters = (await api.get("/api/notifications/dead-letters")).json()
            assert [d["id"] for d in letters["items"]] == [delivery_id]
            letter = letters["items"][0]
            assert letter["state"] == "dead" and letter["kind"] == "booking.reminder"
            assert letter["account_id"] == "acct-dead" and letter["last_error"] == "HTTP 503"
            assert letter["dead_at"] is not None

            # Only operators redeliver; only dead letters are redelivered.
            forbidden = await driver.post(
                f"/api/notifications/deliveries/{delivery_id}/redeliver")
            assert forbidden.status_code == 403
            with watch_events(csms, "notification.delivery") as deliveries:
                again = await api.post(f"/api/notifications/deliveries/{delivery_id}/redeliver")
                assert again.status_code == 200, again.text
                assert again.json()["state"] == "pending"
                assert (await receiver.next()).json()["id"] == sent.id
                await deliveries.next("notification.delivery", outcome="delivered",
                                      delivery_id=delivery_id)
            detail = (await api.get(f"/api/notifications/deliveries/{delivery_id}")).json()
            assert detail["state"] == "delivered" and detail["redelivered_by"] == "admin"
            assert [(a["outcome"], a["status_code"]) for a in detail["attempt_log"]] == [
                ("retry", 503), ("retry", 503), ("dead", 503), ("delivered", 200)]
            conflict = await api.post(f"/api/notifications/deliveries/{delivery_id}/redeliver")
            assert conflict.status_code == 409 and "not dead" in conflict.json()["detail"]
            missing = await api.post("/api/notifications/deliveries/999999/redeliver")
            assert missing.status_code == 404
            assert (await api.get("/api/notifications/dead-letters")).json()["total"] == 0

            # A receiver that refuses (a 4xx) would refuse again: dead at once, not retried.
            # A webhook for some kinds only gets those (the rest are stored, not posted).
            [hook] = (await driver.get("/api/me/webhooks")).json()
            assert (await driver.delete(f"/api/me/webhooks/{hook['id']}")).status_code == 204
            assert (await driver.post("/api/me/webhooks", json={
                "url": receiver.url, "kinds": ["session"]})).status_code == 201
            receiver.statuses.append(410)
            with watch_events(csms, "notification.delivery") as deliveries:
                quiet = await csms.core.notifications.notify("acct-dead", "ticket.updated", {})
                refused = await csms.core.notifications.notify(
                    "acct-dead", "session.started", {"station_id": "CS-1"})
                assert quiet is not None and refused is not None
                assert (await receiver.next()).json()["kind"] == "session.started"
                dead = await deliveries.next("notification.delivery")
            assert dead.data["outcome"] == "dead" and dead.data["attempt"] == 1
            assert dead.data["error"] == "HTTP 410 (not retried)"
            page = (await driver.get("/api/me/notifications")).json()
            assert [(n["kind"], len(n["deliveries"])) for n in page["items"][:2]] == [
                ("session.started", 1), ("ticket.updated", 0)]


async def test_private_receivers_and_bad_webhooks_are_refused(csms: RunningCsms,
                                                              api: httpx.AsyncClient) -> None:
    driver = await driver_client(csms, api, "acct-ssrf")
    async with driver:
        for url in ("http://127.0.0.1:9/x", "http://localhost/x", "http://10.1.2.3/",
                    "http://[::1]:8080/", "http://169.254.169.254/latest/meta-data",
                    "http://127.1/x", "http://2130706433/"):
            refused = await driver.post("/api/me/webhooks", json={"url": url})
            assert refused.status_code == 422, url
            [error] = refused.json()["detail"]
            assert error["loc"] == ["body", "url"] and "not" in error["msg"], error
        bad = await driver.post("/api/me/webhooks", json={"url": "ftp://example.com/x"})
        assert bad.status_code == 422 and "http" in bad.json()["detail"][0]["msg"]
        short = await driver.post("/api/me/webhooks", json={"url": "https://example.com/h",
                                                            "secret": "short"})
        assert short.status_code == 422 and short.json()["detail"][0]["loc"] == [
            "body", "secret"]
        made = await driver.post("/api/me/webhooks", json={"url": "https://example.com/h"})
        assert made.status_code == 201
        for _ in range(4):
            assert (await driver.post("/api/me/webhooks", json={
                "url": "https://example.com/h"})).status_code == 201
        too_many = await driver.post("/api/me/webhooks", json={"url": "https://example.com/h"})
        assert too_many.status_code == 409 and "already has 5" in too_many.json()["detail"]
        webhook_id = made.json()["id"]
        assert (await driver.delete(f"/api/me/webhooks/{webhook_id}")).status_code == 204
        assert (await driver.delete(f"/api/me/webhooks/{webhook_id}")).status_code == 404
    # Operators have no /api/me: that is for drivers.
    assert (await api.get("/api/me/webhooks")).status_code == 403


async def test_undelivered_notifications_survive_a_restart(database_url: str,
                                                           tmp_path: Path) -> None:
    # A port nobody listens on until the CSMS has been restarted.
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    settings = {**FAST, "webhook_backoff_s": 0.5, "webhook_backoff_max_s": 1.0,
                "webhook_max_attempts": 20}
    async with custom_csms(database_url, tmp_path, **settings) as (csms, api):
        driver = await driver_client(csms, api, "acct-restart")
        async with driver:
            assert (await driver.post("/api/me/webhooks", json={
                "url": f"http://127.0.0.1:{port}/hooks"})).status_code == 201
        with watch_events(csms, "notification.delivery") as deliveries:
            sent = await csms.core.notifications.notify("acct-restart", "receipt.issued",
                                                        {"receipt_id": "rcp_1"})
            assert sent is not None
            failed = await deliveries.next("notification.delivery", outcome="retry")
        assert failed.data["status_code"] is None and "Connect" in failed.data["error"]
    # The CSMS stopped with the delivery pending; it resumes it on the next start.
    async with webhook_receiver(port) as receiver, \
            custom_csms(database_url, tmp_path, **settings) as (csms, api):
        got = await receiver.next()
        assert got.json()["id"] == sent.id and got.json()["kind"] == "receipt.issued"
