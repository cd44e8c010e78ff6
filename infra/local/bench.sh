#!/usr/bin/env bash
# The store against its peers, on this machine, in one run:
#   - builds Release (the local cluster launcher, the silo and storage-bench);
#   - starts a 3-member etcd cluster on loopback (Debian's etcd-server; installed with apt-get if missing);
#   - starts the local cluster (embedded durable PostgreSQL + 3 silos, RF 3) with infra/local's launcher;
#   - runs the same workloads through the same loop (storage bench) against each driver —
#       store     this store (StorageClient: exactly-once writes, linearizable reads)
#       etcd      the etcd cluster (linearizable reads)
#       postgres  one table bench_kv in the same PostgreSQL (upsert / select by key)
#       orleans   the plain Orleans way: one grain per key, WriteStateAsync per write (AdoNet on the same PostgreSQL)
#     in the scenarios of the targets: writes at 256 clients, linearizable reads at 64 clients, writes at 1 client;
#   - prints one comparison table with ratios vs etcd and vs the Orleans baseline, each target marked met or not.
# Everything it starts is stopped on exit (also on Ctrl-C). Results (one JSON per run, the table, the logs) go to
# $BENCH_OUT (default <repo>/.data/bench/<timestamp>).
#
# Settings (environment):
#   BENCH_DURATION=10   seconds measured per run        BENCH_WARMUP=3     seconds of warm-up per run
#   BENCH_KEYS=10000    distinct keys                   BENCH_VALUE_SIZE=256  bytes per value
#   BENCH_DRIVERS="store etcd postgres orleans"         BENCH_SCENARIOS="write-256 read-64 write-1"
#   BENCH_BASE_PORT=24000  silos 24000+i, gateways 24100+i, probes 24200+i
#   BENCH_ETCD_PORT=24379  etcd clients 24379..24381, peers 24389..24391
#   BENCH_POSTGRES_PORT=0  embedded PostgreSQL port (0: a free one)
#   BENCH_OUT=<dir>        where results go
#   BENCH_SKIP_BUILD=1     use the existing Release build
#   BENCH_SILO_SETTINGS="Logging:LogLevel:Npgsql=Warning Logging:LogLevel:Polly=Warning"
#                          extra silo configuration (the launcher's --setting): by default the silos do not log every
#                          SQL command and placement retry at Information, as no production deployment would
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

duration="${BENCH_DURATION:-10}"
warmup="${BENCH_WARMUP:-3}"
keys="${BENCH_KEYS:-10000}"
value_size="${BENCH_VALUE_SIZE:-256}"
drivers="${BENCH_DRIVERS:-store etcd postgres orleans}"
scenarios="${BENCH_SCENARIOS:-write-256 read-64 write-1}"
base_port="${BENCH_BASE_PORT:-24000}"
etcd_port="${BENCH_ETCD_PORT:-24379}"
postgres_port="${BENCH_POSTGRES_PORT:-0}"
out="${BENCH_OUT:-$repo/.data/bench/$(date +%Y%m%d-%H%M%S)}"
silo_settings="${BENCH_SILO_SETTINGS-Logging:LogLevel:Npgsql=Warning Logging:LogLevel:Polly=Warning}"

log() { printf '%s bench.sh: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v dotnet >/dev/null 2>&1 || die "dotnet is not on PATH; install the .NET 10 SDK"
etcd_bin="$(command -v etcd || true)"
[ -n "$etcd_bin" ] || { [ -x /usr/bin/etcd ] && etcd_bin=/usr/bin/etcd; }
if [ -z "$etcd_bin" ]; then
  [ "$(id -u)" -eq 0 ] || die "etcd is not installed and this is not root: apt-get install etcd-server first"
  log "etcd not found: installing Debian's etcd-server"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null
  etcd_bin=/usr/bin/etcd
fi

mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d /tmp/storage-bench.XXXXXX)"
# The embedded PostgreSQL runs as the 'postgres' user when this is root: it must be able to reach its folder.
chmod 755 "$work"

launcher_pid=""
etcd_pids=()

