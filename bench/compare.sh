#!/usr/bin/env bash
# bench/compare.sh: ketch vs real etcd, side by side, in one run on one machine.
#
# Starts a 1-member and a 3-member cluster of real etcd (Debian's etcd-server) and, when the
# ketch executable builds and answers --version, of ketch with the same flags; every member on
# its own loopback address (etcd 127.0.0.11-13, ketch 127.0.0.21-23) and free ports, data
# dirs under one temp dir on the same disk. Runs the same ketch-bench workloads against each,
# alternating (etcd, ketch, etcd, ketch, ... for ROUNDS rounds), measures the disk's raw
# fdatasync rate, loads LOAD_KEYS keys of 256 B and reads each member's VmRSS, and APPENDS a
# section "ketch vs etcd" with medians and ratios (ketch / etcd) to docs/benchmarks.md.
#
#   MODE=quick bench/compare.sh     # seconds per workload, 100 clients: a smoke run (default)
#   MODE=full  bench/compare.sh     # the issue's sizes: 1,000 clients, 1,000 watchers, 1 M keys
#
# Every size can be overridden by an environment variable (see the defaults below). Stops only
# the processes it started, by PID; removes its temp dir. Needs: bash, awk, sort, ss, the .NET
# SDK, /usr/bin/etcd and etcdctl (apt-get install -y etcd-server etcd-client).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=${MODE:-quick}
case "$MODE" in
  quick)
    : "${ROUNDS:=3}" "${DURATION:=2s}" "${WARMUP:=500ms}" "${BIG_CLIENTS:=100}" "${BIG_CONNS:=10}"
    : "${WATCHERS:=100}" "${WATCH_PUTS:=100}" "${LOAD_KEYS:=20000}" "${PROBE_DURATION:=2s}" ;;
  full)
    : "${ROUNDS:=3}" "${DURATION:=10s}" "${WARMUP:=2s}" "${BIG_CLIENTS:=1000}" "${BIG_CONNS:=100}"
    : "${WATCHERS:=1000}" "${WATCH_PUTS:=500}" "${LOAD_KEYS:=1000000}" "${PROBE_DURATION:=5s}" ;;
  *) echo "compare.sh: MODE must be quick or full, not '$MODE'" >&2; exit 2 ;;
esac
: "${SIZES:=1 3}"                       # cluster sizes to run
: "${OUT:=$ROOT/docs/benchmarks.md}"    # the section is appended here
: "${ETCD:=/usr/bin/etcd}"
: "${ETCDCTL:=$(command -v etcdctl || echo /usr/bin/etcdctl)}"
: "${KETCH:=}"                          # path of the ketch executable; found after building when empty
: "${SKIP_KETCH:=0}"                    # 1: etcd columns only
: "${VAL_SIZE:=256}"
: "${KEY_SPACE:=100000}"
LOAD_CLIENTS=${LOAD_CLIENTS:-$BIG_CLIENTS}
LOAD_CONNS=${LOAD_CONNS:-$BIG_CONNS}
WATCH_STREAMS=${WATCH_STREAMS:-$(( WATCHERS >= 10 ? WATCHERS / 10 : 1 ))}
WATCH_CONNS=${WATCH_CONNS:-$(( WATCH_STREAMS >= 10 ? WATCH_STREAMS / 10 : 1 ))}

say() { echo "compare.sh: $*" >&2; }

