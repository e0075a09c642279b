"""A deliberately faulty CSMS for the conformance suite's negative controls.

It is the reference CSMS behind a WebSocket proxy that breaks one rule on purpose: it rewrites
the frames a case checks (a Rejected boot, a Reset with an evseId, an Accepted blocked token),
picks the wrong subprotocol, or waves any credentials through. A conformance case must fail
against the proxy that breaks its rule: that is the proof the case can fail.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import ssl
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.asyncio.server import ServerConnection, serve

from conformance.harness_station import CASE_HEADER

Payload = dict[str, Any]


@dataclass
class Faults:
    """What the proxy breaks. Rewrites get a payload and return the payload to pass on."""

    # the CSMS's answers to the station's CALLs, by action
    answers: dict[str, Callable[[Payload], Payload]] = field(default_factory=dict)
    # the same, seeing the station's request too: (request, answer) -> answer
    answers_to: dict[str, Callable[[Payload, Payload], Payload]] = field(default_factory=dict)
    # the CSMS's CALLs to the station, by action
    calls: dict[str, Callable[[Payload], Payload]] = field(default_factory=dict)
    # the CSMS's CALLs that never reach the station
    drop_calls: frozenset[str] = frozenset()
    # pick a subprotocol from those offered (default: the first the CSMS supports)
    select_subprotocol: Callable[[Sequence[str]], str | None] | None = None
    # let any Basic auth credentials in (the proxy logs in upstream with the right ones)
    accept_any_credentials: bool = False
    # refuse every WebSocket upgrade with HTTP 401, right credentials or not
    refuse_connections: bool = False
    # CALLERROR codes of the CSMS rewritten (its error answers "wrong")
    error_code: Callable[[str], str] | None = None
    # close the station's connection after a frame this says yes to (None: not a JSON array)
    close_on: Callable[[list[Any] | None], bool] | None = None
    # "crash": after a station frame this says yes to (raw frame, frames so far), close and
    # refuse every later connection of the case with 503
    crash_on: Callable[[str | bytes, int], bool] | None = None
    # answer a CALLRESULT the CSMS never asked for with a CALLERROR
    reply_to_stray_results: bool = False
    # drop a station CALL whose id was already used on the connection (a retransmission)
    drop_repeated_ids: bool = False
    # station frames that are not a JSON array never reach the CSMS (one that silently drops
    # what it cannot read: tolerated, except in strict mode)
    drop_unreadable: bool = False
    # drop a station CALL sent while another is unanswered or came less than 0.5 s before it
    # (the second of two pipelined CALLs, however fast the CSMS answered the first)
    drop_overlapping_calls: bool = False
    # station CALLs (by action) this says yes to are answered by the proxy with a CALLERROR
    # InternalError and never reach the CSMS (a CSMS that cannot take that message)
    fail_calls: dict[str, Callable[[Payload], bool]] = field(default_factory=dict)
    # the station's answers to the CSMS's CALLs, by action, rewritten before the CSMS sees them
    # (a CSMS that takes an answer for another: a password change Accepted as Rejected, ...)
    station_answers: dict[str, Callable[[Payload], Payload]] = field(default_factory=dict)


class FaultyCsms:
    """The proxy, serving on its own thread and event loop (the suite runs beside it).

    ``faults`` maps case ids to what to break for that case's connections (the suite sends its
    case id with each handshake, ``X-Conformance-Case``), so one run of the whole suite puts
    every case against the CSMS that breaks its own rule. A connection of any other case gets
    a faithful relay.
    """

    def __init__(self, upstream_ocpp_url: str, faults: dict[str, Faults],
                 passwords: dict[str, str] | None = None, *,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.upstream = upstream_ocpp_url.rstrip("/")
        self.faults_by_case = faults
        self.passwords = passwords or {}
        # wss:// with this (faulty) TLS configuration; a station that sends no credentials
        # (mutual TLS) is logged in upstream with its password, as if its certificate said who
        # it is
        self.ssl_context = ssl_context
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Future[None] | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._upstreams: dict[ServerConnection, Any] = {}
        self._crashed: set[str] = set()

    @contextlib.contextmanager
    def running(self) -> Iterator[FaultyCsms]:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the faulty CSMS proxy did not start")
        try:
            yield self
        finally:
            self._loop.call_soon_threadsafe(self._finish)
            self._thread.join(10)

    def _finish(self) -> None:
        if self._stop is not None and not self._stop.done():
            self._stop.set_result(None)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stop = self._loop.create_future()

        def choose(connection: ServerConnection, offered: Sequence[str]) -> str | None:
            select = self._faults(connection.request).select_subprotocol
            if select is not None:
                return select(offered)
            return next((p for p in offered if p in ("ocpp1.6", "ocpp2.0.1")), None)

        async def open_upstream(connection: ServerConnection, request: Any) -> Any:
            """Log in upstream before accepting the station, so a refusal there is a refusal
            here (with the same HTTP status)."""
            faults = self._faults(request)
            if request.headers.get(CASE_HEADER, "") in self._crashed:
                return connection.respond(503, "the faulty CSMS has crashed\n")
            if faults.refuse_connections:
                return connection.respond(401, "refused by the faulty CSMS\n")
            identity = request.path.rstrip("/").rsplit("/", 1)[-1]
            headers = {}
            auth = request.headers.get("Authorization")
            sign_in = faults.accept_any_credentials or (self.ssl_context is not None
                                                        and not auth)
            if sign_in and identity in self.passwords:
                secret = f"{identity}:{self.passwords[identity]}".encode()
                headers["Authorization"] = "Basic " + base64.b64encode(secret).decode()
            elif auth:
                headers["Authorization"] = auth
            offered = [p.strip() for p in
                       request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
            subprotocol = next((p for p in offered if p in ("ocpp1.6", "ocpp2.0.1")),
                               "ocpp2.0.1")
            try:
                self._upstreams[connection] = await websockets.connect(
                    f"{self.upstream}/{identity}", subprotocols=[subprotocol],  # type: ignore[list-item]
                    additional_headers=headers, proxy=None, max_size=None)
            except websockets.InvalidStatus as exc:
                return connection.respond(exc.response.status_code, "refused upstream\n")
            return None

        async with serve(self._relay, "127.0.0.1", 0, select_subprotocol=choose,
                         subprotocols=["ocpp1.6", "ocpp2.0.1", "ocpp9.9"],
                         process_request=open_upstream, max_size=None,
                         ssl=self.ssl_context) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            self.url = (f"wss://localhost:{port}/ocpp" if self.ssl_context
                        else f"ws://127.0.0.1:{port}/ocpp")
            self._ready.set()
            await self._stop

    def _note_password(self, identity: str, password: str | None, answer: Any) -> None:
        """The CSMS now holds ``password`` for ``identity`` if the answer it got accepted it:
        signing in upstream for a station (``accept_any_credentials``, mutual TLS) uses the
        password the CSMS has, not the one it had when the run began (the password cases of
        a broken run leave it changed)."""
        if password is None or not isinstance(answer, dict):
            return
        if any(r.get("attributeStatus") == "Accepted" and r.get("variable", {}).get("name")
               == "BasicAuthPassword" for r in answer.get("setVariableResult", [])):
            self.passwords[identity] = password

    def _faults(self, request: Any) -> Faults:
        return self.faults_by_case.get(request.headers.get(CASE_HEADER, ""), Faults())

    async def _relay(self, station: ServerConnection) -> None:
        upstream = self._upstreams.pop(station)
        faults = self._faults(station.request)
        # the station's CALLs by message id: (action, payload)
        station_calls: dict[str, tuple[str, Payload]] = {}
        # the CSMS's CALLs by message id: action
        csms_calls: dict[str, str] = {}

        # BasicAuthPassword values the CSMS is setting, by message id
        new_passwords: dict[str, str | None] = {}
        identity = station.request.path.rstrip("/").rsplit("/", 1)[-1]
        seen_ids: set[Any] = set()
        frames = 0
        last_call_at = -1.0

        async def to_csms() -> None:
            nonlocal frames, last_call_at
            async for text in station:
                frames += 1
                frame = _parse(text)
                if faults.crash_on is not None and faults.crash_on(text, frames):
                    self._crashed.add(station.request.headers.get(CASE_HEADER, ""))
                    return
                if frame is None and faults.drop_unreadable:
                    continue
                if frame and frame[0] == 2:
                    repeated = _key(frame[1]) in seen_ids
                    seen_ids.add(_key(frame[1]))
                    if faults.drop_repeated_ids and repeated:
                        continue
                    now = asyncio.get_running_loop().time()
                    recent = now - last_call_at < 0.5
                    last_call_at = now
                    if faults.drop_overlapping_calls and (station_calls or recent):
                        continue
                    if len(frame) >= 4 and frame[2] in faults.fail_calls \
                            and faults.fail_calls[frame[2]](frame[3]):
                        await station.send(json.dumps([4, frame[1], "InternalError",
                                                       "refused by the faulty CSMS", {}]))
                        continue
                    if len(frame) >= 4:
                        station_calls[_key(frame[1])] = (frame[2], frame[3])
                if frame and frame[0] == 3 and _key(frame[1]) in csms_calls:
                    action = csms_calls.pop(_key(frame[1]))
                    if action in faults.station_answers and isinstance(frame[2], dict):
                        frame[2] = faults.station_answers[action](frame[2])
                        text = json.dumps(frame)
                    self._note_password(identity, new_passwords.pop(_key(frame[1]), None),
                                        frame[2])
                if frame and frame[0] == 3 and faults.reply_to_stray_results:
                    await station.send(json.dumps([4, frame[1], "GenericError",
                                                   "nobody asked", {}]))
                    continue
                await upstream.send(text)
                if faults.close_on is not None and faults.close_on(frame):
                    return

        async def to_station() -> None:
            async for text in upstream:
                frame = _parse(text)
                if frame and frame[0] == 2 and frame[2] in faults.drop_calls:
                    continue
                if frame and frame[0] == 2 and len(frame) >= 4:
                    csms_calls[_key(frame[1])] = frame[2]
                    if frame[2] == "SetVariables" and isinstance(frame[3], dict):
                        new_passwords[_key(frame[1])] = _password_set(frame[3])
                if frame and frame[0] == 2 and frame[2] in faults.calls:
                    frame[3] = faults.calls[frame[2]](frame[3])
                    text = json.dumps(frame)
                elif frame and frame[0] == 4 and faults.error_code is not None:
                    station_calls.pop(_key(frame[1]), None)
                    frame[2] = faults.error_code(frame[2])
                    text = json.dumps(frame)
                elif frame and frame[0] == 4:
                    station_calls.pop(_key(frame[1]), None)
                elif frame and frame[0] == 3 and _key(frame[1]) in station_calls:
                    action, request = station_calls.pop(_key(frame[1]))
                    if action in faults.answers:
                        frame[2] = faults.answers[action](frame[2])
                    if action in faults.answers_to:
                        frame[2] = faults.answers_to[action](request, frame[2])
                    text = json.dumps(frame)
                await station.send(text)

        tasks = [asyncio.create_task(to_csms()), asyncio.create_task(to_station())]
        with contextlib.suppress(websockets.ConnectionClosed):
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        await upstream.close()
        await station.close()


def _password_set(payload: Payload) -> str | None:
    for item in payload.get("setVariableData", []):
        if item.get("component", {}).get("name") == "SecurityCtrlr" \
                and item.get("variable", {}).get("name") == "BasicAuthPassword":
            return str(item.get("attributeValue"))
    return None


def _key(message_id: Any) -> Any:
    """A message id as a dict key (ids of any JSON type, lists included)."""
    return json.dumps(message_id)


def _parse(text: str | bytes) -> list[Any] | None:
    try:
        frame = json.loads(text)
    except ValueError:
        return None
    return frame if isinstance(frame, list) and len(frame) >= 2 else None
