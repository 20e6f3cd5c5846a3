"""ONNX models on eoproc's CPU inference core: ``eoproc.Model``."""

import json
import weakref
import os
import shutil
import tempfile
from ctypes import memmove as ctypes_memmove
from ctypes import POINTER, byref, c_char_p, c_double, c_int32, c_int64, c_size_t, c_void_p

import numpy as np

from . import _lib
from ._lib import PCHAR_OUT, ctx_p, status

model_p = c_void_p
_MAX_DIMS = 8

eo_model_opts_new = _lib._fn("eo_model_opts_new", status, [ctx_p, POINTER(c_void_p)])
eo_model_opts_free = _lib._fn("eo_model_opts_free", None, [c_void_p])
eo_model_opts_set_input_shape = _lib._fn(
    "eo_model_opts_set_input_shape", status, [ctx_p, c_void_p, POINTER(c_int64), c_int32]
)
eo_model_opts_set_precision = _lib._fn(
    "eo_model_opts_set_precision", status, [ctx_p, c_void_p, c_char_p]
)
eo_model_load = _lib._fn(
    "eo_model_load", status, [ctx_p, POINTER(model_p), c_char_p, c_void_p]
)
eo_model_free = _lib._fn("eo_model_free", None, [model_p])
eo_model_input_shape = _lib._fn(
    "eo_model_input_shape", status, [ctx_p, model_p, POINTER(c_int64), c_int32, POINTER(c_int32)]
)
eo_model_output_shape = _lib._fn(
    "eo_model_output_shape", status, [ctx_p, model_p, POINTER(c_int64), c_int32, POINTER(c_int32)]
)
eo_model_info = _lib._fn("eo_model_info", status, [ctx_p, PCHAR_OUT, model_p])
eo_model_get_card = _lib._fn("eo_model_get_card", c_void_p, [model_p])
eo_model_card_to_json = _lib._fn("eo_model_card_to_json", status, [ctx_p, PCHAR_OUT, c_void_p])
eo_model_run = _lib._fn(
    "eo_model_run",
    status,
    [ctx_p, model_p, c_void_p, POINTER(c_int64), c_int32, c_void_p, c_size_t],
)
_tensor_info_args = [ctx_p, model_p, c_int32, POINTER(c_char_p), POINTER(c_int32), POINTER(c_int64),
                     c_int32, POINTER(c_int32)]
eo_model_input_count = _lib._fn("eo_model_input_count", c_int32, [model_p])
eo_model_output_count = _lib._fn("eo_model_output_count", c_int32, [model_p])
eo_model_input_info = _lib._fn("eo_model_input_info", status, _tensor_info_args)
eo_model_output_info = _lib._fn("eo_model_output_info", status, _tensor_info_args)
eo_tensors_new = _lib._fn("eo_tensors_new", status, [ctx_p, POINTER(c_void_p)])
eo_tensors_free = _lib._fn("eo_tensors_free", None, [c_void_p])
eo_tensors_set = _lib._fn(
    "eo_tensors_set", status, [ctx_p, c_void_p, c_char_p, c_int32, POINTER(c_int64), c_int32, c_void_p]
)
eo_tensors_count = _lib._fn("eo_tensors_count", c_int32, [c_void_p])
eo_tensors_get = _lib._fn(
    "eo_tensors_get",
    status,
    [ctx_p, c_void_p, c_int32, POINTER(c_char_p), POINTER(c_int32), POINTER(c_int64), c_int32,
     POINTER(c_int32), POINTER(c_void_p)],
)
eo_model_run_named = _lib._fn(
    "eo_model_run_named", status, [ctx_p, model_p, c_void_p, POINTER(c_void_p)]
)
_DT_I64, _DT_F32 = 8, 9
_NP_OF = {_DT_I64: np.int64, _DT_F32: np.float32}

eo_dataset_open_mosaic = _lib._fn(
    "eo_dataset_open_mosaic", status, [ctx_p, POINTER(c_void_p), POINTER(c_char_p), c_int32]
)


def _segment_cog_opts(ctx, o, cog):
    """The COG options (keyword arguments of Model.segment) onto o."""
    from . import _analytics, _cog

    eoproc = _analytics._pkg()
    _analytics._cog_params({}, cog, "out")  # the same check of the names as index and calc
    kw = dict(compress="zstd", level=0, predictor="none", blocksize=512, overviews=None,
              resampling=None, nodata=None, bigtiff="auto", threads=0, stats=True)
    kw.update(cog)
    co = c_void_p()
    eoproc._check(ctx, _cog.eo_cog_opts_new(ctx, byref(co)))
    try:
        _cog._apply_options(eoproc, ctx, co, **kw)
        eoproc._check(ctx, eo_segment_opts_set_cog_opts(ctx, o, co))
    finally:
        _cog.eo_cog_opts_free(co)


