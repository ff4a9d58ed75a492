#!/usr/bin/env bash
# MLLP listener benchmark (issue 6, section 8): `carebase serve` with a
# fresh database, driven by bench/mllp_load.c on loopback.
#
# 1. Sustained throughput with durable ACK: 64 connections, each keeping
#    32 messages unanswered (pipelining), COUNT messages of ~520 bytes.
#    Floor: >= 20,000 messages/s.
# 2. ACK latency at an offered 1,000 messages/s (paced, open loop) with 1,
#    8 and 64 connections, LAT_COUNT messages each. Floor: p99 <= 5 ms.
#
# Each figure is the median of RUNS runs. The server's own view (batches,
# time in commits, how many commits took over 2 and 5 ms, the log's sync,
# checkpoints) comes from /metrics. Prints a Markdown section for
# bench/RESULTS.md.
#
# usage: bench/run_feed.sh [BUILD_DIR]; env: RUNS (3), COUNT (200000),
#        LAT_COUNT (10000), KEEP=1 keeps the temporary directory
set -euo pipefail
B=$(realpath "${1:-$(dirname "$0")/../build}")
RUNS=${RUNS:-3}
COUNT=${COUNT:-200000}
LAT_COUNT=${LAT_COUNT:-10000}
[ -x "$B/carebase" ] && [ -x "$B/mllp_load" ] || {
  echo "run_feed.sh: build first (make build): no $B/carebase or $B/mllp_load" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cbfeed.XXXXXX")
SPID=
cleanup() {
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null || true
  [ "${KEEP:-0}" = 1 ] && echo "kept $TMP" >&2 || rm -rf "$TMP"
}
trap cleanup EXIT

start() {  # start NAME: a server on a fresh database; sets PORT, URL
  cat > "$TMP/$1.conf" <<EOF
listen = 127.0.0.1:0
db = $TMP/$1.db
mllp_listen = 127.0.0.1:0
mllp_max_connections = 256
EOF
  "$B/carebase" serve --config "$TMP/$1.conf" >"$TMP/$1.out" 2>"$TMP/$1.err" &
  SPID=$!
  for _ in $(seq 200); do grep -q '^listening on' "$TMP/$1.out" && break; sleep 0.05; done
  PORT=$(sed -n 's/^mllp listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TMP/$1.out")
  URL=$(sed -n 's/^listening on //p' "$TMP/$1.out")
  [ -n "$PORT" ] || { echo "run_feed.sh: the server did not start" >&2; cat "$TMP/$1.err" >&2; exit 1; }
}
stop() {
  kill -TERM "$SPID"; wait "$SPID" || true; SPID=
}
metric() { curl -s "$URL/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
# The disk's own latency, for context: 2,000 fdatasync of a 32 KiB
# overwrite (what one quiet commit writes: two 16 KiB pages of the log),
# paced at 1,000 a second, in the directory of the database.
fsync_probe() {
  python3 - "$TMP" <<'PY'
import os, sys, time
p = os.path.join(sys.argv[1], "probe")
fd = os.open(p, os.O_RDWR | os.O_CREAT)
os.write(fd, b"\0" * (8 << 20)); os.fsync(fd)
t = []
for i in range(2000):
    os.pwrite(fd, b"x" * 32768, (i * 32768) % (8 << 20))
    t0 = time.perf_counter(); os.fdatasync(fd); t.append(time.perf_counter() - t0)
    time.sleep(max(0, 0.001 - t[-1]))
os.close(fd); os.unlink(p)
t.sort()
print("p50 %.2f ms, p99 %.2f ms" % (t[1000] * 1e3, t[1980] * 1e3))
PY
}
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores," \
  "$(free -g | awk '/Mem:/{print $2}') GiB; $(uname -r); disk: $(df -h "$TMP" | awk 'NR==2{print $1}')"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average before: $LOAD_BEFORE"
FSYNC_BEFORE=$(fsync_probe)
echo "disk before: fdatasync $FSYNC_BEFORE"

# ---- 1. throughput ----
start tput
: > "$TMP/tput.txt"
for r in $(seq "$RUNS"); do
  line=$("$B/mllp_load" "$PORT" 64 32 "$COUNT" 0 "T$r")
  echo "  throughput run $r: $line" >&2
  field "$line" msgs_per_s >> "$TMP/tput.txt"
done
TPUT=$(median < "$TMP/tput.txt")
BATCHES=$(metric carebase_mllp_batches_total)
COMMIT_S=$(metric carebase_mllp_commit_seconds_total)
STORED=$(metric 'carebase_mllp_messages_total{result="accepted"}')
stop

# ---- 2. latency at 1,000 messages/s ----
declare -A P50 P99 MAXL SERVER
for c in 1 8 64; do
  start "lat$c"
  : > "$TMP/p50.$c"; : > "$TMP/p99.$c"; : > "$TMP/max.$c"
  for r in $(seq "$RUNS"); do
    line=$("$B/mllp_load" "$PORT" "$c" 1 "$LAT_COUNT" 1000 "L$c-$r")
    echo "  latency $c conns, run $r: $line" >&2
    field "$line" p50_ms >> "$TMP/p50.$c"
    field "$line" p99_ms >> "$TMP/p99.$c"
    field "$line" max_ms >> "$TMP/max.$c"
  done
  P50[$c]=$(median < "$TMP/p50.$c"); P99[$c]=$(median < "$TMP/p99.$c"); MAXL[$c]=$(median < "$TMP/max.$c")
  n=$(metric carebase_mllp_commit_duration_seconds_count)
  le2=$(metric 'carebase_mllp_commit_duration_seconds_bucket{le="0.002"}')
  le5=$(metric 'carebase_mllp_commit_duration_seconds_bucket{le="0.005"}')
  sync_s=$(metric carebase_mllp_log_sync_seconds_total)
  SERVER[$c]=$(awk -v n="$n" -v a="$le2" -v b="$le5" -v s="$sync_s" \
    -v k="$(metric carebase_mllp_checkpoints_total)" -v f="$(metric carebase_mllp_forced_checkpoints_total)" \
    'BEGIN { if (n + 0 == 0) { printf "no commit histogram on /metrics"; exit }
             printf "%d commits, %.2f %% over 2 ms, %.2f %% over 5 ms; log sync %.2f ms on average; checkpoints %d off the ACK path, %d forced",
             n, 100 * (n - a) / n, 100 * (n - b) / n, 1000 * s / n, k, f }')
  stop
done
FSYNC_AFTER=$(fsync_probe)
echo "disk after: fdatasync $FSYNC_AFTER"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

cat <<EOF

### MLLP listener: durable ACKs ($(date -u +%Y-%m-%d))

\`bench/run_feed.sh\` (RUNS=$RUNS): \`carebase serve\`, journal on a fresh
database (WAL; every ACK after an fdatasync of the log), ADT messages of
~520 bytes over loopback, median of $RUNS runs.

| test | result | floor |
|---|---|---|
| throughput, 64 connections × window 32, $COUNT messages | **$(printf "%.0f" "$TPUT") msg/s** | ≥ 20,000 |
| (server: $STORED stored in $BATCHES commits, $(awk "BEGIN{printf \"%.0f\", $STORED / $BATCHES}") per commit, $(awk "BEGIN{printf \"%.2f\", 1000 * $COMMIT_S / $BATCHES}") ms each) | | |
| ACK latency at 1,000 msg/s, 1 connection | p50 ${P50[1]} ms, **p99 ${P99[1]} ms** (max ${MAXL[1]}) | p99 ≤ 5 ms |
| (server: ${SERVER[1]}) | | |
| ACK latency at 1,000 msg/s, 8 connections | p50 ${P50[8]} ms, **p99 ${P99[8]} ms** (max ${MAXL[8]}) | p99 ≤ 5 ms |
| (server: ${SERVER[8]}) | | |
| ACK latency at 1,000 msg/s, 64 connections | p50 ${P50[64]} ms, **p99 ${P99[64]} ms** (max ${MAXL[64]}) | p99 ≤ 5 ms |
| (server: ${SERVER[64]}) | | |
| the disk alone: fdatasync of 32 KiB, 1,000/s, before / after | $FSYNC_BEFORE / $FSYNC_AFTER | |

Load average before and after: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg).
EOF
