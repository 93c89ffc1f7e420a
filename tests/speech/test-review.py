#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The review of machine-made tiers, from the command line and over HTTP:
a reviewer accepts a whole tier or one segment at a time; the mark, the
confidence and the doubt go, the tool and its settings stay, a history row
names the change; visitors, researchers and requests without the CSRF
token change nothing; what is not machine-made (any more) is refused with
a sentence.  The real binary, a real server on loopback, a real SQLite
file.  Python standard library only; TAP."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from harness import PARLERS, Client, Server, done, ok  # noqa: E402

DATA = os.path.join(os.environ.get("PARLERS_TESTS", "tests"), "speech", "data")
PASSWORD = "review-pass-1"


def run(data, *args, stdin=None):
    p = subprocess.run([PARLERS, "-d", data] + list(args), capture_output=True, text=True,
                       input=stdin, timeout=300)
    return p.returncode, p.stdout, p.stderr


def tiers(data, rid):
    code, out, _ = run(data, "show", str(rid), "--json")
    return {t["name"]: t for t in json.loads(out)["tiers"]} if code == 0 else {}


def machine_tier(data, rid, name, segs):
    """A machine-made tier of the given segments, through a recognizer that
    writes them as JSON (quick, and the same path any tool's tier takes)."""
    path = os.path.join(data, name + ".json")
    with open(path, "w") as f:
        json.dump({"segments": [{"start_ms": s, "end_ms": e, "text": t} for s, e, t in segs]}, f)
    with open(os.path.join(data, "recognizers"), "a") as f:
        f.write(f"[{name}]\ncommand = cat '{path}' # {{wav}}\n")
    code, out, err = run(data, "recognize", str(rid), "--with", name)
    assert code == 0, err


