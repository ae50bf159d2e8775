#!/usr/bin/env python3
"""Load migsim's HTML reports in headless Chromium and check them as a reader would see them.

Drives Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe: JSON messages
ended by a NUL byte on file descriptors 3 and 4), so it needs nothing beyond the standard library.
For each PAGE[:MIN_SVGS] given it checks that:
  - the page loads with no console error, no uncaught exception and no error in the browser log;
  - it fetches nothing but itself (no request other than file: or data:), and has no script;
  - it has a title, tables with rows, and at least MIN_SVGS inline SVG charts, each drawn with a
    real size and text in it;
  - a screenshot of the first screen is a PNG of the window's size that is not blank (many colours,
    and a good share of pixels that are not the background);
  - it prints: the print media renders to a PDF of at least one page.
Screenshots and PDFs are written beside the pages. Exit status 1 on the first failed check.
"""

import argparse
import base64
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--remote-debugging-pipe",
]
WIDTH, HEIGHT = 1200, 900


class Browser:
    def __init__(self, exe):
        self.profile = tempfile.mkdtemp(prefix="migsim-chromium-")
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()

        def fds():
            # Chromium reads fd 3 and writes fd 4; move the pipe ends out of the way first, since
            # either may itself be 3 or 4.
            r, w = os.dup(to_child_r), os.dup(from_child_w)
            r, w = os.dup2(r, 100), os.dup2(w, 101)
            os.dup2(r, 3)
            os.dup2(w, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self.proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={self.profile}", f"--window-size={WIDTH},{HEIGHT}", "about:blank"],
            preexec_fn=fds, close_fds=False, stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.profile, "stderr.txt"), "w"))
        os.close(to_child_r)
        os.close(from_child_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def read(self, deadline):
        while b"\0" not in self.buf:
            if time.time() > deadline:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self.from_child, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe (did it start?)")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, params=None, session=None, timeout=60):
        want = self.send(method, params, session)
        deadline = time.time() + timeout
        while True:
            m = self.read(deadline)
            if m.get("id") == want:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, name, session, timeout=60):
        deadline = time.time() + timeout
        for i, m in enumerate(self.events):
            if m.get("method") == name and m.get("sessionId") == session:
                return self.events.pop(i)
        while True:
            m = self.read(deadline)
            if m.get("method") == name and m.get("sessionId") == session:
                return m
            self.events.append(m)

    def close(self):
        try:
            self.send("Browser.close")
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
        subprocess.run(["rm", "-rf", self.profile], check=False)


