"""Routes for the web pages and their static files.

Every page and asset goes out with a Content-Security-Policy that allows only the CSMS's own
origin: the pages work on an air-gapped bench, and a page that tried to load a tile, a font or a
script from elsewhere would be refused by the browser (the browser tests check it).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC = Path(__file__).parent / "static"
STATIC_PREFIX = "/web/static"

# Inline styles only for the receipt documents the driver app shows in a frame (they come
# from the receipt template); scripts, connections and images: this origin only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; frame-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'self'")
HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY,
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC / name, media_type="text/html", headers=HEADERS)


@router.get("/")
async def index() -> RedirectResponse:
    return RedirectResponse("/web")


@router.get("/web")
async def start_page() -> FileResponse:
    return _page("index.html")


@router.get("/dashboard")
async def dashboard() -> FileResponse:
    return _page("dashboard.html")


@router.get("/driver")
async def driver_app() -> FileResponse:
    return _page("driver.html")


class _WithHeaders:
    """Adds :data:`HEADERS` to every response of the static files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      *((k.lower().encode(), v.encode())
                                        for k, v in HEADERS.items())]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(api: FastAPI) -> None:
    """Serve the pages and their assets from ``api``."""
    api.include_router(router)
    api.mount(STATIC_PREFIX, _WithHeaders(StaticFiles(directory=STATIC)), name="web-static")
