"""The operator API is documented: OpenAPI at /openapi.json, and docs pages that work with no
network beyond the CSMS itself."""

from __future__ import annotations

import re

import httpx
import pytest

from csms.app import create_api
from csms.server import RunningCsms

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_every_api_operation_is_in_openapi_with_a_summary(csms: RunningCsms) -> None:
    async with httpx.AsyncClient(base_url=csms.api_url) as client:
        spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    operations = [(path, method, op) for path, item in spec["paths"].items()
                  for method, op in item.items()]
    assert len(operations) > 60
    missing = [f"{method.upper()} {path}" for path, method, op in operations
               if not op.get("summary")]
    assert missing == []
    # Every route the application serves under /api/ is described.
    served = {route.path for route in create_api(csms.core).routes
              if getattr(route, "path", "").startswith("/api/")}
    assert served <= set(spec["paths"])
    assert "bearer" in str(spec["components"]["securitySchemes"]).lower()


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_load_their_assets_from_the_csms_itself(csms: RunningCsms,
                                                                  page: str) -> None:
    async with httpx.AsyncClient(base_url=csms.api_url) as client:
        html = (await client.get(page)).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert assets, html
        assert not [a for a in assets if a.startswith(("http://", "https://", "//"))]
        for asset in assets:
            assert (await client.get(asset)).status_code == 200, asset
        assert "/openapi.json" in html
