# Draws assets/icon.png, the packages' icon (PackageIcon in Directory.Build.props): 128x128 RGBA, a blue rounded
# square with three messages over a white arrow (the bus). 4x4 supersampling for smooth edges; standard library only.
# Usage: python3 assets/make-icon.py [OUTPUT]   (default: icon.png beside this script)
import os, struct, zlib, sys
N, S = 128, 4
BLUE = (37, 99, 235)
def inside(x, y):
    """Returns the colour at (x, y) in 0..128 space, or None for transparent."""
    # rounded square, radius 24
    r, lo, hi = 24.0, 0.0, 128.0
    cx = min(max(x, lo + r), hi - r); cy = min(max(y, lo + r), hi - r)
    if (x - cx) ** 2 + (y - cy) ** 2 > r * r:
        return None
    white = (255, 255, 255)
    # the bus: a horizontal bar
    if 18 <= x <= 98 and 78 <= y <= 88:
        return white
    # arrow head at the right end
    if 94 <= x <= 112 and abs(y - 83) <= (112 - x) * 0.9 + 0.01:
        return white
    # three messages riding on the bar (rounded boxes)
    for mx in (22, 48, 74):
        bx0, bx1, by0, by1, rr = mx, mx + 20, 46, 68, 5.0
        qx = min(max(x, bx0 + rr), bx1 - rr); qy = min(max(y, by0 + rr), by1 - rr)
        if (x - qx) ** 2 + (y - qy) ** 2 <= rr * rr:
            return white
    return BLUE
rows = []
for py in range(N):
    row = bytearray([0])
    for px in range(N):
        acc = [0, 0, 0, 0]
        for sy in range(S):
            for sx in range(S):
                c = inside(px + (sx + 0.5) / S, py + (sy + 0.5) / S)
                if c is not None:
                    acc[0] += c[0]; acc[1] += c[1]; acc[2] += c[2]; acc[3] += 1
        a = acc[3]
        if a:
            row += bytes((acc[0] // a, acc[1] // a, acc[2] // a, a * 255 // (S * S)))
        else:
            row += bytes((0, 0, 0, 0))
    rows.append(bytes(row))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", N, N, 8, 6, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "icon.png")
open(out, "wb").write(png)
