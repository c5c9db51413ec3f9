# Sourced by the bench scripts: builds the servers and waits for them to listen.

# The hello_http server of each runtime, built in release mode (with the load client).
build_servers() {
  cargo build --release --example hello_http -p mini >/dev/null 2>&1
  cargo build --release -p mini-bench --bin hello_http_tokio --bin http_load >/dev/null 2>&1
  declare -gA server=([mini]=target/release/examples/hello_http [tokio]=target/release/hello_http_tokio)
}

# Waits (up to 20 s) until something accepts connections on 127.0.0.1:$1.
wait_port() {
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server did not start on port $1" >&2
  return 1
}
