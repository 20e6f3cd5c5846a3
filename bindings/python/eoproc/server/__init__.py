"""eoproc.server - a tile and processing server embedding eoproc.

    python3 -m eoproc.server --root DIR [--root DIR2] [--port 8080]

Endpoints (named as TiTiler users know them, WebMercatorQuad):

- ``GET /cog/tiles/{z}/{x}/{y}[@2x].{png|jpg|webp}``, ``/cog/info``,
  ``/cog/statistics`` (GET; POST a GeoJSON AOI for zonal statistics),
  ``/cog/preview[.fmt]``, ``/cog/point/{lon},{lat}``, ``/cog/tilejson.json``,
  with ``url`` (a file inside a root), ``bidx``, ``rescale``, ``resampling``,
  ``nodata``, ``expression`` (band math or an index name);
- ``GET /ops``, ``GET /ops/{name}``, ``POST /ops/{name}``: the library's
  operation registry; ``/docs`` documents every operation;
- with ``--jobs DIR``: ``/processings`` (detect jobs: status,
  percentCompleted, result, restart, cancel) and ``/processing/cost``;
- ``/``: a map page (Leaflet) showing the rasters of the roots.

Every error is one JSON object with ``detail`` and the status ``id``. Files
are read only inside the roots; bodies over ``max_body`` get 413; with a
token, every endpoint but the page's assets needs ``Authorization: Bearer
TOKEN`` (or ``?access_token=TOKEN``).
"""

import hmac
import json
import logging
import os
import pathlib
import urllib.parse

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

import eoproc

from ._cog import CogRoutes
from ._errors import ApiError, from_eoproc, one_line
from ._gdal import gdal_cache_mb, set_gdal_cache_mb
from ._ops import OpsRoutes, add_ops_to_openapi
from ._paths import Roots
from ._pool import DatasetPool
from ._processings import Processings

__all__ = ["Config", "create_app"]

HERE = pathlib.Path(__file__).resolve().parent
STATIC = HERE / "static"
NODE_MODULES = HERE / "node_modules"
_log = logging.getLogger("eoproc.server")


class Config:
    """Server settings (see ``python3 -m eoproc.server --help``)."""

    def __init__(self, roots, token=None, max_body=8 << 20, allow_hosts=(), out_dir=None,
                 cache_files=64, handles_per_file=4, jobs_dir=None, job_workers=1,
                 price_per_km2=1.0, job_threads=None, threads=None, gdal_cache_mb=128):
        self.roots = list(roots)
        self.token = token or None
        self.max_body = int(max_body)
        self.allow_hosts = list(allow_hosts)
        self.out_dir = out_dir
        self.cache_files = cache_files
        self.handles_per_file = handles_per_file
        self.jobs_dir = jobs_dir
        self.job_workers = job_workers
        self.price_per_km2 = price_per_km2
        self.job_threads = job_threads
        # requests worked on at once (tiles, statistics, operations); the
        # others wait their turn. Each worker thread keeps its own malloc
        # arena and GDAL state, so the bound is also one on memory.
        self.threads = int(threads) if threads is not None else 2 * (os.cpu_count() or 1)
        # GDAL's block cache (process-wide; GDAL's own default is 5% of RAM)
        self.gdal_cache_mb = gdal_cache_mb


class _State:
    def __init__(self, cfg):
        self.cfg = cfg
        self.roots = Roots(cfg.roots, cfg.allow_hosts, cfg.out_dir)
        self.pool = DatasetPool(cfg.cache_files, cfg.handles_per_file)


def _json(status, body, headers=None):
    return JSONResponse(body, status_code=status, headers=headers)


def _public(path):
    """The page's assets: served without the token ('..' never is)."""
    if ".." in path.split("/"):
        return False
    return path in ("/", "/favicon.ico") or path.startswith("/static/")


class Guard:
    """ASGI middleware: bearer token, then the request body's size."""

    def __init__(self, app, token, max_body):
        self.app = app
        self.token = token.encode() if token else None
        self.max_body = max_body

    async def _refuse(self, scope, receive, send, status, sid, detail, headers=None):
        await _json(status, {"detail": detail, "id": sid}, headers)(scope, receive, send)

    def _authorized(self, scope):
        for k, v in scope.get("headers") or []:
            if k == b"authorization" and v[:7].lower() == b"bearer " and hmac.compare_digest(
                    v[7:].strip(), self.token):
                return True
        q = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
        t = q.get("access_token")
        return bool(t) and hmac.compare_digest(t[0].encode("latin-1"), self.token)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.token and not _public(scope["path"]) and not self._authorized(scope):
            return await self._refuse(scope, receive, send, 401, "auth.Required",
                                      "this server needs a token: Authorization: Bearer TOKEN",
                                      {"WWW-Authenticate": "Bearer"})
        length = None
        for k, v in scope.get("headers") or []:
            if k == b"content-length":
                try:
                    length = int(v)
                except ValueError:
                    return await self._refuse(scope, receive, send, 400, "request.Invalid",
                                              "Content-Length is not a number")
        if length is not None and length > self.max_body:
            return await self._refuse(scope, receive, send, 413, "request.TooLarge",
                                      "request body of %d bytes: this server takes at most %d"
                                      % (length, self.max_body))
        if scope["method"] in ("GET", "HEAD", "OPTIONS") and not length:
            return await self.app(scope, receive, send)
        # read the body (chunked ones too) up to the limit, then replay it
        chunks, total = [], 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            body = msg.get("body", b"")
            total += len(body)
            if total > self.max_body:
                return await self._refuse(scope, receive, send, 413, "request.TooLarge",
                                          "request body over %d bytes" % self.max_body)
            chunks.append(body)
            if not msg.get("more_body"):
                break
        data = b"".join(chunks)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": data, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


