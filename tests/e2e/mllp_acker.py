#!/usr/bin/env python3
"""A small MLLP server for the tests of `carebase simulate` (standard library
only): it answers AA to every message and records what it got.

  mllp_acker.py --port-file F --record R [--port P] [--die-after N]
                [--hold K] [--stats S]

--port-file  receives the port it listens on (127.0.0.1) once it listens
--record     one line per message received: "<conn> <MSH-4> <MSH-10> <MSH-9>"
--die-after  exit abruptly (no ACK, sockets reset) on the N-th message
--hold       keep up to K messages of a connection unacknowledged (ACKs go
             out when K are waiting, or 0.2 s after the last one came)
--stats      on exit (SIGTERM), JSON: the most messages a connection had
             waiting for their ACK at once
--raw        every message received, framed again (SB msg EB CR), in the
             order received
"""
import argparse
import json
import os
import signal
import socket
import threading
import time

SB, EB, CR = b"\x0b", b"\x1c", b"\x0d"


def ack_for(msg):
    fs = msg[3:4] or b"|"
    msh = msg.split(b"\r", 1)[0].split(fs)
    ctl = msh[9] if len(msh) > 9 else b""
    ver = msh[11] if len(msh) > 11 else b"2.5"
    return (b"MSH|^~\\&|ACKER|TEST|||" + time.strftime("%Y%m%d%H%M%S").encode()
            + b"||ACK|A" + ctl + b"|P|" + ver + b"\rMSA|AA|" + ctl + b"\r")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--die-after", type=int, default=0)
    ap.add_argument("--hold", type=int, default=1)
    ap.add_argument("--stats")
    ap.add_argument("--raw")
    a = ap.parse_args()

    lock = threading.Lock()
    state = {"n": 0, "conns": 0, "max_waiting": 0}
    rec = open(a.record, "a", buffering=1)
    raw = open(a.raw, "ab") if a.raw else None

    def stop(*_):
        if a.stats:
            with open(a.stats, "w") as f:
                json.dump(state, f)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", a.port))
    srv.listen(64)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(tmp, a.port_file)

    def serve(conn, cid):
        buf = b""
        waiting = []
        conn.settimeout(0.2)
        while True:
            try:
                data = conn.recv(65536)
                if not data:
                    break
            except socket.timeout:
                data = None
            except OSError:
                break
            if data:
                buf += data
                while EB + CR in buf:
                    frame, buf = buf.split(EB + CR, 1)
                    msg = frame[frame.find(SB) + 1:]
                    fs = msg[3:4] or b"|"
                    msh = msg.split(b"\r", 1)[0].split(fs)
                    with lock:
                        state["n"] += 1
                        n = state["n"]
                        if a.die_after and n >= a.die_after:
                            os._exit(3)   # gone without a word
                        rec.write("%d %s %s %s\n" % (
                            cid, msh[3].decode("latin-1") if len(msh) > 3 else "",
                            msh[9].decode("latin-1") if len(msh) > 9 else "",
                            msh[8].decode("latin-1") if len(msh) > 8 else ""))
                        if raw:
                            raw.write(SB + msg + EB + CR)
                            raw.flush()
                    waiting.append(msg)
                    with lock:
                        state["max_waiting"] = max(state["max_waiting"], len(waiting))
            if waiting and (len(waiting) >= a.hold or data is None):
                out = b"".join(SB + ack_for(m) + EB + CR for m in waiting)
                waiting = []
                try:
                    conn.sendall(out)
                except OSError:
                    break
        conn.close()

    while True:
        conn, _ = srv.accept()
        with lock:
            state["conns"] += 1
            cid = state["conns"]
        threading.Thread(target=serve, args=(conn, cid), daemon=True).start()


if __name__ == "__main__":
    main()
