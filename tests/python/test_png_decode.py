"""eoproc's own PNG tile decoder (src/tiles/png_decode.c, issue 12) against
libpng and against the pixels the PNGs were made from.

PNGs come from independent encoders: GDAL's PNG driver, and a hand encoder
here (zlib + struct, the filters written from the PNG specification with
numpy): every filter type forced per row, every colour type, palette with
and without tRNS, colour keys, odd sizes 1..33, several IDAT chunks and
zero-length ones. Each is read as the one tile (zoom 0) of a tile dataset
over a callback, with both decoders (eo_exp_png_decoder: "eoproc", the
default, and "libpng"), and compared with the RGBA the encoder's input
gives by the specification's rules (gray to R=G=B, palette lookup, alpha
from tRNS, 255 where none). Corrupt files (bad CRC, truncated, too little
image data, huge or broken IHDR, bad filter byte) give a "corrupt PNG"
error naming the problem with both decoders; random damage to the image
data (CRCs fixed so that it gets past them) gives the same verdict and the
same pixels with both."""

import ctypes
import random
import struct
import zlib

import numpy as np
import pytest
from osgeo import gdal

import eoproc
from eoproc import _lib

gdal.UseExceptions()

HALF = 20037508.342789244
WORLD = (-HALF, -HALF, HALF, HALF)
SIG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def set_decoder():
    assert _lib.has("eo_exp_png_decoder")
    f = _lib.lib.eo_exp_png_decoder
    f.restype, f.argtypes = ctypes.c_int32, [ctypes.c_char_p]
    yield lambda name: f(name.encode() if name else None)
    f(None)


def decode(set_decoder, data, size, decoder, bands=4):
    """The tile's pixels (bands, size, size) through eoproc with a decoder."""
    assert set_decoder(decoder) == 1
    with eoproc.open_tiles(lambda z, x, y: data, 0, bbox=WORLD, bbox_crs="EPSG:3857",
                           tile_size=size, bands=bands) as ds:
        return ds.read()


def outcome(set_decoder, data, size, decoder):
    """(pixels, None) or (None, error)."""
    try:
        return decode(set_decoder, data, size, decoder), None
    except eoproc.Error as e:
        return None, e


# ---- a PNG encoder written from the specification ------------------------

def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(
        ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def filter_row(f, row, prev, bpp):
    """Row (uint8 bytes) filtered with filter type f over the row above."""
    x = row.astype(np.int32)
    b = prev.astype(np.int32)
    a = np.concatenate([np.zeros(bpp, np.int32), x[:-bpp]])[:len(x)]
    c = np.concatenate([np.zeros(bpp, np.int32), b[:-bpp]])[:len(x)]
    pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][f]
    return ((x - pred) % 256).astype(np.uint8)


def raw_image(pixels, filters, bpp):
    """The filtered scanlines: pixels (h, w*bpp) uint8, filters per row."""
    out = bytearray()
    prev = np.zeros(pixels.shape[1], np.uint8)
    for y in range(pixels.shape[0]):
        f = filters[y % len(filters)]
        out.append(f)
        out += filter_row(f, pixels[y], prev, bpp).tobytes()
        prev = pixels[y]
    return bytes(out)


def make_png(pixels, ctype, filters=(0, 1, 2, 3, 4), depth=8, plte=None, trns=None,
             idat_parts=1, zero_idats=False, ancillary=True, raw=None, level=6):
    """PNG bytes of pixels (h, w, channels) uint8 in colour type ctype."""
    h, w = pixels.shape[:2]
    bpp = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    if raw is None:
        raw = raw_image(pixels.reshape(h, w * bpp), filters, bpp)
    z = zlib.compress(raw, level)
    out = SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0))
    if ancillary:
        out += chunk(b"gAMA", struct.pack(">I", 45455)) + chunk(b"tEXt", b"Comment\0eoproc")
    if plte is not None:
        out += chunk(b"PLTE", plte.astype(np.uint8).tobytes())
    if trns is not None:
        out += chunk(b"tRNS", trns)
    cuts = np.linspace(0, len(z), idat_parts + 1).astype(int)
    for i in range(idat_parts):
        if zero_idats:
            out += chunk(b"IDAT", b"")
        out += chunk(b"IDAT", z[cuts[i]:cuts[i + 1]])
    if zero_idats:
        out += chunk(b"IDAT", b"")
    return out + chunk(b"IEND", b"")


