"""The main job: objects (building footprints) in an AOI from imagery.

``eoproc.detect`` and ``eoproc.estimate`` run the registry operations
``detect`` / ``detect_estimate`` (see ``eoproc.schema("detect")`` for every
parameter); with an open :class:`eoproc.Dataset` (a tile callback, a
pyramid opened with :func:`eoproc.open_tiles`) they call the C API with
its handle. :class:`Job` drives a job folder: status, one partition (for a
distributed worker), run / resume, restart of the failed partitions,
finalize, cancel.
"""

import json
import os
from ctypes import POINTER, byref, c_char_p, c_int64, c_void_p

from . import _lib

_ctx_p = _lib.ctx_p
_st = _lib.status
_OUT = _lib.PCHAR_OUT
_eo_detect_opts_new = _lib._fn("eo_detect_opts_new", _st, [_ctx_p, POINTER(c_void_p)])
_eo_detect_opts_free = _lib._fn("eo_detect_opts_free", None, [c_void_p])
_eo_detect_opts_set = _lib._fn("eo_detect_opts_set", _st, [_ctx_p, c_void_p, c_char_p, c_char_p])
_eo_detect = _lib._fn("eo_detect", _st, [_ctx_p, _OUT, c_void_p, c_void_p, c_char_p, c_void_p])
_eo_detect_estimate = _lib._fn("eo_detect_estimate", _st,
                               [_ctx_p, _OUT, c_void_p, c_void_p, c_void_p])
_eo_job_open = _lib._fn("eo_job_open", _st, [_ctx_p, POINTER(c_void_p), c_char_p])
_eo_job_create = _lib._fn("eo_job_create", _st, [_ctx_p, POINTER(c_void_p), c_char_p, c_void_p,
                                                 c_void_p, c_char_p, c_void_p])
_eo_job_close = _lib._fn("eo_job_close", None, [c_void_p])
_eo_job_set_source = _lib._fn("eo_job_set_source", _st, [_ctx_p, c_void_p, c_void_p])
_eo_job_status = _lib._fn("eo_job_status", _st, [_ctx_p, _OUT, c_void_p])
_eo_job_partitions = _lib._fn("eo_job_partitions", _st, [_ctx_p, _OUT, c_void_p])
_eo_job_run_partition = _lib._fn("eo_job_run_partition", _st, [_ctx_p, c_void_p, c_int64])
_eo_job_run = _lib._fn("eo_job_run", _st, [_ctx_p, _OUT, c_void_p])
_eo_job_restart = _lib._fn("eo_job_restart", _st, [_ctx_p, c_void_p])
_eo_job_finalize = _lib._fn("eo_job_finalize", _st, [_ctx_p, _OUT, c_void_p])
_eo_job_cancel = _lib._fn("eo_job_cancel", _st, [_ctx_p, c_char_p])


def _params(src, aoi, out, options):
    p = {k: (os.fspath(v) if isinstance(v, os.PathLike) else v) for k, v in options.items()
         if v is not None}
    if src is not None:
        p["src"] = ([os.fspath(s) for s in src] if isinstance(src, (list, tuple))
                    else os.fspath(src))
    if aoi is not None:
        p["aoi"] = os.fspath(aoi) if isinstance(aoi, os.PathLike) else aoi
    if out is not None:
        p["out"] = os.fspath(out)
    return p


def _run(op, params, progress, threads):
    from . import Error, _EO_E_PARAM, _check, _context, _json_default, _progress, _take_string

    try:
        text = json.dumps(params, allow_nan=True, default=_json_default)
    except (TypeError, ValueError) as e:
        raise Error("parameters of %s: %s" % (op, e), "param.Invalid", _EO_E_PARAM) from None
    with _context() as ctx, _progress(ctx, progress) as prog:
        if threads is not None:
            _lib.eo_ctx_set_threads(ctx, int(threads))
        try:
            res = c_void_p()
            st = _lib.eo_op_run(ctx, op.encode(), text.encode("utf-8"), byref(res))
            _check(ctx, st, prog)
            return json.loads(_take_string(res))
        finally:
            if threads is not None:
                _lib.eo_ctx_set_threads(ctx, 0)


