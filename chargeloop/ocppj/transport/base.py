"""What a session needs from a connection: send text, receive a message, close."""

from __future__ import annotations

from typing import Protocol


class TransportClosed(Exception):
    """The connection is gone; ``code`` and ``reason`` say why when the peer told us."""

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        super().__init__(f"connection closed ({code}): {reason}" if code else "connection closed")
        self.code = code
        self.reason = reason


class Transport(Protocol):
    @property
    def subprotocol(self) -> str | None: ...

    async def send(self, text: str) -> None:
        """Send one text message; raises :class:`TransportClosed` once closed."""

    async def recv(self) -> str | bytes:
        """The next message (bytes for a binary frame); raises :class:`TransportClosed`."""

    async def close(self, code: int = 1000, reason: str = "") -> None: ...