def expected_rgba(pixels, ctype, plte=None, trns_alpha=None, key=None):
    """The RGBA (4, h, w) the PNG specification gives for the input."""
    h, w = pixels.shape[:2]
    if ctype == 3:
        pal = np.zeros((256, 4), np.uint8)
        pal[:, 3] = 255
        pal[:len(plte), :3] = plte
        if trns_alpha is not None:
            pal[:len(trns_alpha), 3] = trns_alpha
        return pal[pixels[..., 0]].transpose(2, 0, 1)
    if ctype in (0, 4):
        g = pixels[..., 0]
        a = pixels[..., 1] if ctype == 4 else np.full((h, w), 255, np.uint8)
        if key is not None:
            a = np.where(g == key[0], 0, 255).astype(np.uint8)
        return np.stack([g, g, g, a])
    rgb = pixels[..., :3]
    if ctype == 6:
        a = pixels[..., 3]
    elif key is not None:
        a = np.where((rgb == np.array(key, np.uint8)).all(-1), 0, 255).astype(np.uint8)
    else:
        a = np.full((h, w), 255, np.uint8)
    return np.concatenate([rgb.transpose(2, 0, 1), a[None]])


def image(rng, size, channels, smooth=True):
    """A test image: gradients + noise (so that every filter matters)."""
    yy, xx = np.mgrid[0:size, 0:size]
    out = np.empty((size, size, channels), np.uint8)
    for c in range(channels):
        base = (xx * (3 + c) + yy * (5 - c) + c * 40) if smooth else 0
        out[..., c] = (base + rng.integers(0, 24 if smooth else 256, (size, size))) % 256
    return out


def both_equal(set_decoder, data, size, want):
    for dec in ("eoproc", "libpng"):
        got = decode(set_decoder, data, size, dec)
        np.testing.assert_array_equal(got, want, err_msg=dec)


# ---- every colour type, filter, size ----------------------------------------

@pytest.mark.parametrize("ctype", [0, 2, 4, 6])
def test_colour_types_every_filter_odd_sizes(set_decoder, ctype):
    rng = np.random.default_rng(ctype)
    ch = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    for size in list(range(1, 34)) + [64, 256]:
        px = image(rng, size, ch, smooth=size % 2 == 0)
        want = expected_rgba(px, ctype)
        # each filter for every row, then the five in turn
        for filters in ([0], [1], [2], [3], [4], [4, 3, 2, 1, 0]):
            data = make_png(px, ctype, filters, idat_parts=1 + size % 3)
            both_equal(set_decoder, data, size, want)


def test_palette_with_and_without_trns(set_decoder):
    rng = np.random.default_rng(3)
    for size in (1, 7, 16, 33, 256):
        for npal in (1, 5, 200, 256):
            plte = rng.integers(0, 256, (npal, 3))
            idx = rng.integers(0, npal, (size, size, 1)).astype(np.uint8)
            for trns in (None, rng.integers(0, 256, min(npal, 3)).astype(np.uint8),
                         rng.integers(0, 256, npal).astype(np.uint8)):
                data = make_png(idx, 3, [size % 5, 4, 1], plte=plte,
                                trns=None if trns is None else trns.tobytes())
                both_equal(set_decoder, data, size, expected_rgba(idx, 3, plte, trns))


def test_palette_index_past_the_palette(set_decoder):
    """Indices past PLTE's entries: black, opaque (libpng's zeroed palette)."""
    plte = np.array([[10, 20, 30], [200, 100, 50]])
    idx = (np.arange(64).reshape(8, 8, 1) % 4).astype(np.uint8)
    data = make_png(idx, 3, [0], plte=plte, trns=bytes([7]))
    both_equal(set_decoder, data, 8, expected_rgba(idx, 3, plte, np.array([7], np.uint8)))


def test_colour_keys(set_decoder):
    rng = np.random.default_rng(4)
    g = rng.integers(0, 4, (16, 16, 1)).astype(np.uint8)
    both_equal(set_decoder, make_png(g, 0, [1, 4], trns=struct.pack(">H", 2)), 16,
               expected_rgba(g, 0, key=(2,)))
    rgb = rng.integers(0, 2, (16, 16, 3)).astype(np.uint8)
    both_equal(set_decoder, make_png(rgb, 2, [2, 3], trns=struct.pack(">HHH", 1, 0, 1)), 16,
               expected_rgba(rgb, 2, key=(1, 0, 1)))


