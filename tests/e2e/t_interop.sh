#!/usr/bin/env bash
# Interoperability (issue 6, section 7): a stream written by `carebase
# simulate --out` is sent by two peers written by others, Debian's
# python3-hl7 (mllp_send) and npm's node-hl7-client (tests/interop/
# send.mjs), to the MLLP listener of `carebase serve`. Afterwards every
# well-formed message was answered AA and every malformed one AE or AR,
# the journal holds each well-formed message once, and the census equals
# the ground truth of the stream (--expect).
#
# First, both peers send the stream to a standard-library MLLP server
# (mllp_acker.py): the bytes must arrive unchanged (both peers drop the
# CR that ends the last segment, which HL7 parsers accept).
. "$(dirname "$0")/lib.sh"

MULT=${CB_TIMEOUT_MULT:-1}
ACKER="$E2E_DIR/mllp_acker.py"
NODE_DIR="$CB_SOURCE/tests/interop"
cleanup() {
  local rc=$?
  [ -z "$(jobs -p)" ] || kill $(jobs -p) 2>/dev/null || true
  [ "${KEEP_TMP:-0}" = 1 ] || rm -rf "$T"
  exit "$rc"
}
trap cleanup EXIT

if ! command -v mllp_send >/dev/null 2>&1; then
  fail "mllp_send is installed (Debian package python3-hl7, scripts/install-deps.sh)"
  finish; exit 1
fi
if [ ! -d "$NODE_DIR/node_modules/node-hl7-client" ]; then
  fail "node-hl7-client is installed in tests/interop (scripts/install-deps.sh)"
  finish; exit 1
fi

ORGS="$T/orgs.tsv"
printf 'zzjgdm\tname\tlevel\tconsortium\n' >"$ORGS"
printf 'HUB000001\t平林市第一人民医院\t三级\tPLYLT\n' >>"$ORGS"
printf 'DIS000002\t平林市宜桥区人民医院\t二级\tPLYLT\n' >>"$ORGS"
printf 'CHC000003\t宜桥区柳水街道社区卫生服务中心\t基层\tPLYLT\n' >>"$ORGS"
# simulate_stream [KINDS]: the stream, its truth and its wards
KINDS=""
STREAM=(--orgs "$ORGS" --start '2026-03-02 08:00' --seed 21 --days 0.5 --malformed 0.02)
simulate_stream() {
  KINDS=${1:-}
  cb simulate "${STREAM[@]}" ${KINDS:+--malformed-kinds "$KINDS"} \
    --out "$T/stream.hl7" --expect "$T/expect.json" --wards-out "$T/wards.tsv"
}
simulate_stream
N=$(json "$T/expect.json" "j['messages']['total']")

# send_with PEER PORT TAG: sends the stream; the peer's ACKs in $T/TAG.acks
# as "control_id code" lines.
send_with() {
  local peer=$1 port=$2 tag=$3
  case $peer in
    mllp_send)
      run timeout $((300 * MULT)) mllp_send -p "$port" -f "$T/stream.hl7" 127.0.0.1 \
        >"$T/$tag.out" 2>"$T/$tag.err"
      python3 - "$T/$tag.out" >"$T/$tag.acks" <<'PY'
import re, sys
for m in re.finditer(rb"MSA\|([A-Z]{2})\|([^|\r\x1c]*)", open(sys.argv[1], "rb").read()):
    print(m.group(2).decode("latin-1"), m.group(1).decode())
PY
      ;;
    node)
      run timeout $((300 * MULT)) node "$NODE_DIR/send.mjs" 127.0.0.1 "$port" \
        "$T/stream.hl7" "$T/$tag.json" >"$T/$tag.out" 2>"$T/$tag.err"
      json "$T/$tag.json" "'\n'.join('%s %s' % kv for kv in j['codes'].items())" >"$T/$tag.acks"
      ;;
    carebase)   # the simulator's own sender: 2 connections, a window of 8
      run cb simulate "${STREAM[@]}" ${KINDS:+--malformed-kinds "$KINDS"} \
        --to "127.0.0.1:$port" --connections 2 --window 8 --json >"$T/$tag.json" 2>"$T/$tag.err"
      echo "-" >"$T/$tag.acks"
      ;;
  esac
  eq "$peer: exit status 0" "$RC" 0
  [ "$RC" -eq 0 ] || sed 's/^/    /' "$T/$tag.err" | head -5
}

# ---- the peers against a plain MLLP server
for peer in mllp_send node; do
  rm -f "$T/acker.port"
  python3 "$ACKER" --port-file "$T/acker.port" --record "$T/acker-$peer.rec" \
    --raw "$T/acker-$peer.raw" &
  APID=$!
  wait_until $((10 * MULT)) test -s "$T/acker.port" || fail "acker started"
  send_with "$peer" "$(cat "$T/acker.port")" "a-$peer"
  kill "$APID"; wait "$APID" 2>/dev/null || true
  eq "$peer: one ACK per message" "$(wc -l <"$T/a-$peer.acks" | tr -d ' ')" "$N"
  py "$T/stream.hl7" "$T/acker-$peer.raw" "$peer" <<'PY'
import sys
def msgs(p):
    return [f.lstrip(b"\x0b").rstrip(b"\r") for f in open(p, "rb").read().split(b"\x1c\r")[:-1]]
a, b = msgs(sys.argv[1]), msgs(sys.argv[2])
same = sum(x == y for x, y in zip(a, b))
print(("ok - " if a == b else "not ok - ") +
      "%s: the %d messages arrived unchanged, in order (%d same)" % (sys.argv[3], len(a), same))
PY
done

