"""Operations declared once: every parameter schema and result schema comes
from the op file's tables (src/ops/op_*.c), and the registry's list from the
op files themselves.

The references are independent of eoproc: jsonschema (Debian's
python3-jsonschema) checks the schemas against the JSON Schema 2020-12
meta-schema, checks each declared default against its own parameter's
schema, and validates what each operation really returns against the
result schema it declares (with every field required to be declared)."""
import copy
import json
from pathlib import Path

import jsonschema
import pytest

import eoproc

REPO = Path(__file__).resolve().parents[2]

AOI = {"type": "Polygon", "coordinates": [[[-34.9, -8.03], [-34.85, -8.03], [-34.85, -7.96],
                                          [-34.9, -7.96], [-34.9, -8.03]]]}


def names():
    return [o["name"] for o in eoproc.ops()]


def test_registry_lists_every_op_file():
    """The list is generated from the files: one operation per op_*.c."""
    files = sorted(p.stem[3:] for p in (REPO / "src" / "ops").glob("op_*.c"))
    assert sorted(names()) == files
    assert not (REPO / "src" / "ops" / "op_list.h").exists()


def test_no_schema_text_in_the_ops():
    """No operation carries a JSON Schema written as C strings any more."""
    for p in sorted((REPO / "src" / "ops").glob("*.[ch]")):
        text = p.read_text()
        assert '\\"$schema\\"' not in text and '\\"properties\\"' not in text, p.name


@pytest.mark.parametrize("op", names())
def test_schemas_are_valid_json_schema(op):
    params = eoproc.schema(op)
    result = eoproc.result_schema(op)
    for s in (params, result):
        jsonschema.Draft202012Validator.check_schema(s)
        assert s["$schema"].endswith("2020-12/schema")
    assert params["title"] == op and params["additionalProperties"] is False
    props = params["properties"]
    assert set(params["required"]) <= set(props)
    assert set(params["x-positional"]) <= set(props)
    for key, p in props.items():
        assert p.get("description"), (op, key)
        if "default" in p:  # a declared default must be a valid value of its own parameter
            jsonschema.validate(p["default"], p)
    assert result["properties"], op
    for key, p in result["properties"].items():
        assert p.get("description"), (op, key)


def test_bad_values_are_refused_by_the_table():
    """Bounds, choices and types come from the table (and name the field)."""
    cases = [("cog", {"src": "a.tif", "out": "b.tif", "level": 23}, "level"),
             ("cog", {"src": "a.tif", "out": "b.tif", "compress": "jpeg2000"}, "compress"),
             ("tiles_cover", {"aoi": AOI, "zoom": 31}, "zoom"),
             ("change_detection", {"before": "a", "after": "b", "out": "o", "index": "NDVI",
                                   "threshold": 0}, "threshold"),
             ("time_series", {"items": []}, "items"),
             ("clip", {"src": "a", "aoi": AOI, "out": "o", "bands": [0]}, "bands[0]"),
             ("zonal_stats", {"src": "a", "aoi": AOI, "stats": ["mean", "mode"]}, "stats[1]"),
             ("polygonize", {"src": ""}, "src")]
    for op, params, field in cases:
        # the reference: the schema itself, through jsonschema
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(params, eoproc.schema(op))
        with pytest.raises(eoproc.Error) as e:
            eoproc.run(op, **params)
        assert e.value.id == "param.Invalid" and ("'%s'" % field) in str(e.value), (op, e.value)


def _closed(schema):
    """The result schema with undeclared fields refused."""
    s = copy.deepcopy(schema)
    s["additionalProperties"] = False
    return s


@pytest.fixture(scope="module")
def results(l7, tmp_path_factory):
    """Every operation run once on the sample data; op -> list of results."""
    t = tmp_path_factory.mktemp("ops")
    r = {}

    def go(op, **params):
        r.setdefault(op, []).append(eoproc.run(op, **params))
        return r[op][-1]

    go("info", path=str(l7))
    go("aoi_area", aoi=AOI)
    go("tile_bounds", tile="12/1525/2110")
    cover = go("tiles_cover", aoi=AOI, zoom=12, quadkeys=True)
    z, x, y = cover["tiles"][0]
    go("tile", src=str(l7), z=z, x=x, y=y, out=str(t / "t.png"))
    go("tiles", src=str(l7), zoom="10-11", out=str(t / "pyr"))
    go("tiles_read", src=str(t / "pyr"), zoom=11, aoi=AOI, out=str(t / "tr.tif"))
    go("preview", src=str(l7), out=str(t / "p.jpg"), size=64)
    go("indices", name="NDVI")
    go("index", src=str(l7), index="NDVI", sensor="landsat7", out=str(t / "ndvi.tif"))
    go("band_math", src=str(l7), expr="b1 + b2", out=str(t / "calc.tif"))
    go("zonal_stats", src=str(l7), aoi=AOI, percentiles=[10, 90], histogram=4)
    go("zonal_stats", src=str(l7), index="NDVI", sensor="landsat7",
       aoi={"type": "FeatureCollection",
            "features": [{"type": "Feature", "id": 7, "properties": {"k": 1}, "geometry": AOI}]})
    go("change_detection", before=str(l7), after=str(l7), index="NDVI", sensor="landsat7",
       out=str(t / "chg"))
    go("time_series", items=["%s@2020-01-01" % l7, "%s@2021-01-01" % l7], index="NDVI",
       sensor="landsat7", aoi=AOI)
    go("time_series", items=["%s@2020-01-01" % l7], index="NDVI", sensor="landsat7",
       point=[-34.87, -8.0])
    go("cog", src=str(l7), out=str(t / "c.tif"))
    go("clip", src=str(l7), aoi=AOI, out=str(t / "clip.tif"))
    go("clip", src=str(l7), aoi=AOI, out=str(t / "cov.tif"), coverage=True, bands=[1])
    seg = go("segment", model=str(REPO / "models" / "buildings.onnx"), src=str(t / "clip.tif"),
             bands=[3, 2, 1], scale="1/255", tile=128, overlap=16, out=str(t / "prob.tif"))
    go("polygonize", src=seg["classes"], out=str(t / "p.geojson"))
    go("polygonize", src=seg["classes"])
    go("model_info", model=str(REPO / "models" / "buildings.onnx"), shape=[1, 3, 256, 256])
    # detect and its job, on the clipped scene (any raster works as a source)
    job = t / "job"
    go("detect_estimate", src=str(t / "clip.tif"), aoi=AOI, bands=[3, 2, 1], min_coverage=0,
       max_pixel_size=100)
    go("detect", src=str(t / "clip.tif"), aoi=AOI, bands=[3, 2, 1], job=str(job),
       out=str(t / "d.geojson"), max_pixel_size=100, min_coverage=0)
    go("detect", src=str(t / "clip.tif"), aoi=AOI, bands=[3, 2, 1], max_pixel_size=100,
       min_coverage=0)
    go("job_status", job=str(job))
    go("job_partitions", job=str(job))
    go("job_run_partition", job=str(job), partition=0)
    go("job_resume", job=str(job))
    go("job_restart", job=str(job))
    go("job_finalize", job=str(job))
    go("job_cancel", job=str(job))
    return r


