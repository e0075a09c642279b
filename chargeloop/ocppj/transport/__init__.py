"""Transports for OCPP-J sessions: WebSockets (client and server), an in-memory pair, and a test
PKI for the TLS security profiles."""

from chargeloop.ocppj.transport.base import Transport, TransportClosed
from chargeloop.ocppj.transport.memory import MemoryTransport, memory_pair
from chargeloop.ocppj.transport.websocket import (
    ConnectionInfo,
    HandshakeRefused,
    OcppServer,
    WebSocketTransport,
    connect_ocpp,
    serve_ocpp,
    station_url,
)

__all__ = [
    "ConnectionInfo", "HandshakeRefused", "MemoryTransport", "OcppServer", "Transport",
    "TransportClosed", "WebSocketTransport", "connect_ocpp", "memory_pair", "serve_ocpp",
    "station_url",
]