[ -x "$ETCD" ] || { say "$ETCD is missing: apt-get install -y etcd-server etcd-client"; exit 1; }
[ -x "$ETCDCTL" ] || { say "etcdctl is missing: apt-get install -y etcd-client"; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ketch-compare.XXXXXX")
PIDS=()
# ours PID: the process is still a child of this script (a dead member's PID may be reused).
ours() { [ "$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')" = "$$" ]; }
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do if ours "$pid"; then kill "$pid" 2>/dev/null || true; fi; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build -------------------------------------------------------------------------------
say "building ketch-bench (Release)"
dotnet build "$ROOT/bench/Ketch.Bench" -c Release -v quiet -nologo >"$TMP/build-bench.log" 2>&1 \
  || { cat "$TMP/build-bench.log" >&2; say "ketch-bench does not build"; exit 1; }
BENCH=(dotnet "$ROOT/bench/Ketch.Bench/bin/Release/net10.0/ketch-bench.dll")

KETCH_STATUS=""
KETCH_VERSION=""
if [ "$SKIP_KETCH" = 1 ]; then
  KETCH_STATUS="skipped (SKIP_KETCH=1)"
elif [ -z "$KETCH" ]; then
  say "building ketch (Release)"
  if dotnet build "$ROOT/src/Ketch" -c Release -v quiet -nologo >"$TMP/build-ketch.log" 2>&1; then
    KETCH=$(find "$ROOT/src/Ketch/bin/Release" -type f -name ketch -perm -u+x 2>/dev/null | head -n 1)
    [ -n "$KETCH" ] || KETCH_STATUS="src/Ketch built but produced no 'ketch' executable"
  else
    KETCH_STATUS="src/Ketch does not build (dotnet build src/Ketch -c Release failed)"
  fi
fi
if [ -z "$KETCH_STATUS" ]; then
  if KETCH_VERSION=$(timeout 20 "$KETCH" --version 2>&1); then
    say "ketch: $KETCH ($(head -n 1 <<<"$KETCH_VERSION"))"
  else
    KETCH_STATUS="'ketch --version' does not answer"
  fi
fi
KINDS=(etcd)
if [ -n "$KETCH_STATUS" ]; then
  say "KETCH DOES NOT RUN YET: $KETCH_STATUS. Measuring etcd only; the ketch columns will say n/a."
else
  KINDS=(etcd ketch)
fi

# --- ports and clusters ------------------------------------------------------------------
USED_PORTS=" "
PORT=0
free_port() {  # sets PORT: a port nobody listens on and we have not handed out (20000-59999)
  local p
  while :; do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    case "$USED_PORTS" in *" $p "*) continue ;; esac
    if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then USED_PORTS="$USED_PORTS$p "; PORT=$p; return; fi
  done
}

