"""The web widget's server: the demo site of the helpline, `widget.js` (with its texts and
default settings inlined at serve time), its CSS, and socket.io-client from node_modules.

Configuration (environment):

  BIND_HOST         interface (default 127.0.0.1)
  WIDGET_PORT       port (default 8080)
  RASA_PORT         Rasa's port, for the default socket.io server (default 5005)
  WIDGET_RASA_URL   public URL of Rasa's socket.io server (default: this page's host on RASA_PORT)
  CONTENT_DIR       content folder; the texts are in widget/texts.yml (default content/)

The texts are re-read when the file changes; a broken edit keeps the last good texts.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

import yaml
from aiohttp import web

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SITE = HERE / "site"
SRC = HERE / "src"
SOCKET_IO = HERE / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
CONFIG_PLACEHOLDER = "/*@WIDGET_CONFIG@*/null"
LANGUAGES = ("fr", "en")

logger = logging.getLogger("widget")


def content_dir() -> Path:
    return Path(os.environ.get("CONTENT_DIR") or ROOT / "content")


def check_texts(data: Any) -> Dict[str, Dict[str, Any]]:
    """The texts, checked: both languages, the same keys, strings (prechat: 2 or 3 lines)."""
    if not isinstance(data, dict) or any(lang not in data for lang in LANGUAGES):
        raise ValueError("texts.yml must have the sections 'fr' and 'en'")
    keys = None
    for lang in LANGUAGES:
        section = data[lang]
        if not isinstance(section, dict):
            raise ValueError(f"'{lang}' must be a list of keys and texts")
        if keys is not None and set(section) != keys:
            raise ValueError(f"'fr' and 'en' must have the same keys (differ: {sorted(set(section) ^ keys)})")
        keys = set(section)
        for key, value in section.items():
            if key == "prechat":
                if not (isinstance(value, list) and 2 <= len(value) <= 3 and all(isinstance(v, str) and v for v in value)):
                    raise ValueError(f"{lang}.prechat must be 2 or 3 lines of text")
            elif not isinstance(value, str) or not value.strip():
                raise ValueError(f"{lang}.{key} must be a non-empty text")
    return {lang: data[lang] for lang in LANGUAGES}


class Texts:
    """content/widget/texts.yml, re-read when it changes; the last good version on error."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: Optional[Tuple[float, int]] = None
        self._texts: Optional[Dict[str, Dict[str, Any]]] = None

    def get(self) -> Dict[str, Dict[str, Any]]:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime, stat.st_size)
        except OSError as exc:
            if self._texts is None:
                raise RuntimeError(f"cannot read {self.path}: {exc}") from exc
            logger.error("cannot read %s (%s); serving the last good texts", self.path, exc)
            return self._texts
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._texts = check_texts(yaml.safe_load(self.path.read_text(encoding="utf-8")))
            except (ValueError, yaml.YAMLError, UnicodeDecodeError) as exc:
                if self._texts is None:
                    raise RuntimeError(f"{self.path}: {exc}") from exc
                logger.error("%s is broken (%s); serving the last good texts", self.path, exc)
        assert self._texts is not None
        return self._texts


def rasa_url(request: web.Request) -> str:
    configured = os.environ.get("WIDGET_RASA_URL")
    if configured:
        return configured.rstrip("/")
    try:
        host = urlsplit("//" + (request.host or "")).hostname or ""
    except ValueError:
        host = ""
    if ":" in host and re.fullmatch(r"[0-9a-fA-F:.]+", host):
        host = f"[{host}]"  # IPv6
    elif not re.fullmatch(r"[A-Za-z0-9.-]{1,253}", host):
        host = "127.0.0.1"  # the Host header is the client's word: only a plain name is echoed
    return f"{request.scheme}://{host}:{os.environ.get('RASA_PORT', '5005')}"


def websocket_origin(url: str) -> str:
    parts = urlsplit(url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}"


def page_headers(request: web.Request) -> Dict[str, str]:
    rasa = rasa_url(request)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(rasa))
    csp = "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        f"connect-src 'self' {origin} {websocket_origin(rasa)}",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])
    return {"Content-Security-Policy": csp, "X-Frame-Options": "DENY", "Cache-Control": "no-cache"}


@web.middleware
async def security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if isinstance(response, web.HTTPException):
        raise response
    return response


def make_app() -> web.Application:
    texts = Texts(content_dir() / "widget" / "texts.yml")
    texts.get()  # fail at start, not on the first visitor, if the file is broken
    app = web.Application(middlewares=[security_headers])

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    def page(path: Path):  # noqa: ANN202
        async def handler(request: web.Request) -> web.Response:
            return web.Response(body=path.read_bytes(), content_type="text/html", charset="utf-8",
                                headers=page_headers(request))
        return handler

    async def widget_js(request: web.Request) -> web.Response:
        config = {"texts": texts.get(), "server": rasa_url(request)}
        # ensure_ascii keeps the inlined JSON plain ASCII, whatever the editors wrote.
        source = (SRC / "widget.js").read_text(encoding="utf-8")
        body = source.replace(CONFIG_PLACEHOLDER, json.dumps(config, ensure_ascii=True), 1)
        return web.Response(text=body, content_type="text/javascript", charset="utf-8",
                            headers={"Cache-Control": "no-cache", "Cross-Origin-Resource-Policy": "cross-origin"})

    def asset(path: Path, content_type: str):  # noqa: ANN202
        async def handler(_: web.Request) -> web.Response:
            if not path.exists():
                raise web.HTTPNotFound(text=f"{path.name} missing: run `make run` (npm ci in widget/)")
            return web.Response(body=path.read_bytes(), content_type=content_type,
                                headers={"Cache-Control": "no-cache", "Cross-Origin-Resource-Policy": "cross-origin"})
        return handler

    async def texts_json(_: web.Request) -> web.Response:
        return web.json_response(texts.get(), headers={"Cache-Control": "no-cache"})

    routes: List[web.RouteDef] = [
        web.get("/health", health),
        web.get("/", page(SITE / "index.html")),
        web.get("/en/", page(SITE / "en" / "index.html")),
        web.get("/exemple/", page(SITE / "exemple" / "index.html")),
        web.get("/widget.js", widget_js),
        web.get("/widget.css", asset(SRC / "widget.css", "text/css")),
        web.get("/site.css", asset(SITE / "site.css", "text/css")),
        web.get("/vendor/socket.io.min.js", asset(SOCKET_IO, "text/javascript")),
        web.get("/texts.json", texts_json),
    ]
    app.add_routes(routes)

    async def en_redirect(_: web.Request) -> web.Response:
        raise web.HTTPFound("/en/")

    app.router.add_get("/en", en_redirect)
    return app


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from bot.logsafe import install

    install()  # logged exceptions keep their type and place, not the values they carry
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    host = os.environ.get("BIND_HOST", "127.0.0.1")
    port = int(os.environ.get("WIDGET_PORT", "8080"))
    try:
        app = make_app()
    except RuntimeError as exc:
        logger.error("%s", exc)
        return 1
    web.run_app(app, host=host, port=port, access_log=None, print=lambda *_: logger.info("widget on http://%s:%s/", host, port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
