#!/usr/bin/env bash
# bench/recovery.sh: how long a 3-member cluster takes to serve writes again after a quorum loss.
# For each binary given (ketch builds, /usr/bin/etcd), one cluster on loopback addresses of its
# own; then, ROUNDS times and alternating between the clusters: SIGKILL two members, wait 2 s,
# start one of them again, and time from that exec to /version answering on it ("listening")
# and to the first put that succeeds through the survivor or the restarted member ("first put").
# The third member is then started again and the cluster left to settle before the next round.
#
#   bench/recovery.sh /usr/bin/etcd src/Ketch/bin/Release/net10.0/linux-x64/ketch [ROUNDS]
#
# Addresses 127.0.0.41-43 for the first binary, .51-53 for the second, ...; free ports from
# 20000-59999. Stops only the processes it started, by PID; removes its temp dir. Needs bash,
# curl, ss, sort and etcdctl (apt-get install -y etcd-client).
set -euo pipefail

ROUNDS=8
BINS=()
for a in "$@"; do
  if [[ "$a" =~ ^[0-9]+$ ]]; then ROUNDS=$a; else BINS+=("$a"); fi
done
WORK=$(mktemp -d /tmp/ketch-recovery.XXXXXX)
declare -A PIDS CLIENT PEER
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
ms() { echo $(( $(date +%s%N) / 1000000 )); }
addr() { echo "127.0.0.$(( 41 + 10 * $1 + $2 - 1 ))"; }   # addr CLUSTER MEMBER

# start CLUSTER MEMBER STATE
start() {
  local c=$1 i=$2 ip ic=""
  ip=$(addr "$c" "$i")
  for j in 1 2 3; do ic="$ic${ic:+,}m$j=http://$(addr "$c" "$j"):${PEER[$c.$j]}"; done
  "${BINS[$c]}" --name "m$i" --data-dir "$WORK/$c/m$i" \
    --listen-client-urls "http://$ip:${CLIENT[$c.$i]}" --advertise-client-urls "http://$ip:${CLIENT[$c.$i]}" \
    --listen-peer-urls "http://$ip:${PEER[$c.$i]}" --initial-advertise-peer-urls "http://$ip:${PEER[$c.$i]}" \
    --initial-cluster "$ic" --initial-cluster-state "$3" >>"$WORK/$c/m$i.log" 2>&1 &
  PIDS[$c.$i]=$!
}
endpoint() { echo "$(addr "$1" "$2"):${CLIENT[$1.$2]}"; }
put() {  # put TIMEOUT ENDPOINTS...
  local t=$1; shift
  ETCDCTL_API=3 etcdctl --endpoints "$(IFS=,; echo "$*")" --command-timeout="$t" put recovery/k v >/dev/null 2>&1
}
wait_put() {  # wait_put ENDPOINTS... : until a put succeeds (60 s at most)
  local deadline=$(( $(ms) + 60000 ))
  until put 1s "$@"; do
    if [ "$(ms)" -gt "$deadline" ]; then echo "no put through $* within 60 s" >&2; exit 1; fi
    sleep 0.1
  done
}

for c in "${!BINS[@]}"; do
  mkdir -p "$WORK/$c"
  for i in 1 2 3; do CLIENT[$c.$i]=$(free_port); PEER[$c.$i]=$(free_port); done
  for i in 1 2 3; do start "$c" "$i" new; done
  wait_put "$(endpoint "$c" 1)" "$(endpoint "$c" 2)" "$(endpoint "$c" 3)"
done

declare -A LISTEN FIRST
for r in $(seq "$ROUNDS"); do
  for c in "${!BINS[@]}"; do
    kill -9 "${PIDS[$c.2]}" "${PIDS[$c.3]}"; wait "${PIDS[$c.2]}" "${PIDS[$c.3]}" 2>/dev/null || true
    sleep 2
    t0=$(ms); start "$c" 2 existing
    until curl -s -m 0.2 "http://$(endpoint "$c" 2)/version" >/dev/null; do sleep 0.01; done
    t1=$(ms)
    until put 300ms "$(endpoint "$c" 1)" "$(endpoint "$c" 2)"; do sleep 0.01; done
    t2=$(ms)
    LISTEN[$c]="${LISTEN[$c]:-} $((t1 - t0))"; FIRST[$c]="${FIRST[$c]:-} $((t2 - t0))"
    echo "round $r, ${BINS[$c]}: listening $((t1 - t0)) ms, first put $((t2 - t0)) ms"
    start "$c" 3 existing
    wait_put "$(endpoint "$c" 3)"
    sleep 1
  done
done
for c in "${!BINS[@]}"; do
  # shellcheck disable=SC2086
  echo "median of $ROUNDS, ${BINS[$c]}: listening $(median ${LISTEN[$c]}) ms, first put $(median ${FIRST[$c]}) ms (range$(printf '%s\n' ${FIRST[$c]} | sort -n | sed -n '1p;$p' | tr '\n' ' ' | sed 's/ $//; s/ / to /; s/^/ /') ms)"
done