declare -A ENDPOINTS MEMBER_PIDS
# start_cluster KIND SIZE: starts the members in the background and waits for a healthy cluster.
start_cluster() {
  local kind=$1 size=$2 bin net i ip cport pport cluster="" eps="" pids="" token
  if [ "$kind" = etcd ]; then bin=$ETCD; net=1; else bin=$KETCH; net=2; fi
  token="$kind-$size-$$"
  local -a cports pports
  for i in $(seq 1 "$size"); do
    free_port; cports[i]=$PORT
    free_port; pports[i]=$PORT
    cluster+="${cluster:+,}$kind$i=http://127.0.0.$net$i:${pports[i]}"
  done
  for i in $(seq 1 "$size"); do
    ip=127.0.0.$net$i; cport=${cports[i]}; pport=${pports[i]}
    mkdir -p "$TMP/$kind-$size/$kind$i"
    "$bin" --name "$kind$i" --data-dir "$TMP/$kind-$size/$kind$i/data" \
      --listen-client-urls "http://$ip:$cport" --advertise-client-urls "http://$ip:$cport" \
      --listen-peer-urls "http://$ip:$pport" --initial-advertise-peer-urls "http://$ip:$pport" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "$token" \
      >"$TMP/$kind-$size/$kind$i/log" 2>&1 &
    PIDS+=($!); pids+="${pids:+ }$!"
    eps+="${eps:+,}$ip:$cport"
  done
  ENDPOINTS[$kind-$size]=$eps
  MEMBER_PIDS[$kind-$size]=$pids
  local deadline=$(( SECONDS + 60 ))
  until ETCDCTL_API=3 "$ETCDCTL" --endpoints "$eps" --command-timeout=2s endpoint health >/dev/null 2>&1; do
    for i in $pids; do
      ours "$i" || { say "$kind member (pid $i) exited while starting:"; tail -n 20 "$TMP/$kind-$size"/*/log >&2; return 1; }
    done
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "$kind-$size not healthy within 60 s; last lines of the member logs:"
      tail -n 15 "$TMP/$kind-$size"/*/log >&2
      ETCDCTL_API=3 "$ETCDCTL" --endpoints "$eps" --command-timeout=2s endpoint health >&2 || true
      return 1
    fi
    sleep 0.2  # poll interval; the deadline above bounds the wait
  done
  say "$kind $size-member cluster up: $eps (pids $pids)"
}

DIED=""                                      # members that exited on their own, for the report
KEPT_LOGS="${TMPDIR:-/tmp}/ketch-compare-logs.$$"  # every member's log survives the temp dir
declare -A ELECTIONS                         # cluster -> elections after the first, from the member logs
stop_cluster() {
  local pid rc i=0 n most=0 pattern
  # Each member logs every election it sees (ketch: "leader is now", etcd: "elected leader").
  if [ "${1%-*}" = etcd ]; then pattern="elected leader"; else pattern="leader is now"; fi
  mkdir -p "$KEPT_LOGS"
  for i in $(seq 1 "${1#*-}"); do
    cp "$TMP/$1/${1%-*}$i/log" "$KEPT_LOGS/$1-member$i.log" 2>/dev/null || continue
    n=$(grep -c "$pattern" "$KEPT_LOGS/$1-member$i.log" || true)
    [ "${n:-0}" -gt "$most" ] && most=$n
  done
  ELECTIONS[$1]=$(( most > 0 ? most - 1 : 0 ))
  i=0
  for pid in ${MEMBER_PIDS[$1]}; do
    i=$((i + 1))
    if ours "$pid"; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    else
      rc=0; wait "$pid" 2>/dev/null || rc=$?
      local how="status $rc"
      [ "$rc" -le 128 ] || how+=" (signal $((rc - 128)))"
      DIED+="${DIED:+; }${1%-*} member $i of the ${1#*-}-member cluster (pid $pid) exited by itself with $how, log kept in $KEPT_LOGS/$1-member$i.log"
      say "MEMBER DIED: ${DIED##*; }"
    fi
  done
  rm -rf "${TMP:?}/$1"
}

# --- workloads ---------------------------------------------------------------------------
# name | ketch-bench arguments (endpoints and output format are added per run)
WORKLOADS=(
  "put, 1 client / 1 conn|put --clients 1 --conns 1 --key-size 8 --val-size $VAL_SIZE --key-space $KEY_SPACE --duration $DURATION --warmup $WARMUP"
  "put, $BIG_CLIENTS clients / $BIG_CONNS conns|put --clients $BIG_CLIENTS --conns $BIG_CONNS --key-size 8 --val-size $VAL_SIZE --key-space $KEY_SPACE --duration $DURATION --warmup $WARMUP"
  "linearizable range, $BIG_CLIENTS clients|range --consistency l --clients $BIG_CLIENTS --conns $BIG_CONNS --val-size $VAL_SIZE --duration $DURATION --warmup $WARMUP"
  "serializable range, $BIG_CLIENTS clients|range --consistency s --clients $BIG_CLIENTS --conns $BIG_CONNS --val-size $VAL_SIZE --duration $DURATION --warmup $WARMUP"
  "txn-mixed 80/20, $BIG_CLIENTS clients|txn-mixed --read-ratio 0.8 --clients $BIG_CLIENTS --conns $BIG_CONNS --key-size 8 --val-size $VAL_SIZE --key-space $KEY_SPACE --duration $DURATION --warmup $WARMUP"
  "watch latency, $WATCHERS watchers|watch-latency --watchers $WATCHERS --streams $WATCH_STREAMS --conns $WATCH_CONNS --total $WATCH_PUTS --rate 100 --val-size $VAL_SIZE"
)
RESULTS=$TMP/results.tsv   # size kind workload-index round tsv-fields...
: >"$RESULTS"

run_bench() {  # run_bench SIZE KIND INDEX ROUND
  local size=$1 kind=$2 idx=$3 round=$4 args line
  args=${WORKLOADS[idx]#*|}
  # shellcheck disable=SC2086
  local pids=${MEMBER_PIDS[$kind-$size]}
  if line=$("${BENCH[@]}" $args --endpoints "${ENDPOINTS[$kind-$size]}" --cpu-pids "${pids// /,}" --tsv --no-progress 2>"$TMP/bench.err"); then
    printf '%s\t%s\t%s\t%s\t%s\n' "$size" "$kind" "$idx" "$round" "$line" >>"$RESULTS"
    say "  $kind-$size #$idx round $round: $(cut -f4 <<<"$line") ops/s, p50 $(cut -f5 <<<"$line") ms, p99 $(cut -f7 <<<"$line") ms, errors $(cut -f10 <<<"$line"), missing $(cut -f11 <<<"$line"), server CPU $(cut -f13 <<<"$line") µs/op$(cut -f14 <<<"$line" | sed 's/^./, &/')"
  else
    say "  $kind-$size #$idx round $round FAILED: $(tail -n 3 "$TMP/bench.err")"
  fi
}

rss_kib() { ours "$1" && awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo died; }

declare -A RSS
KETCH_FAILED=""
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')

say "fsync probe: ${PROBE_DURATION} of 128 B appends + fdatasync in $TMP"
PROBE=$("${BENCH[@]}" fsync-probe --path "$TMP" --duration "$PROBE_DURATION" --tsv --no-progress)

declare -A RAN   # size -> the kinds that ran on it
for size in $SIZES; do
  start_cluster etcd "$size" || { say "etcd did not start: giving up"; exit 1; }
  kinds=(etcd)
  if [ ${#KINDS[@]} -eq 2 ]; then
    if start_cluster ketch "$size"; then
      kinds+=(ketch)
    else
      KETCH_FAILED+="${KETCH_FAILED:+; }the $size-member ketch cluster did not become healthy within 60 s"
      say "KETCH $size-MEMBER CLUSTER DID NOT START: measuring etcd only on this size"
      stop_cluster "ketch-$size"
    fi
  fi
  RAN[$size]="${kinds[*]}"
  for round in $(seq 1 "$ROUNDS"); do
    for idx in "${!WORKLOADS[@]}"; do
      for kind in "${kinds[@]}"; do run_bench "$size" "$kind" "$idx" "$round"; done
    done
  done
  for kind in "${kinds[@]}"; do
    say "loading $LOAD_KEYS keys of $VAL_SIZE B into $kind-$size"
    # shellcheck disable=SC2086
    "${BENCH[@]}" put --clients "$LOAD_CLIENTS" --conns "$LOAD_CONNS" --key-size 8 --val-size "$VAL_SIZE" \
      --key-space "$LOAD_KEYS" --sequential-keys --total "$LOAD_KEYS" --timeout 60s \
      --endpoints "${ENDPOINTS[$kind-$size]}" --tsv --no-progress >"$TMP/load-$kind-$size.tsv" 2>"$TMP/bench.err" \
      || say "  loading $kind-$size FAILED: $(tail -n 3 "$TMP/bench.err")"
    rss=""
    for pid in ${MEMBER_PIDS[$kind-$size]}; do rss+="${rss:+ }$(rss_kib "$pid")"; done
    RSS[$kind-$size]=$rss
    say "  $kind-$size VmRSS (KiB): $rss; load: $(cut -f1-4,10 "$TMP/load-$kind-$size.tsv")"
  done
  for kind in "${kinds[@]}"; do stop_cluster "$kind-$size"; done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ------------------------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# med SIZE KIND INDEX FIELD: median over rounds of a tsv field (4 size,kind,idx,round + bench fields)
med() { awk -F'\t' -v s="$1" -v k="$2" -v i="$3" -v f="$4" '$1 == s && $2 == k && $3 == i { print $(f + 4) }' "$RESULTS" | median; }
sum_field() { awk -F'\t' -v s="$1" -v k="$2" -v i="$3" -v f="$4" '$1 == s && $2 == k && $3 == i { t += $(f + 4) } END { print t + 0 }' "$RESULTS"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
fmt() { awk -v v="$1" -v d="$2" 'BEGIN { if (v == "") print "n/a"; else printf "%." d "f", v }'; }
kib_to_mib() { awk -v v="$1" 'BEGIN { printf "%.0f", v / 1024 }'; }

{
  echo
  echo "## ketch vs etcd ($MODE mode, $START_DATE)"
  echo
  echo "Written by \`bench/compare.sh\`. Machine: $(nproc) cores, $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM,"
  echo "$(uname -sr); load average (1/5/15 min) $LOAD_START at the start and $LOAD_END at the end"
  if awk -v l="${LOAD_START%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
    echo "(other work was running on the machine: treat absolute figures as lower bounds, ratios as the result)."
  else
    echo "(the machine was otherwise quiet)."
  fi
  echo "etcd: \`$("$ETCD" --version | head -n 1)\`; ketch: ${KETCH_STATUS:-\`$KETCH\` ($(head -n 1 <<<"$KETCH_VERSION"))}."
  echo "Each cell is the median of $ROUNDS rounds; the rounds alternate etcd and ketch on clusters that run side by side"
  echo "(etcd members on 127.0.0.11-13, ketch on 127.0.0.21-23, data dirs on the same disk under \`${TMPDIR:-/tmp}\`)."
  echo "Ratios are ketch / etcd: above 1 is better for throughput, below 1 is better for latency, CPU and memory."
  echo "Server CPU: user + system time of all members of the cluster (/proc/PID/stat) over the measured window, per operation."
  echo "Watch latency: one putter writes the watched key at 100 puts/s, each put fans out to all $WATCHERS watchers"
  echo "($WATCH_STREAMS streams over $WATCH_CONNS connection(s)); ops/s counts delivered events, latency is put sent to event received."
  if [ -n "$KETCH_STATUS" ]; then
    echo
    echo "**ketch did not run in this comparison: $KETCH_STATUS.** Only the etcd columns are measured."
  elif [ -n "$KETCH_FAILED" ]; then
    echo
    echo "**ketch did not run everywhere: $KETCH_FAILED.** Those ketch columns say n/a."
  fi
  if [ -n "$DIED" ]; then
    echo
    echo "**Members died during the run: $DIED.** Figures measured after that are against the surviving members."
  fi
  echo
  echo "Disk: raw fdatasync rate (\`ketch-bench fsync-probe\`, 128 B appends, one thread, $PROBE_DURATION):"
  echo "$(cut -f4 <<<"$PROBE" | awk '{ printf "%.0f", $1 }') syncs/s, p50 $(cut -f5 <<<"$PROBE") ms, p99 $(cut -f7 <<<"$PROBE") ms."
  for size in $SIZES; do
    echo
    echo "### $size-member cluster"
    echo
    echo "| workload | etcd ops/s | etcd p50 ms | etcd p99 ms | ketch ops/s | ketch p50 ms | ketch p99 ms | ops/s ratio | p50 ratio | p99 ratio | server CPU µs/op etcd / ketch (ratio) | errors + missing events, etcd / ketch |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for idx in "${!WORKLOADS[@]}"; do
      et=$(med "$size" etcd "$idx" 4); e50=$(med "$size" etcd "$idx" 5); e99=$(med "$size" etcd "$idx" 7)
      kt=$(med "$size" ketch "$idx" 4); k50=$(med "$size" ketch "$idx" 5); k99=$(med "$size" ketch "$idx" 7)
      ee=$(( $(sum_field "$size" etcd "$idx" 10) + $(sum_field "$size" etcd "$idx" 11) ))
      ke=$(( $(sum_field "$size" ketch "$idx" 10) + $(sum_field "$size" ketch "$idx" 11) ))
      [[ " ${RAN[$size]} " == *" ketch "* ]] || ke="n/a"
      ec=$(med "$size" etcd "$idx" 13); kc=$(med "$size" ketch "$idx" 13)
      echo "| ${WORKLOADS[idx]%%|*} | $(fmt "$et" 0) | $(fmt "$e50" 2) | $(fmt "$e99" 2) | $(fmt "$kt" 0) | $(fmt "$k50" 2) | $(fmt "$k99" 2) | $(ratio "$kt" "$et") | $(ratio "$k50" "$e50") | $(ratio "$k99" "$e99") | $(fmt "$ec" 0) / $(fmt "$kc" 0) ($(ratio "$kc" "$ec")) | $ee / $ke |"
    done
    # Errors by code with the first message of each, so a burst can be explained after the temp dir is gone.
    awk -F'\t' -v s="$size" '$1 == s && $18 != "" { print $2 "\t" $3 "\t" $4 "\t" $18 }' "$RESULTS" |
      while IFS=$'\t' read -r kind idx round codes; do
        echo
        echo "Errors, $kind, ${WORKLOADS[idx]%%|*}, round $round: $codes."
      done
    echo
    echo "Leader elections after the first (from the member logs, kept in \`$KEPT_LOGS\`): etcd ${ELECTIONS[etcd-$size]:-n/a}, ketch ${ELECTIONS[ketch-$size]:-n/a}."
    # A member that died has no RSS: then the sums compare different member counts, so no ratio.
    ersum=0; for r in ${RSS[etcd-$size]:-}; do [ "$r" = died ] && ersum=-1 && break; ersum=$((ersum + r)); done
    krsum=0; for r in ${RSS[ketch-$size]:-}; do [ "$r" = died ] && krsum=-1 && break; krsum=$((krsum + r)); done
    erss=""; for r in ${RSS[etcd-$size]:-}; do erss+="${erss:+ / }$( [ "$r" = died ] && echo died || kib_to_mib "$r")"; done
    krss=""; for r in ${RSS[ketch-$size]:-}; do krss+="${krss:+ / }$( [ "$r" = died ] && echo died || kib_to_mib "$r")"; done
    echo
    echo "Memory after loading $LOAD_KEYS keys of $VAL_SIZE B (VmRSS per member, MiB): etcd ${erss:-n/a}; ketch ${krss:-n/a};"
    echo "ratio of the sums (ketch / etcd): $( [ "$krsum" -gt 0 ] && [ "$ersum" -gt 0 ] && ratio "$krsum" "$ersum" || echo n/a)."
    for kind in ${RAN[$size]}; do
      [ -s "$TMP/load-$kind-$size.tsv" ] && echo "Loading took $(cut -f3 "$TMP/load-$kind-$size.tsv") s on $kind ($(cut -f4 "$TMP/load-$kind-$size.tsv" | awk '{ printf "%.0f", $1 }') puts/s, errors $(cut -f10 "$TMP/load-$kind-$size.tsv"))."
    done
  done
  echo
  echo "Commands (\`ketch-bench\` is \`dotnet bench/Ketch.Bench/bin/Release/net10.0/ketch-bench.dll\`; each run adds"
  echo "\`--endpoints <all members of the cluster> --cpu-pids <their PIDs> --tsv --no-progress\`):"
  echo
  echo '```sh'
  echo "MODE=$MODE ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP BIG_CLIENTS=$BIG_CLIENTS BIG_CONNS=$BIG_CONNS WATCHERS=$WATCHERS WATCH_PUTS=$WATCH_PUTS LOAD_KEYS=$LOAD_KEYS SIZES=\"$SIZES\" bench/compare.sh"
  echo "ketch-bench fsync-probe --path <temp dir> --duration $PROBE_DURATION"
  for w in "${WORKLOADS[@]}"; do echo "ketch-bench ${w#*|}"; done
  echo "ketch-bench put --clients $LOAD_CLIENTS --conns $LOAD_CONNS --key-size 8 --val-size $VAL_SIZE --key-space $LOAD_KEYS --sequential-keys --total $LOAD_KEYS --timeout 60s"
  echo "etcd --name etcdN --data-dir <temp dir>/etcd-S/etcdN/data --listen-client-urls http://127.0.0.1N:<free port> --advertise-client-urls <same> \\"
  echo "  --listen-peer-urls http://127.0.0.1N:<free port> --initial-advertise-peer-urls <same> --initial-cluster <all members> \\"
  echo "  --initial-cluster-state new --initial-cluster-token <kind-size-pid>    # ketch: the same flags, on 127.0.0.2N"
  echo '```'
} >>"$OUT"
say "appended the section to $OUT"
