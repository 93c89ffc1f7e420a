#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Segmentation and alignment as background jobs of a real `parlers serve`:
POST /api/recordings/{id}/segment and /align answer 202 with a job at once,
the job's progress is seen while it runs, its result names the new tier;
at most one job per recording (409 with a sentence); cancel leaves no
tier; a bad request is 400 with a sentence, a job that cannot be done
fails with one and leaves no tier; a server killed during a job marks it
failed when it starts again, with no tier, half or whole, and serves on.
Real French speech (tests/speech/data), a real SQLite file.  Python
standard library only; TAP."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from harness import PARLERS, Client, Server, done, ok  # noqa: E402

DATA = os.path.join(os.environ.get("PARLERS_TESTS", "tests"), "speech", "data")
PASSWORD = "jobs-pass-1"
REPEAT = 20


def run(data, *args, stdin=None):
    p = subprocess.run([PARLERS, "-d", data] + list(args), capture_output=True, text=True,
                       input=stdin, timeout=300)
    return p.returncode, p.stdout, p.stderr


def tier_names(data, rid):
    code, out, _ = run(data, "show", str(rid), "--json")
    return [t["name"] for t in json.loads(out)["tiers"]] if code == 0 else None


def follow(client, jid, timeout=600):
    """The job's states until it ends: (last state, progress values seen)."""
    seen = []
    end = time.time() + timeout
    state = {}
    while time.time() < end:
        st, _, body = client.get("/api/jobs/%d" % jid)
        state = harness.jbody(body) or {}
        if st != 200:
            return state, seen
        seen.append((state.get("status"), state.get("progress"), state.get("message")))
        if state.get("status") in ("done", "failed", "cancelled"):
            return state, seen
        time.sleep(0.1)
    return state, seen


