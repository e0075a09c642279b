"""uvicorn's WebSocket protocol, telling the ASGI app who the TLS client is.

uvicorn does not implement the ASGI ``tls`` extension, and security profile 3 needs the client
certificate's CN to match the station identity. This subclass adds
``scope["extensions"]["tls"]["client_cert_name"]`` before the application sees the connection.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from chargeloop.ocppj.transport.handshake import common_name


class TlsAwareWebSocketProtocol(WebSocketsSansIOProtocol):
    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # absent when the upgrade was refused
        ssl_object = self.transport.get_extra_info("ssl_object") if self.transport else None
        if scope is not None and ssl_object is not None:
            # The ASGI task that reads the scope starts after this callback returns.
            scope["extensions"]["tls"] = {
                "client_cert_name": common_name(ssl_object.getpeercert())}
