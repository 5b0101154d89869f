#!/usr/bin/env python3
"""check_html.py [OPTIONS] PAGE.html DOM.html SHOT.png CHART_ID... — asserts that
a connscale HTML report is self-contained and that headless Chromium rendered
it: every chart's <svg> is in the rendered DOM with series whose points lie
inside the chart and span most of its width, and the screenshot is not blank
(enough non-white pixels, in several colours). Options add checks of the
rendered page: the status banner (--status, --report, --error), the plan's
settings (--setting), a table's rows (--row), an aborted run's chartless page
(--no-charts), the connections chart drawn as steps (--steps) and a layout with nothing cut off
(--layout DOM of a page made by --instrument; --no-scroll: not even in a
scrolling box). Every check runs; each failure is printed. Standard library
only.

check_html.py --instrument PAGE.html OUT.html writes a copy of PAGE with a
script that measures, once laid out, every element that ends beyond the window
outside a scrolling box (or beyond its chart), and every box that scrolls, into <pre id="layout-check"> (the page itself has no
script: the copy is for the test only)."""
import argparse
import html as htmllib
import json
import re
import struct
import sys
import zlib


FAILED = []


def fail(msg):
    """A failed check: printed, and the script exits 1 once every check ran."""
    print("FAIL: " + msg)
    FAILED.append(msg)


def fatal(msg):
    print("FAIL: " + msg)
    sys.exit(1)


LAYOUT_SCRIPT = """<script>
(function () {
  var vw = document.documentElement.clientWidth, out = [];
  if (document.documentElement.scrollWidth > vw)
    out.push("the page is " + document.documentElement.scrollWidth + " px wide");
  var all = document.body.querySelectorAll("*");
  for (var i = 0; i < all.length; i++) {
    var e = all[i], p = e.parentElement, scrolls = false;
    for (; p && p !== document.body; p = p.parentElement) {
      var o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll") { scrolls = true; break; }
    }
    var r = e.getBoundingClientRect(), box = {left: 0, right: vw};
    if (e.ownerSVGElement)  /* an SVG clips what it draws beyond its edges */
      box = e.ownerSVGElement.getBoundingClientRect();
    if (!scrolls && r.width > 0 && (r.right > box.right + 0.5 || r.left < box.left - 0.5))
      out.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + " '" +
               (e.textContent || "").trim().slice(0, 40) + "' spans " +
               Math.round(r.left) + ".." + Math.round(r.right));
  }
  var boxes = document.querySelectorAll("div.scroll"), scrolled = [];
  for (var k = 0; k < boxes.length; k++)
    if (boxes[k].scrollWidth > boxes[k].clientWidth)
      scrolled.push((boxes[k].firstElementChild || boxes[k]).tagName.toLowerCase() + " " +
                    boxes[k].scrollWidth + " px in " + boxes[k].clientWidth);
  var pre = document.createElement("pre");
  pre.id = "layout-check";
  pre.textContent = JSON.stringify({viewport: vw, overflow: out, scrolled: scrolled});
  document.body.appendChild(pre);
})();
</script>"""


def instrument(page, out):
    text = open(page, encoding="utf-8").read()
    if "</body>" not in text:
        fatal(f"{page}: no </body>")
    open(out, "w", encoding="utf-8").write(text.replace("</body>", LAYOUT_SCRIPT + "</body>", 1))


def text_of(fragment):
    """The text a reader sees in an HTML fragment: tags dropped, entities decoded, spaces squeezed."""
    return " ".join(htmllib.unescape(re.sub(r"<[^>]*>", " ", fragment)).split())


def check_charts(rendered, charts):
    for cid in charts:
        m = re.search(r'<svg id="%s" viewBox="0 0 (\d+) (\d+)"(.*?)</svg>' % cid, rendered, re.S)
        if not m:
            fail(f"chart {cid} is not in the rendered page")
            continue
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
            continue
        if min(xs) < 0 or max(xs) > w or min(ys) < 0 or max(ys) > h:
            fail(f"chart {cid}: points outside the {w}x{h} chart")
        elif max(xs) - min(xs) < 0.5 * w:
            fail(f"chart {cid}: data spans only {max(xs) - min(xs):.0f} of {w} px")
        else:
            print(f"ok: chart {cid}: {len(xs)} points within {w}x{h}")


