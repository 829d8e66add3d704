#!/usr/bin/env bash
# Refresh fan-out: one inventory of 50 environments against the emulator, 100 ms added to
# every API call; prints cold and warm refresh times in call latencies and the calls made.
# Usage: bench/refresh.sh [LATENCY_MS]
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE0_BENCH_LATENCY_MS=${1:-100} cargo bench --bench refresh
