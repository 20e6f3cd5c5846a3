"""/processings: the detect job over HTTP, with the field names of a hosted
processing API (Mapflow's: id, name, status, percentCompleted, area, cost,
messages).

    POST   /processings                 make a job folder and run it (202)
    GET    /processings                 every processing
    GET    /processings/{id}            status, percentCompleted, messages
    GET    /processings/{id}/result     the footprints (GeoJSON) once OK
    POST   /processings/{id}/restart    rerun the failed partitions only
    DELETE /processings/{id}            cancel, then delete its folder
    POST   /processing/cost             the estimate: area, tiles, cost

Each processing is a folder under the jobs folder (--jobs DIR): meta.json
(the request), job/ (the detect job's SQLite store) and result.geojson. Jobs
run in a pool of worker threads (the library releases the GIL), never on the
event loop. A server killed mid-job finds its jobs IN_PROGRESS (or
UNPROCESSED) at start and resumes them: finished partitions are kept."""

import concurrent.futures
import json
import logging
import os
import re
import shutil
import threading
import time
import urllib.parse
import uuid
from typing import Any, Dict, Optional

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, validator

import eoproc

from ._errors import ApiError, from_eoproc

_log = logging.getLogger("eoproc.server")
_ID = re.compile(r"^[0-9a-f]{32}$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
# detect parameters a request may set in "params" (files are named by the
# server: src, aoi, out, job, model are not among them)
PARAMS = ("partition_tiles", "precision", "blocks", "min_area", "max_area_km2", "max_tiles",
          "min_coverage", "scale", "scheme", "max_pixel_size", "threshold", "simplify")


class ProcessingIn(BaseModel):
    """A processing request (POST /processings, POST /processing/cost)."""

    name: Optional[str] = Field(None, max_length=200)
    source: str = Field(..., min_length=1, max_length=4096,
                        description="a raster or {z}/{x}/{y} tile folder inside the served "
                                    "folders, or a tile URL template of an allowed host")
    geometry: Dict[str, Any] = Field(..., description="the AOI: a GeoJSON geometry, Feature "
                                                      "or FeatureCollection (EPSG:4326)")
    zoom: Optional[int] = Field(None, ge=0, le=30, description="zoom a tile source is read at")
    params: Dict[str, Any] = Field(default_factory=dict,
                                   description="detect parameters: " + ", ".join(PARAMS))

    @validator("geometry")
    def _geojson(cls, v):
        if not isinstance(v.get("type"), str):
            raise ValueError("a GeoJSON object with a 'type'")
        return v

    @validator("params")
    def _params(cls, v):
        bad = sorted(set(v) - set(PARAMS))
        if bad:
            raise ValueError("unknown parameter %r (known: %s)" % (bad[0], ", ".join(PARAMS)))
        return v


def _field_error(e):
    """An eoproc.Error as 422/4xx naming the field the library names."""
    msg = e.message or ""
    field = None
    for f in ("zoom", "aoi") + PARAMS:
        if ("'%s'" % f) in msg or msg.startswith(f + ":") or (" %s " % f) in msg:
            field = f
            break
    if field == "aoi":
        field = "geometry"
    return from_eoproc(e, **({"field": field} if field else {}))


class Processings:
    def __init__(self, state, jobs_dir, workers=1, price_per_km2=1.0, threads=None):
        self.s = state
        self.dir = os.path.realpath(jobs_dir)
        os.makedirs(self.dir, exist_ok=True)
        self.price = float(price_per_km2)
        self.threads = threads
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, int(workers)),
                                                          thread_name_prefix="eoproc-job")
        self.lock = threading.Lock()
        self.running = {}  # id -> Future
        self.deleting = set()
        r = APIRouter(tags=["processings"])
        r.add_api_route("/processings", self.create, methods=["POST"], status_code=202,
                        summary="Start a processing (detect over an AOI)")
        r.add_api_route("/processings", self.list, methods=["GET"], summary="All processings")
        r.add_api_route("/processings/{pid}", self.get, methods=["GET"],
                        summary="A processing's status, percentCompleted and messages")
        r.add_api_route("/processings/{pid}/result", self.result, methods=["GET"],
                        summary="The footprints (GeoJSON) of a processing that is OK")
        r.add_api_route("/processings/{pid}/restart", self.restart, methods=["POST"],
                        status_code=202, summary="Rerun the failed partitions only")
        r.add_api_route("/processings/{pid}", self.delete, methods=["DELETE"],
                        summary="Cancel a processing and delete it")
        r.add_api_route("/processing/cost", self.cost, methods=["POST"],
                        summary="What a processing would take: area, tiles, cost")
        self.router = r

    # -- files ---------------------------------------------------------
    def _folder(self, pid):
        if not isinstance(pid, str) or not _ID.match(pid):
            raise ApiError(404, "processing.NotFound", "no processing %r" % str(pid)[:100])
        d = os.path.join(self.dir, pid)
        if pid in self.deleting or not os.path.isfile(os.path.join(d, "meta.json")):
            raise ApiError(404, "processing.NotFound", "no processing %s" % pid)
        return d

    def _meta(self, d):
        with open(os.path.join(d, "meta.json"), encoding="utf-8") as f:
            return json.load(f)

    @staticmethod
    def _write_json(path, obj):
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f)
        os.replace(tmp, path)

    def _source(self, name):
        """The path (or URL template) the job reads: inside the roots."""
        if _SCHEME.match(name):
            host = (urllib.parse.urlsplit(name).hostname or "").lower()
            if urllib.parse.urlsplit(name).scheme not in ("http", "https") or \
                    host not in self.s.roots.allow_hosts:
                raise ApiError(403, "access.Forbidden", "source: remote sources are not served"
                               " (start the server with --allow-host HOST)", field="source")
            return name
        return self.s.roots.resolve(name, field="source", allow_dir=True)

    def _options(self, req):
        opts = dict(req.params)
        if req.zoom is not None:
            opts["zoom"] = req.zoom
        return opts

    # -- endpoints -----------------------------------------------------
    def cost(self, req: ProcessingIn):
        src = self._source(req.source)
        try:
            e = eoproc.estimate(src, req.geometry, price_per_km2=self.price,
                                **self._options(req))
        except eoproc.Error as ex:
            raise _field_error(ex) from None
        # a web-map pyramid is counted in tiles, a raster in pixels: each
        # estimate has one of the two
        return {"area": e["aoi_km2"], "tiles": e.get("tiles"), "pixels": e.get("pixels"),
                "partitions": e["partitions"],
                "cost": e.get("cost"), "expected_seconds": e.get("expected_seconds"),
                "pricePerKm2": self.price}

    def create(self, req: ProcessingIn):
        src = self._source(req.source)
        opts = self._options(req)
        try:
            est = eoproc.estimate(src, req.geometry, price_per_km2=self.price, **opts)
        except eoproc.Error as ex:
            raise _field_error(ex) from None
        pid = uuid.uuid4().hex
        d = os.path.join(self.dir, pid)
        tmp = os.path.join(self.dir, ".new-" + pid)
        os.makedirs(tmp)
        try:
            job = eoproc.Job.create(os.path.join(tmp, "job"), src, req.geometry,
                                    out=os.path.join(d, "result.geojson"), **opts)
            job.close()
            meta = {"id": pid, "name": req.name or pid[:8], "source": req.source,
                    "geometry": req.geometry, "zoom": req.zoom, "params": req.params,
                    "area": est["aoi_km2"], "cost": est.get("cost"), "tiles": est.get("tiles"),
                    "pixels": est.get("pixels"),
                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            self._write_json(os.path.join(tmp, "meta.json"), meta)
            os.rename(tmp, d)  # the processing appears whole or not at all
        except eoproc.Error as ex:
            shutil.rmtree(tmp, ignore_errors=True)
            raise _field_error(ex) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._submit(pid, "run")
        return self._view(pid, d)

    def list(self):
        out = []
        for pid in sorted(os.listdir(self.dir)):
            if _ID.match(pid) and pid not in self.deleting:
                try:
                    out.append(self._view(pid, self._folder(pid)))
                except (ApiError, OSError, eoproc.Error):
                    continue
        return out

    def get(self, pid: str):
        return self._view(pid, self._folder(pid))

    def result(self, pid: str):
        d = self._folder(pid)
        v = self._view(pid, d)
        path = os.path.join(d, "result.geojson")
        if v["status"] != "OK" or not os.path.isfile(path):
            raise ApiError(409, "processing.NotReady", "processing %s is %s: its result is "
                           "there once it is OK" % (pid, v["status"]), processingStatus=v["status"])
        return FileResponse(path, media_type="application/geo+json")

    def restart(self, pid: str):
        d = self._folder(pid)
        v = self._view(pid, d)
        if v["status"] != "FAILED":
            raise ApiError(409, "processing.NotFailed", "processing %s is %s: only a FAILED one"
                           " restarts (its failed partitions rerun)" % (pid, v["status"]),
                           processingStatus=v["status"])
        self._submit(pid, "restart")
        return self._view(pid, d)

    def delete(self, pid: str):
        d = self._folder(pid)
        with self.lock:
            self.deleting.add(pid)
            fut = self.running.get(pid)
        if fut is not None and not fut.done():
            try:
                eoproc.Job.cancel(os.path.join(d, "job"))
            except eoproc.Error:
                pass
            fut.cancel()  # not started yet: never runs
        if fut is None or fut.done():
            self._remove(pid)
        # else the worker removes the folder once the job has stopped
        return {"id": pid, "status": "CANCELLED", "deleted": True}

    # -- workers -------------------------------------------------------
    def _remove(self, pid):
        d = os.path.join(self.dir, pid)
        gone = os.path.join(self.dir, ".del-" + pid)
        try:
            os.rename(d, gone)
        except OSError:
            pass
        shutil.rmtree(gone, ignore_errors=True)
        with self.lock:
            self.running.pop(pid, None)
            self.deleting.discard(pid)

    def _submit(self, pid, how):
        with self.lock:
            fut = self.running.get(pid)
            if fut is not None and not fut.done():
                raise ApiError(409, "processing.Running", "processing %s is running" % pid)
            self.running[pid] = self.pool.submit(self._work, pid, how)

    def _work(self, pid, how):
        d = os.path.join(self.dir, pid)
        try:
            with eoproc.Job(os.path.join(d, "job")) as job:
                if how == "restart":
                    job.restart(threads=self.threads)
                else:
                    job.run(threads=self.threads)
        except eoproc.Error as e:
            # the job's store keeps the state (FAILED, CANCELLED) and errors
            _log.info("processing %s: %s: %s", pid, e.id, e.message)
        except Exception:
            _log.exception("processing %s", pid)
        finally:
            with self.lock:
                gone = pid in self.deleting
            if gone:
                self._remove(pid)

    def resume(self):
        """At start: run again every job a killed server left unfinished;
        remove folders left half-made or half-deleted."""
        n = 0
        for name in sorted(os.listdir(self.dir)):
            p = os.path.join(self.dir, name)
            if name.startswith((".new-", ".del-")):
                shutil.rmtree(p, ignore_errors=True)
                continue
            if not _ID.match(name) or not os.path.isfile(os.path.join(p, "meta.json")):
                continue
            try:
                with eoproc.Job(os.path.join(p, "job")) as job:
                    st = job.status()["status"]
            except eoproc.Error as e:
                _log.warning("processing %s: cannot read its job: %s", name, e.message)
                continue
            if st in ("IN_PROGRESS", "UNPROCESSED"):
                self._submit(name, "run")
                n += 1
        return n

    def shutdown(self):
        with self.lock:
            futs = dict(self.running)
        for pid, f in futs.items():
            if not f.done():
                try:
                    eoproc.Job.cancel(os.path.join(self.dir, pid, "job"))
                except eoproc.Error:
                    pass
        self.pool.shutdown(wait=True, cancel_futures=True)

    # -- views ---------------------------------------------------------
    def _view(self, pid, d):
        meta = self._meta(d)
        with eoproc.Job(os.path.join(d, "job")) as job:
            st = job.status()
        with self.lock:
            fut = self.running.get(pid)
        status = st["status"]
        if status in ("UNPROCESSED", "FAILED") and fut is not None and not fut.done():
            status = "IN_PROGRESS"  # queued for a worker, or a restart not yet begun
        # a server that was killed leaves IN_PROGRESS in the store: with no
        # worker on it here, it is resumed at start (see resume())
        messages = []
        for e in st.get("errors") or []:
            messages.append({"code": e.get("id") or e.get("code") or "partition.Failed",
                             "message": e.get("message") or e.get("error") or str(e),
                             "partition": e.get("partition")})
        res = st.get("result") or {}
        for w in (res.get("warnings") if isinstance(res, dict) else None) or []:
            messages.append({"code": "warning", "message": w})
        out = {"id": pid, "name": meta["name"], "status": status,
               "percentCompleted": st.get("percentCompleted", 0), "area": meta["area"],
               "cost": meta["cost"], "tiles": meta.get("tiles"), "pixels": meta.get("pixels"),
               "source": meta["source"],
               "zoom": meta["zoom"], "created": meta["created"], "messages": messages,
               "partitions": st.get("partitions")}
        if isinstance(res, dict) and "features" in res:
            out["features"] = res["features"]
        return out