eo_segment_opts_new = _lib._fn("eo_segment_opts_new", status, [ctx_p, POINTER(c_void_p)])
eo_segment_opts_free = _lib._fn("eo_segment_opts_free", None, [c_void_p])
_seg_int = {
    name: _lib._fn("eo_segment_opts_set_" + name, status, [ctx_p, c_void_p, c_int32])
    for name in ("tile", "overlap", "batch")
}
eo_segment_opts_set_cog_opts = _lib._fn(
    "eo_segment_opts_set_cog_opts", status, [ctx_p, c_void_p, c_void_p]
)
eo_segment_opts_set_bands = _lib._fn(
    "eo_segment_opts_set_bands", status, [ctx_p, c_void_p, POINTER(c_int32), c_int32]
)
_seg_num = {
    name: _lib._fn("eo_segment_opts_set_" + name, status, [ctx_p, c_void_p, c_double])
    for name in ("scale", "threshold")
}
_seg_vec = {
    name: _lib._fn("eo_segment_opts_set_" + name, status, [ctx_p, c_void_p, POINTER(c_double), c_int32])
    for name in ("mean", "std")
}
_seg_str = {
    name: _lib._fn("eo_segment_opts_set_" + name, status, [ctx_p, c_void_p, c_char_p])
    for name in ("activation", "classes_path")
}
eo_segment = _lib._fn(
    "eo_segment", status, [ctx_p, PCHAR_OUT, c_char_p, model_p, c_void_p, c_void_p, c_void_p]
)


def _aoi_text(aoi):
    """GeoJSON text of an AOI given as a dict, JSON text or a file path."""
    from . import _arg_error, _json_default, _looks_like_json

    if isinstance(aoi, (dict, list)):
        return json.dumps(aoi, allow_nan=True, default=_json_default).encode("utf-8")
    if isinstance(aoi, (str, bytes)) and _looks_like_json(aoi):
        return aoi.encode("utf-8") if isinstance(aoi, str) else bytes(aoi)
    if isinstance(aoi, (str, bytes, os.PathLike)):
        with open(aoi, "rb") as f:
            return f.read()
    raise _arg_error("aoi must be a dict, JSON text or a path, got %s" % type(aoi).__name__)



def _scale(v):
    """A number, or a fraction written as text ("1/255")."""
    if isinstance(v, str) and "/" in v:
        a, _, b = v.partition("/")
        try:
            return float(a) / float(b)
        except (ValueError, ZeroDivisionError):
            from . import _arg_error
            raise _arg_error("scale: expected a number or a fraction such as 1/255, got %r" % v)
    return float(v)