def check_banner(rendered, status, report, errors):
    """The banner: the status, the duration, every threshold judged (or not), the errors."""
    m = re.search(r'<section id="banner"[^>]*>(.*?)</section>', rendered, re.S)
    if not m:
        fail("no status banner (section#banner)")
        return
    banner = m.group(1)
    if 0 <= rendered.find("<h2") < rendered.find('<section id="banner"'):
        fail("the banner is not at the top (a section heading comes before it)")
    got = re.search(r'<span class="status">([^<]*)</span>', banner)
    if not got or htmllib.unescape(got.group(1)) != status:
        fail(f"banner status: expected {status!r}, got {got and got.group(1)!r}")
    dur = re.search(r'<span class="duration">([^<]*)</span>', banner)
    if not dur or not re.fullmatch(r"\d+\.\d s( \(\d+ min \d+ s\))?", dur.group(1)):
        fail(f"banner duration: {dur and dur.group(1)!r}, not 'N.N s'")
    elif report is not None:
        want = report.get("timing", {}).get("results_s") or 0
        if want > 0 and abs(float(dur.group(1).split()[0]) - want) > 0.051:
            fail(f"banner duration {dur.group(1)} for a run of {want} s")
    shown = re.findall(r'<li class="(ok|fail|nj)"><span class="verdict">([^<]*)</span> '
                       r'<code>([^<]*)</code>(?: <span class="measured">([^<]*)</span>)?</li>',
                       banner)
    if report is not None:
        want = report.get("thresholds", [])
        if len(shown) != len(want):
            fail(f"banner shows {len(shown)} thresholds, the report has {len(want)}")
        for t, (cls, verdict, expr, measured) in zip(want, shown):
            expr = htmllib.unescape(expr)
            if expr != t["expr"]:
                fail(f"banner threshold {expr!r}, expected {t['expr']!r}")
            if report["status"] == "aborted":
                expect = ("nj", "not judged", "")
            else:
                expect = ("ok" if t["ok"] else "fail", "ok" if t["ok"] else "FAIL",
                          "measured %g" % t["value"])
            if (cls, verdict, measured) != expect:
                fail(f"banner threshold {expr}: {(cls, verdict, measured)}, expected {expect}")
    text = text_of(banner)
    for e in errors:
        if e not in text:
            fail(f"banner does not show {e!r}: {text!r}")
    print(f"ok: banner: {text[:160]}")


def check_settings(rendered, settings):
    m = re.search(r'<table id="settings">(.*?)</table>', rendered, re.S)
    if not m:
        fail("no settings table (table#settings)")
        return
    rows = {text_of(k): text_of(v) for k, v in
            re.findall(r"<tr><th>(.*?)</th><td[^>]*>(.*?)</td></tr>", m.group(1), re.S)}
    for kv in settings:
        key, value = kv.split("=", 1)
        if rows.get(key) != value:
            fail(f"setting {key}: expected {value!r}, got {rows.get(key)!r}")
    print(f"ok: settings: {rows}")


