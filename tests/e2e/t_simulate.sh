#!/usr/bin/env bash
# carebase simulate: the stream written to a file (framing, lines,
# determinism, wards, ground truth), and the MLLP sender against a small
# standard-library server (tests/e2e/mllp_acker.py) that answers AA to
# everything: counts, one connection per hospital in order, the window,
# reconnection after the server is restarted mid-stream, giving up.
. "$(dirname "$0")/lib.sh"

ACKER="$E2E_DIR/mllp_acker.py"
ORGS="$T/orgs.tsv"
printf 'zzjgdm\tname\tlevel\tconsortium\n' >"$ORGS"
printf 'HUB000001\t平林市第一人民医院\t三级\tPLYLT\n' >>"$ORGS"
printf 'DIS000002\t平林市宜桥区人民医院\t二级\tPLYLT\n' >>"$ORGS"
printf 'CHC000003\t宜桥区柳水街道社区卫生服务中心\t基层\tPLYLT\n' >>"$ORGS"
SIM=(simulate --orgs "$ORGS" --start '2026-03-02 08:00' --seed 4)

# ---- the stream as a file
cb "${SIM[@]}" --days 1 --out "$T/a.hl7" --expect "$T/a.json" --wards-out "$T/wards.tsv"
cb "${SIM[@]}" --days 1 --out "$T/b.hl7"
check "same seed, same bytes" cmp -s "$T/a.hl7" "$T/b.hl7"
cb simulate --orgs "$ORGS" --start '2026-03-02 08:00' --seed 5 --days 1 --out "$T/c.hl7"
check "another seed, another stream" bash -c "! cmp -s '$T/a.hl7' '$T/c.hl7'"
N=$(json "$T/a.json" "j['messages']['total']")
check "a day of a 3-hospital consortium is over 1000 messages" test "$N" -gt 1000
py "$T/a.hl7" "$N" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
n = int(sys.argv[2])
frames = data.split(b"\x1c\r")
ok = frames[-1] == b"" and all(f.startswith(b"\x0bMSH|^~\\&|") for f in frames[:-1])
print(("ok - " if ok else "not ok - ") + "every frame is SB MSH ... EB CR")
print(("ok - " if len(frames) - 1 == n else "not ok - ") +
      "frames: %d, messages in the truth: %d" % (len(frames) - 1, n))
gb = [f for f in frames if b"|GB 18030" in f.split(b"\r")[0]]
print(("ok - " if gb else "not ok - ") + "one hospital's messages are GB 18030")
try:
    gb[0].decode("utf-8")
    print("not ok - a GB 18030 message is not UTF-8")
except UnicodeDecodeError:
    print("ok - a GB 18030 message is not UTF-8")
PY
cb "${SIM[@]}" --days 1 --out "$T/a.lines" --out-format lines
eq "lines format: one message a line" "$(wc -l <"$T/a.lines" | tr -d ' ')" "$N"
eq "the wards file header" "$(head -1 "$T/wards.tsv")" \
   "$(printf 'hospital\tward\tname\tcare_level\tbeds\tstaffed')"
eq "wards of the three hospitals" "$(tail -n +2 "$T/wards.tsv" | cut -f1 | sort -u | tr '\n' ' ')" \
   "CHC000003 DIS000002 HUB000001 "
eq "the hub has an ED and an ICU" \
   "$(awk -F'\t' '$1=="HUB000001" && ($4=="ED" || $4=="ICU") {print $4}' "$T/wards.tsv" | sort | tr '\n' ' ')" "ED ICU "
py "$T/a.json" "$T/wards.tsv" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print(("ok - " if j["anomalies"] == 0 else "not ok - ") + "the truth has no anomaly")
beds = {}
for line in open(sys.argv[2], encoding="utf-8").read().splitlines()[1:]:
    h, w, name, care, b, s = line.split("\t")
    beds[(h, w)] = int(s)
over = [(h["zzjgdm"], w["ward"]) for h in j["hospitals"] for w in h["wards"]
        if w["census"] > beds[(h["zzjgdm"], w["ward"])]]
