"""Synthetic aerial scenes with building footprints (numpy only).

A scene is an RGB uint8 image (about 0.5 m per pixel) with a ground truth
mask of its buildings: grass and bare soil with low-frequency colour
variation, roads (some with centre lines), paved lots, trees with their
shadows, and buildings (rotated rectangles and L shapes, flat or gabled
roofs of varied colours, each casting a shadow away from the scene's sun).

    rgb, mask = render_scene(seed, size=256)   # (size, size, 3) uint8, (size, size) uint8

The demo model is trained on seeds below HELD_OUT_SEED (scripts/
train_demo_model.py, with torch); the tests render scenes from
HELD_OUT_SEED upwards, which training never saw, and need numpy only.
"""

import math

import numpy as np

HELD_OUT_SEED = 1_000_000

ROOF_COLOURS = np.array(
    [
        [168, 74, 52],  # terracotta
        [140, 60, 45],  # dark red tiles
        [120, 120, 125],  # grey concrete
        [75, 78, 85],  # dark slate
        [205, 200, 190],  # light / white membrane
        [150, 115, 80],  # brown shingles
        [95, 110, 130],  # blue-grey metal
        [185, 160, 120],  # beige
    ],
    dtype=np.float32,
)


def _smooth_noise(rng, size, cells):
    """Low-frequency noise in [-1, 1]: bilinear upsampling of a coarse grid."""
    g = rng.uniform(-1.0, 1.0, (cells + 1, cells + 1)).astype(np.float32)
    t = np.linspace(0.0, cells, size, endpoint=False, dtype=np.float32)
    i = np.floor(t).astype(np.int64)
    f = t - i
    rows = g[i] * (1 - f)[:, None] + g[i + 1] * f[:, None]
    return rows[:, i] * (1 - f)[None, :] + rows[:, i + 1] * f[None, :]


def _poly_mask(size, poly):
    """Pixels whose centres lie inside a convex polygon (vertices in order)."""
    poly = np.asarray(poly, dtype=np.float64)
    x0 = max(int(math.floor(poly[:, 0].min())), 0)
    x1 = min(int(math.ceil(poly[:, 0].max())) + 1, size)
    y0 = max(int(math.floor(poly[:, 1].min())), 0)
    y1 = min(int(math.ceil(poly[:, 1].max())) + 1, size)
    m = np.zeros((size, size), dtype=bool)
    if x0 >= x1 or y0 >= y1:
        return m
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float64) + 0.5
    inside = np.ones(xx.shape, dtype=bool)
    sign = None
    n = len(poly)
    area = sum(
        poly[k, 0] * poly[(k + 1) % n, 1] - poly[(k + 1) % n, 0] * poly[k, 1] for k in range(n)
    )
    sign = 1.0 if area > 0 else -1.0
    for k in range(n):
        ax, ay = poly[k]
        bx, by = poly[(k + 1) % n]
        cross = (bx - ax) * (yy - ay) - (by - ay) * (xx - ax)
        inside &= sign * cross >= 0
    m[y0:y1, x0:x1] = inside
    return m


def _rect(cx, cy, length, width, angle):
    c, s = math.cos(angle), math.sin(angle)
    hx, hy = length / 2, width / 2
    pts = [(-hx, -hy), (hx, -hy), (hx, hy), (-hx, hy)]
    return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in pts]


def _disk(size, cx, cy, r):
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


def _shade(img, m, factor):
    img[m] *= factor


def _paint(img, m, colour, rng, texture=6.0):
    n = int(m.sum())
    if n:
        img[m] = colour + rng.normal(0.0, texture, (n, 3)).astype(np.float32)


def _shadow(size, parts, dx, dy):
    """Shadow of a building: its parts swept along the sun direction."""
    sh = np.zeros((size, size), dtype=bool)
    for p in parts:
        for k in range(1, 7):
            f = k / 6.0
            sh |= _poly_mask(size, [(x + dx * f, y + dy * f) for x, y in p])
    return sh


