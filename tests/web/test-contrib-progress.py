#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Progress for the public, proposals on automatic segmentation, notes'
credit, credit in the bag, and contributor accounts from the command line,
against a real `parlers serve` and a real SQLite file.

One institution.  Recordings: "pub" (public, transcribed, a passage of it
withheld), "bare" (public, audio only, then `parlers segment` makes its
machine tier of empty segments), "res" (restricted), "priv" (private), in
three collections.  Accounts: a researcher, an annotator, an admin, a
contributor made with `user add --role contributor`, one who signs up.

- progress: a recording's "progress" is the union of its non-empty
  segments (computed here from the recording JSON) over its duration;
  GET /api/progress counts for each role only what it hears (recordings by
  level; segments and proposals over a withheld span for staff only); a
  collection by name or id, 404 for one the viewer hears nothing of;
- /help-transcribe and /api/help-transcribe: public recordings only,
  whoever asks, least transcribed first, fully transcribed ones left out;
  limit and offset checked;
- automatic segmentation: a contributor proposes a text for an empty
  machine segment; progress counts it pending; accepting fills the text,
  clears that segment's machine mark (the tier keeps its origin), and the
  history names the contributor; progress moves;
- notes: accepted, they change no tier, credit their author on the
  recording and count on the contributor's page without their text;
- bag-info.txt: Transcriber and Contributor lines;
- `user add --role contributor`, `user list [--json]` (never an e-mail).

