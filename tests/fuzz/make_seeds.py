#!/usr/bin/env python3
"""make_seeds.py - writes the seed corpora of the fuzz targets tiff, tiledec,
mbtiles and jobstore into tests/fuzz/corpus/TARGET (each seed < 20 KB):
small valid files made with GDAL's Python bindings and Python's sqlite3, and
broken variants of them (truncated, bytes flipped, wrong sizes).

    /usr/bin/python3 tests/fuzz/make_seeds.py
"""
import json
import os
import sqlite3
import sys
import tempfile
import zlib

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()
HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
MAX = 20 * 1024


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if len(data) > MAX:
        sys.exit(f"{target}/{name}: {len(data)} bytes, more than {MAX}")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def vsi_bytes(path):
    f = gdal.VSIFOpenL(path, "rb")
    gdal.VSIFSeekL(f, 0, 2)
    n = gdal.VSIFTellL(f)
    gdal.VSIFSeekL(f, 0, 0)
    data = gdal.VSIFReadL(1, n, f)
    gdal.VSIFCloseL(f)
    gdal.Unlink(path)
    return bytes(data)


def pattern(w, h, bands, dtype, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = (xx * 3 + yy * 5) % 251
    return np.stack([(base + 17 * b + rng.integers(0, 4, (h, w))) for b in range(bands)]).astype(dtype)


def mem(w, h, bands, gdt, arr):
    ds = gdal.GetDriverByName("MEM").Create("", w, h, bands, gdt)
    for b in range(bands):
        ds.GetRasterBand(b + 1).WriteArray(arr[b])
    return ds


def tiffs():
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    cases = [
        ("u8_striped.tif", 16, 16, 1, gdal.GDT_Byte, np.uint8, []),
        ("u8_rgb_tiled_deflate.tif", 32, 32, 3, gdal.GDT_Byte, np.uint8,
         ["TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", "COMPRESS=DEFLATE"]),
        ("i16_zstd.tif", 24, 20, 1, gdal.GDT_Int16, np.int16, ["COMPRESS=ZSTD", "PREDICTOR=2"]),
        ("f32_tiled.tif", 32, 16, 2, gdal.GDT_Float32, np.float32,
         ["TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", "COMPRESS=DEFLATE", "PREDICTOR=3"]),
        ("u16_lzw_pixel.tif", 20, 20, 4, gdal.GDT_UInt16, np.uint16,
         ["COMPRESS=LZW", "INTERLEAVE=PIXEL"]),
        ("u8_ovr.tif", 64, 64, 1, gdal.GDT_Byte, np.uint8,
         ["TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", "COMPRESS=DEFLATE"]),
        ("f64_band.tif", 8, 8, 1, gdal.GDT_Float64, np.float64, ["INTERLEAVE=BAND"]),
    ]
    for i, (name, w, h, bands, gdt, npt, opts) in enumerate(cases):
        src = mem(w, h, bands, gdt, pattern(w, h, bands, npt, i))
        src.SetGeoTransform([500000, 10, 0, 5000000, 0, -10])
        src.SetProjection(srs.ExportToWkt())
        src.GetRasterBand(1).SetNoDataValue(0)
        path = f"/vsimem/seed_{name}"
        out = gdal.GetDriverByName("GTiff").CreateCopy(path, src, options=opts)
        if "ovr" in name:
            out.BuildOverviews("AVERAGE", [2, 4])
        out = None
        data = vsi_bytes(path)
        put("tiff", name, data)
        if name == "u8_rgb_tiled_deflate.tif":
            put("tiff", "truncated.tif", data[: len(data) // 2])
            flipped = bytearray(data)
            for k in range(200, len(flipped), 97):
                flipped[k] ^= 0x5A
            put("tiff", "flipped.tif", bytes(flipped))
    # a COG with a 3-level pyramid
    yy, xx = np.mgrid[0:300, 0:300]
    src = mem(300, 300, 1, gdal.GDT_Byte, ((xx // 20 + yy // 20) % 5 * 50)[None].astype(np.uint8))
    src.SetGeoTransform([10, 0.001, 0, 50, 0, -0.001])
    src.SetProjection("EPSG:4326")
    gdal.GetDriverByName("COG").CreateCopy("/vsimem/seed_cog.tif", src,
                                           options=["BLOCKSIZE=128", "COMPRESS=DEFLATE"])
    put("tiff", "cog.tif", vsi_bytes("/vsimem/seed_cog.tif"))
    # a header claiming 100000 x 100000 pixels (one strip, no data)
    hdr = bytearray(b"II*\x00\x08\x00\x00\x00")
    entries = [(256, 4, 1, 100000), (257, 4, 1, 100000), (258, 3, 1, 8), (259, 3, 1, 1),
               (262, 3, 1, 1), (273, 4, 1, 200), (277, 3, 1, 1), (278, 4, 1, 100000),
               (279, 4, 1, 10000000000 % (1 << 32))]
    hdr += len(entries).to_bytes(2, "little")
    for tag, typ, cnt, val in entries:
        hdr += tag.to_bytes(2, "little") + typ.to_bytes(2, "little") + cnt.to_bytes(4, "little")
        hdr += val.to_bytes(4, "little")
    hdr += b"\x00\x00\x00\x00" + bytes(64)
    put("tiff", "huge_header.tif", bytes(hdr))
    put("tiff", "empty_ifd.tif", b"II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00")
    put("tiff", "not_tiff.txt", b"hello, not a raster\n")


def sqlite_bytes(fill):
    """The bytes of a fresh SQLite database (1 KiB pages) that fill(db) fills."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "x.sqlite")
        db = sqlite3.connect(path)
        db.execute("PRAGMA page_size=1024")
        fill(db)
        db.commit()
        db.execute("VACUUM")
        db.close()
        with open(path, "rb") as f:
            return f.read()


def encode(driver, arr, gdt=gdal.GDT_Byte, opts=(), palette=False):
    bands, h, w = arr.shape
    src = mem(w, h, bands, gdt, arr)
    if palette:
        ct = gdal.ColorTable()
        for k in range(256):
            ct.SetColorEntry(k, (k, 255 - k, (k * 7) % 256, 255))
        src.GetRasterBand(1).SetRasterColorTable(ct)
    ext = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}[driver]
    path = f"/vsimem/seed_tile.{ext}"
    gdal.GetDriverByName(driver).CreateCopy(path, src, options=list(opts))
    if gdal.VSIStatL(path + ".aux.xml"):
        gdal.Unlink(path + ".aux.xml")
    return vsi_bytes(path)


def smooth(bands, dtype=np.uint8, scale=1):
    yy, xx = np.mgrid[0:256, 0:256]
    return np.stack([((xx // 32 + yy // 32 + b) % 4) * 60 * scale for b in range(bands)]).astype(dtype)


def tiles():
    t = {
        "gray.png": encode("PNG", smooth(1), opts=["ZLEVEL=9"]),
        "gray_alpha.png": encode("PNG", smooth(2), opts=["ZLEVEL=9"]),
        "rgb.png": encode("PNG", smooth(3), opts=["ZLEVEL=9"]),
        "rgba.png": encode("PNG", smooth(4), opts=["ZLEVEL=9"]),
        "palette.png": encode("PNG", smooth(1), opts=["ZLEVEL=9"], palette=True),
        "gray16.png": encode("PNG", smooth(1, np.uint16, 200), gdal.GDT_UInt16, ["ZLEVEL=9"]),
        "rgb.jpg": encode("JPEG", smooth(3), opts=["QUALITY=30"]),
        "gray.jpg": encode("JPEG", smooth(1), opts=["QUALITY=30"]),
        "rgb_progressive.jpg": encode("JPEG", smooth(3), opts=["QUALITY=20", "PROGRESSIVE=ON"]),
        "rgb_lossy.webp": encode("WEBP", smooth(3), opts=["QUALITY=30"]),
        "rgba_lossless.webp": encode("WEBP", smooth(4), opts=["LOSSLESS=True"]),
        "small.png": encode("PNG", smooth(3)[:, :16, :16]),  # 16x16: wrong tile size
    }
    for name, data in t.items():
        put("tiledec", name, data)
    put("tiledec", "truncated.png", t["rgb.png"][: len(t["rgb.png"]) // 2])
    put("tiledec", "truncated.jpg", t["rgb.jpg"][: len(t["rgb.jpg"]) // 2])
    put("tiledec", "truncated.webp", t["rgb_lossy.webp"][: len(t["rgb_lossy.webp"]) // 2])
    bad = bytearray(t["rgba.png"])
    bad[40] ^= 0xFF  # a bad CRC / corrupt IDAT
    put("tiledec", "bad_crc.png", bytes(bad))
    # PNG header claiming 100000 x 100000 pixels
    png = bytearray(t["gray.png"])
    png[16:24] = (100000).to_bytes(4, "big") * 2
    png[29:33] = zlib.crc32(bytes(png[12:29])).to_bytes(4, "big")  # IHDR's CRC
    put("tiledec", "huge_header.png", bytes(png))
    put("tiledec", "empty", b"")
    put("tiledec", "garbage", b"\x89PNG\r\n\x1a\nnot really")
    return t


def mbtiles(t):
    schema = ("CREATE TABLE metadata (name TEXT, value TEXT);"
              "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
              " tile_data BLOB);"
              "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);")

    def make(name, rows, sql=schema, meta=True):
        def fill(db):
            db.executescript(sql)
            if meta:
                db.executemany("INSERT INTO metadata VALUES (?, ?)",
                               [("name", "seed"), ("format", "png"), ("minzoom", "0"),
                                ("maxzoom", "1"), ("bounds", "-180,-85,180,85")])
            if rows:
                db.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", rows)

        data = sqlite_bytes(fill)
        put("mbtiles", name, data)
        return data

    png, rgba, jpg = t["rgb.png"], t["rgba.png"], t["gray.jpg"]
    make("one_tile.mbtiles", [(1, 0, 1, png)])
    full = make("four_tiles.mbtiles", [(1, 0, 0, png), (1, 1, 0, rgba), (1, 0, 1, jpg),
                                       (1, 1, 1, t["rgb_lossy.webp"])])
    make("zoom0_only.mbtiles", [(0, 0, 0, png)])
    make("not_image.mbtiles", [(1, 0, 1, b"this is not an image"), (1, 1, 1, None),
                               (1, 0, 0, 12345)])
    make("no_tiles_table.mbtiles", [], sql="CREATE TABLE metadata (name TEXT, value TEXT);"
         "CREATE TABLE tiles_x (a);"
         "CREATE VIEW tiles AS SELECT 1 AS zoom_level, 0 AS tile_column, 0 AS tile_row,"
         " NULL AS tile_data FROM tiles_x;")
    make("wrong_types.mbtiles", [("1", "0", "1", png), (1.5, -1, 99999999999, png)])
    make("no_metadata.mbtiles", [(1, 1, 1, t["gray16.png"])], meta=False)
    put("mbtiles", "truncated.mbtiles", full[: len(full) // 2])
    flipped = bytearray(full)
    for k in range(100, len(flipped), 211):
        flipped[k] ^= 0xA5
    put("mbtiles", "flipped.mbtiles", bytes(flipped))
    put("mbtiles", "header_only.mbtiles", full[:100])
    put("mbtiles", "not_sqlite.mbtiles", b"SQLite format 2\x00" + bytes(84))


def jobstore():
    schema = (
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
        "CREATE TABLE partitions(id INTEGER PRIMARY KEY, x INTEGER, y INTEGER,"
        " w INTEGER, h INTEGER, status TEXT NOT NULL DEFAULT 'UNPROCESSED',"
        " attempts INTEGER NOT NULL DEFAULT 0, started REAL, finished REAL, seconds REAL,"
        " code INTEGER, error TEXT, aoi_px INTEGER, valid_px INTEGER, tiles_run INTEGER,"
        " fetched INTEGER, missing INTEGER, corrupt INTEGER, hist BLOB, features INTEGER);"
        "CREATE TABLE features(part INTEGER, idx INTEGER, cls REAL, pixels INTEGER,"
        " psum REAL, top INTEGER, edge INTEGER, wkb BLOB, PRIMARY KEY(part, idx));")
    params = json.dumps({"source": "/nonexistent/src.tif", "out": "/nonexistent/out.gpkg",
                         "model": "/nonexistent/m.onnx", "tile": 256, "threshold": 0.5})

    def make(name, meta, parts, sql=schema):
        def fill(db):
            db.executescript(sql)
            db.executemany("INSERT INTO meta VALUES (?, ?)", meta)
            for p in parts:
                db.execute("INSERT INTO partitions(id, x, y, w, h, status, attempts, seconds,"
                           " error, features, fetched, missing, corrupt) VALUES"
                           " (?,?,?,?,?,?,?,?,?,?,?,?,?)", p)

        data = sqlite_bytes(fill)
        put("jobstore", name, data)
        return data

    meta = [("version", "1"), ("params", params), ("status", "IN_PROGRESS"),
            ("host_source", "0"), ("created", "1700000000"), ("started", "1700000001")]
    parts = [(0, 0, 0, 256, 256, "OK", 1, 2.5, None, 3, 4, 0, 0),
             (1, 256, 0, 256, 256, "FAILED", 2, 1.0, "io.Read: tile 1/2/3", None, 1, 1, 1),
             (2, 0, 256, 256, 256, "IN_PROGRESS", 1, None, None, None, 0, 0, 0),
             (3, 256, 256, 256, 256, "UNPROCESSED", 0, None, None, None, 0, 0, 0)]
    full = make("in_progress.sqlite", meta, parts)
    make("done.sqlite", [("version", "1"), ("params", params), ("status", "OK"),
                         ("host_source", "1"), ("started", "1"), ("finished", "2"),
                         ("result", '{"features": 3}')], parts[:1])
    make("failed.sqlite", [("version", "1"), ("params", params), ("status", "FAILED"),
                           ("error", "io.Read: boom"), ("result", "{not json")], parts[1:2])
    make("no_params.sqlite", [("version", "1"), ("status", "UNPROCESSED")], [])
    make("bad_params.sqlite", [("version", "1"), ("params", "[1, 2"), ("status", "OK")], [])
    loose = schema.replace(" NOT NULL DEFAULT 'UNPROCESSED'", "").replace(
        " NOT NULL DEFAULT 0", "").replace("key TEXT PRIMARY KEY", "key")
    make("null_fields.sqlite", meta + [("result", None), ("status", None)],
         [(0, None, None, None, None, None, None, None, None, None, None, None, None),
          (1, "x", 1.5, -1, 2**62, "WEIRD", -3, "s", 42, "f", None, None, None)], sql=loose)
    make("no_partitions_table.sqlite", meta, [], sql="CREATE TABLE meta(key, value);")
    put("jobstore", "truncated.sqlite", full[: len(full) // 2])
    flipped = bytearray(full)
    for k in range(100, len(flipped), 173):
        flipped[k] ^= 0x3C
    put("jobstore", "flipped.sqlite", bytes(flipped))
    put("jobstore", "not_sqlite.sqlite", b"not a database at all\n")


if __name__ == "__main__":
    tiffs()
    t = tiles()
    mbtiles(t)
    jobstore()
    for target in ("tiff", "tiledec", "mbtiles", "jobstore"):
        d = os.path.join(CORPUS, target)
        sizes = [os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)]
        print(f"{target}: {len(sizes)} seeds, largest {max(sizes)} bytes")