def check_rows(rendered, rows):
    """--row TABLE=CELL|CELL...: a row of table#TABLE whose first cells read so."""
    for spec in rows:
        tid, want = spec.split("=", 1)
        want = want.split("|")
        m = re.search(r'<table id="%s"[^>]*>(.*?)</table>' % re.escape(tid), rendered, re.S)
        if not m:
            fail(f"no table#{tid}")
            continue
        got = [[text_of(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
               for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", m.group(1), re.S)]
        if not any(r[:len(want)] == want for r in got):
            fail(f"table#{tid}: no row starting {want}; rows: {got}")
        else:
            print(f"ok: table#{tid} has a row {want}")


def check_no_charts(rendered):
    """An aborted run's page: no chart drawn, a one-line note for each instead."""
    if re.search(r"<svg|<figure", rendered):
        fail("a run without data drew charts: " + ", ".join(re.findall(r'<svg id="([^"]*)"', rendered)))
    # The memory chart's note is the one e2e.security.html_escape knows, without the class.
    notes = re.findall(r'<p class="note nodata">([^<]*)</p>|<p class="note">(The server was not '
                       r'sampled[^<]*)</p>', rendered)
    notes = [a or b for a, b in notes]
    if len(notes) < 4:
        fail(f"{len(notes)} notes for the four charts not drawn: {notes}")
    else:
        print(f"ok: no charts, notes: {notes}")


def dump_timeline(report):
    """The report's timeline, for a failure to explain itself: phases, then each
    row's time and every agent's open connections."""
    tl = (report or {}).get("timeline") or {}
    print("timeline phases: " + ", ".join(f"{p.get('phase')} {p.get('step')} at {p.get('t')}"
                                           for p in tl.get("phases") or []))
    agents = tl.get("agents") or []
    for k, t in enumerate(tl.get("t") or []):
        print(f"  t={t}: " + " ".join(f"{a.get('name')}={(a.get('current') or [None] * (k + 1))[k]}"
                                       for a in agents))


def check_steps(rendered, report=None):
    """Connections over time: steps (horizontal and vertical edges only) from the
    samples, and no rise drawn inside a hold phase (on failure, the report's
    timeline is printed)."""
    m = re.search(r'<svg id="chart-connections"(.*?)</svg>', rendered, re.S)
    if not m:
        fail("no connections chart")
        return
    body = m.group(1)
    holds, marks = [], [(float(x), lab) for x, lab in re.findall(
        r'<line class="mark" x1="([\d.]+)"[^>]*>(?:</line>)?<text class="marklabel"[^>]*>([^<]*)</text>',
        body)]
    marks.sort()
    for i, (x, lab) in enumerate(marks):
        if lab.startswith("hold"):
            holds.append((x, marks[i + 1][0] if i + 1 < len(marks) else 1e9))
    if not holds:
        fail("no hold phase marked on the connections chart")
    rises = 0
    for pts in re.findall(r'<polygon[^>]*points="([^"]*)"', body):
        p = [tuple(map(float, q.split(","))) for q in pts.split()]
        top = p[:len(p) // 2]  # the upper edge, left to right; the rest is its base
        for (x0, y0), (x1, y1) in zip(top, top[1:]):
            if abs(x0 - x1) > 0.15 and abs(y0 - y1) > 0.15:
                fail(f"connections chart: a sloped edge ({x0},{y0})-({x1},{y1}): not steps")
                return
            if abs(x0 - x1) <= 0.15 and y1 < y0 - 0.15:  # up on the screen: more connections
                rises += 1
                for h0, h1 in holds:
                    if h0 + 0.15 < x0 < h1 - 0.15:
                        fail(f"connections chart: connections rise at x={x0} inside a hold ({h0}..{h1})")
                        dump_timeline(report)
                        return
    if rises == 0:
        fail("connections chart: no rise drawn")
    else:
        print(f"ok: connections drawn as steps, {rises} rises, none in {len(holds)} holds")


def check_layout(dom, no_scroll):
    m = re.search(r'<pre id="layout-check">([^<]*)</pre>', open(dom, encoding="utf-8").read())
    if not m:
        fail(f"{dom}: no layout measured")
        return
    got = json.loads(htmllib.unescape(m.group(1)))
    if no_scroll and got.get("scrolled"):
        fail(f"at {got['viewport']} px a table must be scrolled to be read: " + "; ".join(got["scrolled"]))
    if got["overflow"]:
        fail(f"at {got['viewport']} px cut off: " + "; ".join(got["overflow"][:8]))
    else:
        print(f"ok: at {got['viewport']} px nothing ends beyond the window"
              + (f" (scrolling: {', '.join(got['scrolled'])})" if got.get("scrolled") else ""))


def png_pixels(path):
    """Decodes an 8-bit RGB/RGBA non-interlaced PNG: (width, height, rows of bytes, bpp)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fatal(f"{path}: not a PNG")
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                fatal(f"{path}: unsupported PNG (depth {depth}, colour type {ctype})")
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


def check_screenshot(shot, colours_min):
    width, height, rows, bpp = png_pixels(shot)
    inked, colours = 0, set()
    for row in rows[::2]:
        for x in range(0, width * bpp, bpp * 2):
            r, g, b = row[x], row[x + 1], row[x + 2]
            if r + g + b < 720:
                inked += 1
                colours.add((r >> 4, g >> 4, b >> 4))
    share = inked / ((height // 2) * (width // 2))
    if share < 0.01 or len(colours) < colours_min:
        fail(f"screenshot looks blank: {share:.1%} inked, {len(colours)} colours")
    else:
        print(f"ok: screenshot {width}x{height}, {share:.1%} inked, {len(colours)} colours")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--instrument":
        instrument(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--status", help="the banner's status text")
    ap.add_argument("--report", help="report.json: the banner's thresholds and duration")
    ap.add_argument("--error", action="append", default=[], help="text the banner shows")
    ap.add_argument("--setting", action="append", default=[], help="KEY=VALUE in the settings")
    ap.add_argument("--row", action="append", default=[],
                    help="TABLE=CELL|CELL...: a row of table#TABLE starting with these cells")
    ap.add_argument("--no-charts", action="store_true", help="no chart drawn, notes instead")
    ap.add_argument("--steps", action="store_true", help="connections drawn as steps")
    ap.add_argument("--layout", help="DOM of an --instrument copy: nothing cut off")
    ap.add_argument("--no-scroll", action="store_true", help="with --layout: no table scrolls")
    ap.add_argument("page")
    ap.add_argument("dom")
    ap.add_argument("shot")
    ap.add_argument("charts", nargs="*")
    a = ap.parse_args()
    html = open(a.page, encoding="utf-8").read()
    if re.search(r"<script|<link|<img|<iframe|\bsrc=|@import|url\(", html, re.I):
        fail("the page loads or runs something: it must be self-contained")
    if re.search(r"https?://(?!www\.w3\.org/2000/svg)", html):
        fail("the page refers to the network")
    rendered = open(a.dom, encoding="utf-8").read()
    check_charts(rendered, a.charts)
    if a.status:
        report = json.load(open(a.report)) if a.report else None
        check_banner(rendered, a.status, report, a.error)
    if a.setting:
        check_settings(rendered, a.setting)
    if a.row:
        check_rows(rendered, a.row)
    if a.no_charts:
        check_no_charts(rendered)
    if a.steps:
        check_steps(rendered, json.load(open(a.report)) if a.report else None)
    if a.layout:
        check_layout(a.layout, a.no_scroll)
    check_screenshot(a.shot, 4 if a.no_charts else 8)
    if FAILED:
        sys.exit(1)


main()
