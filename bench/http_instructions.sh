#!/usr/bin/env bash
# User-space instructions per request of the hello_http server on mini and on tokio's
# current-thread runtime, under valgrind --tool=callgrind, driven by bench's http_load over 50
# connections. Two runs per server (N1 and N2 requests); (Ir(N2) - Ir(N1)) / (N2 - N1) cancels
# start-up and shutdown.
#
#   bench/http_instructions.sh [N1] [N2]        (default 20000 and 60000)
set -euo pipefail
cd "$(dirname "$0")/.."
n1=${1:-20000}
n2=${2:-60000}
source bench/common.sh
build_servers
port=19080
out=$(mktemp -d)


instructions() { # variant requests
  port=$((port + 1))
  taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$out/$1-$2.out" "${server[$1]}" "127.0.0.1:$port" >/dev/null 2>"$out/$1-$2.log" &
  local pid=$!
  wait_port "$port"
  taskset -c 1 target/release/http_load "127.0.0.1:$port" 50 "$2" >/dev/null
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  awk '/^summary:/ {print $2}' "$out/$1-$2.out"
}

echo "| runtime | Ir at $n1 requests | Ir at $n2 requests | instructions/request |"
echo "|---|---|---|---|"
for variant in mini tokio; do
  a=$(instructions "$variant" "$n1")
  b=$(instructions "$variant" "$n2")
  echo "| $variant | $a | $b | $(( (b - a) / (n2 - n1) )) |"
done
echo "(callgrind files in $out)"
