#!/usr/bin/env python3
"""check_html.py PAGE.html DOM.html SHOT.png CHART_ID... — asserts that a
connscale HTML report is self-contained and that headless Chromium rendered
it: every chart's <svg> is in the rendered DOM with series whose points lie
inside the chart and span most of its width, and the screenshot is not blank
(enough non-white pixels, in several colours). Standard library only."""
import re
import struct
import sys
import zlib


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def png_pixels(path):
    """Decodes an 8-bit RGB/RGBA non-interlaced PNG: (width, height, rows of bytes, bpp)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path}: not a PNG")
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                fail(f"{path}: unsupported PNG (depth {depth}, colour type {ctype})")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += n + 12
    raw = zlib.decompress(idat)
    stride, rows, prev = w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, rows, bpp


def main():
    page, dom, shot, charts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    html = open(page, encoding="utf-8").read()
    if re.search(r"<script|<link|<img|<iframe|\bsrc=|@import|url\(", html, re.I):
        fail("the page loads or runs something: it must be self-contained")
    if re.search(r"https?://(?!www\.w3\.org/2000/svg)", html):
        fail("the page refers to the network")
    rendered = open(dom, encoding="utf-8").read()
    for cid in charts:
        m = re.search(r'<svg id="%s" viewBox="0 0 (\d+) (\d+)"(.*?)</svg>' % cid, rendered, re.S)
        if not m:
            fail(f"chart {cid} is not in the rendered page")
        w, h, body = int(m.group(1)), int(m.group(2)), m.group(3)
        xs, ys = [], []
        for pts in re.findall(r'<poly(?:line|gon)[^>]*points="([^"]*)"', body):
            for p in pts.split():
                x, y = map(float, p.split(","))
                xs.append(x)
                ys.append(y)
        for cx, cy in re.findall(r'<circle[^>]*cx="([\d.]+)" cy="([\d.]+)"', body):
            xs.append(float(cx))
            ys.append(float(cy))
        if len(xs) < 2:
            fail(f"chart {cid} has no data drawn")
        if min(xs) < 0 or max(xs) > w or min(ys) < 0 or max(ys) > h:
            fail(f"chart {cid}: points outside the {w}x{h} chart")
        if max(xs) - min(xs) < 0.5 * w:
            fail(f"chart {cid}: data spans only {max(xs) - min(xs):.0f} of {w} px")
        print(f"ok: chart {cid}: {len(xs)} points within {w}x{h}")
    width, height, rows, bpp = png_pixels(shot)
    inked, colours = 0, set()
    for row in rows[::2]:
        for x in range(0, width * bpp, bpp * 2):
            r, g, b = row[x], row[x + 1], row[x + 2]
            if r + g + b < 720:
                inked += 1
                colours.add((r >> 4, g >> 4, b >> 4))
    share = inked / ((height // 2) * (width // 2))
    if share < 0.01 or len(colours) < 8:
        fail(f"screenshot looks blank: {share:.1%} inked, {len(colours)} colours")
    print(f"ok: screenshot {width}x{height}, {share:.1%} inked, {len(colours)} colours")


main()