def _validation_error(request, exc):
    errs = exc.errors()
    first = errs[0] if errs else {}
    loc = [str(x) for x in first.get("loc", ())]
    field = loc[-1] if loc else None
    where = "%s parameter '%s'" % (loc[0], field) if len(loc) >= 2 else "request"
    if loc and loc[0] == "body":
        where = "body" if len(loc) == 1 else "body field '%s'" % ".".join(loc[1:])
    return _json(422, {"detail": one_line("%s: %s" % (where, first.get("msg", "invalid"))),
                       "id": "param.Invalid", "field": field})


def create_app(cfg):
    """The FastAPI application for a Config."""
    if cfg.threads < 1:
        raise ValueError("threads %d: at least 1" % cfg.threads)
    if cfg.gdal_cache_mb is not None:
        set_gdal_cache_mb(cfg.gdal_cache_mb)
    state = _State(cfg)
    app = FastAPI(title="eoproc server", version=eoproc.__version__,
                  description="Tiles, statistics and operations of eoproc %s" %
                  eoproc.version(), docs_url=None, redoc_url=None)
    app.state.eoproc = state

    @app.exception_handler(ApiError)
    async def _api_error(request, exc):
        return _json(exc.status, exc.body())

    @app.exception_handler(eoproc.Error)
    async def _eo_error(request, exc):
        e = from_eoproc(exc)
        return _json(e.status, e.body())

    @app.exception_handler(RequestValidationError)
    async def _val_error(request, exc):
        return _validation_error(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request, exc):
        sid = {404: "route.NotFound", 405: "method.NotAllowed"}.get(exc.status_code,
                                                                    "request.Invalid")
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no endpoint %s" % request.url.path[:200]
        return _json(exc.status_code, {"detail": one_line(detail), "id": sid})

    @app.exception_handler(Exception)
    async def _internal(request, exc):
        _log.exception("internal error on %s", request.url.path)
        return _json(500, {"detail": "internal error: %s" % one_line(type(exc).__name__),
                           "id": "internal"})

    @app.on_event("startup")
    async def _bound_threads():
        # FastAPI runs the blocking endpoints on anyio's thread pool, whose
        # default of 40 threads only grows memory on a CPU-bound server
        import anyio.to_thread
        anyio.to_thread.current_default_thread_limiter().total_tokens = cfg.threads

    app.include_router(CogRoutes(state).router)
    app.include_router(OpsRoutes(state).router)
    procs = None
    if cfg.jobs_dir:
        procs = Processings(state, cfg.jobs_dir, cfg.job_workers, cfg.price_per_km2,
                            cfg.job_threads)
        app.include_router(procs.router)

        @app.on_event("startup")
        def _resume():
            n = procs.resume()
            if n:
                _log.warning("resumed %d unfinished processing(s) in %s", n, procs.dir)

    @app.get("/healthz", tags=["server"], summary="Liveness and the library's version")
    def healthz():
        files, handles = state.pool.size()
        return {"ok": True, "eoproc": eoproc.version(), "open_files": files,
                "open_handles": handles, "processings": procs is not None,
                "threads": cfg.threads, "gdal_cache_mb": gdal_cache_mb()}

    @app.get("/files", tags=["server"], summary="Rasters inside the served folders")
    def files():
        return {"files": state.roots.listing()}

    @app.get("/", include_in_schema=False)
    def page():
        if not (NODE_MODULES / "leaflet" / "dist" / "leaflet.js").is_file():
            return _json(503, {"detail": "the map page's assets are not installed: run "
                               "npm ci in %s" % HERE, "id": "server.AssetsMissing"})
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request):
        ui = "/static/vendor/swagger-ui"
        q = request.url.query
        return get_swagger_ui_html(openapi_url="/openapi.json" + ("?" + q if q else ""),
                                   title="eoproc server", swagger_js_url=ui +
                                   "/swagger-ui-bundle.js", swagger_css_url=ui + "/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg")

    app.mount("/static/vendor/leaflet", StaticFiles(directory=str(NODE_MODULES / "leaflet" /
                                                                  "dist"), check_dir=False))
    app.mount("/static/vendor/swagger-ui", StaticFiles(directory=str(
        NODE_MODULES / "swagger-ui-dist"), check_dir=False))
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    def openapi():
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version,
                              description=app.description, routes=app.routes)
            app.openapi_schema = add_ops_to_openapi(doc)
        return app.openapi_schema

    app.openapi = openapi
    app.add_middleware(Guard, token=cfg.token, max_body=cfg.max_body)

    @app.on_event("shutdown")
    def _close():
        if procs is not None:
            procs.shutdown()
        state.pool.clear()

    return app