stop_pid() { # pid signal seconds: signal, wait, then SIGKILL
  local pid="$1" sig="$2" seconds="$3" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < seconds * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "pid $pid did not stop within ${seconds} s of SIG$sig: killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$launcher_pid" ]; then
    log "stopping the local cluster (pid $launcher_pid)"
    stop_pid "$launcher_pid" TERM 90
    wait "$launcher_pid" 2>/dev/null || true
  fi
  # If the launcher could not stop its PostgreSQL, do it here before its folder goes (SIGINT = fast shutdown).
  local pidfile="$work/cluster/postgres/postmaster.pid"
  if [ -f "$pidfile" ]; then
    local pg_pid
    pg_pid="$(head -n 1 "$pidfile" 2>/dev/null || true)"
    if [ -n "$pg_pid" ] && kill -0 "$pg_pid" 2>/dev/null; then
      log "stopping the embedded PostgreSQL left running (pid $pg_pid)"
      stop_pid "$pg_pid" INT 30
    fi
  fi
  for pid in "${etcd_pids[@]}"; do
    stop_pid "$pid" TERM 15
    wait "$pid" 2>/dev/null || true
  done
  [ ${#etcd_pids[@]} -eq 0 ] || log "stopped etcd"
  # Keep the logs with the results; drop the data.
  if [ -d "$work" ]; then
    mkdir -p "$out/logs"
    cp -f "$work"/*.log "$out/logs/" 2>/dev/null || true
    cp -f "$work"/cluster/logs/*.log "$out/logs/" 2>/dev/null || true
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------------------------
if [ "${BENCH_SKIP_BUILD:-0}" != "1" ]; then
  log "building Release (launcher, silo, storage-bench)"
  dotnet build "$repo/infra/local/local-cluster.slnf" -c Release -nologo -v:q -clp:NoSummary
  dotnet build "$repo/Client/Storage.Bench.Runner/Storage.Bench.Runner.csproj" -c Release -nologo -v:q -clp:NoSummary
fi
launcher_dll="$repo/infra/local/Storage.LocalCluster/bin/Release/net10.0/Storage.LocalCluster.dll"
bench_dll="$repo/Client/Storage.Bench.Runner/bin/Release/net10.0/storage-bench.dll"
[ -f "$launcher_dll" ] || die "missing $launcher_dll (build failed?)"
[ -f "$bench_dll" ] || die "missing $bench_dll (build failed?)"

# ---------------------------------------------------------------------------------------------------------------
etcd_cluster=""
etcd_endpoints=""
for i in 0 1 2; do
  etcd_cluster+="${etcd_cluster:+,}etcd$i=http://127.0.0.1:$((etcd_port + 10 + i))"
  etcd_endpoints+="${etcd_endpoints:+,}http://127.0.0.1:$((etcd_port + i))"
done
for i in 0 1 2; do
  client=$((etcd_port + i))
  peer=$((etcd_port + 10 + i))
  # setsid: the members get no terminal signal of their own; cleanup stops them once, in order.
  # Defaults otherwise (fsync'd WAL, snapshot count, heartbeat 100 ms, election 1 s): etcd as shipped.
  setsid "$etcd_bin" \
    --name "etcd$i" \
    --data-dir "$work/etcd$i" \
    --listen-client-urls "http://127.0.0.1:$client" \
    --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "$etcd_cluster" \
    --initial-cluster-token storage-bench \
    --initial-cluster-state new \
    --quota-backend-bytes $((8 * 1024 * 1024 * 1024)) \
    --logger zap --log-outputs stderr \
    >"$work/etcd$i.log" 2>&1 &
  etcd_pids+=("$!")
done
log "started etcd members ${etcd_pids[*]} (clients $etcd_endpoints)"

healthy=0
for ((i = 0; i < 300; i++)); do
  healthy=0
  for j in 0 1 2; do
    if curl -fsS --max-time 2 "http://127.0.0.1:$((etcd_port + j))/health" 2>/dev/null | grep -q '"health":"true"'; then
      healthy=$((healthy + 1))
    fi
  done
  [ "$healthy" -eq 3 ] && break
  for pid in "${etcd_pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || die "an etcd member exited; see $out/logs/etcd*.log"
  done
  sleep 0.2
done
[ "$healthy" -eq 3 ] || die "etcd was not healthy within 60 s; see $out/logs/etcd*.log"
log "etcd is healthy"

# ---------------------------------------------------------------------------------------------------------------
log "starting the local cluster (base port $base_port, data in $work/cluster)"
setting_args=()
for setting in $silo_settings; do
  setting_args+=(--setting "$setting")
done
setsid dotnet "$launcher_dll" \
  --silos 3 \
  "${setting_args[@]}" \
  --base-port "$base_port" \
  --postgres-port "$postgres_port" \
  --data-dir "$work/cluster" \
  >"$work/launcher.log" 2>&1 &
launcher_pid=$!
for ((i = 0; i < 1800; i++)); do
  grep -q "is running:" "$work/launcher.log" 2>/dev/null && break
  kill -0 "$launcher_pid" 2>/dev/null || { cat "$work/launcher.log" >&2; launcher_pid=""; die "the local cluster did not start"; }
  sleep 0.1
done
grep -q "is running:" "$work/launcher.log" || { cat "$work/launcher.log" >&2; die "the local cluster was not ready within 180 s"; }
connection_string="$(sed -n 's/^PostgreSQL: //p' "$work/launcher.log" | head -n 1)"
[ -n "$connection_string" ] || die "could not read the cluster's connection string from the launcher's output"
# The postgres driver gets its own database on the same server.
pg_connection_string="$(printf '%s' "$connection_string" | sed -E 's/(^|;)Database=[^;]*/\1Database=storage_bench/I')"
case "$pg_connection_string" in *Database=storage_bench*) ;; *) pg_connection_string="$pg_connection_string;Database=storage_bench" ;; esac
log "local cluster is running (launcher pid $launcher_pid; PostgreSQL: $connection_string)"

