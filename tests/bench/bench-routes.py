#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Route benchmark (not a test): a route of 500 stops (the sample corpus's
public recordings in turn, a short note each) saved with PUT /api/routes/
{slug} and read back with GET /api/routes/{slug}, GET /routes/{slug} and
GET /api/route-history/{slug}, over loopback against a real `parlers
serve`, one request at a time.  Prints p50, p99 and the worst latency of
each.  A save checks every stop against the archive and the access gate,
writes the route and its history row in one transaction with
synchronous=FULL, and answers with the route as the player gets it.

    tests/bench/bench-routes.py [ROUNDS]      (default 50 of each)
    PARLERS=path/to/parlers  (default build/cli/parlers)
"""
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
os.environ.setdefault("PARLERS", os.path.join(ROOT, "build", "cli", "parlers"))
os.environ.setdefault("PARLERS_CORPUS", os.path.join(ROOT, "corpus"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from harness import CORPUS, PARLERS, Server  # noqa: E402

PASSWORD = "bench-routes-pass-1"
STOPS = 500


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def timed(conn, method, path, headers, body, want):
    t0 = time.perf_counter()
    conn.request(method, path, body, headers)
    resp = conn.getresponse()
    data = resp.read()
    dt = (time.perf_counter() - t0) * 1000
    if resp.status != want:
        sys.exit("%s %s: %d %s" % (method, path, resp.status, data[:200]))
    return dt, data


def report(name, xs):
    print("%-28s p50 %7.1f ms  p99 %7.1f ms  worst %7.1f ms" %
          (name, pct(xs, 50), pct(xs, 99), max(xs)))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    tmp = tempfile.mkdtemp(prefix="bench-routes-")
    data = os.path.join(tmp, "data")
    srv = None
    try:
        subprocess.run([PARLERS, "-d", data, "init"], check=True, capture_output=True)
        out = subprocess.run([PARLERS, "-d", data, "ingest", "--json", "--access", "public",
                              CORPUS], capture_output=True, text=True).stdout
        ids = [json.loads(x)["id"] for x in out.splitlines()]
        subprocess.run([PARLERS, "-d", data, "user", "add", "chef", "--role", "admin"],
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        srv = Server(data, extra=["--quiet"])
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
        conn.request("POST", "/api/login", json.dumps({"login": "chef", "password": PASSWORD}),
                     {"Content-Type": "application/json"})
        resp = conn.getresponse()
        cookie = re.match(r"parlers_session=([^;]*)", resp.getheader("set-cookie")).group(1)
        token = json.loads(resp.read())["csrf_token"]
        h = {"Cookie": "parlers_session=" + cookie, "X-CSRF-Token": token,
             "Content-Type": "application/json"}
        route = {"slug": "longue", "title": "Une longue route",
                 "stops": [{"recording_id": ids[i % len(ids)], "start_ms": (i * 37) % 20000,
                            "end_ms": (i * 37) % 20000 + 3000,
                            "note": "Une note de quelques mots, %d." % i}
                           for i in range(STOPS)]}
        timed(conn, "POST", "/api/routes", h, json.dumps(route), 201)
        saves, reads, pages, history = [], [], [], []
        for k in range(n):
            body = dict(route, title="Une longue route (%d)" % k)
            del body["slug"]
            saves.append(timed(conn, "PUT", "/api/routes/longue", h, json.dumps(body), 200)[0])
            reads.append(timed(conn, "GET", "/api/routes/longue", {}, None, 200)[0])
            pages.append(timed(conn, "GET", "/routes/longue", {}, None, 200)[0])
            history.append(timed(conn, "GET", "/api/route-history/longue", h, None, 200)[0])
        print("a route of %d stops over %d recordings, %d rounds" % (STOPS, len(ids), n))
        report("PUT /api/routes/{slug}", saves)
        report("GET /api/routes/{slug}", reads)
        report("GET /routes/{slug}", pages)
        report("GET /api/route-history/{slug}", history)
    finally:
        if srv:
            srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
