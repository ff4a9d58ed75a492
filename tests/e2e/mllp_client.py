"""An MLLP client for the end-to-end tests (standard library only).

Messages are synthetic ADT messages of realistic size (about 500 bytes):
made-up names and identifiers.

As a program, it streams messages for the kill -9 test:
    python3 mllp_client.py stream PORT NCONN COUNT WINDOW PREFIX OUTFILE
opens NCONN connections; each sends COUNT messages (control ids
PREFIX-<conn>-<i>), keeping at most WINDOW unanswered, and appends one line
"control_id<TAB>code" to OUTFILE (flushed) for every ACK it reads. It stops
when everything is answered or the server goes away.
"""
import os
import socket
import sys
import threading
import time

SB, EB, CR = b"\x0b", b"\x1c", b"\r"


def frame(msg):
    return SB + msg + EB + CR


def adt(ctrl, event="A01", sender=(b"HIS", b"HOSP1"), msg_type=b"ADT", version=b"2.5",
        accept_ack=b"", app_ack=b"", pad=0):
    """A synthetic ADT message (bytes); ctrl is its MSH-10."""
    if isinstance(ctrl, str):
        ctrl = ctrl.encode()
    if isinstance(event, str):
        event = event.encode()
    msh = (b"MSH|^~\\&|" + sender[0] + b"|" + sender[1] + b"|CAREBASE|CB|20260301083000||"
           + msg_type + b"^" + event + b"^" + msg_type + b"_A01|" + ctrl + b"|P|" + version)
    if accept_ack or app_ack:
        msh += b"|||" + accept_ack + b"|" + app_ack
    segs = [
        msh,
        b"EVN|" + event + b"|20260301082900|||OP001^SYNTH^OPERATOR",
        b"PID|1||P" + ctrl[-6:] + b"^^^HOSP1^MR~110101190001011234^^^CHN^NI||SYNTH^PATIENT^Q||"
        b"19800101|M|||1 TEST ROAD^^TESTCITY^^100000^CHN||^PRN^PH^^^^5550100",
        b"PV1|1|I|W03^301^2^HOSP1^^^^^WARD 3||||D01^DOCTOR^ONE^^^DR|||MED||||7|||"
        b"D01^DOCTOR^ONE^^^DR|IP|V" + ctrl[-8:] + b"|||||||||||||||||||||||||20260301083000",
        b"PV2|||I10^HYPERTENSION^ICD10",
        b"DG1|1||I10^ESSENTIAL HYPERTENSION^ICD10||20260301|A",
    ]
    if pad:
        segs.append(b"NTE|1||" + b"x" * pad)
    return CR.join(segs) + CR


class Conn:
    """A client connection that reads whole MLLP frames."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def send_msg(self, msg):
        self.sock.sendall(frame(msg))

    def read_frame(self, timeout=10.0):
        """The next frame's payload; None when the connection is closed."""
        deadline = time.monotonic() + timeout
        while True:
            start = self.buf.find(SB)
            end = self.buf.find(EB + CR, start + 1) if start >= 0 else -1
            if start >= 0 and end >= 0:
                payload = self.buf[start + 1:end]
                self.buf = self.buf[end + 2:]
                return payload
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no complete frame within %.1f s" % timeout)
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data

    def read_acks(self, n, timeout=10.0):
        return [parse_ack(self.read_frame(timeout)) for _ in range(n)]

    def closed_by_peer(self, timeout=10.0):
        """Whether the server closes the connection within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
        except socket.timeout:
            return False
        except ConnectionError:
            return True

    def close(self):
        self.sock.close()


def segments(payload):
    return [s for s in payload.split(CR) if s]


def parse_ack(payload):
    """MSH-10, MSA-1, MSA-2 and the ERR segment (or None) of an ACK."""
    if payload is None:
        return None
    segs = segments(payload)
    msh = segs[0].split(b"|")
    out = {"raw": payload, "msh10": msh[9].decode() if len(msh) > 9 else "",
           "msh7": msh[6].decode() if len(msh) > 6 else "",
           "msh9": msh[8].decode() if len(msh) > 8 else "",
           "code": "", "ref": "", "err": None}
    for s in segs[1:]:
        f = s.split(b"|")
        if f[0] == b"MSA":
            out["code"] = f[1].decode()
            out["ref"] = f[2].decode() if len(f) > 2 else ""
        elif f[0] == b"ERR":
            out["err"] = s.decode("utf-8", "replace")
    return out


# ---- the kill -9 stream ----

def _stream_one(port, c, count, window, prefix, out, lock):
    try:
        conn = Conn(port, timeout=30)
    except OSError:
        return
    sent = 0
    answered = 0
    try:
        while answered < count:
            while sent < count and sent - answered < window:
                conn.send_msg(adt("%s-%d-%d" % (prefix, c, sent)))
                sent += 1
            p = conn.read_frame(timeout=30)
            if p is None:
                return
            a = parse_ack(p)
            with lock:
                out.write("%s\t%s\n" % (a["ref"], a["code"]))
                out.flush()
            answered += 1
    except (OSError, TimeoutError):
        return
    finally:
        conn.close()


def stream(port, nconn, count, window, prefix, outfile):
    lock = threading.Lock()
    with open(outfile, "a", encoding="ascii") as out:
        threads = [threading.Thread(target=_stream_one,
                                    args=(port, c, count, window, prefix, out, lock))
                   for c in range(nconn)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


if __name__ == "__main__":
    if len(sys.argv) == 8 and sys.argv[1] == "stream":
        stream(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
               sys.argv[6], sys.argv[7])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