Python standard library only; TAP.
"""
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from harness import CORPUS, PARLERS, Server, done, ok  # noqa: E402

srv = None
PASSWORD = "progress-pass-1"
# key: (corpus stem, access, collection, with annotations)
RECS = {"pub": ("cotentin-1976-la-mezoun", "public", "Cotentin", True),
        "bare": ("jersey-1994-au-marchi", "public", "Jersey", False),
        "res": ("cotentin-1977-le-temps-qu-il-fait", "restricted", "Cotentin", True),
        "priv": ("caux-1981-le-temps-des-foins", "private", "Caux", True)}
STAFF = [("res1", "researcher"), ("ann", "annotator"), ("admin", "admin")]


def cli(data, *args, stdin=None):
    return subprocess.run([PARLERS, "-d", data] + list(args), input=stdin,
                          capture_output=True, text=True)


def db(data, sql, *args):
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def get(c, path):
    st, _, body = c.get(path)
    return st, harness.jbody(body)


def union_ms(rec, kind, hidden=()):
    """The time covered by the non-empty segments of the tiers of type
    kind, each counted once, leaving out those overlapping a hidden span."""
    spans = sorted((s["start_ms"], s["end_ms"]) for t in rec.get("tiers", [])
                   if t.get("type") == kind for s in t["segments"]
                   if s["text"].strip() != "" and s["end_ms"] > s["start_ms"]
                   and not any(a < max(s["end_ms"], s["start_ms"] + 1) and b > s["start_ms"]
                               for a, b in hidden))
    total, reach = 0, None
    for a, b in spans:
        if reach is None or a >= reach:
            total += b - a
            reach = b
        elif b > reach:
            total += b - reach
            reach = b
    return min(total, rec["duration_ms"])


def main():
    tmp = tempfile.mkdtemp(prefix="parlers-test-progress-")
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


def run_all(tmp, data):
    global srv
    ok(cli(data, "init").returncode == 0, "init")
    ids = {}
    for key, (stem, level, coll, annotated) in RECS.items():
        src = os.path.join(tmp, key)
        os.makedirs(src)
        for f in os.listdir(CORPUS):
            if f.startswith(stem + ".") and not f.endswith(".json") and (
                    annotated or f.endswith((".wav", ".ogg", ".mp3", ".flac", ".m4a"))):
                shutil.copy(os.path.join(CORPUS, f), src)
        r = cli(data, "ingest", "--json", "--access", level, "--collection", coll, src)
        lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        ok(r.returncode == 0 and len(lines) == 1 and lines[0]["status"] == "ingested",
           "%s recording ingested" % key, r.stdout + r.stderr)
        ids[key] = lines[0]["id"] if lines else 0
    for login, role in STAFF:
        r = cli(data, "user", "add", login, "--role", role, stdin=PASSWORD + "\n")
        ok(r.returncode == 0, "user add %s --role %s" % (login, role), r.stderr)
    check_user_cli(data)
    r = cli(data, "segment", str(ids["bare"]), "--json")
    seg = json.loads(r.stdout) if r.returncode == 0 else {}
    ok(r.returncode == 0 and len(seg.get("segments", [])) >= 2,
       "parlers segment makes a machine tier of empty segments", r.stderr)

    srv = Server(data, extra=["--quiet"])
    c = {"anonymous": harness.Client(srv.port)}
    for login in ["res1", "ann", "admin", "vol"]:
        c[login] = harness.Client(srv.port, login, PASSWORD, timeout=60)
        ok(c[login].login_status == 200, "%s signs in" % login, c[login].login_status)
    st, _, body = harness.request(srv.port, "POST", "/api/accounts",
                                  {"Content-Type": "application/json"},
                                  json.dumps({"login": "lise", "password": PASSWORD,
                                              "display_name": "Lise",
                                              "credit_name": "Lise Hamel",
                                              "accept_licence": True}))
    ok(st == 201, "a contributor signs up", body)
    c["lise"] = harness.Client(srv.port, "lise", PASSWORD, timeout=60)
    st, me = get(c["vol"], "/api/me")
    ok(st == 200 and me.get("role") == "contributor",
       "an account made with --role contributor signs in as a contributor", me)

    hidden = withhold(c, ids)
    check_recording_progress(c, ids, hidden)
    check_progress_roles(c, ids)
    check_help(c, ids)
    check_machine_proposal(data, c, ids)
    check_notes(c, ids)
    check_bag(data, tmp, ids)


# ---- accounts from the command line ----

def check_user_cli(data):
    r = cli(data, "user", "add", "vol", "--role", "contributor", stdin=PASSWORD + "\n")
    ok(r.returncode == 0, "user add vol --role contributor", r.stderr)
    ok(db(data, "SELECT role FROM users WHERE login = 'vol'") == [(-1,)],
       "the account is a contributor (role -1)")
    r = cli(data, "user", "role", "vol", "--role", "contributor")
    ok(r.returncode == 2 and "contributor" in r.stderr,
       "'user role --role contributor' is a usage error (exit 2)", r.stderr)
    r = cli(data, "user", "add", "x", "--role", "chief", stdin=PASSWORD + "\n")
    ok(r.returncode == 2 and "contributor" in r.stderr, "an unknown role: exit 2, the roles named",
       r.stderr)
    r = cli(data, "user", "list")
    rows = [x.split("\t") for x in r.stdout.splitlines()]
    ok(r.returncode == 0 and ["vol", "contributor", "-"] in rows and ["ann", "annotator", "-"] in rows,
       "user list prints login, role and institution", r.stdout)
    r = cli(data, "user", "list", "--json")
    d = json.loads(r.stdout) if r.returncode == 0 else {}
    roles = {u["login"]: u["role"] for u in d.get("users", [])}
    ok(roles == {"res1": "researcher", "ann": "annotator", "admin": "admin", "vol": "contributor"},
       "user list --json: every account with its role", roles)
    ok(all("email" not in u for u in d.get("users", [])), "user list never shows an e-mail field")
    r = cli(data, "user", "list", "extra")
    ok(r.returncode == 2, "user list with an argument: exit 2", r.stderr)


# ---- progress ----

def withhold(c, ids):
    """Withholds the public recording's second transcription segment;
    returns the span."""
    st, rec = get(c["admin"], "/api/recordings/%d" % ids["pub"])
    tier = next(t for t in rec["tiers"] if t["type"] == "transcription")
    s = tier["segments"][1]
    st, _, body = c["admin"].send("POST", "/api/recordings/%d/withheld" % ids["pub"],
                                  {"start_ms": s["start_ms"], "end_ms": s["end_ms"],
                                   "reason": "a name"})
    ok(st == 201, "a passage of the public recording is withheld", body)
    return [(s["start_ms"], s["end_ms"])]


def check_recording_progress(c, ids, hidden):
    st, rec = get(c["admin"], "/api/recordings/%d" % ids["pub"])
    p = rec.get("progress", {})
    ok(st == 200 and set(p) == {"duration_ms", "transcribed_ms", "translated_ms", "transcribed",
                                "translated", "pending", "untranscribed_segments"},
       "a recording's JSON has its progress", p)
    want = union_ms(rec, "transcription")
    ok(p.get("transcribed_ms") == want and 0 < want <= rec["duration_ms"],
       "staff: transcribed_ms is the union of the non-empty segments", (p, want))
    ok(abs(p.get("transcribed", -1) - want / rec["duration_ms"]) < 0.001,
       "transcribed is its share of the duration", p)
    ok(p.get("translated_ms") == union_ms(rec, "translation"), "translated_ms likewise", p)
    st, anon = get(c["anonymous"], "/api/recordings/%d" % ids["pub"])
    q = anon.get("progress", {})
    want_anon = union_ms(rec, "transcription", hidden)
    ok(q.get("transcribed_ms") == want_anon and want_anon < want,
       "a visitor: the withheld passage is not counted", (q, want_anon, want))
    st, mine = get(c["vol"], "/api/recordings/%d" % ids["pub"])
    ok(mine.get("progress") == q, "a contributor gets the visitor's figures")
    st, res = get(c["anonymous"], "/api/recordings/%d" % ids["res"])
    ok(st == 200 and "progress" not in res,
       "a restricted recording to a visitor: no progress (no transcript)", res)
    st, res = get(c["res1"], "/api/recordings/%d" % ids["res"])
    ok(st == 200 and res.get("progress", {}).get("transcribed_ms", 0) > 0,
       "to a researcher: its progress", res.get("progress"))
    st, bare = get(c["anonymous"], "/api/recordings/%d" % ids["bare"])
    b = bare.get("progress", {})
    ok(b.get("transcribed_ms") == 0 and b.get("untranscribed_segments", 0) >= 2,
       "the segmented recording: nothing transcribed, its machine segments waiting", b)


def check_progress_roles(c, ids):
    want = {"anonymous": 2, "vol": 2, "lise": 2, "res1": 3, "ann": 4, "admin": 4}
    for who, n in want.items():
        st, d = get(c[who], "/api/progress")
        names = sorted(x["name"] for x in d.get("collections", [])) if d else []
        ok(st == 200 and d.get("recordings") == n,
           "%s: /api/progress counts the %d recordings it hears" % (who, n), d)
        ok(("Caux" in names) == (n == 4), "%s: the private collection only for staff" % who,
           names)
    st, d = get(c["anonymous"], "/api/progress?collection=Cotentin")
    ok(st == 200 and d.get("collection") == "Cotentin" and d.get("recordings") == 1
       and "collections" not in d, "a collection by name: its figures alone", d)
    cid = get(c["admin"], "/api/recordings/%d" % ids["pub"])[1]["collection_id"]
    st, e = get(c["anonymous"], "/api/progress?collection=%d" % cid)
    ok(st == 200 and e.get("collection") == "Cotentin" and e.get("recordings") == 1,
       "the same collection by id", e)
    st, d = get(c["res1"], "/api/progress?collection=Cotentin")
    ok(st == 200 and d.get("recordings") == 2, "a researcher counts the restricted one too", d)
    for who in ["anonymous", "vol", "res1"]:
        st, d = get(c[who], "/api/progress?collection=Caux")
        ok(st == 404 and "error" in d, "%s: a private collection is 404" % who, (st, d))
    st, d = get(c["admin"], "/api/progress?collection=Caux")
    ok(st == 200 and d.get("recordings") == 1, "admin: the private collection's progress", d)
    st, d = get(c["anonymous"], "/api/progress?collection=Nowhere")
    ok(st == 404, "an unknown collection: 404", d)
    for page in ["/help-transcribe", "/help-transcribe?collection=Jersey"]:
        for who in ["anonymous", "vol", "ann"]:
            st, _, body = c[who].get(page)
            ok(st == 200 and b'id="ht-list"' in body, "%s: GET %s is the page" % (who, page), st)


def check_help(c, ids):
    for who in ["anonymous", "vol", "res1", "admin"]:
        st, d = get(c[who], "/api/help-transcribe")
        got = [r["id"] for r in d.get("recordings", [])] if d else []
        ok(st == 200 and set(got) <= {ids["pub"], ids["bare"]} and got[:1] == [ids["bare"]],
           "%s: only public recordings, the untranscribed one first" % who, got)
        shares = [r["progress"]["transcribed"] for r in d.get("recordings", [])]
        ok(shares == sorted(shares) and all(x < 1 for x in shares),
           "%s: least transcribed first, none complete" % who, shares)
    st, d = get(c["anonymous"], "/api/help-transcribe?limit=1&offset=1")
    ok(st == 200 and d["offset"] == 1 and len(d["recordings"]) <= 1
       and d["total"] == len(get(c["anonymous"], "/api/help-transcribe")[1]["recordings"]),
       "limit and offset page the list; total counts all", d)
    r0 = get(c["anonymous"], "/api/help-transcribe")[1]["recordings"][0]
    ok(r0.get("title") and r0.get("collection") == "Jersey" and "progress" in r0,
       "an item has its title, collection and progress", r0)
    st, d = get(c["anonymous"], "/api/help-transcribe?collection=Cotentin")
    ok(st == 200 and [r["id"] for r in d["recordings"]] == [ids["pub"]],
       "a collection's list: its public recordings", d)
    for q in ["limit=0x", "limit=500", "offset=-1", "limit=-3"]:
        st, d = get(c["anonymous"], "/api/help-transcribe?" + q)
        ok(st == 400 and d and "error" in d, "?%s: 400 with a sentence" % q, (st, d))


# ---- proposals on automatic segmentation ----

def check_machine_proposal(data, c, ids):
    st, rec = get(c["lise"], "/api/recordings/%d" % ids["bare"])
    tier = next((t for t in rec.get("tiers", []) if t.get("origin") == "machine"
                 or t["name"] == "segments"), None)
    ok(tier is not None and all(s["text"] == "" for s in tier["segments"]),
       "the visitor sees the machine tier's empty segments", rec.get("tiers"))
    if not tier:
        return
    seg = tier["segments"][0]
    ok(db(data, "SELECT origin FROM segments WHERE id = ?", seg["id"]) == [("machine",)],
       "the segment is marked as made by a machine")
    before = rec["progress"]
    st, _, body = c["lise"].send("POST", "/api/segments/%d/proposals" % seg["id"],
                                 {"text": "Ch'est au marchi que j'allons"})
    p = harness.jbody(body) or {}
    ok(st == 201 and p.get("kind") == "transcription" and p.get("segment_id") == seg["id"],
       "a contributor proposes a text for an empty machine segment: 201 transcription", body)
    ok(db(data, "SELECT text FROM segments WHERE id = ?", seg["id"]) == [("",)],
       "the segment is unchanged until review")
    st, rec = get(c["anonymous"], "/api/recordings/%d" % ids["bare"])
    ok(rec["progress"]["pending"] == before["pending"] + 1,
       "progress counts the proposal as awaiting review", rec["progress"])
    st, d = get(c["anonymous"], "/api/progress?collection=Jersey")
    ok(d.get("pending") == before["pending"] + 1, "so does its collection's", d)
    st, _, body = c["vol"].send("PATCH", "/api/segments/%d" % seg["id"],
                                {"version": seg["version"], "text": "direct"})
    ok(st == 403, "a contributor cannot edit the machine tier directly", st)
    st, _, body = c["ann"].send("POST", "/api/proposals/%d/accept" % p.get("id", 0))
    a = harness.jbody(body) or {}
    ok(st == 200 and (a.get("segment") or {}).get("text") == "Ch'est au marchi que j'allons",
       "the annotator accepts: the segment has the text", body)
    row = db(data, "SELECT text, origin, confidence FROM segments WHERE id = ?", seg["id"])
    ok(row and row[0][0] == "Ch'est au marchi que j'allons" and row[0][1] is None,
       "accepting clears that segment's machine mark", row)
    others = db(data, "SELECT count(*) FROM segments WHERE tier_id = ? AND origin = 'machine'",
                tier["id"])
    ok(others == [(len(tier["segments"]) - 1,)], "the other machine segments keep theirs",
       others)
    ok(db(data, "SELECT origin FROM tiers WHERE id = ?", tier["id"]) == [("machine",)],
       "the tier keeps its origin")
    st, hist = get(c["ann"], "/api/recordings/%d/history" % ids["bare"])
    entry = next((h for h in (hist or {}).get("history", hist or [])
                  if isinstance(h, dict) and h.get("contributor") == "lise"), None)
    ok(entry is not None and entry.get("login") == "ann",
       "the history names the reviewer and the contributor", hist)
    st, rec = get(c["anonymous"], "/api/recordings/%d" % ids["bare"])
    pr = rec["progress"]
    ok(pr["transcribed_ms"] == seg["end_ms"] - seg["start_ms"] and pr["pending"] == 0
       and pr["untranscribed_segments"] == before["untranscribed_segments"] - 1,
       "progress moves: the segment transcribed, nothing pending, one fewer waiting", pr)
    st, d = get(c["anonymous"], "/api/recordings/%d/contributors" % ids["bare"])
    ok([x["name"] for x in d.get("contributors", [])] == ["Lise Hamel"],
       "the recording credits the contributor", d)


# ---- notes ----

def check_notes(c, ids):
    st, rec = get(c["lise"], "/api/recordings/%d" % ids["pub"])
    tier = next(t for t in rec["tiers"] if t["type"] == "transcription")
    seg = tier["segments"][0]
    st, before = get(c["anonymous"], "/api/recordings/%d" % ids["pub"])
    st, _, body = c["lise"].send("POST", "/api/segments/%d/proposals" % seg["id"],
                                 {"text": "C'est ma grand-tante, de Réville", "kind": "note"})
    n = harness.jbody(body) or {}
    ok(st == 201 and n.get("kind") == "note", "a note: 201", body)
    st, rec = get(c["anonymous"], "/api/recordings/%d" % ids["pub"])
    ok(rec["progress"]["pending"] == before["progress"]["pending"],
       "a note is not counted as awaiting review of the transcript", rec["progress"])
    st, q = get(c["ann"], "/api/proposals?status=pending&kind=note")
    ok(st == 200 and [x["id"] for x in q["proposals"]] == [n.get("id")],
       "staff find it in the queue by kind", q)
    st, _, body = c["ann"].send("POST", "/api/proposals/%d/accept" % n.get("id", 0))
    ok(st == 200 and (harness.jbody(body) or {}).get("segment") is None,
       "accepting a note changes no segment", body)
    st, after = get(c["anonymous"], "/api/recordings/%d" % ids["pub"])
    ok([s["text"] for t in after["tiers"] for s in t["segments"]]
       == [s["text"] for t in before["tiers"] for s in t["segments"]],
       "the transcript is unchanged")
    st, d = get(c["anonymous"], "/api/recordings/%d/contributors" % ids["pub"])
    ok([x["name"] for x in d.get("contributors", [])] == ["Lise Hamel"],
       "the recording credits the note's author", d)
    st, d = get(c["anonymous"], "/api/contributors/lise")
    ok(st == 200 and d.get("notes") == 1, "the contributor's page counts the accepted note", d)
    ok(all(x["kind"] != "note" for x in d.get("accepted", [])) and
       "grand-tante" not in json.dumps(d), "without showing the note's text", d)


# ---- credit in the bag ----

def check_bag(data, tmp, ids):
    out = os.path.join(tmp, "bag.zip")
    r = cli(data, "export", "--ids", "%d,%d" % (ids["pub"], ids["bare"]), "--audio", "none",
            "-o", out)
    ok(r.returncode == 0, "export of the two public recordings", r.stderr)
    if r.returncode != 0:
        return
    with zipfile.ZipFile(out) as z:
        name = next(n for n in z.namelist() if n.endswith("/bag-info.txt") or n == "bag-info.txt")
        info = io.TextIOWrapper(z.open(name), encoding="utf-8").read()
    lines = info.splitlines()
    ok("Contributor: Lise Hamel" in lines, "bag-info names the credited contributor", info)
    ok(lines.count("Contributor: Lise Hamel") == 1, "once", info)
    ok(not any(x.startswith("Transcriber: Lise Hamel") for x in lines),
       "a contributor is not listed again as a transcriber", info)
    ok(all(":" in x for x in lines if x), "every line is a label and a value", info)
    out2 = os.path.join(tmp, "bag-priv.zip")
    r = cli(data, "export", "--ids", str(ids["priv"]), "--audio", "none", "-o", out2)
    with zipfile.ZipFile(out2) as z:
        name = next(n for n in z.namelist() if n.endswith("bag-info.txt"))
        info2 = io.TextIOWrapper(z.open(name), encoding="utf-8").read()
    ok("Contributor:" not in info2, "a bag without contributions names none", info2)


if __name__ == "__main__":
    sys.exit(main())
