#!/usr/bin/env bash
# Burst throughput against oha and wrk on the same loopback target, interleaved, at
# concurrency 50 and 150; target and client pinned to separate cores where taskset
# exists. Prints requests/sec and p99 for each, the ratios scale0/oha and scale0/wrk,
# and scale0's peak memory for a short and a long run.
#
# Usage: bench/burst_vs_oha.sh [SECONDS_PER_RUN]   (default 5)
# Needs: oha (installed with `cargo install oha --locked` if missing), wrk (Debian: wrk),
# GNU time (Debian: time) for the memory figures.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
port=$((20000 + RANDOM % 20000))
url="http://127.0.0.1:$port/"

cargo build --release --quiet --bin scale0
cargo build --release --quiet --manifest-path bench/target-server/Cargo.toml
command -v oha >/dev/null || cargo install oha --locked
have_wrk=$(command -v wrk >/dev/null && echo yes || echo no)

pin_target=() pin_client=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_target=(taskset -c 0) pin_client=(taskset -c 1)
fi
"${pin_target[@]}" bench/target-server/target/release/bench-target-server "127.0.0.1:$port" &
server=$!
trap 'kill $server 2>/dev/null' EXIT
sleep 0.5

results=$(mktemp)
run_scale0() { "${pin_client[@]}" target/release/scale0 burst "$url" -c "$1" -z "${secs}s" --json |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["requests_per_second"], d["latency"]["p99"])'; }
run_oha() { "${pin_client[@]}" oha "$url" -c "$1" -z "${secs}s" --no-tui --output-format json |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["summary"]["requestsPerSec"], d["latencyPercentiles"]["p99"]*1000)'; }
run_wrk() { "${pin_client[@]}" wrk -t1 -c "$1" -d "${secs}s" --latency "$url" |
  python3 -c '
import re,sys
t=sys.stdin.read()
rps=float(re.search(r"Requests/sec:\s+([\d.]+)",t).group(1))
m=re.search(r"99%\s+([\d.]+)(us|ms|s)",t); f={"us":0.001,"ms":1,"s":1000}[m.group(2)]
print(rps, float(m.group(1))*f)'; }

for c in 50 150; do
  for round in 1 2; do
    echo "scale0 $c $(run_scale0 $c)" >>"$results"
    echo "oha $c $(run_oha $c)" >>"$results"
    [ "$have_wrk" = yes ] && echo "wrk $c $(run_wrk $c)" >>"$results"
  done
done

peak_kb() { /usr/bin/time -v "${pin_client[@]}" target/release/scale0 burst "$url" -c 150 -z "$1" --json 2>&1 >/dev/null |
  awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}'; }
short=$(peak_kb 2s)
long=$(peak_kb 20s)

python3 - "$results" "$short" "$long" "$secs" <<'PY'
import sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    tool, c, rps, p99 = line.split()
    rows[(tool, int(c))].append((float(rps), float(p99)))
print(f"loopback hyper target, {sys.argv[4]} s per run, best of 2 interleaved runs")
print(f"{'tool':8} {'c':>4} {'req/s':>10} {'p99 ms':>8}")
best = {}
for (tool, c), runs in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    rps, p99 = max(runs)
    best[(tool, c)] = rps
    print(f"{tool:8} {c:>4} {rps:>10.0f} {p99:>8.2f}")
for c in (50, 150):
    s = best.get(("scale0", c))
    for other in ("oha", "wrk"):
        if s and best.get((other, c)):
            print(f"scale0/{other} at c={c}: {s / best[(other, c)]:.2f}x")
print(f"scale0 peak memory: {int(sys.argv[2]) / 1024:.1f} MB for 2 s, {int(sys.argv[3]) / 1024:.1f} MB for 20 s (c=150)")
PY
