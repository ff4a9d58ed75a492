#!/usr/bin/env bash
# The MLLP listener on a disk that fills up: once the journal cannot be
# written, messages get AE with ERR 207 "not stored" (never AA), the server
# stays up, and once there is room again the same messages are stored and
# acknowledged. Needs a small tmpfs (mount, as root); skipped where
# mounting is not allowed.
. "$(dirname "$0")/lib.sh"

MULT=${CB_TIMEOUT_MULT:-1}
MNT="$T/small"
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=3m tmpfs "$MNT" 2>/dev/null; then
  echo "# skip: cannot mount a tmpfs here"
  finish
  exit 0
fi
SPID=
trap '[ -n "$SPID" ] && kill -KILL "$SPID" 2>/dev/null; umount "$MNT" 2>/dev/null; rm -rf "$T"' EXIT

DB="$MNT/carebase.db"
cat > "$T/serve.conf" <<EOF
listen = 127.0.0.1:0
db = $DB
threads = 1
mllp_listen = 127.0.0.1:0
mllp_max_message = 200000
EOF
"$CAREBASE" serve --config "$T/serve.conf" >"$T/serve.out" 2>"$T/serve.err" &
SPID=$!
wait_until $((30 * MULT)) \
  bash -c 'grep -q "^listening on" "$1" || ! kill -0 "$2" 2>/dev/null' _ "$T/serve.out" "$SPID" || true
MLLP_PORT=$(sed -n 's/^mllp listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T/serve.out")
URL=$(sed -n 's/^listening on //p' "$T/serve.out")
if [ -z "$MLLP_PORT" ]; then
  fail "server started"; cat "$T/serve.err"; finish; exit 1
fi

# Messages of 60 kB, one at a time, until some are refused for lack of room.
py "$MLLP_PORT" "$T/codes.txt" <<'PY'
import sys
from e2e_lib import ok, eq
from mllp_client import Conn, adt
port, out = int(sys.argv[1]), sys.argv[2]
c = Conn(port)
codes = []
for i in range(120):
    c.send_msg(adt("FULL-%03d" % i, pad=60000))
    a = c.read_acks(1, 30)[0]
    codes.append((a["ref"], a["code"], a["err"] or ""))
    if sum(1 for x in codes if x[1] != "AA") >= 5:
        break
c.close()
with open(out, "w") as f:
    for ref, code, err in codes:
        f.write("%s\t%s\n" % (ref, code))
aa = [x for x in codes if x[1] == "AA"]
bad = [x for x in codes if x[1] != "AA"]
ok("some messages are stored before the disk fills (%d)" % len(aa), len(aa) > 0)
ok("then they are refused", len(bad) >= 5, codes[-3:])
ok("with AE and ERR 207 'not stored'", all(x[1] == "AE" and "207^" in x[2]
                                            and "not stored" in x[2] for x in bad), bad[:2])
PY

check "the server is still up" kill -0 "$SPID"
check "and answers HTTP" bash -c 'curl -sf "$1/healthz" >/dev/null' _ "$URL"
check "the failed commits are counted" \
  bash -c 'curl -s "$1/metrics" | grep -Eq "^carebase_mllp_commit_failures_total [1-9]"' _ "$URL"

mount -o remount,size=300m "$MNT"
py "$MLLP_PORT" "$T/codes.txt" "$DB" <<'PY'
import sys
from e2e_lib import ok, eq, cb_sql
from mllp_client import Conn, adt
port, codes, dbp = int(sys.argv[1]), sys.argv[2], sys.argv[3]
sent = [l.rstrip("\n").split("\t") for l in open(codes)]
c = Conn(port)
again = []
for ref, code in sent:
    c.send_msg(adt(ref, pad=60000))
    a = c.read_acks(1, 30)[0]
    again.append(a["code"])
c.close()
eq("with room again, every message is acknowledged AA", again, ["AA"] * len(sent))
rows = cb_sql(dbp, "SELECT control_id, count(*) AS n FROM hl7_message GROUP BY control_id")
eq("each stored once", sorted((r["control_id"], r["n"]) for r in rows),
   sorted((ref, "1") for ref, code in sent))
PY

kill -TERM "$SPID"
rc=0; wait "$SPID" || rc=$?
SPID=
eq "server: exit status 0 after SIGTERM" "$rc" 0
integrity "the database is sound"
finish
