#!/usr/bin/env bash
# Runs Redis' own Tcl test suite against the memory engine: see README.md beside this file.
#   conformance/redis-tcl/run.sh --suite /path/to/redis-7.0.15 [--units "type/string type/hash"]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# Node 24 (the devDependency `node`, installed by npm ci); the system's may be older.
node="$root/node_modules/.bin/node"
[ -x "$node" ] || node="$(command -v node)"
command -v tclsh >/dev/null || { echo "tclsh not found (apt-get install -y tcl)" >&2; exit 2; }
exec "$node" "$here/run.ts" "$@"
