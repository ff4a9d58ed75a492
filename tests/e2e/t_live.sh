#!/usr/bin/env bash
# The command centre end to end (issue 6, sections 3 and 5): `carebase
# serve` with its MLLP listener and the wards of a simulated consortium; a
# stream from `carebase simulate` sent over MLLP by a standard-library
# client. Checks:
#   - the event stream (GET /api/live/stream) pushes a new summary after an
#     ACK, with the new figures (the time from the last ACK to the event is
#     printed, for the record);
#   - scoping: a hospital admin sees only its hospital, in the summary, the
#     alerts and the stream, and gets 403 for another's bed board;
#   - patient ids on the bed board only for a user allowed identifiers, and
#     then an audit row;
#   - kill -9, restart: the live state rebuilt from the journal equals the
#     one before (tiles, bed boards, alerts), every stored message applied
#     once, none unapplied.
. "$(dirname "$0")/lib.sh"

MULT=${CB_TIMEOUT_MULT:-1}
cleanup() {
  local rc=$?
  [ -z "$(jobs -p)" ] || kill -9 $(jobs -p) 2>/dev/null || true
  [ "${KEEP_TMP:-0}" = 1 ] || rm -rf "$T"
  exit "$rc"
}
trap cleanup EXIT

ORGS="$T/orgs.tsv"
printf 'zzjgdm\tname\tlevel\tconsortium\n' >"$ORGS"
printf 'HUB000001\t平林市第一人民医院\t三级\tPLYLT\n' >>"$ORGS"
printf 'DIS000002\t平林市宜桥区人民医院\t二级\tPLYLT\n' >>"$ORGS"
printf 'CHC000003\t宜桥区柳水街道社区卫生服务中心\t基层\tPLYLT\n' >>"$ORGS"
cb org load "$ORGS"
cb simulate --orgs "$ORGS" --start '2026-03-02 08:00' --seed 33 --days 1 --malformed 0 \
  --out "$T/stream.hl7" --expect "$T/expect.json" --wards-out "$T/wards.tsv"
printf 'admin-pass-1\n' | cb user add admin --role consortium_admin --scope PLYLT --password-stdin
printf 'ids-pass-123\n' | cb user add ids --role consortium_admin --scope PLYLT \
  --show-identifiers --password-stdin
printf 'dis-pass-123\n' | cb user add dis --role hospital_admin --scope DIS000002 --password-stdin

cat >"$T/serve.conf" <<EOF
listen = 127.0.0.1:0
db = $DB
mllp_listen = 127.0.0.1:0
wards = $T/wards.tsv
EOF
SPID=""
start_server() {
  rm -f "$T/serve.out" "$T/serve.err" # no stale lines from an earlier server
  "$CAREBASE" serve --config "$T/serve.conf" >"$T/serve.out" 2>"$T/serve.err" &
  SPID=$!
  wait_until $((30 * MULT)) \
    bash -c 'grep -qs "^listening on" "$1" || ! kill -0 "$2" 2>/dev/null' _ "$T/serve.out" "$SPID" || true
  MLLP_PORT=$(sed -n 's/^mllp listening on .*:\([0-9]*\)$/\1/p' "$T/serve.out")
  HTTP_PORT=$(sed -n 's/^listening on https*:\/\/.*:\([0-9]*\)$/\1/p' "$T/serve.out")
  if [ -z "$MLLP_PORT" ] || [ -z "$HTTP_PORT" ]; then
    fail "server started"; sed 's/^/    /' "$T/serve.err" | head -5
    finish; exit 1
  fi
}

start_server
py "$HTTP_PORT" "$MLLP_PORT" "$T" "$MULT" "$DB" <<'PY'
import json, socket, sys, time
from api_client import Client
from e2e_lib import ok, eq, cb_sql
http_port, mllp_port, T, MULT, DB = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
url = "http://127.0.0.1:%s" % http_port
frames = [f + b"\x1c\r" for f in open(T + "/stream.hl7", "rb").read().split(b"\x1c\r")[:-1]]
truth = json.load(open(T + "/expect.json"))

