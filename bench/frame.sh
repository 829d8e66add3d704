#!/usr/bin/env bash
# One UI frame's cost (layout + tessellation, no GPU) with 50 environments and 24 h of
# 1-minute data in every graph, and live-heap growth across frames.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --release --quiet --features bench-tools --bin frame-bench