# ---------------------------------------------------------------------------------------------------------------
{
  echo "machine: $(nproc) cpus ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')), $(free -g | awk '/^Mem:/ {print $2}') GiB memory"
  echo "os: $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
  echo "dotnet: $(dotnet --version); etcd: $("$etcd_bin" --version | head -n 1)"
  echo "run: duration ${duration} s + warm-up ${warmup} s per run, $keys keys, $value_size B values"
  echo "silo settings: ${silo_settings:-none}"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this machine shares its cpus)"
  echo "command: BENCH_DURATION=$duration BENCH_WARMUP=$warmup BENCH_KEYS=$keys BENCH_VALUE_SIZE=$value_size infra/local/bench.sh"
} >"$out/machine.txt"
cat "$out/machine.txt" >&2

bench() { dotnet "$bench_dll" "$@"; }
failed=0
# Driver by driver, each through every scenario: the Orleans baseline goes last because its runs leave the silos'
# AdoNet pools holding many of the shared PostgreSQL's connections (max_connections 300; idle pooled connections
# stay open for minutes), which starved the postgres driver ("too many clients") when it ran after them.
backends() { # connections the embedded PostgreSQL serves now (its postmaster's children, less its own ~6 workers)
  local pidfile="$work/cluster/postgres/postmaster.pid"
  [ -f "$pidfile" ] && pgrep -c -P "$(head -n 1 "$pidfile")" 2>/dev/null || echo "?"
}
for driver in $drivers; do
for scenario in $scenarios; do
  case "$scenario" in
    write-256) workload=write; clients=256 ;;
    read-64) workload=c; clients=64 ;;
    write-1) workload=write; clients=1 ;;
    *-*) workload="${scenario%-*}"; clients="${scenario##*-}" ;;
    *) die "unknown scenario '$scenario' (write-256, read-64, write-1 or WORKLOAD-CLIENTS)" ;;
  esac
  log "$scenario: $driver (workload $workload, $clients clients)"
  if ! bench --connection-string "$connection_string" bench \
      --driver "$driver" --workload "$workload" --concurrency "$clients" \
      --duration "$duration" --warmup "$warmup" --keys "$keys" --value-size "$value_size" \
      --consistency linearizable \
      --etcd-endpoints "$etcd_endpoints" --pg-connection-string "$pg_connection_string" \
      --label "$scenario" --json "$out/$scenario-$driver.json" \
      | tee "$out/$scenario-$driver.txt"; then
    log "$scenario: $driver failed (see above); going on"
    failed=$((failed + 1))
  fi
  log "$scenario: $driver done; PostgreSQL server processes now: $(backends)"
done
done

echo
echo "=== Comparison ($(nproc) cpus, 3 silos RF 3 durable, etcd 3 members, ${duration} s + ${warmup} s per run) ==="
bench bench compare "$out" | tee "$out/comparison.txt"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt"
log "results in $out"
[ "$failed" -eq 0 ] || { log "$failed run(s) failed"; exit 1; }
