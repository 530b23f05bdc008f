#!/usr/bin/env bash
# Takes the README's picture of the demo's HTML report: headless Chromium from Debian's packages
# (installed with apt-get when missing; needs root) renders demo-report/report.html to
# docs/demo-report.png. Run `npm run demo` first.
set -euo pipefail
cd "$(dirname "$0")/.."
report=${1:-demo-report/report.html}
out=${2:-docs/demo-report.png}
[[ -f $report ]] || { echo "screenshot: $report not found; run npm run demo first" >&2; exit 1; }
if ! command -v chromium >/dev/null; then
  [[ $(id -u) == 0 ]] || { echo "screenshot: chromium is not installed and this is not root" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
mkdir -p "$(dirname "$out")"
# The flags keep a sandboxed, offline machine's Chromium from reaching for the network.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$profile" \
  --window-size=1160,${HEIGHT:-1500} --screenshot="$(realpath -m "$out")" "file://$(realpath "$report")" 2>/dev/null
echo "screenshot: $out"
