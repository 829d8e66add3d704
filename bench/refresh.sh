#!/usr/bin/env bash
# Refresh fan-out: the inventory of N environments over R regions (one emulator each), with
# a latency added to every API call; prints cold and warm refresh times in call latencies,
# when the first region was listed, the calls made, and the serial time as the baseline.
# Usage: bench/refresh.sh [--environments N] [--regions R] [--latency-ms MS] [--runs K]
#   bench/refresh.sh                                  # 50 environments, 1 region, 100 ms
#   bench/refresh.sh --environments 200 --regions 3   # team scale (issue 20)
set -euo pipefail
cd "$(dirname "$0")/.."
# A bare number is the latency, as before.
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then set -- --latency-ms "$@"; fi
exec cargo bench --bench refresh -- "$@"
