#!/usr/bin/env bash
# CPU time and syscalls per request of the hello_http server on mini and on tokio's
# current-thread runtime, same handler code, under `wrk -t1 -c50`.
#
#   bench/http_cpu.sh [seconds] [rounds]      (default 10 s, 3 rounds, alternating mini/tokio)
#   STRACE=1 bench/http_cpu.sh 5 1             syscalls per request under `strace -f -c` instead
#
# The server runs pinned to CPU 0, wrk to CPU 1. CPU time is utime + stime of the server from
# /proc/PID/stat over the wrk run, divided by the requests wrk completed. Needs wrk
# (apt-get install wrk) and, for STRACE=1, strace.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
rounds=${2:-3}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
source bench/common.sh
build_servers
port=18080
clk=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }
# Voluntary context switches (the server blocking in epoll_wait) summed over its threads.
sleeps() { cat /proc/"$1"/task/*/status | awk '/^voluntary_ctxt_switches/ {s += $2} END {print s}'; }


printf '| round | runtime | requests/s | p99 latency | CPU µs/request (user + sys) | sleeps/request |%s\n' "${STRACE:+ syscalls/request | breakdown |}"
printf '|---|---|---|---|---|---|%s\n' "${STRACE:+---|---|}"
for round in $(seq "$rounds"); do
  for variant in mini tokio; do
    port=$((port + 1))
    taskset -c 0 "${server[$variant]}" "127.0.0.1:$port" >/dev/null &
    pid=$!
    wait_port "$port"
    if [ -n "${STRACE:-}" ]; then
      strace -f -c -o "/tmp/strace-$variant.txt" -p "$pid" 2>/dev/null &
      tracer=$!
      sleep 0.5
    fi
    read -r user0 sys0 < <(cpu_ticks "$pid")
    sleeps0=$(sleeps "$pid")
    out=$(taskset -c 1 wrk -t1 -c50 -d"${seconds}s" --latency "http://127.0.0.1:$port/")
    read -r user1 sys1 < <(cpu_ticks "$pid")
    sleeps1=$(sleeps "$pid")
    [ -n "${STRACE:-}" ] && { kill -INT "$tracer"; wait "$tracer" 2>/dev/null || true; }
    kill "$pid"; wait "$pid" 2>/dev/null || true
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    cpu=$(awk -v u=$((user1 - user0)) -v s=$((sys1 - sys0)) -v c="$clk" -v r="$requests" \
      'BEGIN {printf "%.2f (%.2f + %.2f)", (u + s) / c / r * 1e6, u / c / r * 1e6, s / c / r * 1e6}')
    extra=""
    slept=$(awk -v s=$((sleeps1 - sleeps0)) -v r="$requests" 'BEGIN {printf "%.4f", s / r}')
    if [ -n "${STRACE:-}" ]; then
      total=$(awk '$NF == "total" {print $4}' "/tmp/strace-$variant.txt")
      per=$(awk -v s="$total" -v r="$requests" 'BEGIN {printf "%.3f", s / r}')
      breakdown=$(awk -v r="$requests" 'NR > 2 && $NF != "total" && $1 !~ /^-/ && $4 / r >= 0.001 {printf "%s %.3f, ", $NF, $4 / r}' "/tmp/strace-$variant.txt")
      extra=" $per | ${breakdown%, } |"
    fi
    printf '| %s | %s | %s | %s | %s | %s |%s\n' "$round" "$variant" "$rps" "$p99" "$cpu" "$slept" "$extra"
  done
done
