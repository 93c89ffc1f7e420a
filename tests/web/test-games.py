#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The listening games' rounds against a real `parlers serve`.

- "meaning": a transcribed segment of a public recording, its
  translation, four distinct choices among which the answer's index points
  at that translation, the clip's public media and where it comes from;
- "where": the place (name and coordinates) of the recording;
- rounds come from public recordings only, whoever asks, and never from a
  segment that touches a withheld passage; "seen" is obeyed, and when every
  round was heard the answer says so (404) instead of repeating itself; an
  archive with too little material says so too;
- a malformed game or seen list is 400.

Python standard library only; TAP.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from harness import CORPUS, PARLERS, Server, done, ok  # noqa: E402

srv = None
PASSWORD = "games-pass-1"


def cli(data, *args, stdin=None):
    return subprocess.run([PARLERS, "-d", data] + list(args), input=stdin,
                          capture_output=True, text=True)


def get(path, client=None):
    st, h, body = client.get(path) if client else harness.request(srv.port, "GET", path, None,
                                                                  None, 60)
    return st, harness.jbody(body)


def main():
    global srv
    tmp = tempfile.mkdtemp(prefix="parlers-test-games-")
    try:
        run_all(tmp, os.path.join(tmp, "data"))
    except Exception:  # a crash is a failed test, not a lost plan
        import traceback
        ok(False, "the tests ran to the end", traceback.format_exc())
    finally:
        if srv:
            srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


def db(data, sql, *args):
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    try:
        rows = con.execute(sql, args).fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def run_all(tmp, data):
    global srv
    cli(data, "init")
    r = cli(data, "ingest", CORPUS)
    ok(r.returncode == 0, "the sample corpus is ingested", r.stderr)
    cli(data, "user", "add", "admin", "--role", "admin", stdin=PASSWORD + "\n")
    public = {x[0] for x in db(data, "SELECT id FROM recordings WHERE access = 0")}
    srv = Server(data)
    admin = harness.Client(srv.port, "admin", PASSWORD)

    rounds = []
    for i in range(40):
        st, j = get("/api/games/round?game=meaning", admin if i % 2 else None)
        if st != 200:
            ok(False, "a meaning round is drawn", (st, j))
            break
        rounds.append(j)
    ok(len(rounds) == 40, "40 meaning rounds are drawn, for a visitor and for staff alike")
    ok(all(r["clip"]["recording_id"] in public for r in rounds),
       "every round comes from a public recording, whoever asks",
       sorted({r["clip"]["recording_id"] for r in rounds}))
    good = True
    for r in rounds:
        row = db(data, "SELECT s.text, s.start_ms, s.end_ms, t.recording_id FROM segments s"
                 " JOIN tiers t ON t.id = s.tier_id WHERE s.id = ? AND t.type = 'transcription'",
                 r["segment_id"])
        tr = db(data, "SELECT x.text FROM segments x JOIN tiers u ON u.id = x.tier_id"
                " WHERE u.recording_id = ? AND u.type = 'translation' AND x.start_ms < ?"
                " AND x.end_ms > ?", r["clip"]["recording_id"], r["clip"]["end_ms"],
                r["clip"]["start_ms"])
        good = good and row and row[0] == (r["text"], r["clip"]["start_ms"], r["clip"]["end_ms"],
                                           r["clip"]["recording_id"]) \
            and r["translation"] in [x[0] for x in tr] \
            and len(r["choices"]) == 4 and len(set(r["choices"])) == 4 \
            and r["choices"][r["answer"]] == r["translation"] \
            and r["clip"]["media"]["opus"].startswith("/media/%d.opus?v=" % r["clip"]["recording_id"]) \
            and r.get("title") and r.get("place")
        if not good:
            ok(False, "a round is what its segment says", r)
            break
    ok(good, "each round: the segment's text and span, its translation as the answer among "
       "four distinct choices, the public media, title and place")
    ok(len({r["answer"] for r in rounds}) > 1, "the answer is not always in the same place")
    ok(len({r["segment_id"] for r in rounds}) > 5, "rounds vary")

    st, j = get("/api/games/round?game=where")
    place = db(data, "SELECT p.name, p.lat, p.lon FROM recordings r JOIN places p ON p.id = r.place_id"
               " WHERE r.id = ?", j["clip"]["recording_id"]) if st == 200 else []
    ok(st == 200 and place and j["answer"]["place"] == place[0][0]
       and abs(j["answer"]["lat"] - place[0][1]) < 1e-6 and abs(j["answer"]["lon"] - place[0][2]) < 1e-6,
       "a where round answers with the recording's place and coordinates", j)

    # withhold every public recording's first minute but one passage: no
    # round may come from what is withheld
    for rid in sorted(public):
        st, h, body = admin.send("POST", "/api/recordings/%d/withheld" % rid,
                                 {"start_ms": 0, "end_ms": 20000, "reason": "test"})
    bad = []
    for i in range(30):
        st, j = get("/api/games/round?game=meaning")
        if st == 200 and j["clip"]["start_ms"] < 20000:
            bad.append(j["segment_id"])
        st, j = get("/api/games/round?game=where")
        if st == 200 and j["clip"]["start_ms"] < 20000:
            bad.append(j["segment_id"])
    ok(not bad, "no round comes from a withheld passage", bad)
    for rid in sorted(public):
        admin.send("DELETE", "/api/recordings/%d/withheld" % rid)

    eligible = [x[0] for x in db(data, "SELECT s.id FROM segments s JOIN tiers t ON t.id = s.tier_id"
                                 " JOIN recordings r ON r.id = t.recording_id WHERE r.access = 0"
                                 " AND t.type = 'transcription' AND s.text <> ''")]
    seen = ",".join(str(i) for i in eligible)
    st, j = get("/api/games/round?game=meaning&seen=" + seen)
    ok(st == 404 and "every round" in j.get("error", ""), "once every round was heard: 404, said",
       (st, j))
    keep = rounds[0]["segment_id"]
    st, j = get("/api/games/round?game=meaning&seen=" + ",".join(str(i) for i in eligible if i != keep))
    ok(st == 200 and j["segment_id"] == keep, "seen leaves the one round not heard", (st, j))
    for q, what in (("game=chess", "an unknown game"), ("", "no game"),
                    ("game=meaning&seen=1,x", "a malformed seen list"),
                    ("game=meaning&seen=,", "an empty id"), ("game=meaning&seen=-1", "a negative id")):
        st, j = get("/api/games/round?" + q)
        ok(st == 400 and j and j.get("error"), "%s is 400 with a sentence" % what, (st, j))
    st, h, body = harness.request(srv.port, "GET", "/games")
    ok(st == 200 and b'id="new-round"' in body, "the games page answers")
    srv.stop()

    # an archive with one translated recording is too little for four choices
    small = os.path.join(tmp, "small")
    src = os.path.join(tmp, "one")
    os.makedirs(src)
    for f in os.listdir(CORPUS):
        if f.startswith("caux-1981-le-bere-et-les-pommiers."):
            shutil.copy(os.path.join(CORPUS, f), src)
    cli(small, "init")
    cli(small, "ingest", src)
    db(small, "DELETE FROM segments WHERE id NOT IN (SELECT min(id) FROM segments GROUP BY tier_id)")
    srv = Server(small)
    st, j = get("/api/games/round?game=meaning")
    ok(st == 404 and "too little" in j.get("error", ""), "too little material: 404, said", (st, j))


if __name__ == "__main__":
    sys.exit(main())
