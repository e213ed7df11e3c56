#!/usr/bin/env bash
# bench/startup.sh: how long a member takes from exec to answering /version, for two builds of
# ketch side by side (and etcd, if given as one of them), alternating A, B, A, B, ... so that the
# machine's mood hits both alike. Each binary restarts ROUNDS times on a single-member data
# directory of its own that it created in a first, untimed run. Prints each round and the medians.
#
#   bench/startup.sh A_BINARY B_BINARY [ROUNDS]
#   bench/startup.sh /tmp/old/ketch src/Ketch/bin/Release/net10.0/linux-x64/ketch 8
#
# Address: 127.0.0.41 (ADDR to change), free ports from 20000-59999. Stops only the processes it
# started, by PID; removes its temp dir. Needs bash, curl, ss, sort.
set -euo pipefail

A=$1; B=$2; ROUNDS=${3:-8}; ADDR=${ADDR:-127.0.0.41}
WORK=$(mktemp -d /tmp/ketch-startup.XXXXXX)
PID=0
cleanup() { if [ "$PID" -ne 0 ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi; rm -rf "$WORK"; }
trap cleanup EXIT

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

# start_once NAME BINARY: starts the binary on its data dir, waits for /version, stops it; prints ms.
start_once() {
  local name=$1 bin=$2 client peer t0 t1
  client=$(free_port); peer=$(free_port)
  t0=$(date +%s%N)
  "$bin" --name m1 --data-dir "$WORK/$name" \
    --listen-client-urls "http://$ADDR:$client" --advertise-client-urls "http://$ADDR:$client" \
    --listen-peer-urls "http://$ADDR:$peer" --initial-advertise-peer-urls "http://$ADDR:$peer" \
    --initial-cluster "m1=http://$ADDR:$peer" >"$WORK/$name.log" 2>&1 &
  PID=$!
  local deadline=$(( t0 + 30000000000 ))
  until curl -s -m 0.2 "http://$ADDR:$client/version" >/dev/null; do
    if [ "$(date +%s%N)" -gt "$deadline" ] || ! kill -0 "$PID" 2>/dev/null; then
      echo "$name did not answer /version within 30 s; its log:" >&2; tail -20 "$WORK/$name.log" >&2; exit 1
    fi
    sleep 0.005
  done
  t1=$(date +%s%N)
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=0
  echo $(( (t1 - t0) / 1000000 ))
}

start_once a "$A" >/dev/null   # creates the data dirs; not timed
start_once b "$B" >/dev/null
as=(); bs=()
for r in $(seq "$ROUNDS"); do
  a=$(start_once a "$A"); b=$(start_once b "$B")
  as+=("$a"); bs+=("$b")
  echo "round $r: A $a ms, B $b ms"
done
echo "median of $ROUNDS: A $(median "${as[@]}") ms ($A), B $(median "${bs[@]}") ms ($B)"
