#!/usr/bin/env bash
# scale0's burst engine against wrk and oha on the same loopback targets, one command, one
# table. Target and client are pinned to separate cores (taskset) when there are two.
#
#   1. Plain HTTP/1.1 (hyper target), c=50 and c=150: scale0, wrk, oha.
#   2. TLS (hyper + rustls target, a self-signed rcgen certificate), HTTP/1.1 and HTTP/2,
#      c=50 and c=150: scale0 and oha (and wrk for HTTP/1.1; wrk has no HTTP/2).
#   3. scale0's peak memory at c=150 for a short and a long run.
#
# For each run: requests/sec, p99, the client's own CPU seconds (user+sys, from its rusage,
# so the target's CPU is not counted) per million requests, its peak memory, and how busy
# the target's core was (from /proc). Runs are interleaved, ROUNDS of each, and the table
# shows each figure's median. CPU per request is the figure that survives a busy machine;
# requests/sec is only comparable on a quiet one.
#
# Usage: bench/burst_vs_oha.sh [SECONDS_PER_RUN] [LONG_RUN_SECONDS] [ROUNDS]
#        (defaults 5, 60, 3; LONG_RUN_SECONDS=0 skips the long run; TLS=0 skips part 2;
#        BASELINE=path/to/an/older/scale0 adds it as the tool "before", for a before/after
#        from the same run)
# Needs: python3, cargo, GNU time (Debian: apt-get install time). wrk
# (Debian: apt-get install wrk) and oha
# (cargo install oha --locked --root DIR; then OHA=DIR/bin/oha) are compared when present.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
long_secs=${2:-60}
rounds=${3:-3}
oha=${OHA:-oha}
wrk=${WRK:-wrk}
baseline=${BASELINE:-}

cargo build --release --quiet --bin scale0
cargo build --release --quiet --manifest-path bench/target-server/Cargo.toml
have() { command -v "$1" >/dev/null && echo yes || echo no; }
have_oha=$(have "$oha")
have_wrk=$(have "$wrk")

pin_target=() pin_client=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_target=(taskset -c 0) pin_client=(taskset -c 1)
fi
server=
start_target() {  # mode -> sets url and server
  if [ -n "$server" ]; then kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; fi
  local port=$((20000 + RANDOM % 20000))
  "${pin_target[@]}" bench/target-server/target/release/bench-target-server "127.0.0.1:$port" "$1" &
  server=$!
  local scheme=http
  if [ "$1" != plain ]; then scheme=https; fi
  url="$scheme://127.0.0.1:$port/"
  sleep 0.5
}
trap '[ -n "$server" ] && kill $server 2>/dev/null' EXIT

# Runs a client; prints its stdout, then "@@cpu <user+sys s> <peak KB> <target busy %>".
# The peak comes from GNU time, which forks from its own small image: a child started by
# Python directly inherits Python's resident size into its peak (the kernel carries the
# pre-exec high-water mark over exec), which would hide any client smaller than Python.
measured() {
  TARGET_PID=$server python3 - "$@" <<'PY'
import os, resource, subprocess, sys, tempfile, time
def target_ticks():
    with open(f"/proc/{os.environ['TARGET_PID']}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])
with tempfile.NamedTemporaryFile("r") as peak_file:
    t0, w0 = target_ticks(), time.monotonic()
    out = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", peak_file.name] + sys.argv[1:],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
    t1, w1 = target_ticks(), time.monotonic()
    peak_kb = int(peak_file.read().split()[-1])
r = resource.getrusage(resource.RUSAGE_CHILDREN)
busy = (t1 - t0) / os.sysconf("SC_CLK_TCK") / (w1 - w0) * 100
sys.stdout.write(out.decode())
print(f"\n@@cpu {r.ru_utime + r.ru_stime:.3f} {peak_kb} {busy:.0f}")
PY
}

parse() {  # tool -> "requests rps p99_ms cpu_s peak_kb target_busy"
  python3 -c '
import json, re, sys
tool, text = sys.argv[1], sys.stdin.read()
body, cpu = text.rsplit("@@cpu", 1)
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
print(n, rps, p99, *cpu.split())' "$1"
}

# tool c duration [extra flags]
run() {
  local tool=$1 c=$2 d=$3
  shift 3
  case $tool in
    scale0) measured "${pin_client[@]}" target/release/scale0 burst "$url" -c "$c" -z "$d" --json --no-save "$@" | parse scale0 ;;
    before) measured "${pin_client[@]}" "$baseline" burst "$url" -c "$c" -z "$d" --json --no-save "$@" | parse scale0 ;;
    oha) measured "${pin_client[@]}" "$oha" "$url" -c "$c" -z "$d" --no-tui --output-format json "$@" | parse oha ;;
    wrk) measured "${pin_client[@]}" "$wrk" -t1 -c "$c" -d "$d" --latency "$url" | parse wrk ;;
  esac
}

