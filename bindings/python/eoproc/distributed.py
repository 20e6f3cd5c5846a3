"""eoproc on a Dask cluster: the fan-outs hosted analytics APIs leave to
their callers ("call per item and aggregate"), as Dask tasks.

Every function takes a ``dask.distributed.Client`` first (a ``LocalCluster``
or a scheduler started with ``dask-scheduler``/``dask-worker``), splits the
work into tasks that call the ordinary :mod:`eoproc` function of the same name
on a worker, and returns what the serial call returns, in the same order,
with ``compute=True`` (the default); with ``compute=False`` it returns a
``distributed.Future`` of that result instead, so that several fan-outs run
at once.

Sources, AOI files and output folders are passed as paths: every worker must
see them at the same path (a shared file system on a cluster of several
machines). Nothing else crosses processes but plain dicts and lists; an
:class:`eoproc.Error` raised on a worker keeps its ``id`` and ``code``.

Example::

    from dask.distributed import Client, LocalCluster
    import eoproc.distributed as ed

    with Client(LocalCluster(n_workers=2, threads_per_worker=1)) as client:
        stats = ed.zonal_stats(client, "scene.tif", "fields.geojson", index="ndvi")
        series = ed.time_series(client, items, index="ndvi", aoi=field)
        results = ed.index(client, ["a.tif", "b.tif"], "ndvi", ["a_ndvi.tif", "b_ndvi.tif"])
"""

import json
import os

import eoproc

__all__ = ["zonal_stats", "time_series", "index", "calc", "cog", "clip", "map_op"]

# Retries of a task whose worker died (Dask reschedules it); an eoproc.Error
# is not transient and is raised at once.
DEFAULT_RETRIES = 2


def _distributed():
    try:
        import distributed
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise eoproc.Error(
            "eoproc.distributed needs dask.distributed (Debian: python3-distributed)",
            "arg.Invalid", -1) from e
    return distributed


def _check_client(client):
    Client = _distributed().Client
    if not isinstance(client, Client):
        raise eoproc.Error("client must be a dask.distributed.Client, got %s"
                           % type(client).__name__, "arg.Invalid", -1)


def _call(name, args, kwargs):
    """Run on a worker: the eoproc function ``name``."""
    import eoproc as pkg
    return getattr(pkg, name)(*args, **kwargs)


def _submit(client, name, args, kwargs, retries):
    return client.submit(_call, name, args, kwargs, pure=False, retries=retries)


def _finish(fut, compute):
    return fut.result() if compute else fut


def _as_list(x, what):
    if isinstance(x, (str, bytes, os.PathLike, dict)):
        raise eoproc.Error("%s must be a list (one per task), got a single %s"
                           % (what, type(x).__name__), "arg.Invalid", -1)
    try:
        return list(x)
    except TypeError:
        raise eoproc.Error("%s must be a list, got %s" % (what, type(x).__name__),
                           "arg.Invalid", -1) from None


def map_op(client, op, params_list, compute=True, retries=DEFAULT_RETRIES):
    """Run registry operation ``op`` once per parameter dict of
    ``params_list`` (as :func:`eoproc.run`), one task each; returns the
    results in order (or a Future of that list)."""
    _check_client(client)
    params_list = _as_list(params_list, "params_list")
    futs = [_submit(client, "run", (op,), dict(p), retries) for p in params_list]
    return _finish(client.submit(_gather_list, futs, pure=False), compute)


def _gather_list(results):
    return list(results)


# --------------------------------------------------------------------------
# zonal statistics of many features
# --------------------------------------------------------------------------
def _load_aoi(aoi):
    if isinstance(aoi, dict):
        return aoi
    if isinstance(aoi, os.PathLike) or (isinstance(aoi, str) and not aoi.lstrip().startswith("{")):
        try:
            with open(os.fspath(aoi), "rb") as f:
                text = f.read()
        except OSError as e:
            raise eoproc.Error("%s: %s" % (os.fspath(aoi), e.strerror or e),
                               "io.NotFound" if isinstance(e, FileNotFoundError) else "io.Read",
                               -1) from None
    else:
        text = aoi
    try:
        return json.loads(text)
    except ValueError as e:
        raise eoproc.Error("AOI is not valid JSON: %s" % e, "geometry.Invalid", -1) from None


def _merge_zonal(parts):
    out = dict(parts[0])
    feats = []
    for p in parts:
        feats.extend(p["features"])
    out["features"] = feats
    return out


