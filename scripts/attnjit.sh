#!/usr/bin/env bash
# Builds attnjit if needed, then runs the CLI with the given arguments, e.g.
#   scripts/attnjit.sh check examples/*.attn
# The build happens in the repository; the tool runs in the caller's directory,
# so relative FILE arguments mean what they say. Build output goes to stderr,
# so `--json` output on stdout stays clean.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

"$root/scripts/build.sh" >&2
exec "$root/build/default/tools/attnjit" "$@"