print(("ok - " if not over else "not ok - ") + "no ward over its staffed beds %s" % over)
hub = j["hospitals"][0]
occ = hub["occupied"] / hub["staffed"]
print(("ok - " if 0.8 <= occ <= 1.0 else "not ok - ") + "the hub is %.0f%% occupied" % (occ * 100))
PY

# The hospitals can come from the database too.
cb org load "$ORGS"
cb simulate --days 0.2 --start '2026-03-02 08:00' --out "$T/db.hl7"
check "hospitals from the database" grep -aq '|CAREBASE|CB|' "$T/db.hl7"
run "$CAREBASE" --db "$T/none.db" --quiet simulate --out "$T/x.hl7" 2>"$T/err"
exit1 "no database and no --orgs" "$RC"
run "$CAREBASE" --quiet simulate --orgs "$ORGS" --window 0 --out "$T/x.hl7" 2>/dev/null
eq "a bad option is a usage error" "$RC" 2
check "carebase help simulate" bash -c "'$CAREBASE' help simulate | grep -q -- '--malformed'"

# ---- the sender against a server that says AA to everything
ACKER_PID=""
start_acker() {  # start_acker NAME [ARGS...]: sets PORT
  local name=$1; shift
  rm -f "$T/$name.port"
  python3 "$ACKER" --port-file "$T/$name.port" --record "$T/$name.rec" "$@" &
  ACKER_PID=$!
  wait_until 10 test -s "$T/$name.port" || fail "acker $name did not start"
  PORT=$(cat "$T/$name.port")
}
stop_acker() { kill "$ACKER_PID" 2>/dev/null; wait "$ACKER_PID" 2>/dev/null || true; }
cleanup() {
  local rc=$?
  [ -z "$(jobs -p)" ] || kill $(jobs -p) 2>/dev/null || true
  [ "${KEEP_TMP:-0}" = 1 ] || rm -rf "$T"
  exit "$rc"
}
trap cleanup EXIT

start_acker s1 --stats "$T/s1.stats"
run cb "${SIM[@]}" --days 1 --malformed 0 --to "127.0.0.1:$PORT" --connections 2 \
  --window 4 --json >"$T/s1.json"
stop_acker
eq "all well-formed and all AA: exit 0" "$RC" 0
NW=$(json "$T/s1.json" "j['messages']")
eq "every message acknowledged" "$(json "$T/s1.json" "j['acknowledged']")" "$NW"
eq "every ACK counted as AA" "$(json "$T/s1.json" "j['acks']['AA']")" "$NW"
eq "the server got each message once" "$(wc -l <"$T/s1.rec" | tr -d ' ')" "$NW"
cb "${SIM[@]}" --days 1 --malformed 0 --out "$T/s1.hl7"
py "$T/s1.rec" "$T/s1.hl7" <<'PY'
import sys
rec = [l.split() for l in open(sys.argv[1])]
conn = {}
for c, h, ctl, typ in rec:
    conn.setdefault(h, set()).add(c)
print(("ok - " if all(len(v) == 1 for v in conn.values()) else "not ok - ") +
      "a hospital's messages use one connection: %s" % conn)
print(("ok - " if len(set(c for v in conn.values() for c in v)) == 2 else "not ok - ") +
      "two connections used")
frames = open(sys.argv[2], "rb").read().split(b"\x1c\r")[:-1]
want = {}
for f in frames:
    msh = f[1:].split(b"\r")[0].split(b"|")
    want.setdefault(msh[3].decode(), []).append(msh[9].decode())
got = {}
for c, h, ctl, typ in rec:
    got.setdefault(h, []).append(ctl)
print(("ok - " if got == want else "not ok - ") + "each hospital's stream arrived in order")
PY

start_acker s2
run cb "${SIM[@]}" --days 1 --malformed 0.05 --to "127.0.0.1:$PORT" --json >"$T/s2.json"
stop_acker
exit1 "malformed messages answered AA: exit 1" "$RC"
MAL=$(json "$T/s2.json" "j['malformed']")
check "some malformed messages" test "$MAL" -gt 10
eq "malformed_accepted counts them" "$(json "$T/s2.json" "j['malformed_accepted']")" "$MAL"
eq "well-formed ones all AA" "$(json "$T/s2.json" "j['well_formed_not_aa']")" 0

