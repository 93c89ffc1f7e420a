#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark (not a test): the map of voices of a large archive.

Builds an archive of PLACES (5,000) places across Normandy and RECORDINGS
(50,000) recordings (rows copied from one ingested recording of the
sample corpus: each its own checksum, place, duration and access level,
a tenth restricted and a tenth private, a tenth tagged with a theme),
then serves it and asks GET /api/map as a visitor whose browser accepts
gzip, one request at a time after a warm-up, ROUNDS (200) times each:

- the whole map (kept in the server's cache until the archive changes);
- the whole map made afresh each time (?variety= naming the variety every
  recording has, which the server does not keep);
- a theme's map (?theme=la-mer, made afresh);
- the decades the filter offers (GET /api/map/decades: kept, and made
  afresh with ?variety=), the recordings dated across 120 years.

Prints p50, p99 and the worst time of each, and the document's size raw
and gzip-compressed; the goal is < 50 ms and < 500 KB gzip for one request.
Beside it, a naive baseline: the same document made by one query per
place (count and seconds of that place's public recordings) through
Python's sqlite3 on the same file, then gzip-compressed, and the ratio.

  PARLERS=build/cli/parlers PARLERS_CORPUS=corpus tests/bench/bench-map.py

BENCH_DIR=dir keeps the archive there and measures it again without
rebuilding it.

Python standard library only; never fails because the machine is slow.
"""
import gzip
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
NPLACES = int(os.environ.get("PLACES", "5000"))
NREC = int(os.environ.get("RECORDINGS", "50000"))
ROUNDS = int(os.environ.get("ROUNDS", "200"))
STEM = "cotentin-1976-la-mezoun"


def run(*args):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("bench-map: %s: %s" % (" ".join(args[:4]), r.stderr.strip()))
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
    side = int(NPLACES ** 0.5) + 1
    db.executemany("INSERT INTO places(name, commune, lat, lon) VALUES (?, ?, ?, ?)",
                   [("Lieu %d" % i, "Commune %d" % i, 48.3 + (i // side) * 1.7 / side,
                     -2.2 + (i % side) * 4.0 / side) for i in range(NPLACES)])
    place0 = db.execute("SELECT min(id) FROM places WHERE name LIKE 'Lieu %'").fetchone()[0]
    varied = {"sha256", "title", "access", "place_id", "duration_ms", "date"}
    sel = ", ".join("?" if c in varied else c for c in cols)
    rows = []
    for n in range(NREC):
        args = []
        for c in cols:
            if c == "sha256":
                args.append("%064x" % (0x3a0000000 + n))
            elif c == "title":
                args.append("Enregistrement %d" % n)
            elif c == "access":
                k = n // NPLACES  # every place gets all three levels
                args.append(2 if k % 10 == 7 else 1 if k % 10 == 3 else 0)
            elif c == "place_id":
                args.append(place0 + n % NPLACES)
            elif c == "duration_ms":
                args.append(60000 + (n * 7919) % 3600000)
            elif c == "date":
                args.append("%04d-06-01" % (1900 + (n * 37) % 120))
        rows.append(args)
    db.executemany("INSERT INTO recordings(%s) SELECT %s FROM recordings WHERE id = 1"
                   % (", ".join(cols), sel), rows)
    db.execute("INSERT INTO recording_themes(theme_id, recording_id)"
               " SELECT (SELECT id FROM themes WHERE slug = 'la-mer'), id FROM recordings"
               " WHERE id % 10 = 1")
    db.execute("ANALYZE")
    db.commit()
    db.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_ms(pid):
    """The server's CPU time so far (user + system), in ms."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def measure(port, path, pid):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    raw = b""
    cpu0 = 0
    for i in range(ROUNDS + 10):
        if i == 10:
            cpu0 = cpu_ms(pid)
        t0 = time.perf_counter()
        c.request("GET", path, headers={"Accept-Encoding": "gzip"})
        r = c.getresponse()
        body = r.read()
        dt = (time.perf_counter() - t0) * 1000
        if r.status != 200:
            sys.exit("bench-map: %s: %d %s" % (path, r.status, body[:200]))
        if i >= 10:  # the first ones warm the caches
            times.append(dt)
        raw = gzip.decompress(body) if r.getheader("Content-Encoding") == "gzip" else body
        zipped = len(body)
    c.close()
    cpu = (cpu_ms(pid) - cpu0) / ROUNDS
    times.sort()
    doc = json.loads(raw)
    places = len(doc["features"] if "features" in doc else doc["decades"])
    return (times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))],
            times[-1], cpu, len(raw), zipped, places)


