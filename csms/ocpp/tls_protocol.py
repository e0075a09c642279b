"""uvicorn's WebSocket protocol, telling the ASGI app who the TLS client is, and pausing reads
only when a station has several messages waiting.

uvicorn does not implement the ASGI ``tls`` extension, and security profile 3 needs the client
certificate's CN to match the station identity. This subclass adds
``scope["extensions"]["tls"]["client_cert_name"]`` before the application sees the connection.

uvicorn also stops reading a socket after every message until the application has taken it:
two ``epoll_ctl`` calls and a selector update per OCPP message, about 8 % of the CSMS's event
loop under meter-value load. A station keeps one CALL outstanding, so a short queue costs
nothing in memory and still pushes back on a peer that floods.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from chargeloop.ocppj.transport.handshake import common_name

# Messages a connection may have waiting for the application before its socket is paused.
QUEUED_BEFORE_PAUSE = 4


class TlsAwareWebSocketProtocol(WebSocketsSansIOProtocol):
    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # absent when the upgrade was refused
        ssl_object = self.transport.get_extra_info("ssl_object") if self.transport else None
        if scope is not None and ssl_object is not None:
            # The ASGI task that reads the scope starts after this callback returns.
            scope["extensions"]["tls"] = {
                "client_cert_name": common_name(ssl_object.getpeercert())}

    def send_receive_event_to_app(self) -> None:
        if self.read_paused or self.queue.qsize() + 1 >= QUEUED_BEFORE_PAUSE:
            super().send_receive_event_to_app()  # queues the message and pauses reading
            return
        self.read_paused = True  # tells uvicorn not to pause for this message
        try:
            super().send_receive_event_to_app()
        finally:
            self.read_paused = False