# ---- the peers against carebase serve
SPID=""
start_server() {
  rm -f "$DB" "$DB-wal" "$DB-shm"
  cb org load "$ORGS" 2>/dev/null
  printf 'interop-pass-1\n' | cb user add interop --role consortium_admin --scope PLYLT \
    --password-stdin >/dev/null
  {
    echo "listen = 127.0.0.1:0"
    echo "db = $DB"
    echo "mllp_listen = 127.0.0.1:0"
    echo "wards = $T/wards.tsv"
  } >"$T/serve.conf"
  rm -f "$T/serve.out" "$T/serve.err" # no stale lines from an earlier server
  "$CAREBASE" serve --config "$T/serve.conf" >"$T/serve.out" 2>"$T/serve.err" &
  SPID=$!
  wait_until $((30 * MULT)) \
    bash -c 'grep -qs "^mllp listening on" "$1" || ! kill -0 "$2" 2>/dev/null' _ "$T/serve.out" "$SPID" || true
  MLLP_PORT=$(sed -n 's/^mllp listening on .*:\([0-9]*\)$/\1/p' "$T/serve.out")
  HTTP_PORT=$(sed -n 's/^listening on https*:\/\/.*:\([0-9]*\)$/\1/p' "$T/serve.out")
  if [ -z "$MLLP_PORT" ]; then
    fail "server started"; sed 's/^/    /' "$T/serve.err" | head -5
    finish; exit 1
  fi
}
stop_server() { kill -TERM "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null || true; }

for peer in mllp_send node carebase; do
  start_server
  send_with "$peer" "$MLLP_PORT" "s-$peer"
  py "$T/stream.hl7" "$T/s-$peer.acks" "$peer" "$DB" "$T/expect.json" "$HTTP_PORT" <<'PY'
import json, re, sys
from e2e_lib import ok, eq, cb_sql
stream, acks, peer, dbp, expect, http_port = sys.argv[1:7]

def malformed(m):
    """The simulator's five kinds of broken messages, told from the text."""
    segs = m.rstrip(b"\r").split(b"\r")
    msh = segs[0].split(b"|")
    if len(segs[-1]) < 3 or (len(segs[-1]) > 3 and segs[-1][3:4] != b"|"):
        return "truncated"
    if msh[8].startswith(b"ORU"):
        return "type"
    if msh[8].split(b"^")[1] == b"A99":
        return "trigger"
    for s in segs:
        if s.startswith(b"PID|"):
            f = s.split(b"|")
            if len(f) < 4 or f[3] == b"":
                return "pid3"
            if b"\\X" in f[3]:
                return "escape"
    return None

frames = [f.lstrip(b"\x0b") for f in open(stream, "rb").read().split(b"\x1c\r")[:-1]]
kind = {}
for f in frames:
    kind[f.split(b"\r")[0].split(b"|")[9].decode()] = malformed(f)
if open(acks).read().strip() != "-":
    got = dict(l.split() for l in open(acks) if l.strip())
    eq(peer + ": an ACK for every message", len(got), len(kind))
    bad_wf = [c for c, k in kind.items() if k is None and got.get(c) != "AA"]
    bad_mal = [c for c, k in kind.items() if k is not None and got.get(c) not in ("AE", "AR")]
    eq(peer + ": every well-formed message answered AA", bad_wf[:5], [])
    eq(peer + ": every malformed message answered AE or AR", bad_mal[:5], [])
else:   # carebase simulate --json: its own counts
    s = json.load(open(acks[:-len(".acks")] + ".json"))
    eq(peer + ": an ACK for every message", s["acknowledged"], len(kind))
    eq(peer + ": well-formed not AA, malformed AA", (s["well_formed_not_aa"], s["malformed_accepted"]), (0, 0))
    eq(peer + ": AE + AR = the malformed", s["acks"]["AE"] + s["acks"]["AR"],
       sum(1 for k in kind.values() if k))
ok(peer + ": the stream has malformed messages", any(k for k in kind.values()))

wf = sorted(c for c, k in kind.items() if k is None)
rows = cb_sql(dbp, "SELECT control_id FROM hl7_message WHERE status = 1 ORDER BY control_id")
eq(peer + ": the journal holds each well-formed message once (accepted)",
   [r["control_id"] for r in rows], wf)

# The census: the live state (GET /api/live/summary and the bed board of
# each hospital) against the ground truth, hospital by hospital and ward
# by ward, bed by bed.
truth = json.load(open(expect))
from api_client import Client
c = Client("http://127.0.0.1:%s" % http_port)
r = c.login("interop", "interop-pass-1")
r = c.get("/api/live/summary")
eq(peer + ": GET /api/live/summary answers", r.status, 200)
live = {h["hospital"]: h for h in r.body.get("hospitals", [])} if r.status == 200 else {}
for h in truth["hospitals"]:
    lh = live.get(h["zzjgdm"], {})
    for k in ("census", "occupied", "boarders", "ed_waiting", "blocked"):
        eq("%s: %s %s as expected" % (peer, h["zzjgdm"], k), lh.get(k), h[k])
    r = c.get("/api/live/wards?hospital=" + h["zzjgdm"])
    wards = {w["ward"]: w for w in r.body.get("wards", [])} if r.status == 200 else {}
    bad = []
    for w in h["wards"]:
        lw = wards.get(w["ward"], {})
        # the truth names a bed ward-room-bed, the bed board room-bed within its ward
        occ = sorted(w["ward"] + "-" + b["bed"] for b in lw.get("beds", []) if b["state"] == "occupied")
        if (lw.get("census"), lw.get("occupied"), lw.get("blocked"), occ) != \
                (w["census"], w["occupied"], w["blocked"], sorted(w["occupied_beds"])):
            bad.append(w["ward"])
    eq("%s: %s every ward's census, occupied and blocked beds, bed by bed" % (peer, h["zzjgdm"]),
       bad, [])
PY
  stop_server
done

finish
