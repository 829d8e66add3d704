#!/usr/bin/env bash
# Burst throughput and client cost against oha and wrk on the same loopback target,
# interleaved, at concurrency 50 and 150; target and client pinned to separate cores where
# taskset exists. Prints, per tool: requests/sec, p99, and the client's CPU seconds
# (user+sys, measured on the client process alone in the same run) per million requests;
# the ratios scale0/oha and scale0/wrk; and scale0's peak memory for a short and a long
# run.
#
# Usage: bench/burst_vs_oha.sh [SECONDS_PER_RUN] [LONG_RUN_SECONDS]   (defaults 5 and 60)
# Needs: python3; oha (installed with `cargo install oha --locked` if missing) and wrk
# (Debian: wrk) are compared when present.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
long_secs=${2:-60}
port=$((20000 + RANDOM % 20000))
url="http://127.0.0.1:$port/"

cargo build --release --quiet --bin scale0
cargo build --release --quiet --manifest-path bench/target-server/Cargo.toml
have() { command -v "$1" >/dev/null && echo yes || echo no; }
have_oha=$(have oha)
have_wrk=$(have wrk)

pin_target=() pin_client=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_target=(taskset -c 0) pin_client=(taskset -c 1)
fi
"${pin_target[@]}" bench/target-server/target/release/bench-target-server "127.0.0.1:$port" &
server=$!
trap 'kill $server 2>/dev/null' EXIT
sleep 0.5

# Runs a client, prints "<its stdout>\n@@cpu <user+sys seconds> <peak KB>" (from the
# client process's own rusage, so the target's CPU is not counted).
measured() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys
out = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
r = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stdout.write(out.decode())
print(f"\n@@cpu {r.ru_utime + r.ru_stime:.3f} {r.ru_maxrss}")
PY
}

parse() {  # tool -> "requests rps p99_ms cpu_s peak_kb"
  python3 -c '
import json, re, sys
tool, text = sys.argv[1], sys.stdin.read()
body, cpu = text.rsplit("@@cpu", 1)
cpu_s, peak = cpu.split()
if tool == "scale0":
    d = json.loads(body)
    n, rps, p99 = d["responses"], d["requests_per_second"], d["latency"]["p99"]
elif tool == "oha":
    d = json.loads(body)
    n = sum(d["statusCodeDistribution"].values())
    rps, p99 = d["summary"]["requestsPerSec"], d["latencyPercentiles"]["p99"] * 1000
else:
    n = int(re.search(r"(\d+) requests in", body).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", body).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", body)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
print(n, rps, p99, cpu_s, peak)' "$1"
}

run_scale0() { measured "${pin_client[@]}" target/release/scale0 burst "$url" -c "$1" -z "$2" --json --no-save | parse scale0; }
run_oha() { measured "${pin_client[@]}" oha "$url" -c "$1" -z "$2" --no-tui --output-format json | parse oha; }
run_wrk() { measured "${pin_client[@]}" wrk -t1 -c "$1" -d "$2" --latency "$url" | parse wrk; }

results=$(mktemp)
for c in 50 150; do
  for round in 1 2; do
    echo "scale0 $c $(run_scale0 $c "${secs}s")" >>"$results"
    [ "$have_oha" = yes ] && echo "oha $c $(run_oha $c "${secs}s")" >>"$results"
    [ "$have_wrk" = yes ] && echo "wrk $c $(run_wrk $c "${secs}s")" >>"$results"
  done
done
short=$(run_scale0 150 2s | awk '{print $5}')
long=$(run_scale0 150 "${long_secs}s" | awk '{print $5}')

python3 - "$results" "$short" "$long" "$secs" "$long_secs" <<'PY'
import sys, collections
results, short_kb, long_kb, secs, long_secs = sys.argv[1:]
rows = collections.defaultdict(list)
for line in open(results):
    tool, c, n, rps, p99, cpu, _peak = line.split()
    rows[(tool, int(c))].append((float(rps), float(p99), float(cpu) / int(n) * 1e6))
print(f"loopback hyper target, {secs} s per run, best of 2 interleaved runs "
      "(CPU: the client's own user+sys seconds per million requests)")
print(f"{'tool':8} {'c':>4} {'req/s':>10} {'p99 ms':>8} {'cpu s/M':>8}")
best = {}
for (tool, c), runs in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    rps, p99, _ = max(runs)
    cpu = min(r[2] for r in runs)
    best[(tool, c)] = (rps, cpu)
    print(f"{tool:8} {c:>4} {rps:>10.0f} {p99:>8.2f} {cpu:>8.2f}")
for c in (50, 150):
    s = best.get(("scale0", c))
    for other in ("oha", "wrk"):
        o = best.get((other, c))
        if s and o:
            print(f"c={c} scale0/{other}: req/s {s[0] / o[0]:.2f}x, cpu per request {s[1] / o[1]:.2f}x")
print(f"scale0 peak memory (c=150): {int(short_kb) / 1024:.1f} MB for 2 s, "
      f"{int(long_kb) / 1024:.1f} MB for {long_secs} s")
PY
