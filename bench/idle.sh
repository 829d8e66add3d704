#!/usr/bin/env bash
# Idle CPU of the desktop window on the demo region, nothing happening. The emulator runs in
# its own process (`scale0 emulator`, which the window's --demo uses when one is running),
# so the window's CPU is measured apart from the emulator's and from the X server's.
# Needs Xvfb. Prints CPU ticks (1/100 s) per process over the measured seconds.
# Usage: bench/idle.sh [SECONDS] [WARMUP_SECONDS]      (default 30 and 20)
#   BASELINE_BIN=/path/to/older/scale0 bench/idle.sh    also measures an older binary,
#                                                        in the same run, for a ratio
#   NEW_BIN=target/debug/scale0 bench/idle.sh           measures that binary (no build)
#   FRAME_LOG=/tmp/frames.txt bench/idle.sh              keeps the window's frame log
set -euo pipefail
cd "$(dirname "$0")/.."
MEASURE=${1:-30}
WARMUP=${2:-20}
if [ -z "${NEW_BIN:-}" ]; then
    cargo build --release --quiet --bin scale0
    NEW_BIN=$PWD/target/release/scale0
fi
TICKS=$(getconf CLK_TCK)

ticks() { # utime + stime of a process, in clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat"
}

# measure LABEL BIN: prints one table row
measure() {
    local label=$1 bin=$2 dir pids=()
    dir=$(mktemp -d)
    export XDG_RUNTIME_DIR=$dir XDG_DATA_HOME=$dir/data XDG_CONFIG_HOME=$dir/config
    mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"
    "$bin" emulator --port 0 > "$dir/emulator.out" 2>/dev/null &
    local emu=$!
    pids+=("$emu")
    for _ in $(seq 50); do [ -s "$dir/emulator.out" ] && break; sleep 0.2; done
    Xvfb -displayfd 3 -screen 0 1600x1000x24 3> "$dir/display" 2>/dev/null &
    local xvfb=$!
    pids+=("$xvfb")
    for _ in $(seq 50); do [ -s "$dir/display" ] && break; sleep 0.2; done
    DISPLAY=:$(cat "$dir/display") SCALE0_LOG_FRAMES=1 "$bin" --demo > /dev/null 2> "$dir/app.err" &
    local app=$!
    pids+=("$app")
    sleep "$WARMUP"
    local a0 e0 x0 a1 e1 x1
    local f0 f1
    a0=$(ticks "$app"); e0=$(ticks "$emu"); x0=$(ticks "$xvfb")
    f0=$(grep -c '^scale0 frame ' "$dir/app.err" || true)
    sleep "$MEASURE"
    a1=$(ticks "$app"); e1=$(ticks "$emu"); x1=$(ticks "$xvfb")
    f1=$(grep -c '^scale0 frame ' "$dir/app.err" || true)
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
    if [ -n "${FRAME_LOG:-}" ]; then cp "$dir/app.err" "$FRAME_LOG"; fi
    rm -rf "$dir"
    local app_ticks=$((a1 - a0))
    awk -v l="$label" -v a="$app_ticks" -v e=$((e1 - e0)) -v x=$((x1 - x0)) -v s="$MEASURE" -v t="$TICKS" -v f=$((f1 - f0)) \
        'BEGIN { printf "| %s | %d (%.2f %% of a core) | %d | %d | %d |\n", l, a, 100 * a / (s * t), f, e, x }'
    LAST_APP_TICKS=$app_ticks
}

echo "idle window on the demo region, ${MEASURE} s measured after ${WARMUP} s, CPU ticks (1/${TICKS} s)"
echo
echo "| binary | window | frames drawn | emulator | Xvfb |"
echo "|---|---|---|---|---|"
if [ -n "${BASELINE_BIN:-}" ]; then
    measure baseline "$BASELINE_BIN"
    BASE=$LAST_APP_TICKS
fi
measure new "$NEW_BIN"
if [ -n "${BASE:-}" ] && [ "$BASE" -gt 0 ]; then
    awk -v n="$LAST_APP_TICKS" -v b="$BASE" 'BEGIN { printf "\nwindow CPU, new / baseline: %.2fx\n", n / b }'
fi
echo
echo "goal (issue 20): the window under 1 % of a core"