def main():
    tmp = tempfile.mkdtemp(prefix="parlers-jobs-")
    data = os.path.join(tmp, "data")
    run(data, "init")
    # the prompts said REPEAT times over: a job long enough (seconds, on
    # any machine) for its progress to be seen and for a cancel or a kill
    # to come while it runs
    long_flac = os.path.join(tmp, "fr-prompts-long.flac")
    subprocess.run(["sox"] + [os.path.join(DATA, "fr-prompts.flac")] * REPEAT + [long_flac],
                   check=True)
    code, out, _ = run(data, "ingest", "--json", "--access", "public", long_flac)
    rid = json.loads(out.splitlines()[0])["id"]
    for login, role in (("ann", "annotator"), ("res", "researcher")):
        run(data, "user", "add", login, "--role", role, stdin=PASSWORD + "\n")
    text = open(os.path.join(DATA, "fr-prompts.txt"), encoding="utf-8").read() * REPEAT
    nlines = len([l for l in text.splitlines() if l.strip()])

    srv = Server(data)
    try:
        anon = Client(srv.port)
        st, _, _ = anon.send("POST", "/api/recordings/%d/segment" % rid, {})
        ok(st in (401, 403), "a visitor may not queue a segmentation (%d)" % st)
        res = Client(srv.port, "res", PASSWORD)
        st, _, _ = res.send("POST", "/api/recordings/%d/segment" % rid, {})
        ok(st == 403, "nor a researcher (%d)" % st)
        ann = Client(srv.port, "ann", PASSWORD)
        st, _, _ = ann.send("POST", "/api/recordings/%d/segment" % rid, {}, csrf=False)
        ok(st == 403, "nor a request without the CSRF token (%d)" % st)

        # bad requests: 400 with a sentence, no job
        for path, body, says in [
                ("segment", {"min_pause_ms": "long"}, "min_pause_ms"),
                ("segment", {"threshold_db": 99}, "threshold_db"),
                ("segment", {"tier": ""}, "tier"),
                ("align", {}, "text"),
                ("align", {"text": " \n\r\n"}, "empty"),
                ("align", {"text": "un", "type": "gloss"}, "type"),
                ("align", {"text": "un", "language": "fr; rm -rf /"}, "language"),
                ("align", {"text": "un", "replace": "yes"}, "replace")]:
            st, _, b = ann.send("POST", "/api/recordings/%d/%s" % (rid, path), body)
            err = (harness.jbody(b) or {}).get("error", "")
            ok(st == 400 and says in err, "%s %s: 400 %s" % (path, json.dumps(body), err))
        st, _, b = ann.send("POST", "/api/recordings/%d/segment" % rid, raw=b"{not json")
        ok(st == 400, "a body that is not JSON: 400")
        st, _, b = ann.send("POST", "/api/recordings/999/segment", {})
        ok(st == 404, "an unknown recording: 404 (%d)" % st)
        st, _, b = ann.get("/api/jobs?recording=%d" % rid)
        ok(st == 200 and (harness.jbody(b) or {}).get("jobs") == [], "none of them queued a job")

        # a segmentation
        st, _, b = ann.send("POST", "/api/recordings/%d/segment" % rid, {"min_pause_ms": 300})
        jid = (harness.jbody(b) or {}).get("job")
        ok(st == 202 and jid, "POST .../segment: 202 with the job at once", b)
        state, seen = follow(ann, jid)
        res_ = state.get("result") or {}
        ok(state.get("status") == "done" and res_.get("tier") == "segments" and
           len(res_.get("segments", [])) >= 10, "the job ends done, its result the new tier",
           state)
        ok(res_.get("settings", {}).get("min_pause_ms") == 300, "with the settings asked for")
        ok("segments" in tier_names(data, rid), "the tier is in the archive")

        # an alignment: progress while it runs, one job per recording
        st, _, b = ann.send("POST", "/api/recordings/%d/align" % rid,
                            {"text": text, "tier": "texte"})
        jid = (harness.jbody(b) or {}).get("job")
        ok(st == 202 and jid, "POST .../align: 202", b)
        st, _, b = ann.send("POST", "/api/recordings/%d/segment" % rid, {"tier": "other"})
        err = (harness.jbody(b) or {}).get("error", "")
        ok(st == 409 and "already has a job" in err, "a second job on the recording: 409 " + err)
        state, seen = follow(ann, jid)
        fractions = [p for s, p, m in seen if s == "running" and p is not None]
        messages = set(m for s, p, m in seen if m)
        harness.diag("progress seen: %d states, %s ... %s; messages like %s" % (
            len(seen), fractions[:1], fractions[-1:], sorted(messages)[:3]))
        ok(len(set(fractions)) >= 2 and fractions == sorted(fractions),
           "its progress is seen rising while it runs")
        res_ = state.get("result") or {}
        ok(state.get("status") == "done" and len(res_.get("segments", [])) == nlines and
           all("confidence" in s for s in res_["segments"]),
           "done: every line of the text placed, with its confidence", state.get("error"))
        st, _, b = ann.get("/api/recordings/%d" % rid)
        t = {x["name"]: x for x in json.loads(b)["tiers"]}.get("texte")
        ok(t and t["origin"] == "machine" and len(t["segments"]) == nlines,
           "the recording has the tier, machine-made")

        # a job that cannot be done: a sentence, no tier
        st, _, b = ann.send("POST", "/api/recordings/%d/align" % rid,
                            {"text": "un\ndeux\n", "language": "xx-nowhere", "tier": "nope"})
        state, _ = follow(ann, (harness.jbody(b) or {}).get("job", 0))
        ok(state.get("status") == "failed" and state.get("error") and
           "nope" not in tier_names(data, rid),
           "an unknown voice: the job fails with a sentence, no tier: %s" % state.get("error"))
        st, _, b = ann.send("POST", "/api/recordings/%d/segment" % rid, {})
        state, _ = follow(ann, (harness.jbody(b) or {}).get("job", 0))
        ok(state.get("status") == "failed" and "already has a tier" in state.get("error", ""),
           "a tier of that name already there: failed, said: %s" % state.get("error"))

        # cancel
        st, _, b = ann.send("POST", "/api/recordings/%d/align" % rid,
                            {"text": text, "tier": "cancelled"})
        jid = (harness.jbody(b) or {}).get("job")
        st, _, b = ann.send("POST", "/api/jobs/%d/cancel" % jid)
        ok(st == 200, "POST /api/jobs/{jid}/cancel (%d)" % st)
        state, _ = follow(ann, jid)
        ok(state.get("status") in ("cancelled", "failed") and
           "cancelled" not in tier_names(data, rid),
           "the cancelled alignment leaves no tier (%s)" % state.get("status"))

        # a server killed during a job
        st, _, b = ann.send("POST", "/api/recordings/%d/align" % rid,
                            {"text": text, "tier": "killed"})
        jid = (harness.jbody(b) or {}).get("job")
        end = time.time() + 60
        while time.time() < end:
            s = harness.jbody(ann.get("/api/jobs/%d" % jid)[2]) or {}
            if s.get("status") == "running" and (s.get("progress") or 0) > 0.05:
                break
            time.sleep(0.05)
        ok(s.get("status") == "running", "the alignment runs (%s)" % s.get("progress"))
        srv.kill()
    finally:
        srv.stop()
    srv = Server(data)
    try:
        ann = Client(srv.port, "ann", PASSWORD)
        st, _, b = ann.get("/api/jobs/%d" % jid)
        state = harness.jbody(b) or {}
        ok(st == 200 and state.get("status") == "failed" and state.get("error"),
           "after a restart the job killed with its server is failed: %s" % state.get("error"))
        ok("killed" not in tier_names(data, rid), "and left no tier, half or whole")
        st, _, b = ann.send("POST", "/api/recordings/%d/segment" % rid, {"tier": "again"})
        state, _ = follow(ann, (harness.jbody(b) or {}).get("job", 0))
        ok(state.get("status") == "done", "the recording takes a new job, which is done")
    finally:
        srv.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
