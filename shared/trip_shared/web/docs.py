"""API documents that work with no internet: Swagger UI served from a Python package, not a CDN.

The page holds no inline script, so a strict Content-Security-Policy applies to it too. (ReDoc is not offered: it
loads its logo from its own CDN whatever it is told.)
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response

ASSETS = Path(str(files("fastapi_offline") / "static"))
ASSET_PREFIX = "/docs-assets"
SERVED = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css", "favicon.png": "image/png"}
SWAGGER_START = """window.ui = SwaggerUIBundle({url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true,
  persistAuthorization: true, presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: 'BaseLayout'});
"""


def install_offline_docs(app: FastAPI) -> None:
    title = app.title

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(
            f'<!doctype html><html><head><meta charset="utf-8"><title>{title} — API</title>'
            f'<link rel="icon" href="{ASSET_PREFIX}/favicon.png">'
            f'<link rel="stylesheet" href="{ASSET_PREFIX}/swagger-ui.css"></head><body><div id="swagger-ui"></div>'
            f'<script src="{ASSET_PREFIX}/swagger-ui-bundle.js"></script>'
            f'<script src="{ASSET_PREFIX}/swagger-start.js"></script></body></html>')

    @app.get(f"{ASSET_PREFIX}/swagger-start.js", include_in_schema=False)
    async def swagger_start() -> Response:
        return Response(SWAGGER_START, media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"})

    @app.get(f"{ASSET_PREFIX}/{{name}}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        if name not in SERVED:
            raise HTTPException(404)
        return FileResponse(ASSETS / name, media_type=SERVED[name], headers={"Cache-Control": "public, max-age=86400"})
