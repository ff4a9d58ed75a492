#!/usr/bin/env bash
# carebase serve: the MLLP listener end to end, on real sockets and a real
# database file. ACKs (AA, AR, minimal AR, enhanced mode), the journal
# (stored once, duplicates answered again), split and merged frames,
# oversized frames, 64 connections at once, a slow and a dead client that
# do not hold up another, the idle timeout, metrics, a graceful stop, and
# kill -9 during a stream: every acknowledged message is in the journal
# exactly once and applied exactly once after the restart.
. "$(dirname "$0")/lib.sh"

MULT=${CB_TIMEOUT_MULT:-1}
export MULT

cat > "$T/serve.conf" <<EOF
listen = 127.0.0.1:0
db = $DB
mllp_listen = 127.0.0.1:0
mllp_max_message = 4096
mllp_max_connections = 200
mllp_idle_timeout = 8
EOF

# launch CONFIG OUT ERR: starts a server (SPID), sets URL and MLLP_PORT.
launch() {
  # No stale "listening on" from an earlier server with the same files: the
  # wait below could see it before the new server's redirect empties them.
  rm -f "$2" "$3"
  "$CAREBASE" serve --config "$1" >"$2" 2>"$3" &
  SPID=$!
  wait_until $((30 * MULT)) \
    bash -c 'grep -qs "^listening on" "$1" || ! kill -0 "$2" 2>/dev/null' _ "$2" "$SPID" || true
  grep -q '^listening on' "$2" || return 1
  URL=$(sed -n 's/^listening on //p' "$2")
  MLLP_PORT=$(sed -n 's/^mllp listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$2")
  [ -n "$MLLP_PORT" ]
}
start_server() {
  local t0=$SECONDS
  if ! launch "$@"; then
    fail "server started (waited $((SECONDS - t0)) s)"; cat "$3"; kill -KILL "$SPID" 2>/dev/null || true
    finish; exit 1
  fi
  echo "    (the server listened after $((SECONDS - t0)) s)"
}
stop_server() {  # SIGTERM, then the exit status in STOP_RC
  kill -TERM "$SPID"
  STOP_RC=0
  wait "$SPID" || STOP_RC=$?
}
metric() {  # metric NAME: its value on /metrics
  curl -s "$URL/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

start_server "$T/serve.conf" "$T/serve.out" "$T/serve.err"
check "prints the MLLP address before the HTTP one" \
  bash -c 'head -1 "$1" | grep -Eq "^mllp listening on 127\.0\.0\.1:[0-9]+$"' _ "$T/serve.out"
eq "the journal table exists" "$(cbsql "SELECT count(*) FROM hl7_message")" 0

py "$MLLP_PORT" "$DB" <<'PY'
import os, sys, time, threading
from e2e_lib import ok, eq, cb_sql
from mllp_client import Conn, adt, frame, parse_ack, SB, EB, CR

port, dbp = int(sys.argv[1]), sys.argv[2]
mult = int(os.environ.get("MULT", "1"))
T = 10 * mult

def rows(where):
    return cb_sql(dbp, "SELECT seq, sender, control_id, status, ack_code, event, err_code,"
                       " err_text FROM hl7_message WHERE " + where + " ORDER BY seq")

# ---- one good message, its duplicate ----
c = Conn(port)
c.send_msg(adt("OK-1"))
a = c.read_acks(1, T)[0]
eq("AA for a good ADT message", (a["code"], a["ref"]), ("AA", "OK-1"))
ok("the ACK has its own control id and a timestamp", a["msh10"] and a["msh10"] != "OK-1"
   and len(a["msh7"]) >= 14, a)
eq("the ACK's MSH-9", a["msh9"], "ACK^A01^ACK")
r = rows("control_id = 'OK-1'")
eq("the message is in the journal", [(x["sender"], x["status"], x["ack_code"], x["event"])
                                     for x in r], [("HIS|HOSP1", "1", "AA", "ADT^A01")])
raw = cb_sql(dbp, "SELECT hex(raw) AS h FROM hl7_message WHERE control_id = 'OK-1'")[0]["h"]
eq("the stored bytes are the message as sent", bytes.fromhex(raw), adt("OK-1"))
c.send_msg(adt("OK-1"))
b = c.read_acks(1, T)[0]
eq("a duplicate is acknowledged again (AA)", (b["code"], b["ref"]), ("AA", "OK-1"))
ok("with a new ACK control id", b["msh10"] != a["msh10"])
eq("and stored once", len(rows("control_id = 'OK-1'")), 1)
# the same control id from another sender is another message
c.send_msg(adt("OK-1", sender=(b"LIS", b"HOSP2")))
eq("another sender's OK-1 is new", c.read_acks(1, T)[0]["code"], "AA")
eq("both stored", sorted(x["sender"] for x in rows("control_id = 'OK-1'")),
   ["HIS|HOSP1", "LIS|HOSP2"])

# ---- refused by the handler: AR, stored as rejected ----
c.send_msg(adt("ORU-1", event="R01", msg_type=b"ORU"))
a = c.read_acks(1, T)[0]
eq("AR for a non-ADT message", (a["code"], a["ref"]), ("AR", "ORU-1"))
ok("with ERR 200 at MSH-9", a["err"] and "|MSH^1^9|200^" in a["err"], a["err"])
r = rows("control_id = 'ORU-1'")
eq("stored as rejected, with its answer", [(x["status"], x["ack_code"], x["err_code"], x["event"])
                                           for x in r], [("2", "AR", "200", "ORU^R01")])
c.send_msg(adt("ORU-1", event="R01", msg_type=b"ORU"))
b = c.read_acks(1, T)[0]
eq("its resend gets the same answer", (b["code"], b["err"]), ("AR", a["err"]))
eq("stored once", len(rows("control_id = 'ORU-1'")), 1)

# ---- unparseable frames: AR, not stored ----
c.send(frame(b"this is not HL7"))
a = c.read_acks(1, T)[0]
eq("a frame without MSH gets the minimal AR", (a["code"], a["ref"]), ("AR", ""))
ok("minimal AR: default delimiters, ERR with the reason",
   a["raw"].startswith(b"MSH|^~\\&|CAREBASE|") and a["err"] and "missing MSH" in a["err"], a)
bad = adt("BAD-1").replace(b"\rEVN|", b"\revn|")
c.send_msg(bad)
a = c.read_acks(1, T)[0]
eq("a bad segment id: AR answering its MSH-10", (a["code"], a["ref"]), ("AR", "BAD-1"))
ok("ERR says why", a["err"] and "bad segment id" in a["err"], a["err"])
c.send_msg(adt(""))
a = c.read_acks(1, T)[0]
eq("an empty MSH-10: AR 101", (a["code"], "101^" in (a["err"] or "")), ("AR", True))
eq("unparseable messages are not stored",
   len(rows("control_id IN ('BAD-1', '')")), 0)

# ---- oversized frames (max 4096 bytes) ----
c.send_msg(adt("BIG-1", pad=6000))
a = c.read_acks(1, T)[0]
eq("an oversized frame: AR from its MSH", (a["code"], a["ref"]), ("AR", "BIG-1"))
ok("ERR: message too large", a["err"] and "message too large" in a["err"], a["err"])
# an MSH longer than the limit cannot be answered: dropped, and the
# connection goes on with the next frame
c.send(frame(b"MSH|^~\\&|" + b"Z" * 5000 + b"\rPID|1\r"))
c.send_msg(adt("AFTER-BIG"))
a = c.read_acks(1, T)[0]
eq("a frame without a readable MSH is dropped; the next one is answered",
   (a["code"], a["ref"]), ("AA", "AFTER-BIG"))
eq("oversized frames are not stored", len(rows("control_id = 'BIG-1'")), 0)

# ---- split and merged frames, junk between frames ----
data = frame(adt("SPLIT-1"))
for i in range(len(data)):
    c.send(data[i:i + 1])
a = c.read_acks(1, T)[0]
eq("a frame sent byte by byte", (a["code"], a["ref"]), ("AA", "SPLIT-1"))
c.send(frame(adt("MERGED-1")) + frame(adt("MERGED-2")))
eq("two frames in one write: two ACKs in order",
   [(x["code"], x["ref"]) for x in c.read_acks(2, T)], [("AA", "MERGED-1"), ("AA", "MERGED-2")])
c.send(b"garbage\r\n" + frame(adt("AFTER-JUNK")) + b"\x1c\rmore junk")
c.send_msg(adt("AFTER-JUNK-2"))
eq("bytes outside frames are skipped",
   [(x["code"], x["ref"]) for x in c.read_acks(2, T)],
   [("AA", "AFTER-JUNK"), ("AA", "AFTER-JUNK-2")])

# ---- enhanced acknowledgment mode ----
c.send_msg(adt("ENH-1", accept_ack=b"AL", app_ack=b"AL"))
eq("AL/AL: CA, then AA", [(x["code"], x["ref"]) for x in c.read_acks(2, T)],
   [("CA", "ENH-1"), ("AA", "ENH-1")])
c.send_msg(adt("ENH-2", accept_ack=b"AL", app_ack=b"NE"))
c.send_msg(adt("ENH-3", accept_ack=b"NE", app_ack=b"AL"))
c.send_msg(adt("ENH-4", accept_ack=b"NE", app_ack=b"NE"))
c.send_msg(adt("ENH-5", event="R01", msg_type=b"ORU", accept_ack=b"ER", app_ack=b"AL"))
c.send_msg(adt("ENH-6", accept_ack=b"ER", app_ack=b"ER"))
c.send_msg(adt("ENH-END"))
eq("AL/NE: CA only; NE/AL: AA only; NE/NE: nothing; ER for a refusal: CR;"
   " ER/ER when all is well: nothing",
   [(x["code"], x["ref"]) for x in c.read_acks(4, T)],
   [("CA", "ENH-2"), ("AA", "ENH-3"), ("CR", "ENH-5"), ("AA", "ENH-END")])
eq("enhanced-mode messages are stored like the others",
   len(rows("control_id LIKE 'ENH-%'")), 7)
c.send_msg(adt("ENH-1", accept_ack=b"AL", app_ack=b"AL"))
eq("an enhanced-mode duplicate: CA, AA again", [x["code"] for x in c.read_acks(2, T)],
   ["CA", "AA"])
c.close()

# ---- 64 connections at once ----
N, K = 64, 20
conns = [Conn(port) for _ in range(N)]
for i, cc in enumerate(conns):
    cc.send(b"".join(frame(adt("C%02d-%02d" % (i, k))) for k in range(K)))
good = 0
for i, cc in enumerate(conns):
    got = [(x["code"], x["ref"]) for x in cc.read_acks(K, T)]
    good += got == [("AA", "C%02d-%02d" % (i, k)) for k in range(K)]
    cc.close()
eq("64 connections: each gets its 20 ACKs, in order", good, N)
eq("all stored", len(rows("control_id GLOB 'C[0-9][0-9]-[0-9][0-9]'")), N * K)

# ---- a slow client and a dead one do not hold up another ----
slow = Conn(port)
many = b"".join(frame(adt("SLOW-%05d" % k)) for k in range(6000))
sender = threading.Thread(target=lambda: slow.send(many), daemon=True)
sender.start()           # blocks once the server stops reading it
dead = Conn(port)
dead.send(frame(adt("DEAD-1"))[:200])   # half a frame, then silence
time.sleep(1.0)
other = Conn(port)
t0 = time.monotonic()
other.send_msg(adt("OTHER-1"))
a = other.read_acks(1, T)[0]
took = time.monotonic() - t0
print("another client's ACK came after %.1f ms" % (took * 1000))
eq("another client is answered while a slow and a dead client wait",
   (a["code"], a["ref"]), ("AA", "OTHER-1"))
# (the time is printed, never asserted: what matters is that the slow
# client has read none of its ACKs and the dead one is silent meanwhile)
refs = [x["ref"] for x in slow.read_acks(6000, 3 * T)]
eq("the slow client gets all its ACKs, in order, once it reads",
   refs, ["SLOW-%05d" % k for k in range(6000)])
sender.join(T)
slow.close()
other.close()
# the dead client is closed after the idle timeout (8 s)
ok("a silent client is closed after the idle timeout", dead.closed_by_peer(20 * mult))
dead.close()
PY

eq "protocol errors are counted" "$(metric carebase_mllp_protocol_errors_total | awk '{print ($1 >= 2)}')" 1
eq "oversized frames are counted" "$(metric carebase_mllp_messages_total'{result="too_large"}')" 2
eq "unparseable frames are counted" "$(metric carebase_mllp_messages_total'{result="unparseable"}')" 3
eq "duplicates are counted" "$(metric carebase_mllp_messages_total'{result="duplicate"}')" 3
eq "accepted messages are counted" "$(metric carebase_mllp_messages_total'{result="accepted"}')" \
  "$(cbsql "SELECT count(*) FROM hl7_message WHERE status = 1")"
eq "every accepted message was applied once" "$(metric carebase_mllp_applied_total)" \
  "$(cbsql "SELECT count(*) FROM hl7_message WHERE status = 1")"
eq "timed-out connections are counted" "$(metric carebase_mllp_connections_timed_out_total)" 1
check "the ACK latency histogram is there" \
  bash -c 'curl -s "$1/metrics" | grep -q "^carebase_mllp_ack_latency_seconds_bucket{le=\"+Inf\"} [1-9]"' _ "$URL"

stop_server
eq "SIGTERM: exit status 0" "$STOP_RC" 0
check "the log names no patient" bash -c '! grep -q "SYNTH" "$1"' _ "$T/serve.err"
check "the log says why a message was refused" grep -q "missing MSH segment" "$T/serve.err"
integrity "database intact"

# ---- kill -9 during a stream ----
DB2="$T/kill.db"
sed "s|^db = .*|db = $DB2|" "$T/serve.conf" > "$T/kill.conf"
start_server "$T/kill.conf" "$T/kill.out" "$T/kill.err"
ACKS="$T/acks.txt"
: > "$ACKS"
NCONN=4 COUNT=5000
python3 "$E2E_DIR/mllp_client.py" stream "$MLLP_PORT" $NCONN $COUNT 64 K "$ACKS" &
CPID=$!
wait_until $((60 * MULT)) bash -c '[ "$(wc -l < "$1")" -ge 2000 ]' _ "$ACKS" || true
kill -KILL "$SPID"
wait "$SPID" 2>/dev/null || true
wait "$CPID" || true
NACK=$(grep -c $'\tAA$' "$ACKS" || true)
check "the stream was cut in the middle ($NACK of $((NCONN * COUNT)) acknowledged)" \
  test "$NACK" -ge 2000 -a "$NACK" -lt $((NCONN * COUNT))

start_server "$T/kill.conf" "$T/kill.out" "$T/kill.err"
STORED=$(cbsql "SELECT count(*) FROM hl7_message" "$DB2")
py "$DB2" "$ACKS" <<'PY'
import sys
from e2e_lib import ok, eq, cb_sql
dbp, acks = sys.argv[1], sys.argv[2]
acked = [l.split("\t")[0] for l in open(acks) if l.rstrip("\n").endswith("\tAA")]
stored = {}
for r in cb_sql(dbp, "SELECT control_id, count(*) AS n FROM hl7_message GROUP BY control_id"):
    stored[r["control_id"]] = int(r["n"])
missing = [c for c in acked if c not in stored]
eq("every acknowledged message is in the journal", missing[:5], [])
eq("exactly once", [c for c in acked if stored.get(c, 0) != 1][:5], [])
eq("no message was acknowledged twice", len(acked), len(set(acked)))
PY
eq "after the restart the journal is replayed: each stored message applied once" \
  "$(metric carebase_mllp_applied_total)" "$STORED"
eq "replay count" "$(metric carebase_mllp_replayed_total)" "$STORED"

# everything again: what was stored is answered as a duplicate, the rest stored
: > "$T/acks2.txt"
python3 "$E2E_DIR/mllp_client.py" stream "$MLLP_PORT" $NCONN $COUNT 64 K "$T/acks2.txt"
eq "the resend is acknowledged in full" "$(grep -c $'\tAA$' "$T/acks2.txt")" $((NCONN * COUNT))
eq "nothing is stored twice" "$(cbsql "SELECT count(*), count(DISTINCT control_id) FROM hl7_message" "$DB2")" \
  "$((NCONN * COUNT)),$((NCONN * COUNT))"
eq "the resend's stored part counted as duplicates" \
  "$(metric carebase_mllp_messages_total'{result="duplicate"}')" "$STORED"
eq "each message applied exactly once, replay included" \
  "$(metric carebase_mllp_applied_total)" $((NCONN * COUNT))
stop_server
eq "SIGTERM after the restart: exit status 0" "$STOP_RC" 0
integrity "database intact after kill -9" "$DB2"

finish
