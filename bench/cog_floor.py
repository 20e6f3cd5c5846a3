#!/usr/bin/env python3
"""The inputs of bench/cog.sh's codec floor, taken from the files of the run.

  cog_floor.py tiles UNCOMPRESSED_COG OUT_RAW
      Copies every stored tile of every level of an uncompressed tiled
      GeoTIFF (the COG eoproc writes with --compress none from the bench's
      input) into OUT_RAW, back to back: exactly the bytes a compressed COG
      of the same input hands its codec, one tile after another. Prints the
      tile size in bytes (the block size for `zstd -b -B`).

  cog_floor.py inflate DEFLATE_TIFF [REPEAT]
      Decompresses every stored tile of a DEFLATE-compressed tiled GeoTIFF
      with libdeflate (the library GDAL decodes DEFLATE tiles with) on one
      core, best of REPEAT (3) passes. Prints "seconds bytes_out".
"""
import ctypes
import ctypes.util
import sys
import time

from osgeo import gdal

gdal.UseExceptions()


def stored_tiles(path):
    """(offset, size) of every stored tile of every level, band 1 (pixel
    interleaved: one block holds all bands) or every band (band interleaved)."""
    ds = gdal.Open(path)
    interleave = ds.GetMetadata("IMAGE_STRUCTURE").get("INTERLEAVE", "PIXEL")
    bands = [1] if interleave == "PIXEL" else list(range(1, ds.RasterCount + 1))
    out = []
    for bi in bands:
        band = ds.GetRasterBand(bi)
        levels = [band] + [band.GetOverview(i) for i in range(band.GetOverviewCount())]
        for lv in levels:
            bx, by = lv.GetBlockSize()
            nx = (lv.XSize + bx - 1) // bx
            ny = (lv.YSize + by - 1) // by
            for y in range(ny):
                for x in range(nx):
                    off = lv.GetMetadataItem("BLOCK_OFFSET_%d_%d" % (x, y), "TIFF")
                    size = lv.GetMetadataItem("BLOCK_SIZE_%d_%d" % (x, y), "TIFF")
                    if off is None or size is None or int(size) == 0:
                        sys.exit("%s: tile %d,%d has no stored bytes" % (path, x, y))
                    out.append((int(off), int(size)))
    return out


def cmd_tiles(path, raw):
    tiles = stored_tiles(path)
    sizes = {s for _, s in tiles}
    if len(sizes) != 1:
        sys.exit("%s: stored tiles differ in size (compressed?): %s" % (path, sorted(sizes)[:4]))
    with open(path, "rb") as f, open(raw, "wb") as o:
        for off, size in tiles:
            f.seek(off)
            o.write(f.read(size))
    print(sizes.pop())


def cmd_inflate(path, repeat):
    ds = gdal.Open(path)
    if ds.GetMetadata("IMAGE_STRUCTURE").get("COMPRESSION") != "DEFLATE":
        sys.exit("%s: not DEFLATE-compressed" % path)
    band = ds.GetRasterBand(1)
    bx, by = band.GetBlockSize()
    interleave = ds.GetMetadata("IMAGE_STRUCTURE").get("INTERLEAVE", "PIXEL")
    per_block = bx * by * gdal.GetDataTypeSize(band.DataType) // 8
    if interleave == "PIXEL":
        per_block *= ds.RasterCount
    blobs = []
    with open(path, "rb") as f:
        for off, size in stored_tiles(path):
            f.seek(off)
            blobs.append(f.read(size))
    lib = ctypes.CDLL(ctypes.util.find_library("deflate") or "libdeflate.so.0")
    lib.libdeflate_alloc_decompressor.restype = ctypes.c_void_p
    lib.libdeflate_zlib_decompress.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                               ctypes.c_void_p, ctypes.c_size_t,
                                               ctypes.POINTER(ctypes.c_size_t)]
    lib.libdeflate_free_decompressor.argtypes = [ctypes.c_void_p]
    dec = lib.libdeflate_alloc_decompressor()
    buf = ctypes.create_string_buffer(per_block)
    got = ctypes.c_size_t()
    best = None
    total = 0
    for _ in range(repeat):
        total = 0
        t0 = time.perf_counter()
        for b in blobs:
            r = lib.libdeflate_zlib_decompress(dec, b, len(b), buf, per_block, ctypes.byref(got))
            if r != 0:
                sys.exit("%s: libdeflate could not inflate a tile (%d)" % (path, r))
            total += got.value
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    lib.libdeflate_free_decompressor(dec)
    print("%.4f %d" % (best, total))


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "tiles":
        cmd_tiles(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 3 and sys.argv[1] == "inflate":
        cmd_inflate(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 3)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