def test_every_result_matches_its_declared_schema(results):
    """What each operation returns is what it declares: every field it
    returns is declared, with the declared type."""
    assert sorted(results) == sorted(names())
    for op, rs in results.items():
        schema = eoproc.result_schema(op)
        closed = _closed(schema)
        for res in rs:
            if op == "job_partitions":
                for p in res:
                    assert {"id", "window", "status", "attempts"} <= set(p)
                continue
            if op == "zonal_stats" and "features" not in res:
                # one AOI: the statistics fields themselves
                jsonschema.validate(res, closed)
                assert {"count", "mean", "band"} <= set(res)
            else:
                jsonschema.validate(res, closed)
            json.dumps(res)


def test_results_declare_their_main_fields(results):
    """The declaration is not just permissive: the fields a user reads first
    are declared with the right type and present."""
    checks = {"clip": ("path", "width", "height"), "cog": ("path", "bytes"),
              "index": ("path", "expr", "bands"), "segment": ("probabilities", "classes"),
              "tiles": ("tiles_written",), "tiles_read": ("out", "missing", "geotransform"),
              "aoi_area": ("area_km2",), "polygonize": ("features",)}
    for op, fields in checks.items():
        props = eoproc.result_schema(op)["properties"]
        for f in fields:
            assert f in props and f in results[op][0], (op, f)


def test_every_operation_is_a_python_function():
    """eoproc.<op> exists for every registered operation; the generated ones
    take exactly the schema's parameters (positional ones in order)."""
    import inspect
    for entry in eoproc.ops():
        fn = getattr(eoproc, entry["name"])
        assert callable(fn) and entry["name"] in eoproc.__all__
        if fn.__module__ != "eoproc" or not fn.__doc__.split("\n")[0].startswith(entry["summary"]):
            continue  # written by hand
        s = eoproc.schema(entry["name"])
        sig = inspect.signature(fn)
        assert set(sig.parameters) == set(s["properties"])
        assert list(sig.parameters)[:len(s["x-positional"])] == s["x-positional"]
        for key in s["properties"]:
            assert "    %s (" % key in fn.__doc__
        for key in s["required"]:
            assert sig.parameters[key].default is inspect.Parameter.empty, (entry["name"], key)
    for name in ("preview", "tiles", "tiles_read", "segment", "band_math"):
        assert getattr(eoproc, name).__module__ == "eoproc"


def test_generated_functions_run_the_operation(l7, tmp_path):
    """A generated function runs its operation: preview's JPEG is the size
    GDAL reads back, tiles and tiles_read round-trip through a pyramid, and
    Dataset objects and PathLike values are accepted as paths."""
    from osgeo import gdal
    r = eoproc.preview(l7, tmp_path / "p.png", size=100, bands=[3, 2, 1])
    g = gdal.Open(str(tmp_path / "p.png"))
    assert (g.RasterXSize, g.RasterYSize) == (r["width"], r["height"]) and max(
        r["width"], r["height"]) == 100 and g.RasterCount >= 3
    with eoproc.open(l7) as ds:
        t = eoproc.tiles(ds, zoom=11, out=tmp_path / "pyr")
    files = list((tmp_path / "pyr").rglob("*.png"))
    assert t["tiles_written"] == len(files) > 0
    tr = eoproc.tiles_read(tmp_path / "pyr", tmp_path / "tr.tif", zoom=11, aoi=AOI)
    g = gdal.Open(str(tmp_path / "tr.tif"))
    assert (g.RasterXSize, g.RasterYSize) == (tr["width"], tr["height"])
    assert tr["decoded"] > 0 and tr["zoom"] == 11
    with pytest.raises(TypeError):
        eoproc.preview(l7)  # out is required
    with pytest.raises(TypeError):
        eoproc.preview(l7, tmp_path / "q.png", sizee=3)
    with pytest.raises(eoproc.Error) as e:
        eoproc.preview(l7, tmp_path / "q.png", size=0)
    assert e.value.id == "param.Invalid" and "'size'" in str(e.value)
    assert not (tmp_path / "q.png").exists()
