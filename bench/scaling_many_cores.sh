#!/usr/bin/env bash
# hello_http with 1, 2, 4 and 8 workers, for a machine with 16 cores (the 2-core development
# machine runs `mini-bench -- scaling` instead): the server is pinned to CPUs 0..W-1, wrk (8
# threads) to CPUs 8-15, 127.0.0.1 only, each run bounded by wrk's duration. Prints one line per
# run:
#   round workers variant requests/s requests server-CPU-µs/request
# BIN holds bench_server (`cargo build --release -p mini-bench --bins`), WRK is wrk. WORKERS,
# VARIANTS (current-thread ones run on the first CPU only), CONNECTIONS, RUN_SECONDS and ROUNDS
# change the defaults below.
set -u
BIN=${BIN:-target/release}
WRK=${WRK:-wrk}
RUN_SECONDS=${RUN_SECONDS:-5}
ROUNDS=${ROUNDS:-3}
WORKERS=${WORKERS:-1 2 4 8}
VARIANTS=${VARIANTS:-mini-mt mini-tpc tokio-mt}
CONNECTIONS=${CONNECTIONS:-256}
ticks=$(getconf CLK_TCK)
port=31000

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

for round in $(seq "$ROUNDS"); do
    for workers in $WORKERS; do
        for variant in $VARIANTS; do
            case $variant in mini | tokio-ct | smol | floor) [ "$workers" = 1 ] || continue ;; esac
            port=$((port + 1))
            MINI_WORKER_THREADS=$workers TOKIO_WORKER_THREADS=$workers \
                taskset -c "0-$((workers - 1))" "$BIN/bench_server" "$variant" http "127.0.0.1:$port" >/dev/null &
            server=$!
            for _ in $(seq 100); do
                (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
                sleep 0.05
            done
            before=$(cpu_ticks "$server")
            report=$(taskset -c 8-15 "$WRK" -t8 "-c$CONNECTIONS" "-d${RUN_SECONDS}s" "http://127.0.0.1:$port/")
            after=$(cpu_ticks "$server")
            kill "$server"
            wait "$server" 2>/dev/null
            requests=$(echo "$report" | awk '/requests in/ {print $1}')
            rps=$(echo "$report" | awk '/Requests\/sec/ {print $2}')
            cpu_us=$(awk -v t=$((after - before)) -v hz="$ticks" -v n="$requests" 'BEGIN {printf "%.2f", t / hz * 1e6 / n}')
            echo "$round $workers $variant $rps $requests $cpu_us"
        done
    done
done