def zonal_stats(client, src, aoi, chunk_size=200, compute=True, retries=DEFAULT_RETRIES,
                **kwargs):
    """:func:`eoproc.zonal_stats` of a FeatureCollection with many features,
    ``chunk_size`` features per task; the result is the serial call's (one
    entry per feature, in the collection's order). Any other AOI is one
    task. Keyword arguments are those of :func:`eoproc.zonal_stats`."""
    _check_client(client)
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise eoproc.Error("chunk_size must be a positive integer, got %r" % (chunk_size,),
                           "arg.Invalid", -1)
    src = os.fspath(src) if isinstance(src, os.PathLike) else src
    doc = _load_aoi(aoi)
    if doc.get("type") != "FeatureCollection" or len(doc.get("features") or []) <= chunk_size:
        fut = _submit(client, "zonal_stats", (src, doc), kwargs, retries)
        return _finish(fut, compute)
    feats = doc["features"]
    futs = []
    for i in range(0, len(feats), chunk_size):
        part = {k: v for k, v in doc.items() if k != "features"}
        part["features"] = feats[i:i + chunk_size]
        futs.append(_submit(client, "zonal_stats", (src, part), kwargs, retries))
    return _finish(client.submit(_merge_zonal, futs, pure=False), compute)


# --------------------------------------------------------------------------
# time series over many dated files
# --------------------------------------------------------------------------
def _merge_series(parts):
    out = dict(parts[0])
    series = []
    for p in parts:
        series.extend(p["series"])
    # the library's order: by date, then by the items' order (a stable sort)
    series.sort(key=lambda s: s["date"])
    out["series"] = series
    return out


def time_series(client, items, compute=True, retries=DEFAULT_RETRIES, **kwargs):
    """:func:`eoproc.time_series` with one task per dated item; the result
    is the serial call's (sorted by date). Keyword arguments are those of
    :func:`eoproc.time_series`."""
    _check_client(client)
    items = _as_list(items, "items")
    if not items:
        raise eoproc.Error("items is empty: a time series needs at least one dated file",
                           "param.Invalid", -1)
    futs = [_submit(client, "time_series", ([it],), kwargs, retries) for it in items]
    return _finish(client.submit(_merge_series, futs, pure=False), compute)


# --------------------------------------------------------------------------
# one operation over many files, one item over many AOIs
# --------------------------------------------------------------------------
def _many(client, name, fixed_before, per_item, fixed_after, kwargs, compute, retries):
    futs = []
    for item in per_item:
        args = tuple(fixed_before) + tuple(item) + tuple(fixed_after)
        futs.append(_submit(client, name, args, kwargs, retries))
    return _finish(client.submit(_gather_list, futs, pure=False), compute)


def _pairs(a, b, what_a, what_b):
    a, b = _as_list(a, what_a), _as_list(b, what_b)
    if len(a) != len(b):
        raise eoproc.Error("%s and %s differ in length (%d and %d)" % (what_a, what_b, len(a),
                                                                      len(b)),
                           "arg.Invalid", -1)
    outs = [os.fspath(o) for o in b]
    if len(set(outs)) != len(outs):
        raise eoproc.Error("%s names the same file twice" % what_b, "arg.Invalid", -1)
    return [os.fspath(x) if isinstance(x, os.PathLike) else x for x in a], outs


def index(client, srcs, name, outs, compute=True, retries=DEFAULT_RETRIES, **kwargs):
    """:func:`eoproc.index` of each source into its output (a COG each);
    returns the results in order."""
    _check_client(client)
    srcs, outs = _pairs(srcs, outs, "srcs", "outs")
    items = [(s, name, o) for s, o in zip(srcs, outs)]
    return _many(client, "index", (), items, (), kwargs, compute, retries)


def calc(client, srcs, expr, outs, compute=True, retries=DEFAULT_RETRIES, **kwargs):
    """:func:`eoproc.calc` (band math) of each source into its output."""
    _check_client(client)
    srcs, outs = _pairs(srcs, outs, "srcs", "outs")
    items = [(s, expr, o) for s, o in zip(srcs, outs)]
    return _many(client, "calc", (), items, (), kwargs, compute, retries)


def cog(client, srcs, outs, compute=True, retries=DEFAULT_RETRIES, **kwargs):
    """:func:`eoproc.cog` of each source (a path) into its output."""
    _check_client(client)
    srcs, outs = _pairs(srcs, outs, "srcs", "outs")
    return _many(client, "cog", (), list(zip(srcs, outs)), (), kwargs, compute, retries)


def clip(client, src, aois, outs, compute=True, retries=DEFAULT_RETRIES, **kwargs):
    """:func:`eoproc.clip` of one source to each AOI, into its output."""
    _check_client(client)
    aois, outs = _pairs(aois, outs, "aois", "outs")
    src = os.fspath(src) if isinstance(src, os.PathLike) else src
    items = [(a, o) for a, o in zip(aois, outs)]
    return _many(client, "clip", (src,), items, (), kwargs, compute, retries)

