"""A small client for `carebase serve` in the end-to-end tests (standard
library only: http.client, json, ssl, socket).

    c = Client("http://127.0.0.1:8080")
    st, hdr, body = c.post("/api/login", {"user": "a", "password": "..."})
    st, hdr, body = c.get("/api/me")        # the session cookie is kept

body is the parsed JSON when the response is JSON, else the text.
"""
import http.client
import json
import socket
import ssl
import urllib.parse


class Response:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers          # {lower-case name: value}
        self.raw = raw
        ctype = headers.get("content-type", "")
        self.body = raw.decode("utf-8", "replace")
        if ctype.startswith("application/json") and raw:
            self.body = json.loads(raw)

    def __iter__(self):                 # st, hdr, body = c.get(...)
        return iter((self.status, self.headers, self.body))


class Client:
    def __init__(self, base, cafile=None, source=None, timeout=30):
        u = urllib.parse.urlsplit(base)
        self.https = u.scheme == "https"
        self.host, self.port = u.hostname, u.port
        self.cafile, self.source, self.timeout = cafile, source, timeout
        self.cookie = None              # the cb_session value
        self.set_cookie = None          # the last Set-Cookie header seen
        self.csrf = None

    def connection(self):
        src = (self.source, 0) if self.source else None
        if self.https:
            ctx = ssl.create_default_context(cafile=self.cafile)
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=ctx, source_address=src)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout,
                                          source_address=src)

    def request(self, method, path, body=None, headers=None, raw=None, csrf=False):
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if self.cookie:
            h["Cookie"] = "cb_session=" + self.cookie
        if csrf and self.csrf:
            h["X-CSRF-Token"] = self.csrf
        conn = self.connection()
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            raw_body = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
        finally:
            conn.close()
        sc = hdrs.get("set-cookie")
        if sc:
            self.set_cookie = sc
            name, _, rest = sc.partition("=")
            if name.strip() == "cb_session":
                value = rest.split(";", 1)[0]
                self.cookie = value or None
        return Response(r.status, hdrs, raw_body)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def login(self, user, password):
        r = self.post("/api/login", {"user": user, "password": password})
        if r.status == 200:
            self.csrf = r.body["csrf"]
        return r


def raw_exchange(host, port, data, timeout=10, read=True):
    """Sends bytes on a fresh socket; returns the status line and the text."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(data)
        if not read:
            return s
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not b:
                break
            chunks.append(b)
            if b"\r\n\r\n" in b"".join(chunks):
                head, _, rest = b"".join(chunks).partition(b"\r\n\r\n")
                n = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        n = int(line.split(b":")[1])
                if len(rest) >= n:
                    break
        text = b"".join(chunks).decode("utf-8", "replace")
        return text.split("\r\n", 1)[0], text
    finally:
        if read:
            s.close()
