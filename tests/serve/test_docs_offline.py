"""/docs and /redoc render with the network off: every asset they name comes from the server."""

import re

import pytest
from serve_helpers import run, serving

from rnnkit.serve.docs_ui import STATIC_URL

URL_ATTRIBUTE = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']""")
JS_URL = re.compile(r"""\burl:\s*'([^']+)'""")
CONTENT = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


def _pages(headers=None, **config) -> dict:
    async def go():
        async with serving(**config) as c:
            c.headers.update(headers or {})
            pages = {}
            for page in ("/docs", "/redoc"):
                r = await c.get(page)
                assert r.status_code == 200, (page, r.text)
                urls = URL_ATTRIBUTE.findall(r.text) + JS_URL.findall(r.text)
                assets = {u: await c.get(u) for u in urls}
                pages[page] = (r.text, assets)
            return pages
    return run(go())


@pytest.fixture(scope="module")
def pages():
    return _pages()


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_page_names_only_same_origin_urls(pages, page):
    html, assets = pages[page]
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}", html, re.I), html
    assert all(u.startswith("/") and not u.startswith("//") for u in assets), sorted(assets)
    scripts = [u for u in assets if u.endswith(".js")]
    assert scripts and all(u.startswith(STATIC_URL + "/") for u in scripts)
    assert "/openapi.json" in assets


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_every_asset_is_served_whole(pages, page):
    _, assets = pages[page]
    for url, r in assets.items():
        assert r.status_code == 200, url
        assert len(r.content) > 1000, url
        suffix = url[url.rfind("."):]
        if suffix in CONTENT:
            assert CONTENT[suffix] in r.headers["content-type"], (url, r.headers["content-type"])
    css = [r.text for u, r in assets.items() if u.endswith(".css")]
    assert page != "/docs" or css and ".swagger-ui" in css[0]


def test_docs_render_with_the_api_key_or_when_opened():
    for config in ({"api_key": "k" * 16, "headers": {"X-API-Key": "k" * 16}},
                   {"api_key": "k" * 16, "open_paths": ["/healthz", "/docs", "/redoc", "/openapi.json",
                                                        STATIC_URL + "/"]}):
        pages = _pages(**config)
        for html, assets in pages.values():
            assert all(r.status_code == 200 for r in assets.values())