def test_idat_layouts(set_decoder):
    """Many IDAT chunks, zero-length ones among them, one per byte."""
    rng = np.random.default_rng(5)
    px = image(rng, 40, 3)
    want = expected_rgba(px, 2)
    for parts, zero in ((1, True), (7, True), (50, False)):
        both_equal(set_decoder, make_png(px, 2, [4, 1], idat_parts=parts, zero_idats=zero), 40,
                   want)
    z = zlib.compress(raw_image(px.reshape(40, 120), [3], 3))
    data = SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 40, 40, 8, 2, 0, 0, 0))
    data += b"".join(chunk(b"IDAT", z[i:i + 1]) for i in range(len(z))) + chunk(b"IEND", b"")
    both_equal(set_decoder, data, 40, want)


def test_bands_out(set_decoder):
    """The tile dataset's bands (1 gray .. 4 RGBA) from a decoded RGBA tile."""
    rng = np.random.default_rng(6)
    px = image(rng, 32, 4)
    px[..., 3] |= 1  # (pixels of alpha 0 read as nodata without the alpha band)
    data = make_png(px, 6)
    for bands in (1, 2, 3, 4):
        a = decode(set_decoder, data, 32, "eoproc", bands)
        b = decode(set_decoder, data, 32, "libpng", bands)
        assert a.shape[0] == bands
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(decode(set_decoder, data, 32, "eoproc", 3),
                                  px.transpose(2, 0, 1)[:3])


# ---- GDAL's PNG driver --------------------------------------------------------

def gdal_png(arr, ctable=None, dtype=gdal.GDT_Byte, **opts):
    """PNG bytes of arr (bands, h, w) written by GDAL's PNG driver."""
    mem = gdal.GetDriverByName("MEM").Create("", arr.shape[2], arr.shape[1], arr.shape[0], dtype)
    for i in range(arr.shape[0]):
        mem.GetRasterBand(i + 1).WriteArray(arr[i])
    if ctable is not None:
        mem.GetRasterBand(1).SetRasterColorTable(ctable)
    name = "/vsimem/png_decode_%d.png" % random.getrandbits(32)
    gdal.GetDriverByName("PNG").CreateCopy(name, mem, options=["%s=%s" % kv for kv in opts.items()])
    data = gdal.VSIGetMemFileBuffer_unsafe(name)
    out = bytes(data)
    gdal.Unlink(name)
    return out


def test_gdal_written_tiles(set_decoder):
    rng = np.random.default_rng(7)
    for size in (1, 13, 256):
        for nb in (1, 2, 3, 4):
            arr = image(rng, size, nb).transpose(2, 0, 1).copy()
            want = np.concatenate([arr, np.full((4 - nb,) + arr.shape[1:], 255, np.uint8)])
            if nb == 1:
                want = np.stack([arr[0]] * 3 + [want[1]])
            if nb == 2:
                want = np.stack([arr[0]] * 3 + [arr[1]])
            for zlevel in (1, 9):
                both_equal(set_decoder, gdal_png(arr, ZLEVEL=zlevel), size, want)


def test_gdal_palette_with_alpha(set_decoder):
    ct = gdal.ColorTable()
    rng = np.random.default_rng(8)
    cols = rng.integers(0, 256, (20, 4))
    for i, c in enumerate(cols):
        ct.SetColorEntry(i, tuple(int(v) for v in c))
    idx = rng.integers(0, 20, (1, 64, 64)).astype(np.uint8)
    data = gdal_png(idx, ct)
    assert b"tRNS" in data and b"PLTE" in data
    both_equal(set_decoder, data, 64, cols.astype(np.uint8)[idx[0]].transpose(2, 0, 1))


def test_what_libpng_still_reads(set_decoder):
    """16-bit, low bit depths and interlaced PNGs go to libpng, as before:
    the same pixels (or the same error) with both settings."""
    rng = np.random.default_rng(9)
    # 2-bit gray: libpng scales to 8 bits (v * 85)
    g = rng.integers(0, 4, (16, 16)).astype(np.uint8)
    packed = np.packbits(np.unpackbits(g[..., None], axis=2)[..., 6:].reshape(16, 32), axis=1)
    data = SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 2, 0, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(b"".join(b"\0" + packed[y].tobytes()
                                                   for y in range(16))))
    data += chunk(b"IEND", b"")
    v = (g * 85).astype(np.uint8)
    both_equal(set_decoder, data, 16, np.stack([v, v, v, np.full_like(v, 255)]))
    # interlaced RGB (Adam7, filter 0 in every pass)
    px = image(rng, 19, 3)
    raw = b""
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
                           (1, 0, 2, 2), (0, 1, 1, 2)):
        sub = px[y0::dy, x0::dx]
        if sub.size:
            raw += b"".join(b"\0" + sub[y].tobytes() for y in range(sub.shape[0]))
    z = zlib.compress(raw)
    data = SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 19, 19, 8, 2, 0, 0, 1))
    data += chunk(b"IDAT", z) + chunk(b"IEND", b"")
    both_equal(set_decoder, data, 19, expected_rgba(px, 2))
    # 16-bit: refused the same way by both
    arr = rng.integers(0, 65535, (1, 8, 8)).astype(np.uint16)
    data = gdal_png(arr, dtype=gdal.GDT_UInt16)
    for dec in ("eoproc", "libpng"):
        _, e = outcome(set_decoder, data, 8, dec)
        assert e is not None and "16-bit PNG" in e.message, (dec, e)


