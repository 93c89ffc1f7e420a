#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The review queue with many pending proposals (a benchmark, not a test).

Makes an archive with the sample corpus, N contributors (1,000) and
PROPOSALS pending proposals (100,000) spread over the corpus's segments,
written straight into SQLite in one transaction (as many proposals as
contributors would make over months), and a few hundred decided ones.
Then, against a real `parlers serve`, times REQUESTS requests (after a
warm-up) of each queue a reviewer opens, one connection at a time:

- the queue: GET /api/proposals?status=pending (first page of 50 and the total)
- a deep page: ...&after=90000 (and ...&offset=90000, reported apart: an
  OFFSET walks every row before it; the queue pages with after=)
- one recording: ...&recording=ID
- one contributor: ...&contributor=LOGIN
- one kind: ...&kind=note

and prints p50, p99 and the worst per query, for network staff (admin) and
for an annotator of the archive's institution.  Goal: p99 < 20 ms.

Usage: tests/bench/bench-review.py [PARLERS]   (default: build/cli/parlers)
Environment: PROPOSALS (default 100000), REQUESTS (default 300).
Python standard library only.
"""
import http.client
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PARLERS = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
    "PARLERS", os.path.join(ROOT, "build", "cli", "parlers"))
PROPOSALS = int(os.environ.get("PROPOSALS", "100000"))
REQUESTS = int(os.environ.get("REQUESTS", "300"))
PASSWORD = "bench-pass-123"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fill(data):
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    segs = con.execute("SELECT s.id, s.tier_id, t.recording_id, s.start_ms, s.end_ms, s.text,"
                       " s.version FROM segments s JOIN tiers t ON t.id = s.tier_id").fetchall()
    with con:
        users = []
        for i in range(1000):
            cur = con.execute("INSERT INTO users(login, role, pwhash, display_name)"
                              " VALUES (?, -1, 'x', ?)", ("benevole-%d" % i, "Bénévole %d" % i))
            users.append(cur.lastrowid)
        rnd = random.Random(15)
        now = int(time.time())
        rows = []
        for i in range(PROPOSALS + 500):
            sid, tier, rec, start, end, text, version = rnd.choice(segs)
            kind = "note" if i % 20 == 0 else "correction"
            status = "pending" if i < PROPOSALS else rnd.choice(["accepted", "declined"])
            rows.append((rnd.choice(users), rec, tier, sid, kind, start, end,
                         text + " (proposition %d)" % i, text, version, status, now - i))
        con.executemany("INSERT INTO proposals(user_id, recording_id, tier_id, segment_id, kind,"
                        " start_ms, end_ms, text, base_text, base_version, status, created_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute("ANALYZE")
    rec = con.execute("SELECT recording_id FROM proposals GROUP BY recording_id"
                      " ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    con.close()
    return rec


def login(port, who):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/api/login", json.dumps({"login": who, "password": PASSWORD}),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    body = r.read()
    cookie = r.getheader("Set-Cookie").split(";")[0]
    c.close()
    return cookie, json.loads(body)


def timed(port, cookie, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    out = []
    for i in range(REQUESTS + 20):
        t0 = time.perf_counter()
        c.request("GET", path, headers={"Cookie": cookie})
        r = c.getresponse()
        body = r.read()
        dt = time.perf_counter() - t0
        if r.status != 200:
            raise RuntimeError("%s: %d %s" % (path, r.status, body[:200]))
        if i >= 20:
            out.append(dt * 1000)
    c.close()
    out.sort()
    total = json.loads(body)["total"]
    return out[len(out) // 2], out[int(len(out) * 0.99) - 1], out[-1], total


def main():
    tmp = tempfile.mkdtemp(prefix="parlers-bench-review-")
    data = os.path.join(tmp, "data")
    srv = None
    try:
        subprocess.run([PARLERS, "-d", data, "init"], check=True, capture_output=True)
        subprocess.run([PARLERS, "-d", data, "ingest", "--access", "public",
                        os.path.join(ROOT, "corpus")], check=True, capture_output=True)
        for who, role, inst in [("admin", "admin", []),
                                ("ann", "annotator", ["--institution", "archive"])]:
            subprocess.run([PARLERS, "-d", data, "user", "add", who, "--role", role] + inst,
                           input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        t0 = time.time()
        rec = fill(data)
        print("%d pending proposals written in %.1f s" % (PROPOSALS, time.time() - t0))
        port = free_port()
        srv = subprocess.Popen([PARLERS, "-d", data, "serve", "--quiet", "--listen",
                                "127.0.0.1:%d" % port], stderr=subprocess.DEVNULL)
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        queries = [("queue", "/api/proposals?status=pending"),
                   ("deep, after=", "/api/proposals?status=pending&after=%d" % (PROPOSALS - 10000)),
                   ("deep, offset=", "/api/proposals?status=pending&offset=%d" % (PROPOSALS - 10000)),
                   ("one recording", "/api/proposals?status=pending&recording=%d" % rec),
                   ("one contributor", "/api/proposals?status=pending&contributor=benevole-7"),
                   ("notes", "/api/proposals?status=pending&kind=note")]
        worst = 0
        for who in ["admin", "ann"]:
            cookie, _ = login(port, who)
            for name, path in queries:
                p50, p99, top, total = timed(port, cookie, path)
                if "offset=" not in name:  # OFFSET walks the rows before: after= is the way
                    worst = max(worst, p99)
                print("%-6s %-16s total %6d  p50 %6.2f ms  p99 %6.2f ms  worst %6.2f ms"
                      % (who, name, total, p50, p99, top))
        print("goal p99 < 20 ms: %s (highest p99 %.2f ms)" % ("met" if worst < 20 else "MISSED",
                                                              worst))
    finally:
        if srv:
            srv.terminate()
            srv.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