def send(fs):
    """Sends frames over one MLLP connection, each after the ACK of the last."""
    s = socket.create_connection(("127.0.0.1", mllp_port), timeout=30 * MULT)
    codes = []
    for f in fs:
        s.sendall(f)
        data = b""
        while b"\x1c\r" not in data:
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("the listener closed the connection")
            data += chunk
        codes.append(data.split(b"MSA|")[1][:2].decode())
    s.close()
    return codes

class Stream:
    """GET /api/live/stream on a raw socket: yields (event, data) pairs."""
    def __init__(self, client, path="/api/live/stream"):
        self.s = socket.create_connection(("127.0.0.1", int(http_port)), timeout=30 * MULT)
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
                        "Cookie: cb_session=%s\r\n\r\n" % (path, client.cookie)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.s.recv(65536)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.head = head.decode()
        self.chunked = b"transfer-encoding: chunked" in head.lower()
        self.text = ""
    def _more(self):
        data = self.s.recv(65536)
        if not data:
            raise RuntimeError("the stream ended")
        self.buf += data
        if self.chunked:   # undo the chunking: size CRLF data CRLF
            while True:
                i = self.buf.find(b"\r\n")
                if i < 0:
                    return
                n = int(self.buf[:i].split(b";")[0], 16)
                if len(self.buf) < i + 2 + n + 2:
                    return
                self.text += self.buf[i + 2:i + 2 + n].decode()
                self.buf = self.buf[i + 2 + n + 2:]
        else:
            self.text += self.buf.decode()
            self.buf = b""
    def next_event(self):
        while "\n\n" not in self.text:
            self._more()
        block, self.text = self.text.split("\n\n", 1)
        ev, data = None, None
        for line in block.split("\n"):
            if line.startswith("event: "):
                ev = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
        return ev, data
    def next_summary(self):
        while True:
            ev, data = self.next_event()
            if ev == "summary":
                return json.loads(data)

admin, ids, dis = Client(url), Client(url), Client(url)
for c, u, p in ((admin, "admin", "admin-pass-1"), (ids, "ids", "ids-pass-123"), (dis, "dis", "dis-pass-123")):
    eq("login " + u, c.login(u, p).status, 200)

# ---- the push: an ACK, then a new summary on the stream ----
st = Stream(admin)
ok("the stream: 200 text/event-stream", st.head.startswith("HTTP/1.1 200") and
   "text/event-stream" in st.head.lower(), st.head.split("\r\n")[0])
first = st.next_summary()
ok("the stream: a summary at once (the picture before any message: empty wards)",
   all(h["census"] == 0 for h in first["hospitals"]), first)
half = len(frames) // 2
codes = send(frames[:half])
t_ack = time.monotonic()
eq("the first half: every message AA", sorted(set(codes)), ["AA"])
now = admin.get("/api/live/summary").body   # the state after the last ACK
while True:
    ev = st.next_summary()
    if ev["version"] >= now["version"]:
        break
print("last ACK to its summary on the stream: %.0f ms" % ((time.monotonic() - t_ack) * 1000))
ok("the pushed summary is the state after the ACK (census per hospital as GET gives it)",
   {h["hospital"]: h["census"] for h in ev["hospitals"]} ==
   {h["hospital"]: h["census"] for h in now["hospitals"]}, (ev["version"], now["version"]))
eq("the stream names the three hospitals", sorted(h["hospital"] for h in ev["hospitals"]),
   ["CHC000003", "DIS000002", "HUB000001"])

# A hospital admin's stream: its hospital only.
ds = Stream(dis)
d = ds.next_summary()
eq("a hospital admin's stream: its hospital only", [h["hospital"] for h in d["hospitals"]], ["DIS000002"])

codes = send(frames[half:])
eq("the second half: every message AA", sorted(set(codes)), ["AA"])
live = {h["hospital"]: h for h in admin.get("/api/live/summary").body["hospitals"]}
for h in truth["hospitals"]:
    for k in ("census", "occupied", "boarders", "ed_waiting", "blocked"):
        eq("%s %s equals the stream's truth" % (h["zzjgdm"], k), live[h["zzjgdm"]][k], h[k])

# A quiet stream still refreshes (freshness is a matter of time): once it has
# caught up, the next summary comes without any message, the same version.
final = dis.get("/api/live/summary").body["version"]
while True:
    d = ds.next_summary()
    if d["version"] >= final:
        break
