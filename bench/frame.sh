#!/usr/bin/env bash
# One UI frame's cost (layout + tessellation, no GPU) and the live heap, for the app as it
# was (baseline: every point held, everything rebuilt each frame) and as it is, in one run.
# Usage: bench/frame.sh [--environments N] [--days D] [--frames F]
#   bench/frame.sh                                # 50 environments x 24 h
#   bench/frame.sh --environments 200 --days 7    # team scale (issue 20)
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --release --quiet --features bench-tools --bin frame-bench -- "$@"