def main():
    tmp = tempfile.mkdtemp(prefix="parlers-review-")
    data = os.path.join(tmp, "data")
    run(data, "init")
    code, out, _ = run(data, "ingest", "--json", "--access", "public",
                       os.path.join(DATA, "fr-prompts.flac"))
    rid = json.loads(out.splitlines()[0])["id"]
    for login, role in (("ann", "annotator"), ("res", "researcher")):
        run(data, "user", "add", login, "--role", role, stdin=PASSWORD + "\n")
    segs = [(1000, 2000, "un"), (3000, 4000, "deux"), (5000, 6000, "trois")]
    machine_tier(data, rid, "auto", segs)
    machine_tier(data, rid, "web", segs)
    machine_tier(data, rid, "edited", segs[:1])

    # the command line
    t = tiers(data, rid)["auto"]
    first = t["segments"][0]["id"]
    code, out, err = run(data, "accept", str(rid), "--segment", str(first), "--json")
    res = json.loads(out) if code == 0 else {}
    ok(code == 0 and res.get("accepted") == 1 and res.get("tier_origin") == "machine",
       "accept --segment: one segment, the tier still machine-made", err)
    t = tiers(data, rid)["auto"]
    ok(t["segments"][0]["origin"] is None and t["segments"][1]["origin"] == "machine",
       "that segment lost its mark, the next keeps it")
    code, out, err = run(data, "accept", str(rid), "--segment", str(first))
    ok(code == 1 and err.count("\n") == 1 and "accepted already" in err,
       "accepting it again is refused: " + err.strip())
    code, out, err = run(data, "accept", str(rid), "--tier", "auto", "--json")
    res = json.loads(out) if code == 0 else {}
    ok(code == 0 and res.get("accepted") == 2 and res.get("tier_origin") is None,
       "accept --tier: the two segments left, and the tier's mark", err)
    t = tiers(data, rid)["auto"]
    ok(t["origin"] is None and t["origin_tool"] == "auto" and
       all(s["origin"] is None and s.get("confidence") is None and not s.get("doubtful")
           for s in t["segments"]),
       "no mark left; the tool's name stays as where the tier came from")
    code, out, err = run(data, "annotations", "export", str(rid), "--format", "eaf")
    ok('ANNOTATOR="auto (machine, reviewed)"' in out and
       'ANNOTATOR="web (machine, not reviewed)"' in out,
       "the EAF export names the reviewed tier's tool as reviewed, the other's as not")
    code, out, err = run(data, "accept", str(rid), "--tier", "auto")
    ok(code == 1 and "accepted already" in err, "a reviewed tier is refused: " + err.strip())
    code, out, err = run(data, "accept", str(rid), "--tier", "nope")
    ok(code == 1 and err.count("\n") == 1 and "no tier" in err, "an unknown tier: " + err.strip())
    code, out, err = run(data, "accept", str(rid))
    ok(code == 2, "--tier or --segment is needed")
    code, out, err = run(data, "accept", str(rid), "--tier", "auto", "--segment", "1")
    ok(code == 2, "not both")
    srv = Server(data)
    try:
        anon = Client(srv.port)
        st, _, body = anon.get("/api/recordings/%d" % rid)
        web = {x["name"]: x for x in json.loads(body)["tiers"]}["web"]
        ok(st == 200 and web["origin"] == "machine",
           "a visitor sees that the public tier is machine-made (the page says it)")
        sid = web["segments"][0]["id"]
        tid = web["id"]
        st, _, _ = anon.send("POST", "/api/tiers/%d/accept" % tid)
        ok(st in (401, 403), "a visitor may not accept (%d)" % st)
        res = Client(srv.port, "res", PASSWORD)
        st, _, _ = res.send("POST", "/api/tiers/%d/accept" % tid)
        ok(st == 403, "a researcher may not accept (%d)" % st)
        ann = Client(srv.port, "ann", PASSWORD)
        st, _, _ = ann.send("POST", "/api/segments/%d/accept" % sid, csrf=False)
        ok(st == 403, "without the CSRF token nothing is accepted (%d)" % st)
        st, _, body = ann.send("POST", "/api/segments/%d/accept" % sid)
        got = harness.jbody(body) or {}
        ok(st == 200 and got.get("accepted") == 1 and got.get("tier_origin") == "machine",
           "an annotator accepts one segment", body)
        st, _, body = ann.send("POST", "/api/segments/%d/accept" % sid)
        ok(st == 422 and "accepted already" in (harness.jbody(body) or {}).get("error", ""),
           "twice: 422 with a sentence (%d)" % st)
        st, _, body = ann.send("POST", "/api/tiers/%d/accept" % tid)
        got = harness.jbody(body) or {}
        ok(st == 200 and got.get("accepted") == 2 and got.get("tier_origin") is None,
           "then the whole tier", body)
        st, _, body = anon.get("/api/recordings/%d" % rid)
        web = {x["name"]: x for x in json.loads(body)["tiers"]}["web"]
        ok(web["origin"] is None and all(s["origin"] is None for s in web["segments"]),
           "the recording JSON shows it reviewed at once")
        st, _, body = ann.send("POST", "/api/tiers/999999/accept")
        ok(st == 404, "an unknown tier: 404 (%d)" % st)
        st, _, body = ann.send("POST", "/api/segments/999999/accept")
        ok(st == 404, "an unknown segment: 404 (%d)" % st)
        # a person's edit takes the segment's mark; the tier's goes on accept
        ed = {x["name"]: x for x in json.loads(anon.get("/api/recordings/%d" % rid)[2])["tiers"]}
        seg = ed["edited"]["segments"][0]
        st, _, body = ann.send("PATCH", "/api/segments/%d" % seg["id"],
                               {"version": seg["version"], "text": "un, corrigé"})
        ok(st == 200, "an annotator corrects the only segment of a machine-made tier", body)
        st, _, body = ann.send("POST", "/api/tiers/%d/accept" % ed["edited"]["id"])
        got = harness.jbody(body) or {}
        ok(st == 200 and got.get("accepted") == 0 and got.get("tier_origin") is None,
           "accepting that tier takes only the tier's mark", body)
        st, _, body = ann.get("/api/recordings/%d/history" % rid)
        actions = [h["action"] for h in (harness.jbody(body) or {}).get("history", [])]
        ok(actions.count("tier.accept") == 3 and actions.count("segment.accept") == 2,
           "each acceptance has its history row: %s" % actions[:8])
    finally:
        srv.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
