"""The operator REST API (FastAPI, documented in OpenAPI at /openapi.json and /docs)."""