results=$(mktemp)
# part label, target mode, then per tool its extra flags
bench_part() {
  local part=$1 mode=$2 scale0_flags=$3 oha_flags=$4 with_wrk=$5
  start_target "$mode"
  for c in 50 150; do
    for _ in $(seq "$rounds"); do
      # shellcheck disable=SC2086
      echo "$part scale0 $c $(run scale0 $c "${secs}s" $scale0_flags)" >>"$results"
      if [ -n "$baseline" ]; then
        # shellcheck disable=SC2086
        echo "$part before $c $(run before $c "${secs}s" $scale0_flags)" >>"$results"
      fi
      if [ "$have_oha" = yes ]; then
        # shellcheck disable=SC2086
        echo "$part oha $c $(run oha $c "${secs}s" $oha_flags)" >>"$results"
      fi
      if [ "$have_wrk" = yes ] && [ "$with_wrk" = yes ]; then
        echo "$part wrk $c $(run wrk $c "${secs}s")" >>"$results"
      fi
    done
  done
}
bench_part http1 plain "" "" yes
if [ "${TLS:-1}" != 0 ]; then
  bench_part tls-http1 tls-h1 "--insecure" "--insecure" yes
  bench_part tls-http2 tls-h2 "--insecure --http2" "--insecure --http2" no
fi
start_target plain
short=$(run scale0 150 2s | awk '{print $5}')
long=0
if [ "$long_secs" != 0 ]; then long=$(run scale0 150 "${long_secs}s" | awk '{print $5}'); fi
before_short=0 before_long=0
if [ -n "$baseline" ]; then
  before_short=$(run before 150 2s | awk '{print $5}')
  if [ "$long_secs" != 0 ]; then before_long=$(run before 150 "${long_secs}s" | awk '{print $5}'); fi
fi

python3 - "$results" "$short" "$long" "$secs" "$long_secs" "$rounds" "$before_short" "$before_long" <<'PY'
import collections, os, platform, statistics, sys
results, short_kb, long_kb, secs, long_secs, rounds, before_short, before_long = sys.argv[1:]
rows = collections.defaultdict(list)
for line in open(results):
    part, tool, c, n, rps, p99, cpu, peak, busy = line.split()
    rows[(part, int(c), tool)].append(
        (float(rps), float(p99), float(cpu) / max(int(n), 1) * 1e6, int(peak) / 1024, float(busy)))
cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"machine: {cpu_model}, {os.cpu_count()} cores, Linux {platform.release()}; "
      f"load average {os.getloadavg()[0]:.1f} at the end")
print(f"loopback hyper target on core 0, client on core 1; {secs} s per run, median of "
      f"{rounds} interleaved runs. cpu s/M: the client's own user+sys seconds per million "
      "requests; target %: its core's busy share")
print(f"{'target':10} {'c':>4} {'tool':7} {'req/s':>9} {'p99 ms':>7} {'cpu s/M':>8} "
      f"{'peak MB':>8} {'target %':>8}")
med = {}
for key in sorted(rows, key=lambda k: (["http1", "tls-http1", "tls-http2"].index(k[0]), k[1], k[2])):
    part, c, tool = key
    cols = list(zip(*rows[key]))
    m = [statistics.median(col) for col in cols]
    med[key] = m
    print(f"{part:10} {c:>4} {tool:7} {m[0]:>9.0f} {m[1]:>7.2f} {m[2]:>8.2f} {m[3]:>8.1f} {m[4]:>8.0f}")
print()
for (part, c, tool), m in med.items():
    if tool != "scale0":
        continue
    for other in ("wrk", "oha", "before"):
        o = med.get((part, c, other))
        if o and o[0] > 0 and m[0] > 0:
            print(f"{part:10} c={c:<4} scale0/{other}: req/s {m[0] / o[0]:.2f}x, "
                  f"cpu per request {m[2] / o[2]:.2f}x")
print(f"scale0 peak memory (c=150): {int(short_kb) / 1024:.1f} MB for 2 s"
      + (f", {int(long_kb) / 1024:.1f} MB for {long_secs} s" if long_secs != "0" else ""))
if before_short != "0":
    print(f"before's peak memory (c=150): {int(before_short) / 1024:.1f} MB for 2 s"
          + (f", {int(before_long) / 1024:.1f} MB for {long_secs} s" if long_secs != "0" else ""))
PY
