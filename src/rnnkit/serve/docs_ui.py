"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) served from an installed package, no CDN.

FastAPI's own pages load their JavaScript and CSS from a CDN, so they stay blank on a
machine without internet. The assets here come from the ``fastapi-offline`` package (in
the ``serve`` extra), mounted under :data:`STATIC_URL`; the pages reference nothing but
same-origin URLs (no Google Fonts either). Like ``/openapi.json``, these routes need the
API key when the server has one (only ``open_paths`` are open; see :mod:`.middleware`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

STATIC_URL = "/static-docs"
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")


def assets_dir() -> Path | None:
    """The installed folder holding :data:`ASSETS`, or None when the package is missing."""
    try:
        import fastapi_offline
    except ImportError:
        return None
    folder = Path(fastapi_offline.__file__).parent / "static"
    return folder if all((folder / name).is_file() for name in ASSETS) else None


def add_docs_routes(app: FastAPI, folder: Path) -> None:
    """Serve ``/docs`` and ``/redoc`` on ``app`` (made with ``docs_url=None,
    redoc_url=None``) with the assets in ``folder`` (:func:`assets_dir`)."""
    app.mount(STATIC_URL, StaticFiles(directory=folder), name="static-docs")
    redirect = app.swagger_ui_oauth2_redirect_url

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=root + app.openapi_url, title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=redirect and root + redirect,
            swagger_js_url=f"{root}{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters)

    if redirect:
        @app.get(redirect, include_in_schema=False)
        async def swagger_redirect() -> HTMLResponse:
            return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=root + app.openapi_url, title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{STATIC_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC_URL}/favicon.png", with_google_fonts=False)