def test_the_hook_switches_decoders(set_decoder):
    """A zlib stream whose header declares a 256-byte window but refers
    further back: zlib (libpng) refuses it, libdeflate reads it, so the
    outcome shows which decoder ran."""
    rng = np.random.default_rng(10)
    px = np.tile(rng.integers(0, 256, (1, 100, 3)).astype(np.uint8), (100, 1, 1))
    raw = raw_image(px.reshape(100, 300), [0], 3)
    co = zlib.compressobj(9, zlib.DEFLATED, 15)
    z = bytearray(co.compress(raw) + co.flush())
    z[0], z[1] = 0x08, (31 - (0x08 << 8) % 31) % 31
    data = SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 100, 100, 8, 2, 0, 0, 0))
    data += chunk(b"IDAT", bytes(z)) + chunk(b"IEND", b"")
    np.testing.assert_array_equal(decode(set_decoder, data, 100, "eoproc"), expected_rgba(px, 2))
    _, e = outcome(set_decoder, data, 100, "libpng")
    assert e is not None and "distance too far back" in e.message, e
    assert set_decoder("nonesuch") == 0


# ---- corrupt files ------------------------------------------------------------

def good_png(size=32, parts=3):
    rng = np.random.default_rng(11)
    return make_png(image(rng, size, 3), 2, [4, 1, 2], idat_parts=parts)


def chunks_of(data):
    """[(offset, length, type)] of data's chunks."""
    out, pos = [], 8
    while pos + 8 <= len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        out.append((pos, n, data[pos + 4:pos + 8]))
        pos += 12 + n
    return out


def flip(data, at):
    d = bytearray(data)
    d[at] ^= 0x10
    return bytes(d)


def both_fail(set_decoder, data, size, *words):
    for dec in ("eoproc", "libpng"):
        px, e = outcome(set_decoder, data, size, dec)
        assert e is not None, (dec, "decoded a corrupt PNG")
        assert e.id == "source.Invalid" or e.id.startswith("io."), (dec, e.id)
        assert "\n" not in e.message and "tile 0/0/0" in e.message, (dec, e.message)
        if dec == "eoproc":
            assert any(w in e.message for w in words), (dec, e.message)
    return e


def test_bad_crc(set_decoder):
    data = good_png()
    for off, n, kind in chunks_of(data):
        if kind in (b"IHDR", b"IDAT"):
            both_fail(set_decoder, flip(data, off + 8 + n), 32, "CRC error")
            if n:
                both_fail(set_decoder, flip(data, off + 8), 32, "CRC error")
    # an ancillary chunk's CRC: libpng drops the chunk and reads on; so do we
    gama = [c for c in chunks_of(data) if c[2] == b"gAMA"][0]
    both_equal(set_decoder, flip(data, gama[0] + 9), 32,
               expected_rgba(image(np.random.default_rng(11), 32, 3), 2))