def _run_dataset(ds, params, estimate, progress, threads):
    """eo_detect / eo_detect_estimate with an open Dataset's handle."""
    from . import _check, _context, _progress, _take_string

    with _context() as ctx, _progress(ctx, progress) as prog:
        o = c_void_p()
        _check(ctx, _eo_detect_opts_new(ctx, byref(o)))
        try:
            if threads is not None:
                _lib.eo_ctx_set_threads(ctx, int(threads))
            out = params.pop("out", None)
            params.pop("src", None)
            for k, v in params.items():
                _check(ctx, _eo_detect_opts_set(ctx, o, k.encode(), json.dumps(v).encode()))
            res = c_void_p()
            if estimate:
                st = _eo_detect_estimate(ctx, byref(res), ds._h, None, o)
            else:
                st = _eo_detect(ctx, byref(res), ds._h, None, out.encode() if out else None, o)
            _check(ctx, st, prog)
            return json.loads(_take_string(res))
        finally:
            _eo_detect_opts_free(o)
            if threads is not None:
                _lib.eo_ctx_set_threads(ctx, 0)


def detect(src, aoi, out=None, *, model=None, zoom=None, job=None, blocks=None, progress=None,
           threads=None, **options):
    """Detect objects (building footprints) inside an AOI.

    Args:
        src: a GeoTIFF/COG, a list of files (one mosaic), a folder of
            {z}/{x}/{y} (XYZ or TMS: a tilemapresource.xml says TMS) or
            {quadkey} tiles, an MBTiles file, a URL template
            ("https://host/{z}/{x}/{y}.png", {-y} for TMS rows, {q} for
            QuadKeys; fetched with urllib, or :func:`eoproc.set_url_fetcher`'s
            function), or an open :class:`eoproc.Dataset` (e.g. a host tile
            callback).
        aoi: GeoJSON (dict, text or file path), any CRS.
        out: output path (.geojson RFC 7946, .gpkg, .fgb); None returns the
            FeatureCollection in the result (``result["geojson"]``);
            ``"PG:dbname=... tables=NAME"`` writes into that PostGIS table,
            its rows keyed by ``pg_partition=`` (default: ``job`` or "")
            and the feature's index, so a rerun replaces them.
        model: ONNX model (default: the demo building model).
        zoom: the zoom a tile source is read at.
        job: a job folder: the run is kept there and can be resumed
            (:class:`Job`) after a kill or a cancel.
        blocks: post-processing blocks on or off, a dict
            (``{"simplify": True, "regularize": False}``) or the CLI's
            ``"simplify=on,regularize=off"``.
        progress: callable(fraction, stage) -> truthy to stop.
        threads: worker threads (default: all CPUs).
        options: any other parameter of ``eoproc.schema("detect")``
            (min_area, partition_tiles, max_area_km2, min_coverage, ...).

    Returns:
        dict: features, aoi_km2, coverage, tiles (fetched, missing,
        corrupt), partitions, warnings, out or geojson.

    Raises:
        eoproc.Error: ``aoi.TooLarge``, ``source.NoDataInAOI`` (with the
            likely cause), ``source.PixelSizeTooHigh``, ``model.Invalid``,
            ``param.Invalid``, a failed partition's error, ``cancelled``.
    """
    if isinstance(out, str) and out.startswith("PG:"):
        # a PostGIS table: detect in memory, then one transaction into the
        # table (rows keyed by partition and feature: a rerun replaces them)
        from ._postgis import split_table, write_features

        part = options.pop("pg_partition", None)
        res = detect(src, aoi, None, model=model, zoom=zoom, job=job, blocks=blocks,
                     progress=progress, threads=threads, **options)
        res["features"] = write_features(res.pop("geojson"), out,
                                         partition=part if part is not None else (job or ""))
        res["out"], res["table"] = out, split_table(out)[1] or "eoproc_features"
        return res
    if isinstance(blocks, dict):
        blocks = ",".join("%s=%s" % (k, "on" if v else "off") for k, v in blocks.items())
    params = _params(None if _is_dataset(src) else src, aoi, out,
                     dict(options, model=model, zoom=zoom, job=job, blocks=blocks))
    if _is_dataset(src):
        return _run_dataset(src, params, False, progress, threads)
    return _run("detect", params, progress, threads)


def estimate(src, aoi, *, model=None, zoom=None, price_per_km2=None, threads=None, **options):
    """What :func:`detect` would take: aoi_km2, tiles (the polygon's cover
    at the zoom), pixels, partitions, model_tiles, gflop, expected_seconds
    (from a short calibration of the model on this CPU, cached) and, with
    ``price_per_km2``, cost."""
    params = _params(None if _is_dataset(src) else src, aoi, None,
                     dict(options, model=model, zoom=zoom, price_per_km2=price_per_km2))
    if _is_dataset(src):
        return _run_dataset(src, params, True, None, threads)
    return _run("detect_estimate", params, None, threads)


