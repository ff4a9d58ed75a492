#!/usr/bin/env bash
# The MLLP listener with a peer written by others: mllp_send from Debian's
# python3-hl7 (scripts/install-deps.sh) sends a file of messages, framed
# and in its --loose text form; every message gets its ACK (read by
# mllp_send, one per message), and the journal holds each message once.
. "$(dirname "$0")/lib.sh"

MULT=${CB_TIMEOUT_MULT:-1}

if ! command -v mllp_send >/dev/null 2>&1; then
  fail "mllp_send is installed (Debian package python3-hl7, scripts/install-deps.sh)"
  finish; exit 1
fi

cat > "$T/serve.conf" <<EOF
listen = 127.0.0.1:0
db = $DB
mllp_listen = 127.0.0.1:0
EOF
"$CAREBASE" serve --config "$T/serve.conf" >"$T/serve.out" 2>"$T/serve.err" &
SPID=$!
wait_until $((30 * MULT)) \
  bash -c 'grep -q "^listening on" "$1" || ! kill -0 "$2" 2>/dev/null' _ "$T/serve.out" "$SPID" || true
MLLP_PORT=$(sed -n 's/^mllp listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T/serve.out")
if [ -z "$MLLP_PORT" ]; then
  fail "server started"; cat "$T/serve.err"; kill -KILL "$SPID" 2>/dev/null || true
  finish; exit 1
fi

# 200 messages, framed: 195 ADT, 3 ORU (refused), 2 resends of earlier ones.
PYTHONPATH="$E2E_DIR" python3 - "$T" <<'PY'
import sys
from mllp_client import adt, frame
T = sys.argv[1]
msgs = []
for i in range(195):
    msgs.append(adt("IO-%03d" % i, event=["A01", "A02", "A03", "A08"][i % 4]))
for i in range(3):
    msgs.append(adt("IO-ORU-%d" % i, event="R01", msg_type=b"ORU"))
msgs.append(adt("IO-007", event="A08"))
msgs.append(adt("IO-100", event="A01"))
open(T + "/framed.hl7", "wb").write(b"".join(frame(m) for m in msgs))
# --loose: plain text, one segment per line (CRLF), messages back to back
loose = b"".join(adt("LO-%03d" % i).replace(b"\r", b"\r\n") for i in range(50))
open(T + "/loose.hl7", "wb").write(loose)
PY

run mllp_send -p "$MLLP_PORT" -f "$T/framed.hl7" 127.0.0.1 > "$T/framed.out" 2>"$T/framed.err"
eq "mllp_send (framed file): exit status 0" "$RC" 0
run mllp_send --loose -p "$MLLP_PORT" -f "$T/loose.hl7" 127.0.0.1 > "$T/loose.out" 2>"$T/loose.err"
eq "mllp_send --loose: exit status 0" "$RC" 0

py "$T" "$DB" <<'PY'
import sys
from e2e_lib import ok, eq, cb_sql
from mllp_client import parse_ack, SB, EB, CR
T, dbp = sys.argv[1], sys.argv[2]

def acks(path):
    data = open(path, "rb").read()
    out = []
    for part in data.split(SB)[1:]:
        out.append(parse_ack(part.split(EB)[0]))
    return out

a = acks(T + "/framed.out")
eq("mllp_send read one ACK per message", len(a), 200)
want = [("AA", "IO-%03d" % i) for i in range(195)] + \
       [("AR", "IO-ORU-%d" % i) for i in range(3)] + [("AA", "IO-007"), ("AA", "IO-100")]
eq("each ACK answers its message, in order", [(x["code"], x["ref"]) for x in a], want)
ok("the refusals say why (ERR 200)", all("200^" in (x["err"] or "") for x in a[195:198]))
b = acks(T + "/loose.out")
eq("--loose: 50 AA", [(x["code"], x["ref"]) for x in b], [("AA", "LO-%03d" % i) for i in range(50)])

r = cb_sql(dbp, "SELECT status, count(*) AS n, count(DISTINCT control_id) AS d"
                " FROM hl7_message GROUP BY status ORDER BY status")
eq("journal: 245 accepted and 3 rejected, each once",
   [(x["status"], x["n"], x["d"]) for x in r], [("1", "245", "245"), ("2", "3", "3")])
ev = cb_sql(dbp, "SELECT event, count(*) AS n FROM hl7_message WHERE control_id LIKE 'IO-%'"
                 " GROUP BY event ORDER BY event")
eq("events stored", [(x["event"], x["n"]) for x in ev],
   [("ADT^A01", "49"), ("ADT^A02", "49"), ("ADT^A03", "49"), ("ADT^A08", "48"), ("ORU^R01", "3")])
# --loose sends CR-separated segments: the stored bytes are what was sent
raw = cb_sql(dbp, "SELECT hex(raw) AS h FROM hl7_message WHERE control_id = 'LO-000'")[0]["h"]
ok("stored as received (CR segments)", bytes.fromhex(raw).startswith(b"MSH|^~\\&|HIS|HOSP1|")
   and b"\rEVN|" in bytes.fromhex(raw))
PY

kill -TERM "$SPID"
rc=0; wait "$SPID" || rc=$?
eq "server: exit status 0 after SIGTERM" "$rc" 0
finish
