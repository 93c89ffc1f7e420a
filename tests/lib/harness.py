# SPDX-License-Identifier: GPL-3.0-or-later
"""What the Python tests share: TAP output, a `parlers serve` on a free
loopback port, one HTTP request at a time, raw bytes on a socket, and a
signed-in browser (a session cookie and its CSRF token).  Standard library
only."""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

PARLERS = os.environ.get("PARLERS", "parlers")
CORPUS = os.environ.get("PARLERS_CORPUS", "corpus")

_count = 0
_failed = 0


def ok(cond, what, detail=None):
    """One TAP line; a failure's detail follows as comments (20 lines at most)."""
    global _count, _failed
    _count += 1
    if not cond:
        _failed += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (_count, what), flush=True)
    if not cond and detail is not None:
        for line in str(detail).splitlines()[:20]:
            print("#   " + line, flush=True)
    return cond


def diag(msg):
    print("# " + msg, flush=True)


def done():
    """Prints the plan; the exit status for sys.exit (1 when a check failed)."""
    print("1..%d" % _count, flush=True)
    return 1 if _failed else 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """`parlers serve` on port (a free one by default), once it accepts
    connections (15 s at most); its standard error kept for log_text()."""

    def __init__(self, data, port=0, extra=(), env=None, log=None):
        self.data = data
        self.port = port or free_port()
        self.log = open(log, "w+b") if log else tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [PARLERS, "-d", data, "serve", "--listen", "127.0.0.1:%d" % self.port] + list(extra),
            stdout=subprocess.DEVNULL, stderr=self.log, env=env)
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError("the server did not start: " + self.log_text())

    def log_text(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def stop(self):
        """SIGTERM, then its exit status (SIGKILL after 20 s: None)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def request(port, method, path, headers=None, body=None, timeout=10):
    """(status, headers with lower-case names, body bytes); a str body is
    sent as UTF-8, and no Accept-Encoding is added."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            c.putheader(k, v)
        if body is not None:
            if isinstance(body, str):
                body = body.encode("utf-8")
            c.putheader("Content-Length", str(len(body)))
        c.endheaders(body)
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


def jbody(data):
    """The JSON document in a body, or None where it is not one."""
    try:
        return json.loads(data.decode("utf-8"))
    except ValueError:
        return None


def raw(port, data, timeout=10):
    """Sends raw bytes and reads until the server closes: (the status
    line's code or None, every byte received, seconds taken)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    t0 = time.time()
    try:
        s.sendall(data)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not b:
                break
            chunks.append(b)
        out = b"".join(chunks)
        m = re.match(rb"HTTP/1\.[01] (\d{3})", out)
        return (int(m.group(1)) if m else None), out, time.time() - t0
    finally:
        s.close()


class Client:
    """A browser on one server: the cookie of one session and its CSRF
    token.  Without a login it is an anonymous visitor; a refused login
    leaves it anonymous with login_status saying why."""

    def __init__(self, port, login=None, password=None, timeout=30):
        self.port = port
        self.timeout = timeout
        self.cookie = None
        self.csrf = None
        self.login_status = None
        self.login_headers = {}
        if login:
            self.login(login, password)

    def login(self, login, password, headers=None):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        st, hd, body = request(self.port, "POST", "/api/login", h,
                               json.dumps({"login": login, "password": password}),
                               self.timeout)
        self.login_status, self.login_headers = st, hd
        if st == 200:
            m = re.match(r"parlers_session=([^;]*)", hd.get("set-cookie", ""))
            self.cookie = m.group(1) if m else None
            self.csrf = (jbody(body) or {}).get("csrf_token")
        return st, hd, body

    def headers(self, extra=None, csrf=True):
        h = {}
        if self.cookie:
            h["Cookie"] = "parlers_session=" + self.cookie
        if csrf and self.csrf:
            h["X-CSRF-Token"] = self.csrf
        h.update(extra or {})
        return h

    def get(self, path, extra=None):
        return request(self.port, "GET", path, self.headers(extra, csrf=False),
                       timeout=self.timeout)

    def send(self, method, path, obj=None, extra=None, csrf=True, raw=None):
        """A write: a JSON body (or raw bytes), the CSRF token unless told
        not to."""
        body = raw if raw is not None else (json.dumps(obj) if obj is not None else None)
        h = self.headers({"Content-Type": "application/json"}, csrf)
        h.update(extra or {})
        return request(self.port, method, path, h, body, self.timeout)