class Model:
    """An ONNX model loaded for one input shape, run on the CPU.

    Args:
        path: the ``.onnx`` file (str or os.PathLike).
        input_shape: the input shape to plan for, e.g. ``(1, 3, 512, 512)``;
            needed when the model's input has dynamic sizes.
        precision: ``"fp32"`` (default) or ``"bf16"``: convolution weights
            rounded to bfloat16 at load and products in bfloat16 summed in
            float32 (about 3 significant digits), where the CPU has
            AVX512_BF16; elsewhere float32 with a warning in the log.
            ``Model.info()["precision"]`` says which one runs.

    A Model may be used from several threads at once (each call runs on
    the calling thread's context, and the GIL is released while it runs).

    Raises:
        eoproc.Error: ``model.Invalid`` for a corrupt or truncated file,
            ``model.UnsupportedOp`` naming the operator and the node,
            ``io.NotFound``, ``arg.Invalid`` for a missing or wrong shape.

    Example::

        m = eoproc.Model("unet.onnx", input_shape=(1, 3, 256, 256))
        logits = m.run(image)          # float32 array of m.output_shape
    """

    def __init__(self, path, input_shape=None, precision=None):
        from . import _arg_error, _check, _context, _cpath, _int

        self._ptr = None
        p = _cpath(path)
        dims = None
        if input_shape is not None:
            try:
                vals = [_int(v, "input_shape") for v in input_shape]
            except TypeError:
                raise _arg_error("input_shape must be a sequence of ints, got %r" % (input_shape,))
            dims = (c_int64 * len(vals))(*vals)
        with _context() as ctx:
            opts = c_void_p()
            ptr = model_p()
            try:
                _check(ctx, eo_model_opts_new(ctx, byref(opts)))
                if dims is not None:
                    _check(ctx, eo_model_opts_set_input_shape(ctx, opts, dims, len(dims)))
                if precision is not None:
                    if not isinstance(precision, str):
                        raise _arg_error("precision must be 'fp32' or 'bf16', got %r" % (precision,))
                    _check(ctx, eo_model_opts_set_precision(ctx, opts, precision.encode()))
                _check(ctx, eo_model_load(ctx, byref(ptr), p, opts))
            finally:
                eo_model_opts_free(opts)
            self._ptr = ptr
            self._finalizer = weakref.finalize(self, eo_model_free, ptr)
            self.inputs = self._infos(ctx, eo_model_input_count, eo_model_input_info)
            self.outputs = self._infos(ctx, eo_model_output_count, eo_model_output_info)
            # None when the model is planned per run (its input values
            # decide shapes): run it with a dict then
            planned = json.loads(self._info_text(ctx)).get("planned_at_load", True)
            single = len(self.inputs) == 1 and self.inputs[0][1] == np.float32
            self.input_shape = self._shape(ctx, eo_model_input_shape) if planned and single else None
            self.output_shape = self._shape(ctx, eo_model_output_shape) if planned else None

    def _infos(self, ctx, count, info):
        """[(name, numpy dtype, shape)] of the model's inputs or outputs."""
        from . import _check

        res = []
        for i in range(count(self._ptr)):
            name, dt, dims, nd = c_char_p(), c_int32(), (c_int64 * _MAX_DIMS)(), c_int32()
            _check(ctx, info(ctx, self._ptr, i, byref(name), byref(dt), dims, _MAX_DIMS, byref(nd)))
            shape = tuple(int(d) for d in dims[: nd.value]) if nd.value >= 0 else None
            res.append((name.value.decode("utf-8"), _NP_OF.get(dt.value, np.float32), shape))
        return res

    def _info_text(self, ctx):
        from . import _check, _take_string

        out = c_void_p()
        _check(ctx, eo_model_info(ctx, byref(out), self._ptr))
        return _take_string(out)

    def _shape(self, ctx, fn):
        from . import _check

        dims = (c_int64 * _MAX_DIMS)()
        nd = c_int32()
        _check(ctx, fn(ctx, self._ptr, dims, _MAX_DIMS, byref(nd)))
        return tuple(int(d) for d in dims[: nd.value])

    def _live(self):
        from . import _arg_error

        if self._ptr is None or not self._finalizer.alive:
            raise _arg_error("the model is closed")
        return self._ptr

    @property
    def info(self):
        """Dict: input / output shapes, nodes, FLOPs per run, work bytes, SIMD path."""
        from . import _check, _context, _take_string

        ptr = self._live()
        with _context() as ctx:
            out = c_void_p()
            _check(ctx, eo_model_info(ctx, byref(out), ptr))
            return json.loads(_take_string(out))

    @property
    def card(self):
        """The model card as a dict (embedded in the ONNX file or beside it as
        MODEL.onnx.json: bands, scale, tile, classes, post-processing), or
        None when the model has none. :meth:`segment` and
        :func:`eoproc.detect` take the options you leave out from it."""
        from . import _check, _context, _take_string

        ptr = self._live()
        c = eo_model_get_card(ptr)
        if not c:
            return None
        with _context() as ctx:
            out = c_void_p()
            _check(ctx, eo_model_card_to_json(ctx, byref(out), c))
            return json.loads(_take_string(out))

    def run(self, array, progress=None):
        """Run the model on ``array`` and return its output as float32.

        ``array`` must have the input shape, or the input shape without its
        leading batch axis of 1 (the output then drops it too). It is
        converted to contiguous float32 if needed.

        With a dict ``{input name: array}`` (one entry per model input, see
        ``inputs``; float inputs as float32, integer ones as int64) the
        result is a dict ``{output name: array}`` of every output. A shape
        other than the planned one is planned for (and the plan kept).
        """
        from . import _arg_error, _check, _context, _progress

        ptr = self._live()
        if isinstance(array, dict):
            return self._run_named(ptr, array, progress)
        if self.input_shape is None:
            raise _arg_error(
                "the model has inputs %s: give a dict {name: array}"
                % ", ".join(repr(i[0]) for i in self.inputs)
            )
        x = np.ascontiguousarray(array, dtype=np.float32)
        squeeze = False
        if x.shape != self.input_shape:
            if self.input_shape[:1] == (1,) and x.shape == self.input_shape[1:]:
                squeeze = True
                x = x[None]
            else:
                raise _arg_error(
                    "input of shape %s; the model was loaded for %s"
                    % (tuple(array.shape), self.input_shape)
                )
        out = np.empty(self.output_shape, dtype=np.float32)
        shape = (c_int64 * x.ndim)(*x.shape)
        with _context() as ctx, _progress(ctx, progress) as prog:
            st = eo_model_run(ctx, ptr, x.ctypes.data, shape, x.ndim, out.ctypes.data, out.size)
            _check(ctx, st, prog)
        return out[0] if squeeze else out

    def _run_named(self, ptr, feeds, progress):
        from . import _arg_error, _check, _context, _progress

        kinds = {name: dt for name, dt, _ in self.inputs}
        arrays = []
        with _context() as ctx, _progress(ctx, progress) as prog:
            t_in, t_out = c_void_p(), c_void_p()
            try:
                _check(ctx, eo_tensors_new(ctx, byref(t_in)))
                for name, value in feeds.items():
                    if not isinstance(name, str):
                        raise _arg_error("input names must be str, got %r" % (name,))
                    dt = kinds.get(name, np.float32)
                    x = np.ascontiguousarray(value, dtype=dt)
                    arrays.append(x)
                    shape = (c_int64 * max(x.ndim, 1))(*x.shape)
                    code = _DT_I64 if dt == np.int64 else _DT_F32
                    _check(ctx, eo_tensors_set(ctx, t_in, name.encode("utf-8"), code, shape,
                                               x.ndim, x.ctypes.data if x.size else None))
                _check(ctx, eo_model_run_named(ctx, ptr, t_in, byref(t_out)), prog)
                res = {}
                for i in range(eo_tensors_count(t_out)):
                    name, dt, dims, nd = c_char_p(), c_int32(), (c_int64 * _MAX_DIMS)(), c_int32()
                    data = c_void_p()
                    _check(ctx, eo_tensors_get(ctx, t_out, i, byref(name), byref(dt), dims,
                                               _MAX_DIMS, byref(nd), byref(data)))
                    npdt = _NP_OF[dt.value]
                    a = np.empty(tuple(dims[: nd.value]), dtype=npdt)
                    if a.size:
                        ctypes_memmove(a.ctypes.data, data.value, a.nbytes)
                    res[name.value.decode("utf-8")] = a
                return res
            finally:
                eo_tensors_free(t_in)
                eo_tensors_free(t_out)

    def segment(self, src, out=None, aoi=None, crs=None, tile=None, overlap=None, batch=None,
                bands=None, scale=None, mean=None, std=None, threshold=None, activation=None,
                classes=None, progress=None, transform=None, raster_crs=None, **cog):
        """Segment a raster in overlapping tiles; write probability and class COGs.

        Args:
            src: a raster path, or a list of paths opened as a mosaic, a
                dataset, or an :class:`eoproc.GeoArray` (a plain array takes
                ``transform=`` and ``raster_crs=``).
            out: the probability COG (float32, one band per class; NaN =
                nodata); None returns the rasters instead: the result dict
                gets ``"probability"`` and ``"classes"`` as GeoArrays.
            aoi: optional GeoJSON (dict, text or path; ``crs`` names its CRS when
                the GeoJSON does not, default EPSG:4326): only tiles meeting it
                run, the outputs cover its window and pixels outside are nodata.
            tile, overlap, batch: tile size (default: the model's fixed size,
                else its card's, else 512), overlap (at most half the tile;
                default: the card's, else 64), tiles per run.
            bands: 1-based source bands in model order (default: the card's,
                else all).
            scale, mean, std: input normalization ``(v * scale - mean) / std``
                (mean / std: one value or one per band; default: the card's,
                else 1, 0, 1).
            threshold: class raster of a one-channel model: probability >= it
                (default: the card's, else 0.5).
            activation: "auto", "none", "sigmoid" or "softmax" (default: the
                card's, else "auto").

        Options left out come from the model's card (:attr:`card`) when it
        has one: a model that carries its card runs right with no options.
            classes: path of the class COG (uint8, 255 = nodata); default
                ``out`` with ``_classes`` before its extension.
            **cog: the COG options of both outputs (``compress``, ``level``,
                ``predictor``, ``blocksize``, ``overviews``, ``resampling``,
                ``bigtiff``, ``stats``, as for ``eoproc.cog``); the class COG
                takes nearest or mode overviews and no float predictor.

        Returns:
            dict: paths, output size and window, classes, tiles run.

        The model is re-planned for the tile when it was loaded for another
        input shape (a dynamic ONNX input allows it).
        """
        from . import _arrays

        kw = dict(aoi=aoi, crs=crs, tile=tile, overlap=overlap, batch=batch, bands=bands,
                  scale=scale, mean=mean, std=std, threshold=threshold, activation=activation,
                  progress=progress)
        if out is None:
            folder = tempfile.mkdtemp(prefix="eoproc-segment-")
            try:
                prob, cls = os.path.join(folder, "prob.tif"), os.path.join(folder, "classes.tif")
                res = self.segment(src, prob, classes=cls, transform=transform,
                                   raster_crs=raster_crs, **kw, **cog)
                res["probability"] = _arrays.read_result(prob)
                res["classes"] = _arrays.read_result(cls)
                return res
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        with _arrays.raster_path(src, transform, raster_crs) as p:
            return self._segment(p, out, classes=classes, cog=cog, **kw)

    def _segment(self, src, out, aoi, crs, tile, overlap, batch, bands, scale, mean, std,
                 threshold, activation, classes, progress, cog):
        from . import _check, _context, _cpath, _int, _progress, _take_string

        ptr = self._live()
        paths = [_cpath(p, "src") for p in src] if isinstance(src, (list, tuple)) else None
        spath = None if paths is not None else _cpath(src, "src")
        opath = _cpath(out, "out")
        aoi_text = _aoi_text(aoi) if aoi is not None else None
        with _context() as ctx, _progress(ctx, progress) as prog:
            o, ds, g, gopts = c_void_p(), c_void_p(), c_void_p(), c_void_p()
            res = c_void_p()
            try:
                _check(ctx, eo_segment_opts_new(ctx, byref(o)))
                for name, v in (("tile", tile), ("overlap", overlap), ("batch", batch)):
                    if v is not None:
                        _check(ctx, _seg_int[name](ctx, o, _int(v, name)))
                for name, v in (("scale", scale), ("threshold", threshold)):
                    if v is not None:
                        _check(ctx, _seg_num[name](ctx, o, _scale(v) if name == "scale" else
                                                   float(v)))
                for name, v in (("mean", mean), ("std", std)):
                    if v is not None:
                        vals = [float(x) for x in (v if hasattr(v, "__len__") else [v])]
                        _check(ctx, _seg_vec[name](ctx, o, (c_double * len(vals))(*vals), len(vals)))
                if bands is not None:
                    bl = [_int(b, "bands") for b in bands]
                    _check(ctx, eo_segment_opts_set_bands(ctx, o, (c_int32 * len(bl))(*bl), len(bl)))
                if activation is not None:
                    _check(ctx, _seg_str["activation"](ctx, o, str(activation).encode("utf-8")))
                if classes is not None:
                    _check(ctx, _seg_str["classes_path"](ctx, o, _cpath(classes, "classes")))
                if cog:
                    _segment_cog_opts(ctx, o, cog)
                if paths is not None:
                    arr = (c_char_p * len(paths))(*paths)
                    _check(ctx, eo_dataset_open_mosaic(ctx, byref(ds), arr, len(paths)))
                else:
                    _check(ctx, _lib.eo_dataset_open(ctx, byref(ds), spath))
                if aoi_text is not None:
                    _check(ctx, _lib.eo_geom_opts_new(ctx, byref(gopts)))
                    if crs is not None:
                        _check(ctx, _lib.eo_geom_opts_set_crs(ctx, gopts, str(crs).encode("utf-8")))
                    _check(ctx, _lib.eo_geom_from_geojson(ctx, byref(g), aoi_text, gopts))
                _check(ctx, eo_segment(ctx, byref(res), opath, ptr, ds, g, o), prog)
                return json.loads(_take_string(res))
            finally:
                _lib.eo_geom_free(g)
                _lib.eo_geom_opts_free(gopts)
                _lib.eo_dataset_close(ds)
                eo_segment_opts_free(o)

    def close(self):
        """Release the model now (also done when the object dies)."""
        if self._ptr is not None:
            self._finalizer()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        if self.input_shape is None:
            return "eoproc.Model(inputs=%s, outputs=%s)" % (
                [i[0] for i in self.inputs],
                [o[0] for o in self.outputs],
            )
        return "eoproc.Model(input_shape=%s, output_shape=%s)" % (
            self.input_shape,
            self.output_shape,
        )
