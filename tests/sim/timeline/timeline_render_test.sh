#!/usr/bin/env bash
# The timeline renders: `cluster-kv-sim --seed 1 --nodes 5 --timeline` (a seed with a
# partition, crashes and clogs) writes one self-contained HTML file whose structure is
# checked (a lane per node, member states, both sides of the partition shaded, client
# operations, invalidation traffic, nothing fetched, no script), and headless Chromium
# (Debian's chromium package) draws it: the screenshot must show the colours of alive
# members, of both partition sides and of successful operations.
# Usage: timeline_render_test.sh path/to/cluster-kv-sim
set -u
sim=$1
work=$(mktemp -d /tmp/ckv-timeline.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
pass() { echo "ok      $*"; }
fail() { echo "FAILED  $*"; failures=$((failures + 1)); }
for c in chromium python3; do
  command -v $c >/dev/null || { echo "MISSING: this test needs '$c' (tools/setup.sh installs it)"; exit 1; }
done

"$sim" --nodes 5 --seed 1 --timeline "$work/t.html" > "$work/sim.out" 2>&1 \
  && pass "the simulator drew seed 1" || fail "the run: $(tail -3 "$work/sim.out")"

python3 - "$work/t.html" <<'PY' && pass "its structure" || fail "its structure (above)"
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
problems = []
def want(what, ok):
    if not ok: problems.append(what)
lanes = re.findall(r'<g class="lane" data-node="(n\d+)">', html)
want("a lane per node n0..n4, got %s" % lanes, lanes == ["n0", "n1", "n2", "n3", "n4"])
for state in ("alive", "suspect", "dead"):
    want("member bars in state " + state, html.count('class="state %s"' % state) > 0)
want("partition shading, one side", 'class="fault partition"' in html)
want("partition shading, the other side", 'class="fault partition side1"' in html)
want("crash shading", 'class="fault crash"' in html)
want("client operations that succeeded", html.count('class="op ok"') > 100)
want("invalidation traffic", 0 < html.count('class="traffic"') <= 3000)
want("the reproduce command", "reproduce: cluster-kv-sim --nodes 5 --seed 1" in html)
# Self-contained: nothing loaded from anywhere, no script.
for bad in ("<script", " src=", "href=", "url(", "@import", "<link"):
    want("nothing like %r" % bad, bad not in html)
want("no address but the SVG namespace", re.findall(r"https?://[^\"]*", html) == ["http://www.w3.org/2000/svg"])
for p in problems: print("   ", p)
sys.exit(1 if problems else 0)
PY

timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$work/profile" --window-size=1560,700 --screenshot="$work/t.png" \
  "file://$work/t.html" > "$work/chromium.log" 2>&1
[ -s "$work/t.png" ] && pass "chromium took a screenshot" || fail "no screenshot: $(tail -3 "$work/chromium.log")"

python3 - "$work/t.png" <<'PY' && pass "the screenshot shows the timeline's colours" || fail "the screenshot (above)"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, width, height, ctype = 8, b"", 0, 0, 0
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), "unexpected PNG format"
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
bpp = 4 if ctype == 6 else 3
raw = zlib.decompress(idat)
stride = width * bpp
rows, prev = [], bytearray(stride)
for y in range(height):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
counts = {}
for line in rows:
    for i in range(0, stride, bpp):
        px = bytes(line[i:i + 3])
        counts[px] = counts.get(px, 0) + 1
def near(rgb, tol=40):
    return sum(n for px, n in counts.items() if all(abs(px[k] - rgb[k]) <= tol for k in range(3)))
alive, ok_ops = near((0x4c, 0xaf, 0x50), 12), near((0x2e, 0x7d, 0x32), 12)
print("    %dx%d: alive-green %d px, op-green %d px, %d colours" % (width, height, alive, ok_ops, len(counts)))
problems = []
if alive < 5000: problems.append("too little of the alive colour")
if ok_ops < 500: problems.append("too little of the ok-operation colour")
if near((0xef, 0xde, 0xcf), 14) + near((0xf6, 0xe2, 0xd2), 14) < 2000:
    problems.append("no shading of the partition's second side")
for p in problems: print("   ", p)
sys.exit(1 if problems else 0)
PY

if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
