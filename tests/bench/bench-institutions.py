#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark (not a test): the institutions' pages of a large network.

Builds an archive of INSTITUTIONS (100) institutions and RECORDINGS
(50,000) recordings, then serves it and asks, one request at a time
after a warm-up, ROUNDS (300) times each:

- /institutions (every institution with its recordings counted);
- /institutions/{short} (its description, facets and first 50 recordings),
  for institutions taken in turn: first each one once, on its first visit
  since the archive last changed (its pieces made from the database),
  then ROUNDS more (its pieces from the server's cache);
- / (the home page with the day's featured recordings), for comparison.

Prints p50, p99 and the worst time of each; the goal is p99 < 20 ms for
the two institution pages.  The recordings are rows copied from one
ingested recording of the sample corpus (each with its own checksum,
place, speaker and collection among a few hundred, sizes unequal between
institutions), which is what the pages read; their media are not needed.

  PARLERS=build/cli/parlers PARLERS_CORPUS=corpus tests/bench/bench-institutions.py

BENCH_DIR=dir keeps the archive there and measures it again without
rebuilding it.

Python standard library only; never fails because the machine is slow.
"""
import http.client
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
NINST = int(os.environ.get("INSTITUTIONS", "100"))
NREC = int(os.environ.get("RECORDINGS", "50000"))
ROUNDS = int(os.environ.get("ROUNDS", "300"))
STEM = "cotentin-1976-la-mezoun"


def run(*args, stdin=None):
    r = subprocess.run(list(args), input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("bench-institutions: %s: %s" % (" ".join(args[:4]), r.stderr.strip()))
    return r


def build(data, tmp):
    run(PARLERS, "-d", data, "init", "--institution", "inst-000", "--name", "Institution 0")
    for i in range(1, NINST):
        run(PARLERS, "-d", data, "institution", "add", "inst-%03d" % i, "--name",
            "Institution %d" % i, "--kind", "musée", "--commune", "Commune %d" % i,
            "--lat", "%.3f" % (48.5 + (i % 10) * 0.15), "--lon", "%.3f" % (-1.8 + (i // 10) * 0.35),
            "--description-fr", "Un musée du réseau.", "--description-en", "A museum.")
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
    db.executemany("INSERT INTO speakers(name, birth_year) VALUES (?, ?)",
                   [("Voix %d" % i, 1900 + i % 80) for i in range(500)])
    db.executemany("INSERT INTO collections(name, institution_id) VALUES (?, ?)",
                   [("Collection %d" % i, 1 + i % NINST) for i in range(300)])
    place0 = db.execute("SELECT min(id) FROM places WHERE name LIKE 'Lieu %'").fetchone()[0]
    spk0 = db.execute("SELECT min(id) FROM speakers WHERE name LIKE 'Voix %'").fetchone()[0]
    col0 = db.execute("SELECT min(id) FROM collections WHERE name LIKE 'Collection %'").fetchone()[0]
    # unequal sizes: institution k holds about k times as many as the first
    weights = [k + 1 for k in range(NINST)]
    total_w = sum(weights)
    owner = []
    for k, w in enumerate(weights):
        owner += [k + 1] * (NREC * w // total_w)
    owner += [NINST] * (NREC - len(owner))
    sel = ", ".join("?" if c in ("sha256", "title", "institution_id", "access", "place_id",
                                 "collection_id") else c for c in cols)
    rows = []
    for n, inst in enumerate(owner):
        args = []
        for c in cols:
            if c == "sha256":
                args.append("%064x" % (0xbe0000000 + n))
            elif c == "title":
                args.append("Enregistrement %d" % n)
            elif c == "institution_id":
                args.append(inst)
            elif c == "access":
                args.append(n % 7 == 0 and 2 or n % 5 == 0 and 1 or 0)
            elif c == "place_id":
                args.append(place0 + n % 300)
            elif c == "collection_id":
                cid = col0 + (n % 300)
                args.append(cid if (cid - col0) % NINST == inst - 1 else None)
        rows.append(args)
    db.executemany("INSERT INTO recordings(%s) SELECT %s FROM recordings WHERE id = 1"
                   % (", ".join(cols), sel), rows)
    db.execute("INSERT INTO recording_speakers(recording_id, speaker_id, role, ord)"
               " SELECT id, ? + id % 500, 'speaker', 0 FROM recordings WHERE id > 1", (spk0,))
    db.execute("ANALYZE")
    db.commit()
    db.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def measure(port, paths, rounds, warm=20):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for i in range(rounds + warm):
        path = paths[i % len(paths)]
        t0 = time.perf_counter()
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        dt = (time.perf_counter() - t0) * 1000
        if r.status != 200:
            sys.exit("bench-institutions: %s: %d %s" % (path, r.status, body[:200]))
        if i >= warm:  # the first ones warm the caches
            times.append(dt)
    c.close()
    times.sort()
    return times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))], times[-1], len(body)


def main():
    keep = os.environ.get("BENCH_DIR")
    tmp = keep or tempfile.mkdtemp(prefix="parlers-bench-institutions-")
    data = os.path.join(tmp, "data")
    srv = None
    try:
        if not os.path.exists(os.path.join(data, "archive.db")):
            os.makedirs(tmp, exist_ok=True)
            t0 = time.time()
            build(data, tmp)
            print("archive: %d institutions, %d recordings, built in %.1f s"
                  % (NINST, NREC + 1, time.time() - t0))
        port = free_port()
        srv = subprocess.Popen([PARLERS, "-d", data, "serve", "--listen", "127.0.0.1:%d" % port,
                                "--quiet", "--tiles", "none"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        # the server's cache keeps an answer for good once the database
        # files have been still for a few seconds (web/cache.c); the
        # server's own start touches them
        time.sleep(3)
        print("%-34s %9s %9s %9s %9s" % ("page", "p50 ms", "p99 ms", "worst ms", "bytes"))
        pages = ["/institutions/inst-%03d" % (i * 37 % NINST) for i in range(NINST)]
        for name, paths, rounds, warm in [
                ("/institutions", ["/institutions"], ROUNDS, 20),
                # each institution's first visit since the archive last
                # changed: its pieces made from the database
                ("/institutions/{short}, made afresh", pages, NINST, 0),
                # the visits after: its pieces from the cache
                ("/institutions/{short}, kept", pages, ROUNDS, 0),
                ("/ (featured)", ["/"], ROUNDS, 20)]:
            p50, p99, worst, size = measure(port, paths, rounds, warm)
            print("%-34s %9.2f %9.2f %9.2f %9d" % (name, p50, p99, worst, size))
        print("goal: p99 < 20 ms for the two institution pages")
    finally:
        if srv:
            srv.terminate()
            srv.wait()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