def png_pixels(data):
    """Width, height and the RGB(A) rows of an 8-bit, non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, f"unexpected PNG format {depth}/{ctype}/{interlace}"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
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
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def check_page(br, path, min_svgs, out_dir):
    name = os.path.basename(path)
    fail = lambda msg: sys.exit(f"browser check FAILED: {name}: {msg}")
    target = br.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = br.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        br.call(f"{domain}.enable", session=session)
    br.call("Emulation.setDeviceMetricsOverride", {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}, session)
    br.events.clear()
    url = "file://" + os.path.abspath(path)
    nav = br.call("Page.navigate", {"url": url}, session)
    if nav.get("errorText"):
        fail(f"cannot load {url}: {nav['errorText']}")
    br.wait_event("Page.loadEventFired", session)
    # Let late console messages arrive.
    br.call("Runtime.evaluate", {"expression": "new Promise(r => setTimeout(r, 300))", "awaitPromise": True}, session)

    problems = []
    for m in br.events:
        p, meth = m.get("params", {}), m.get("method")
        if meth == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            problems.append("console error: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        elif meth == "Runtime.exceptionThrown":
            problems.append("uncaught exception: " + p.get("exceptionDetails", {}).get("text", ""))
        elif meth == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            problems.append("browser log error: " + p["entry"].get("text", ""))
        elif meth == "Network.requestWillBeSent":
            u = p.get("request", {}).get("url", "")
            if not (u.startswith("file:") or u.startswith("data:")):
                problems.append("fetched " + u)
    if problems:
        fail("; ".join(problems))

    probe = """(() => {
      const svgs = [...document.querySelectorAll('svg')];
      const tables = [...document.querySelectorAll('table')];
      return {
        title: document.title,
        h1: document.querySelector('h1') ? document.querySelector('h1').textContent : '',
        h2: [...document.querySelectorAll('h2')].map(h => h.textContent),
        tables: tables.length,
        rows: tables.map(t => t.tBodies.length ? t.tBodies[0].rows.length : 0),
        svgs: svgs.map(s => { const r = s.getBoundingClientRect(); return [Math.round(r.width), Math.round(r.height), s.querySelectorAll('text').length]; }),
        scripts: document.querySelectorAll('script').length,
        external: [...document.querySelectorAll('[src],[href]')].map(e => e.getAttribute('src') || e.getAttribute('href')).filter(u => !u.startsWith('#')),
        height: document.documentElement.scrollHeight,
      };
    })()"""
    page = br.call("Runtime.evaluate", {"expression": probe, "returnByValue": True}, session)["result"]["value"]
    if not page["title"] or not page["h1"]:
        fail("no title or no h1 heading")
    if page["scripts"]:
        fail(f"{page['scripts']} script element(s); the report must need none")
    if page["external"]:
        fail("links or sources outside the page: " + ", ".join(page["external"][:5]))
    if page["tables"] < 1 or min(page["rows"]) < 1:
        fail(f"tables {page['tables']} with rows {page['rows']}: expected at least one table, each with rows")
    if len(page["svgs"]) < min_svgs:
        fail(f"{len(page['svgs'])} inline SVG charts, expected at least {min_svgs}")
    for i, (w, h, texts) in enumerate(page["svgs"]):
        if w < 300 or h < 150 or texts < 5:
            fail(f"chart {i + 1} is drawn {w} x {h} px with {texts} text elements: too small or without its labels")

    shot = base64.b64decode(br.call("Page.captureScreenshot", {"format": "png"}, session)["data"])
    shot_path = os.path.join(out_dir, name.rsplit(".", 1)[0] + "-screenshot.png")
    with open(shot_path, "wb") as f:
        f.write(shot)
    w, h, bpp, rows = png_pixels(shot)
    if (w, h) != (WIDTH, HEIGHT) or len(shot) < 20_000:
        fail(f"screenshot is {w} x {h} px, {len(shot)} bytes: expected {WIDTH} x {HEIGHT} and more than 20 kB")
    background = rows[0][:3]
    colours, other = set(), 0
    for r in rows[::3]:
        for x in range(0, w * bpp, bpp * 3):
            px = r[x:x + 3]
            colours.add(px)
            other += px != background
    share = other / (len(rows[::3]) * len(range(0, w * bpp, bpp * 3)))
    if len(colours) < 16 or share < 0.03:
        fail(f"screenshot looks blank: {len(colours)} colours, {share:.1%} of pixels not the background")

    br.call("Emulation.setEmulatedMedia", {"media": "print"}, session)
    pdf = base64.b64decode(br.call("Page.printToPDF", {"printBackground": False, "preferCSSPageSize": True}, session, timeout=120)["data"])
    pdf_pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    with open(os.path.join(out_dir, name.rsplit(".", 1)[0] + "-print.pdf"), "wb") as f:
        f.write(pdf)
    if not pdf.startswith(b"%PDF") or pdf_pages < 1:
        fail(f"printing gave no PDF page ({len(pdf)} bytes)")
    br.call("Target.closeTarget", {"targetId": target})
    print(f"browser check ok: {name}: {len(page['svgs'])} charts, {page['tables']} tables ({sum(page['rows'])} rows), "
          f"{len(page['h2'])} sections, no console errors, no requests; screenshot {w} x {h} with {len(colours)} colours "
          f"({share:.0%} not background), {len(shot) // 1024} KiB; print {pdf_pages} pages")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chromium", default="chromium")
    ap.add_argument("pages", nargs="+", help="PAGE.html[:MIN_SVGS]")
    a = ap.parse_args()
    br = Browser(a.chromium)
    try:
        version = br.call("Browser.getVersion", timeout=60)
        print(f"browser check: {version.get('product', '?')}")
        for spec in a.pages:
            path, _, n = spec.partition(":")
            check_page(br, path, int(n or 1), os.path.dirname(os.path.abspath(path)))
    finally:
        br.close()


if __name__ == "__main__":
    main()