# The window: with W=8 and a server that answers by batches of 8, eight
# messages wait at once; with W=1, never more than one.
start_acker w8 --hold 8 --stats "$T/w8.stats"
run cb "${SIM[@]}" --days 0.5 --malformed 0 --to "127.0.0.1:$PORT" --window 8 --json >"$T/w8.json"
stop_acker
eq "window 8: exit 0" "$RC" 0
eq "window 8: 8 messages waited for their ACK at once" "$(json "$T/w8.stats" "j['max_waiting']")" 8
start_acker w1 --stats "$T/w1.stats"
run cb "${SIM[@]}" --days 0.5 --malformed 0 --to "127.0.0.1:$PORT" --window 1 --json >"$T/w1.json"
stop_acker
eq "window 1: exit 0" "$RC" 0
eq "window 1: one message at a time" "$(json "$T/w1.stats" "j['max_waiting']")" 1

# The server goes away after 300 messages and comes back a second later:
# the sender reconnects and resends what was not acknowledged.
start_acker r1 --die-after 300
P=$PORT
( sleep 1; exec python3 "$ACKER" --port "$P" --port-file "$T/r2.port" --record "$T/r1.rec" ) &
R2=$!
run cb "${SIM[@]}" --days 1 --malformed 0 --to "127.0.0.1:$P" --connections 2 --window 4 \
  --timeout 30 --json >"$T/r.json"
kill "$R2" 2>/dev/null; wait "$R2" 2>/dev/null || true
eq "restart mid-stream: exit 0" "$RC" 0
check "reconnected" test "$(json "$T/r.json" "j['reconnects']")" -ge 1
check "resent the unacknowledged" test "$(json "$T/r.json" "j['resent']")" -ge 1
eq "every message acknowledged after the restart" "$(json "$T/r.json" "j['acknowledged']")" \
   "$(json "$T/r.json" "j['messages']")"
py "$T/r1.rec" "$T/s1.hl7" <<'PY'
import sys
got = set(l.split()[2] for l in open(sys.argv[1]))
frames = open(sys.argv[2], "rb").read().split(b"\x1c\r")[:-1]
want = set(f[1:].split(b"\r")[0].split(b"|")[9].decode() for f in frames)
print(("ok - " if got == want else "not ok - ") +
      "the servers got every message (%d of %d)" % (len(got & want), len(want)))
PY

# Nobody listening: give up after --timeout, exit 1.
start_acker gone
stop_acker
run cb "${SIM[@]}" --days 0.1 --to "127.0.0.1:$PORT" --timeout 1 2>"$T/gone.err"
exit1 "no server: exit 1" "$RC"
check "no server: says it gave up" grep -q "gave up" "$T/gone.err"

# ---- --live --catch-up: fast until the wall clock, never past it
# Half an hour before now at 3600x: without --catch-up, 3 s of live run
# reach hours into the future; with it, no message is stamped after now.
START=$(date -u -d '-30 minutes +8 hours' '+%Y-%m-%d %H:%M')
cb simulate --orgs "$ORGS" --seed 4 --start "$START" --days 0 --live --speed 3600 \
  --catch-up --duration 3 --out "$T/catch.hl7"
cb simulate --orgs "$ORGS" --seed 4 --start "$START" --days 0 --live --speed 3600 \
  --duration 3 --out "$T/run.hl7"
py "$T/catch.hl7" "$T/run.hl7" "$(date -u -d '+8 hours +60 seconds' '+%Y%m%d%H%M%S')" <<'PY'
import sys
def stamps(path):
    frames = open(path, "rb").read().split(b"\x1c\r")[:-1]
    return [f.split(b"\r")[0].split(b"|")[6][:14].decode() for f in frames]
catch, run, limit = stamps(sys.argv[1]), stamps(sys.argv[2]), sys.argv[3]
print(("ok - " if catch and max(catch) <= limit else "not ok - ") +
      "--catch-up: %d messages, the last stamped %s, not after now (%s)" %
      (len(catch), max(catch, default="-"), limit))
print(("ok - " if run and max(run) > limit else "not ok - ") +
      "without it the same run goes past now (%s)" % max(run, default="-"))
PY

finish
