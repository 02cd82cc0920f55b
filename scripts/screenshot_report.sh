#!/usr/bin/env bash
# Render a study's report.html in headless Chromium and save a full-page PNG, to look at what a
# person sees. Needs Debian's chromium (apt-get install chromium).
# Usage: scripts/screenshot_report.sh [REPORT_HTML] [OUT_PNG] [HEIGHT]
set -euo pipefail
report=$(realpath "${1:-out/demo/report.html}")
png=${2:-${report%.html}.png}
height=${3:-9000}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --window-size="1300,$height" \
  --screenshot="$png" "file://$report" 2>/dev/null
echo "wrote $png"
