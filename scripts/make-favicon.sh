#!/usr/bin/env bash
# Renders web/static/img/favicon.svg at 16, 32 and 48 px with headless Chromium and packs the PNGs into
# web/static/img/favicon.ico (PNG-in-ICO, read by every current browser), which the server answers at
# /favicon.ico. Run it after changing the SVG and commit both files.
set -euo pipefail
cd "$(dirname "$0")/.."
svg="$PWD/web/static/img/favicon.svg"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for size in 16 32 48; do
    chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --default-background-color=00000000 \
        --window-size="$size,$size" --screenshot="$work/$size.png" "file://$svg" >/dev/null 2>&1
done
python3 - "$work" web/static/img/favicon.ico <<'PY'
import struct, sys
work, out = sys.argv[1], sys.argv[2]
images = [open(f"{work}/{size}.png", "rb").read() for size in (16, 32, 48)]
header = struct.pack("<HHH", 0, 1, len(images))  # reserved, type 1 = icon, count
offset = len(header) + 16 * len(images)
entries, data = b"", b""
for size, png in zip((16, 32, 48), images):
    entries += struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(png), offset + len(data))
    data += png
with open(out, "wb") as f:
    f.write(header + entries + data)
PY
echo "wrote web/static/img/favicon.ico"
