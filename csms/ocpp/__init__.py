"""The CSMS's OCPP side: the WebSocket endpoint, live connections, and one adapter per OCPP
version that turns messages into domain calls and commands into messages."""
