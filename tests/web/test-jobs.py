#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Background jobs against a real `parlers serve`, with the one kind every
server does, "rebuild" (a recording's derivatives remade from its original):

- POST /api/recordings/{id}/rebuild queues it (202 {"job"}); GET
  /api/jobs/{jid} follows it to "done" with its result, and the access
  copy is on disk, whole, again;
- a visitor 401, a researcher 403, an annotator of another institution 403
  on queueing; the job itself is 404 to whoever may not change its
  recording; GET /api/jobs lists only what the viewer may see;
- a recording has one unfinished job at most: a second is 409 with a
  sentence;
- a job left running by a killed server is failed when the next one
  starts, and the recording takes jobs again;
- a bad "what" is 400, an unknown job 404, cancelling an ended job 409.

Python standard library only; TAP.
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from harness import CORPUS, PARLERS, Server, done, ok  # noqa: E402

PASSWORD = "jobs-pass-12"
srv = None


def cli(data, *args, stdin=None):
    return subprocess.run([PARLERS, "-d", data] + list(args), input=stdin,
                          capture_output=True, text=True)


def db(data, sql, *args):
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    try:
        rows = con.execute(sql, args).fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def follow(client, jid, until=("done", "failed", "cancelled"), seconds=60):
    """The job's JSON once its status is one of until (or the last seen)."""
    j = None
    deadline = time.time() + seconds
    while time.time() < deadline:
        st, h, body = client.get("/api/jobs/%d" % jid)
        j = harness.jbody(body)
        if st != 200 or (j or {}).get("status") in until:
            return st, j
        time.sleep(0.1)
    return st, j


def run_all(tmp, data):
    global srv
    r = cli(data, "init", "--institution", "musee-a", "--name", "Musée A")
    ok(r.returncode == 0, "an archive of institution A", r.stderr)
    cli(data, "institution", "add", "musee-b", "--name", "Musée B")
    r = cli(data, "ingest", "--institution", "musee-a", CORPUS)
    ok(r.returncode == 0, "the sample corpus is ingested", r.stderr)
    for login, role, inst in (("admin", "admin", None), ("ann-a", "annotator", "musee-a"),
                              ("ann-b", "annotator", "musee-b"),
                              ("res", "researcher", None)):
        args = ["user", "add", login, "--role", role] + (["--institution", inst] if inst else [])
        r = cli(data, *args, stdin=PASSWORD + "\n")
        ok(r.returncode == 0, "account %s" % login, r.stderr)
    rid, opus = db(data, "SELECT r.id, m.path FROM recordings r JOIN media_files m"
                   " ON m.recording_id = r.id AND m.kind = 'opus' WHERE r.access = 0"
                   " ORDER BY r.id LIMIT 1")[0]
    path = os.path.join(data, opus)
    ok(os.path.exists(path), "the access copy is on disk", path)
    os.unlink(path)

    srv = Server(data)
    anon = harness.Client(srv.port)
    admin = harness.Client(srv.port, "admin", PASSWORD)
    ann_a = harness.Client(srv.port, "ann-a", PASSWORD)
    ann_b = harness.Client(srv.port, "ann-b", PASSWORD)
    res = harness.Client(srv.port, "res", PASSWORD)
    url = "/api/recordings/%d/rebuild" % rid

    st, h, body = anon.send("POST", url, {})
    ok(st == 401, "a visitor may not queue a job (401)", (st, body))
    st, h, body = res.send("POST", url, {})
    ok(st == 403, "a researcher may not (403)", (st, body))
    st, h, body = ann_b.send("POST", url, {})
    ok(st == 403, "an annotator of another institution may not (403)", (st, body))
    st, h, body = ann_a.send("POST", url, {"what": "opus,flac"})
    ok(st == 400 and "what" in (harness.jbody(body) or {}).get("error", ""),
       "an unknown derivative is 400 with a sentence", (st, body))

    st, h, body = ann_a.send("POST", url, {"what": "opus"})
    j = harness.jbody(body) or {}
    ok(st == 202 and isinstance(j.get("job"), int), "the institution's annotator queues a rebuild",
       (st, body))
    jid = j.get("job", 0)
    st, j = follow(ann_a, jid)
    ok(st == 200 and j["status"] == "done" and j["result"] == {"rebuilt": ["opus"]}
       and j["recording_id"] == rid and j["progress"] == 1,
       "the job is followed to done, with what it rebuilt", j)
    ok(os.path.exists(path) and os.path.getsize(path) > 1000,
       "the lost access copy is on disk again")
    st, h, body = harness.request(srv.port, "GET", "/media/%d.opus" % rid)
    ok(st == 200 and body[:4] == b"OggS", "and is served", st)

    for who, c in (("a visitor", anon), ("a researcher", res),
                   ("an annotator of another institution", ann_b)):
        st, h, body = c.get("/api/jobs/%d" % jid)
        ok(st == 404, "%s does not see the job (404)" % who, (st, body))
    st, h, body = admin.get("/api/jobs/%d" % jid)
    ok(st == 200, "a network admin sees it", st)
    st, h, body = ann_a.get("/api/jobs?recording=%d" % rid)
    ok(st == 200 and [x["id"] for x in harness.jbody(body)["jobs"]] == [jid],
       "the recording's jobs are listed for its staff", body)
    st, h, body = ann_b.get("/api/jobs")
    ok(st == 200 and harness.jbody(body)["jobs"] == [], "another institution's staff list none",
       body)
    st, h, body = anon.get("/api/jobs")
    ok(st == 401, "a visitor lists nothing (401)", st)
    st, h, body = ann_a.send("POST", "/api/jobs/%d/cancel" % jid, {})
    ok(st == 409, "an ended job cannot be cancelled (409)", (st, body))
    st, h, body = ann_a.get("/api/jobs/999999")
    ok(st == 404, "an unknown job is 404", st)

    # a job under way (as the worker marks it) blocks its recording
    db(data, "INSERT INTO jobs(kind, recording_id, status, started_at)"
       " VALUES ('rebuild', ?, 'running', '2026-01-01T00:00:00Z')", rid)
    left = db(data, "SELECT max(id) FROM jobs")[0][0]
    st, h, body = ann_a.send("POST", url, {})
    ok(st == 409 and "already has a job" in (harness.jbody(body) or {}).get("error", ""),
       "a second job while one is under way is 409 with a sentence", (st, body))
    st, h, body = ann_a.send("POST", "/api/jobs/%d/cancel" % left, {})
    ok(st == 200 and harness.jbody(body)["status"] == "running",
       "cancelling a running job is asked (it stops at its next report)", (st, body))

    # that job's server is killed: the next one fails it, and the
    # recording takes jobs again
    srv.kill()
    srv = Server(data)
    ann_a = harness.Client(srv.port, "ann-a", PASSWORD)
    st, j = follow(ann_a, left)
    ok(st == 200 and j["status"] == "failed" and "server stopped" in j.get("error", ""),
       "a job left running by a killed server is failed with a sentence", j)
    st, h, body = ann_a.send("POST", url, {})
    jid = (harness.jbody(body) or {}).get("job", 0)
    ok(st == 202, "the recording takes a job again", (st, body))
    st, j = follow(ann_a, jid)
    ok(j and j["status"] == "done" and {"opus", "mp3", "peaks"} <= set(j["result"]["rebuilt"]),
       "a rebuild of everything ends done, access copies and peaks remade", j)


def main():
    tmp = tempfile.mkdtemp(prefix="parlers-test-jobs-")
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


if __name__ == "__main__":
    sys.exit(main())