def render_scene(seed, size=256):
    """Render scene `seed`: (rgb uint8 (size, size, 3), mask uint8 (size, size))."""
    rng = np.random.default_rng(seed)
    img = np.empty((size, size, 3), dtype=np.float32)
    # ground: grass with patches of dry grass and bare soil
    grass = np.array(rng.choice([[80, 120, 60], [95, 130, 70], [110, 125, 75]]), np.float32)
    soil = np.array([150, 130, 100], np.float32) + rng.uniform(-15, 15, 3).astype(np.float32)
    t = np.clip(_smooth_noise(rng, size, 4) * 0.8 + rng.uniform(-0.4, 0.2), 0, 1)
    img[:] = grass * (1 - t[..., None]) + soil * t[..., None]
    img += _smooth_noise(rng, size, 16)[..., None] * 10.0
    img += rng.normal(0.0, 5.0, img.shape).astype(np.float32)

    occupied = np.zeros((size, size), dtype=bool)
    # roads: long straight strips through the scene
    for _ in range(rng.integers(1, 4)):
        ang = rng.uniform(0, math.pi)
        cx, cy = rng.uniform(0.1, 0.9, 2) * size
        w = rng.uniform(6, 16)
        poly = _rect(cx, cy, size * 3, w, ang)
        m = _poly_mask(size, poly)
        grey = rng.uniform(70, 130)
        _paint(img, m, np.array([grey, grey, grey + 4], np.float32), rng, 5.0)
        if rng.random() < 0.5:
            line = _poly_mask(size, _rect(cx, cy, size * 3, 1.2, ang))
            _paint(img, line & m, np.array([220, 215, 190], np.float32), rng, 8.0)
        occupied |= m
    # paved lots: grey rectangles, flat and without shadow (not buildings)
    for _ in range(rng.integers(0, 3)):
        cx, cy = rng.uniform(0, size, 2)
        poly = _rect(cx, cy, rng.uniform(15, 40), rng.uniform(12, 30), rng.uniform(0, math.pi))
        m = _poly_mask(size, poly) & ~occupied
        grey = rng.uniform(90, 140)
        _paint(img, m, np.array([grey, grey, grey], np.float32), rng, 4.0)
        occupied |= m

    sun = rng.uniform(0, 2 * math.pi)
    mask = np.zeros((size, size), dtype=bool)
    placed = 0
    for _ in range(int(rng.integers(8, 22)) * 4):
        if placed >= 20:
            break
        cx, cy = rng.uniform(-5, size + 5, 2)
        length, width = rng.uniform(10, 36), rng.uniform(8, 22)
        ang = rng.uniform(0, math.pi)
        parts = [_rect(cx, cy, length, width, ang)]
        if rng.random() < 0.35:  # L shape: a wing at one end
            c, s = math.cos(ang), math.sin(ang)
            off = length / 2 - width / 2
            wl = rng.uniform(width * 1.2, width * 2.2)
            side = rng.choice([-1, 1])
            wx = cx + off * c - side * (wl / 2) * s
            wy = cy + off * s + side * (wl / 2) * c
            parts.append(_rect(wx, wy, width, wl, ang))
        foot = np.zeros((size, size), dtype=bool)
        for p in parts:
            foot |= _poly_mask(size, p)
        grown = foot.copy()
        grown[1:] |= foot[:-1]
        grown[:-1] |= foot[1:]
        grown[:, 1:] |= grown[:, :-1]
        grown[:, :-1] |= grown[:, 1:]
        if not foot.any() or (grown & (occupied | mask)).any():
            continue
        height = rng.uniform(3, 9)
        dx, dy = math.cos(sun) * height, math.sin(sun) * height
        sh = _shadow(size, parts, dx, dy) & ~foot & ~mask
        _shade(img, sh, 0.45)
        colour = ROOF_COLOURS[rng.integers(len(ROOF_COLOURS))] + rng.uniform(-12, 12, 3).astype(
            np.float32
        )
        _paint(img, foot, colour, rng, 5.0)
        if rng.random() < 0.6:  # gabled: one slope lit, the other darker
            for p in parts:
                pm = _poly_mask(size, p)
                a = np.asarray(p)
                # half of the part along its long axis
                mid0 = (a[0] + a[3]) / 2
                mid1 = (a[1] + a[2]) / 2
                half = _poly_mask(size, [a[0], a[1], mid1, mid0])
                _shade(img, pm & half, 0.78)
        # eaves: a thin darker outline
        edge = foot & ~(
            np.roll(foot, 1, 0) & np.roll(foot, -1, 0) & np.roll(foot, 1, 1) & np.roll(foot, -1, 1)
        )
        _shade(img, edge, 0.85)
        mask |= foot
        placed += 1
    # trees: dark green crowns with a shadow, never over a building
    for _ in range(rng.integers(5, 30)):
        cx, cy = rng.uniform(0, size, 2)
        r = rng.uniform(3, 8)
        crown = _disk(size, cx, cy, r)
        if (crown & mask).any():
            continue
        sh = _disk(size, cx + math.cos(sun) * r, cy + math.sin(sun) * r, r) & ~crown & ~mask
        _shade(img, sh, 0.55)
        green = np.array([45, 80, 35], np.float32) + rng.uniform(-10, 10, 3).astype(np.float32)
        _paint(img, crown, green, rng, 12.0)
    img *= rng.uniform(0.85, 1.15)  # exposure
    return np.clip(img, 0, 255).astype(np.uint8), mask.astype(np.uint8)


if __name__ == "__main__":
    import sys

    rgb, m = render_scene(int(sys.argv[1]) if len(sys.argv) > 1 else 0, 256)
    print(rgb.shape, rgb.dtype, m.mean())