def naive(data):
    """The map made by one query per place, then gzip: ((ms, CPU ms), places,
    gzip bytes)."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(data, "archive.db"), uri=True)
    t0, c0 = time.perf_counter(), time.process_time()
    features = []
    for pid, name, commune, lat, lon in db.execute(
            "SELECT id, name, commune, lat, lon FROM places WHERE lat IS NOT NULL").fetchall():
        n, ms = db.execute("SELECT count(*), total(duration_ms) FROM recordings"
                           " WHERE place_id = ? AND access <= 0 AND deleted_at IS NULL",
                           (pid,)).fetchone()
        if n:
            features.append({"type": "Feature",
                             "geometry": {"type": "Point", "coordinates": [lon, lat]},
                             "properties": {"id": pid, "name": name, "commune": commune,
                                            "recordings": n, "seconds": int(ms + 500) // 1000}})
    body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    zipped = gzip.compress(body, 6)
    dt, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
    db.close()
    return (dt, cpu), len(features), len(zipped)


def main():
    keep = os.environ.get("BENCH_DIR")
    tmp = keep or tempfile.mkdtemp(prefix="parlers-bench-map-")
    data = os.path.join(tmp, "data")
    srv = None
    try:
        if not os.path.exists(os.path.join(data, "archive.db")):
            os.makedirs(tmp, exist_ok=True)
            t0 = time.time()
            build(data, tmp)
            print("archive: %d places, %d recordings, built in %.1f s"
                  % (NPLACES, NREC + 1, time.time() - t0))
        port = free_port()
        srv = subprocess.Popen([PARLERS, "-d", data, "serve", "--listen", "127.0.0.1:%d" % port,
                                "--quiet", "--tiles", "none"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        print("load average: %.1f on %d cores" % (os.getloadavg()[0], os.cpu_count()))
        print("%-30s %8s %8s %8s %8s %8s %8s %7s" % ("GET /api/map (gzip)", "p50 ms", "p99 ms",
                                                    "worst", "CPU ms", "raw KB", "gzip KB",
                                                    "places"))
        made = None
        for label, path in (("whole map, kept", "/api/map"),
                            ("whole map, made afresh", "/api/map?variety=Cotentinais"),
                            ("theme=la-mer, made afresh", "/api/map?theme=la-mer"),
                            ("decades, kept", "/api/map/decades"),
                            ("decades, made afresh", "/api/map/decades?variety=Cotentinais")):
            p50, p99, worst, cpu, raw, zipped, places = measure(port, path, srv.pid)
            if made is None and "afresh" in label:
                made = (p50, cpu)
            print("%-30s %8.2f %8.2f %8.2f %8.2f %8.1f %8.1f %7d"
                  % (label, p50, p99, worst, cpu, raw / 1024, zipped / 1024, places))
        runs = sorted(naive(data) for _ in range(5))
        (dt, cpu), places, zipped = runs[len(runs) // 2]
        print("%-30s %8.2f %8s %8s %8.2f %8s %8.1f %7d" % ("naive: a query per place", dt, "",
                                                           "", cpu, "", zipped / 1024, places))
        print("ratio naive / made afresh: %.1fx in time, %.1fx in CPU"
              % (dt / made[0], cpu / made[1]))
    finally:
        if srv:
            srv.terminate()
            srv.wait()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