again = ds.next_summary()
ok("a quiet stream: a refresh with no new message (same version, its hospital)",
   again["version"] == d["version"] and [h["hospital"] for h in again["hospitals"]] == ["DIS000002"],
   (again["version"], d["version"]))

# ---- scoping ----
r = dis.get("/api/live/summary")
eq("a hospital admin's summary: its hospital only", [h["hospital"] for h in r.body["hospitals"]], ["DIS000002"])
eq("a hospital admin: another hospital's summary is 403", dis.get("/api/live/summary?hospital=HUB000001").status, 403)
eq("a hospital admin: another hospital's bed board is 403", dis.get("/api/live/wards?hospital=HUB000001").status, 403)
eq("a hospital admin: its own bed board", dis.get("/api/live/wards?hospital=DIS000002").status, 200)
eq("a hospital admin: another hospital's stream is 403",
   Stream(dis, "/api/live/stream?hospital=HUB000001").head.split("\r\n")[0].split(" ")[1], "403")
ok("a hospital admin's alerts: its hospital only",
   all(a["hospital"] == "DIS000002" for a in dis.get("/api/live/alerts").body["alerts"]))
eq("the bed board needs a hospital", admin.get("/api/live/wards").status, 400)
eq("a hospital outside the scope: 403", admin.get("/api/live/wards?hospital=NOPE").status, 403)
eq("active=2 is a bad request", admin.get("/api/live/alerts?active=2").status, 400)

# ---- identifiers on the bed board ----
before = int(cb_sql(DB, "SELECT count(*) AS n FROM audit WHERE action = 'read_bed_board'")[0]["n"])
r = admin.get("/api/live/wards?hospital=HUB000001")
beds = [b for w in r.body["wards"] for b in w["beds"] if b["state"] == "occupied"]
ok("the bed board: occupied beds carry their visit", beds and all(b.get("visit") for b in beds), len(beds))
ok("the bed board without the permission: no patient ids", "patient" not in json.dumps(r.body))
eq("... and no audit row", int(cb_sql(DB, "SELECT count(*) AS n FROM audit WHERE action = 'read_bed_board'")[0]["n"]), before)
r = ids.get("/api/live/wards?hospital=HUB000001")
ok("the bed board with the permission: patient ids",
   all(b.get("patient") for w in r.body["wards"] for b in w["beds"] if b["state"] == "occupied"))
rows = cb_sql(DB, "SELECT what FROM audit WHERE action = 'read_bed_board'")
eq("... and one audit row naming the hospital", [x["what"] for x in rows][before:],
   ["bed board hospital=HUB000001 with patient ids"])

# ---- what a restart must give back ----
from live_snapshot import snapshot
saved = snapshot(admin)
json.dump(saved, open(T + "/before.json", "w"), ensure_ascii=False, sort_keys=True)
ok("alerts were raised by the stream (ward occupancy)",
   any(a["kind"] == "ward_occupancy" for a in saved["alerts"]), len(saved["alerts"]))
PY

N=$(sql "SELECT count(*) FROM hl7_message WHERE status = 1")
kill -9 "$SPID"; wait "$SPID" 2>/dev/null || true
start_server
py "$HTTP_PORT" "$T" "$N" <<'PY'
import json, re, sys
from api_client import Client
from e2e_lib import ok, eq
http_port, T, N = sys.argv[1], sys.argv[2], int(sys.argv[3])
url = "http://127.0.0.1:%s" % http_port
admin = Client(url)
admin.login("admin", "admin-pass-1")
from live_snapshot import snapshot
after = snapshot(admin)
before = json.load(open(T + "/before.json"))
for k in ("summary", "boards", "alerts"):
    ok("after kill -9 and a restart: the same %s, rebuilt from the journal" % k, before[k] == after[k],
       "differs")
m = Client(url).get("/metrics").body
def metric(name):
    mm = re.search(r"^" + name + r" (\S+)$", m, re.M)
    return float(mm.group(1)) if mm else None
eq("every stored message replayed once", metric("carebase_mllp_replayed_total"), float(N))
eq("none could not be applied", metric("carebase_mllp_unapplied_total"), 0.0)
PY
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null || true
finish
