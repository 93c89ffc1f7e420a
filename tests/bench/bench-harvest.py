#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark (not a test): harvesting a local parlers over OAI-PMH.

Builds a source archive of RECORDINGS (10,000) public recordings, serves
it on loopback (OAI-PMH pages of its default size, or PARLERS_OAI_PAGE),
and times, in a second archive:

- `parlers harvest run` in full (every record, page after page through
  the resumption tokens, each page stored in its own transaction);
- the same run again, incremental (from= the last responseDate: nothing
  new);
- a search of the harvested records' metadata (/api/search's "harvested").

The goal is the full harvest of 10,000 records in under 30 s.  The
recordings are rows copied from one ingested recording of the sample
corpus, each with its own title, checksum and place, which is what
OAI-PMH reads; their media are not needed.

  PARLERS=build/cli/parlers PARLERS_CORPUS=corpus tests/bench/bench-harvest.py

Python standard library only; never fails because the machine is slow.
"""
import http.client
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

PARLERS = os.environ.get("PARLERS", "parlers")
CORPUS = os.environ.get("PARLERS_CORPUS", "corpus")
NREC = int(os.environ.get("RECORDINGS", "10000"))
STEM = "cotentin-1976-la-mezoun"


def run(*args):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("bench-harvest: %s: %s" % (" ".join(args[:5]), r.stderr.strip()))
    return r


def build(data, tmp):
    run(PARLERS, "-d", data, "init")
    src = os.path.join(tmp, "src")
    os.makedirs(src)
    for f in os.listdir(CORPUS):
        if f.startswith(STEM + "."):
            shutil.copy(os.path.join(CORPUS, f), src)
    run(PARLERS, "-d", data, "ingest", "--access", "public", src)
    db = sqlite3.connect(os.path.join(data, "archive.db"))
    cols = [r[1] for r in db.execute("PRAGMA table_info(recordings)") if r[1] != "id"]
    db.executemany("INSERT INTO places(name, commune, lat, lon) VALUES (?, ?, ?, ?)",
                   [("Lieu %d" % i, "Commune %d" % i, 49.0 + i * 0.001, -1.0) for i in range(300)])
    place0 = db.execute("SELECT min(id) FROM places WHERE name LIKE 'Lieu %'").fetchone()[0]
    sel = ", ".join("?" if c in ("sha256", "title", "place_id") else c for c in cols)
    rows = []
    for n in range(1, NREC):
        args = []
        for c in cols:
            if c == "sha256":
                args.append("%064x" % (0xba0000000 + n))
            elif c == "title":
                args.append("Enregistrement %d du fonds" % n)
            elif c == "place_id":
                args.append(place0 + n % 300)
        rows.append(args)
    db.executemany("INSERT INTO recordings(%s) SELECT %s FROM recordings WHERE id = 1"
                   % (", ".join(cols), sel), rows)
    db.execute("INSERT INTO recording_speakers(recording_id, speaker_id, role, ord)"
               " SELECT r.id, s.speaker_id, s.role, s.ord FROM recordings r"
               " JOIN recording_speakers s ON s.recording_id = 1 WHERE r.id > 1")
    db.execute("ANALYZE")
    db.commit()
    db.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc):
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    sys.exit("bench-harvest: the server did not start")


def harvest(data):
    t0 = time.perf_counter()
    r = run(PARLERS, "-d", data, "harvest", "run", "--json")
    return time.perf_counter() - t0, json.loads(r.stdout.splitlines()[0])


def main():
    tmp = tempfile.mkdtemp(prefix="parlers-bench-harvest-")
    source = portal = None
    try:
        src = os.path.join(tmp, "source")
        t0 = time.perf_counter()
        build(src, tmp)
        print("source archive: %d recordings built in %.1f s" % (NREC, time.perf_counter() - t0))
        port = free_port()
        source = subprocess.Popen([PARLERS, "-d", src, "serve", "--quiet", "--listen",
                                   "127.0.0.1:%d" % port], stderr=subprocess.DEVNULL)
        wait_port(port, source)
        dst = os.path.join(tmp, "portal")
        run(PARLERS, "-d", dst, "init")
        run(PARLERS, "-d", dst, "harvest", "add", "source", "http://127.0.0.1:%d/oai" % port,
            "--prefix", "olac")
        full, o = harvest(dst)
        print("full harvest: %d records, %d pages in %.2f s (%.0f records/s)%s"
              % (o["added"], o["pages"], full, o["added"] / full,
                 "" if o["errors"] == 0 else " ERRORS %s" % o["messages"]))
        again, o2 = harvest(dst)
        print("incremental harvest, nothing new: %d pages in %.3f s" % (o2["pages"], again))
        pport = free_port()
        portal = subprocess.Popen([PARLERS, "-d", dst, "serve", "--quiet", "--listen",
                                   "127.0.0.1:%d" % pport], stderr=subprocess.DEVNULL)
        wait_port(pport, portal)
        c = http.client.HTTPConnection("127.0.0.1", pport, timeout=30)
        times = []
        for i in range(120):
            t1 = time.perf_counter()
            c.request("GET", "/api/search?q=fonds+%d" % (i * 37 % NREC))
            body = c.getresponse().read()
            if i >= 20:
                times.append((time.perf_counter() - t1) * 1000)
        c.close()
        times.sort()
        hv = json.loads(body).get("harvested", {})
        print("search with harvested records (%d match the last): p50 %.2f ms, p99 %.2f ms"
              % (hv.get("total", 0), times[len(times) // 2], times[int(len(times) * 0.99)]))
        print("goal: full harvest of 10,000 records < 30 s: %s"
              % ("met" if full < 30 and NREC >= 10000 else "not met"))
    finally:
        for p in (portal, source):
            if p:
                p.terminate()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