def test_truncated(set_decoder):
    data = good_png(parts=1)
    idat = [c for c in chunks_of(data) if c[2] == b"IDAT"][0]
    for cut in (9, 20, 33, 40, idat[0] + 4, idat[0] + 30, idat[0] + 8 + idat[1] + 2):
        both_fail(set_decoder, data[:cut], 32, "truncated", "missing IHDR", "IHDR")
    # cut after the image data: the image is whole (libpng reads no further)
    cut = idat[0] + 12 + idat[1]
    want = expected_rgba(image(np.random.default_rng(11), 32, 3), 2)
    both_equal(set_decoder, data[:cut], 32, want)
    # several IDATs, the file cut inside one of them
    data = good_png(parts=4)
    idats = [c for c in chunks_of(data) if c[2] == b"IDAT"]
    for off, n, _ in idats:
        both_fail(set_decoder, data[:off + 8 + n // 2], 32, "truncated", "CRC")


def test_wrong_amount_of_image_data(set_decoder):
    rng = np.random.default_rng(12)
    px = image(rng, 24, 3)
    raw = raw_image(px.reshape(24, 72), [1], 3)
    short = make_png(px, 2, raw=raw[:-10])
    both_fail(set_decoder, short, 24, "not enough image data")
    short = make_png(px, 2, raw=raw[:len(raw) // 2])
    both_fail(set_decoder, short, 24, "not enough image data")
    # too much: libpng warns and reads the image (a benign error), and the
    # tile has always decoded; the eoproc setting hands it to libpng
    both_equal(set_decoder, make_png(px, 2, raw=raw + b"\0" * 73), 24, expected_rgba(px, 2))


def test_broken_headers(set_decoder):
    def with_ihdr(w, h, depth=8, ctype=2, rest=(0, 0, 0), data=None):
        body = struct.pack(">IIBB", w, h, depth, ctype) + bytes(rest)
        d = good_png()
        off, n, _ = chunks_of(d)[0]
        return d[:off] + chunk(b"IHDR", body) + d[off + 12 + n:]

    # huge: refused for its size before anything is allocated
    for w, h in ((100000, 100000), (32, 40000), (999999, 32)):
        for dec in ("eoproc", "libpng"):
            px, e = outcome(set_decoder, with_ihdr(w, h), 32, dec)
            assert e is not None and ("%d x %d" % (w, h)) in e.message, (dec, e)
    both_fail(set_decoder, with_ihdr(32, 1 << 30), 32, "IHDR")  # past libpng's limit
    both_fail(set_decoder, with_ihdr(0, 32), 32, "IHDR")
    both_fail(set_decoder, with_ihdr(1 << 31, 32), 32, "IHDR")
    both_fail(set_decoder, with_ihdr(32, 32, depth=7), 32, "IHDR")
    both_fail(set_decoder, with_ihdr(32, 32, ctype=5), 32, "IHDR")
    both_fail(set_decoder, with_ihdr(32, 32, rest=(1, 0, 0)), 32, "IHDR")
    d = good_png()
    off, n, _ = chunks_of(d)[0]
    both_fail(set_decoder, d[:8] + d[off + 12 + n:], 32, "missing IHDR")  # no IHDR
    both_fail(set_decoder, d[:off + 12 + n] + d[off:], 32, "IHDR")  # two
    # a palette image without PLTE
    idx = np.zeros((32, 32, 1), np.uint8)
    both_fail(set_decoder, make_png(idx, 3, [0]), 32, "PLTE")
    # IEND first
    both_fail(set_decoder, d[:off + 12 + n] + chunk(b"IEND", b""), 32, "IEND")


def test_bad_filter_byte(set_decoder):
    rng = np.random.default_rng(13)
    px = image(rng, 16, 4)
    raw = bytearray(raw_image(px.reshape(16, 64), [2], 4))
    raw[65 * 5] = 5
    both_fail(set_decoder, make_png(px, 6, raw=bytes(raw)), 16, "filter")


def test_damaged_image_data_same_verdict(set_decoder):
    """Random bytes of the zlib stream changed (or cut), the CRCs fixed:
    whatever libpng makes of it (an error, or pixels: a damaged Adler-32
    after the last row is only a warning to it), the eoproc setting gives
    the same."""
    rng = np.random.default_rng(14)
    px = image(rng, 16, 3)
    raw = raw_image(px.reshape(16, 48), [4, 0, 1, 2, 3], 3)
    z = zlib.compress(raw, 9)
    r = random.Random(15)
    seen = set()
    for i in range(300):
        d = bytearray(z)
        for _ in range(r.choice((1, 1, 2, 4))):
            # one change in three in the Adler-32, the others anywhere
            at = r.randrange(len(d) - 4 if i % 3 else 2, len(d))
            d[at] = (d[at] + r.randrange(1, 256)) % 256
        if i % 10 == 0:
            d = d[:r.randrange(2, len(d))]
        data = SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
        data += chunk(b"IDAT", bytes(d)) + chunk(b"IEND", b"")
        a, ea = outcome(set_decoder, data, 16, "eoproc")
        b, eb = outcome(set_decoder, data, 16, "libpng")
        assert (ea is None) == (eb is None), (i, ea, eb)
        if ea is None:
            np.testing.assert_array_equal(a, b)
            seen.add("ok")
        else:
            assert "corrupt PNG" in ea.message, ea
            seen.add("error")
    assert seen == {"ok", "error"}
