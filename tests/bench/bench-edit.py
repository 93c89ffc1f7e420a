#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Metadata edit benchmark (not a test): PATCH /api/recordings/{id} over
loopback against a real `parlers serve` on the sample corpus, one edit at
a time as staff make them, each from the version the previous answer
gave.  Prints p50, p99 and the worst latency (from the request sent to the
answer read) for edits of a title or description (no re-indexing) and of
a place or variety (the recording's search rows re-indexed in the same
transaction).  The goal is p99 < 10 ms.  Every edit commits with
synchronous=FULL: the disk's fsync is most of it, so the same number of
bare one-row SQLite commits with that durability, in the same folder, is
measured beside them as the peer.

    tests/bench/bench-edit.py [EDITS]        (default 500 of each kind)
    PARLERS=path/to/parlers  (default build/cli/parlers)
"""
import http.client
import json
import os
import re
import shutil
import sqlite3
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

PASSWORD = "bench-edit-pass-1"


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    tmp = tempfile.mkdtemp(prefix="bench-edit-")
    data = os.path.join(tmp, "data")
    srv = None
    try:
        subprocess.run([PARLERS, "-d", data, "init"], check=True, capture_output=True)
        out = subprocess.run([PARLERS, "-d", data, "ingest", "--json", "--access", "public",
                              CORPUS], capture_output=True, text=True).stdout
        ids = [json.loads(x)["id"] for x in out.splitlines()]
        subprocess.run([PARLERS, "-d", data, "user", "add", "ed", "--role", "annotator"],
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        srv = Server(data, extra=["--quiet"])
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        conn.request("POST", "/api/login", json.dumps({"login": "ed", "password": PASSWORD}),
                     {"Content-Type": "application/json"})
        resp = conn.getresponse()
        cookie = re.match(r"parlers_session=([^;]*)", resp.getheader("set-cookie")).group(1)
        csrf = json.loads(resp.read())["csrf_token"]
        heads = {"Cookie": "parlers_session=" + cookie, "X-CSRF-Token": csrf,
                 "Content-Type": "application/json"}
        version = {}
        for rid in ids:
            conn.request("GET", "/api/recordings/%d" % rid, headers=heads)
            version[rid] = json.loads(conn.getresponse().read())["version"]
        kinds = {
            "title or description": lambda i: ({"title": "Titre %d" % i} if i % 2 else
                                               {"description": "Révision %d" % i}),
            "place or variety (re-indexed)": lambda i: (
                {"place": {"name": "Lieu %d" % (i % 7), "commune": "Commune"}} if i % 2 else
                {"variety": "Variété %d" % (i % 5)}),
        }
        for name, make in kinds.items():
            lat = []
            for i in range(n):
                rid = ids[i % len(ids)]
                body = dict(make(i), version=version[rid])
                t0 = time.perf_counter()
                conn.request("PATCH", "/api/recordings/%d" % rid, json.dumps(body), heads)
                resp = conn.getresponse()
                data_ = resp.read()
                lat.append((time.perf_counter() - t0) * 1000)
                if resp.status != 200:
                    raise SystemExit("edit %d: %d %s" % (i, resp.status, data_[:200]))
                version[rid] = json.loads(data_)["version"]
            print("%-32s %d edits: p50 %.2f ms, p99 %.2f ms, worst %.2f ms"
                  % (name, n, pct(lat, 50), pct(lat, 99), max(lat)))
        # the peer: a bare SQLite commit of one row with the same durability
        # in the same folder, what any acknowledged write costs on this disk
        con = sqlite3.connect(os.path.join(tmp, "peer.db"), isolation_level=None)
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = FULL")
        con.execute("CREATE TABLE t(x)")
        lat = []
        for i in range(n):
            t0 = time.perf_counter()
            con.execute("BEGIN IMMEDIATE")
            con.execute("INSERT INTO t VALUES (?)", (i,))
            con.execute("COMMIT")
            lat.append((time.perf_counter() - t0) * 1000)
        con.close()
        print("%-32s %d commits: p50 %.2f ms, p99 %.2f ms, worst %.2f ms"
              % ("bare commit, synchronous=FULL", n, pct(lat, 50), pct(lat, 99), max(lat)))
    finally:
        if srv:
            srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
