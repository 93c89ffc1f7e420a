#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Progress for the public on a large archive (a benchmark, not a test).

Makes an archive with the sample corpus (public), then adds SEGMENTS
segments (default 1,000,000) spread over its transcription and
translation tiers, a third of them empty (as automatic segmentation leaves
them), written straight into SQLite in one transaction with the search
index's triggers set aside (the search index is not what is measured).
Then, against a real `parlers serve`, times REQUESTS requests of each,
one connection at a time, as an anonymous visitor:

- GET /api/progress?collection=ID      a collection's figures (never cached:
                                       every segment of it read each time)
- GET /api/help-transcribe?collection=ID   its help list (likewise)
- GET /api/progress                    the whole archive (cached until the
                                       archive changes: the first answer
                                       reported apart)
- GET /api/help-transcribe             the help list (likewise)
- GET /api/recordings/ID               one recording with its progress

and prints p50, p99 and the worst per request.

Usage: tests/bench/bench-progress.py [PARLERS]   (default: build/cli/parlers)
Environment: SEGMENTS (default 1000000), REQUESTS (default 20).
Python standard library only.
"""
import http.client
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
SEGMENTS = int(os.environ.get("SEGMENTS", "1000000"))
REQUESTS = int(os.environ.get("REQUESTS", "20"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fill(data):
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    tiers = [r[0] for r in con.execute(
        "SELECT t.id FROM tiers t WHERE t.type IN ('transcription', 'translation')")]
    triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                           " AND tbl_name = 'segments'").fetchall()
    rnd = random.Random(15)
    with con:
        for name, _ in triggers:
            con.execute("DROP TRIGGER " + name)
        con.executemany(
            "INSERT INTO segments(tier_id, start_ms, end_ms, text, ord) VALUES (?, ?, ?, ?, ?)",
            ((rnd.choice(tiers), a, a + rnd.randint(500, 5000), "" if i % 3 == 0 else "mot",
              100000 + i)
             for i, a in ((i, rnd.randint(0, 3600000)) for i in range(SEGMENTS))))
        con.execute("UPDATE recordings SET duration_ms = 3600000")
        for _, sql in triggers:
            con.execute(sql)
    cid = con.execute("SELECT collection_id FROM recordings WHERE collection_id IS NOT NULL"
                      " GROUP BY collection_id ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    rid = con.execute("SELECT id FROM recordings ORDER BY id LIMIT 1").fetchone()[0]
    con.close()
    return cid, rid


def timed(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t = time.perf_counter()
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    c.close()
    if r.status != 200:
        raise RuntimeError("%s: %d" % (path, r.status))
    return (time.perf_counter() - t) * 1000


def report(name, ms):
    ms = sorted(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print("%-44s p50 %9.1f ms   p99 %9.1f ms   worst %9.1f ms" %
          (name, ms[len(ms) // 2], p99, ms[-1]))


def main():
    tmp = tempfile.mkdtemp(prefix="parlers-bench-progress-")
    data = os.path.join(tmp, "data")
    srv = None
    try:
        subprocess.run([PARLERS, "-d", data, "init"], check=True, capture_output=True)
        subprocess.run([PARLERS, "-d", data, "ingest", "--access", "public",
                        os.path.join(ROOT, "corpus")], check=True, capture_output=True)
        t = time.time()
        cid, rid = fill(data)
        print("%d segments added in %.0f s" % (SEGMENTS, time.time() - t))
        port = free_port()
        srv = subprocess.Popen([PARLERS, "-d", data, "serve", "--quiet", "--listen",
                                "127.0.0.1:%d" % port], stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(3)  # the archive's files settle: cached answers last
        for name, path in [("a collection's progress", "/api/progress?collection=%d" % cid),
                           ("a collection's help list", "/api/help-transcribe?collection=%d" % cid),
                           ("one recording (JSON with progress)", "/api/recordings/%d" % rid)]:
            report(name, [timed(port, path) for _ in range(REQUESTS)])
        for name, path in [("the whole archive's progress", "/api/progress"),
                           ("the help list", "/api/help-transcribe")]:
            first = timed(port, path)
            print("%-44s first %9.1f ms (built), then:" % (name, first))
            report("  " + name + " (cached)", [timed(port, path) for _ in range(REQUESTS)])
    finally:
        if srv:
            srv.terminate()
            srv.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