def _is_dataset(src):
    from ._dataset import Dataset

    return isinstance(src, Dataset)


class Job:
    """A detect job kept in a folder (made by ``detect(..., job=DIR)`` or
    ``eoproc detect ... --job DIR``).

    A server or a distributed driver uses it as: ``Job(dir).status()``,
    ``partitions()``, ``run_partition(i)`` on workers (each opens the
    folder itself), ``finalize()`` once all are OK; ``run()`` resumes a
    killed or cancelled run; ``restart()`` reruns the failed partitions
    only; ``Job.cancel(dir)`` stops a running one from anywhere.
    """

    def __init__(self, path, source=None):
        from . import _check, _context, _cpath

        self.path = os.fspath(path)
        self._source = source
        self._h = c_void_p()
        with _context() as ctx:
            _check(ctx, _eo_job_open(ctx, byref(self._h), _cpath(path, "job")))
            if source is not None:
                _check(ctx, _eo_job_set_source(ctx, self._h, source._h))

    def close(self):
        if self._h is not None and self._h.value:
            _eo_job_close(self._h)
        self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def _json(self, fn, *args, progress=None, threads=None):
        from . import _arg_error, _check, _context, _progress, _take_string

        if self._h is None:
            raise _arg_error("the job is closed")
        with _context() as ctx, _progress(ctx, progress) as prog:
            if threads is not None:
                _lib.eo_ctx_set_threads(ctx, int(threads))
            try:
                res = c_void_p()
                if fn is None:
                    st = args[0](ctx, self._h, *args[1:])
                    _check(ctx, st, prog)
                    return None
                _check(ctx, fn(ctx, byref(res), self._h), prog)
                return json.loads(_take_string(res))
            finally:
                if threads is not None:
                    _lib.eo_ctx_set_threads(ctx, 0)

    def status(self):
        """dict: status (UNPROCESSED, IN_PROGRESS, OK, FAILED, CANCELLED),
        percentCompleted, partitions, tiles, elapsed_s, eta_s, errors,
        result."""
        return self._json(_eo_job_status)

    def partitions(self):
        """list of dicts: id, window, status, attempts, seconds, error."""
        return self._json(_eo_job_partitions)

    def run_partition(self, partition, progress=None, threads=None):
        """Run one partition (a worker's unit of work); an OK one is skipped."""
        self._json(None, _eo_job_run_partition, int(partition), progress=progress,
                   threads=threads)

    def run(self, progress=None, threads=None):
        """Run the unfinished partitions, then finalize: the result dict."""
        return self._json(_eo_job_run, progress=progress, threads=threads)

    def restart(self, progress=None, threads=None):
        """Rerun the failed partitions only, then finalize."""
        self._json(None, _eo_job_restart)
        return self.run(progress=progress, threads=threads)

    def finalize(self):
        """Merge the partitions across their seams and write the output."""
        return self._json(_eo_job_finalize)

    @classmethod
    def create(cls, path, src, aoi, out=None, **options):
        """Make a job in folder path for a detect run of src over aoi (the
        parameters of :func:`detect`), without running anything: the
        partitions are planned and stored, ready for :meth:`run` here or
        :meth:`run_partition` on other processes sharing the folder.

        Raises:
            Error: as :func:`detect` would before any work (bad parameters,
                an AOI over the limits, no imagery in the AOI, ...), or
                ``io.Write`` when the folder already holds a job.
        """
        from . import _check, _context, _cpath

        params = _params(src, aoi, None, options)
        job = cls.__new__(cls)
        job.path = os.fspath(path)
        job._source = None
        job._h = c_void_p()
        with _context() as ctx:
            o = c_void_p()
            _check(ctx, _eo_detect_opts_new(ctx, byref(o)))
            try:
                for k, v in params.items():
                    _check(ctx, _eo_detect_opts_set(ctx, o, k.encode(), json.dumps(v).encode()))
                _check(ctx, _eo_job_create(ctx, byref(job._h), _cpath(path, "job"), None, None,
                                           _cpath(out, "out") if out is not None else None, o))
            finally:
                _eo_detect_opts_free(o)
        return job

    @staticmethod
    def cancel(path):
        """Ask the job in folder path to stop (from any thread or process)."""
        from . import _check, _context, _cpath

        with _context() as ctx:
            _check(ctx, _eo_job_cancel(ctx, _cpath(path, "job")))
