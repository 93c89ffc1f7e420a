#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Access control, sign-in and editing against a real `parlers serve`.

Users are made with the real CLI (`parlers user add`), recordings are
ingested from the sample corpus and set to each access level through the
API by an admin.  Then:

- a table, role x access level x way out (page, recording API, Opus copy,
  original, annotation export, clip, search hit), checked cell by cell;
- sessions: forged, expired and another user's cookies, logout, cookie
  attributes, login limits (429 with Retry-After);
- writes: missing or wrong CSRF token, oversized bodies, invalid JSON,
  segments ending before they start or past the end, markup in text: a
  4xx with a message and nothing changed in the database;
- two annotators on one segment: the second gets 409 with the current one;
- SIGKILL in the middle of a burst of acknowledged writes: every
  acknowledged edit is there after a restart;
- a withheld span: its text reaches no visitor (API, page, export,
  search), its audio is silent in the visitors' copy (ffmpeg volumedetect),
  staff still read and hear everything.

Python standard library only (and ffmpeg for the loudness check); TAP.
"""
import hashlib
import http.client
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from harness import CORPUS, PARLERS, Server, diag, done, ok  # noqa: E402


srv = None


def request(method, path, headers=None, body=None, timeout=30):
    """(status, headers with lower-case names, body bytes)."""
    return harness.request(srv.port, method, path, headers, body, timeout)


jbody = harness.jbody


def Client(login=None, password=None):
    """A browser on this test's server."""
    return harness.Client(srv.port, login, password)


def db_state(data):
    """What must not change when a write is refused."""
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    try:
        return (con.execute("SELECT count(*), total(version), group_concat(text, '|')"
                            " FROM (SELECT * FROM segments ORDER BY id)").fetchone(),
                con.execute("SELECT count(*) FROM audit").fetchone()[0],
                con.execute("SELECT group_concat(access) FROM recordings").fetchone()[0],
                con.execute("SELECT group_concat(name, '|') FROM tiers").fetchone()[0])
    finally:
        con.close()


def main():
    global srv
    tmp = tempfile.mkdtemp(prefix="parlers-test-access-")
    data = os.path.join(tmp, "data")
    try:
        run_all(tmp, data)
    except Exception as e:  # a crash is a failed test, not a lost plan
        import traceback
        ok(False, "the tests ran to the end", traceback.format_exc())
    finally:
        if srv:
            srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


PASSWORDS = {"admin": "admin-pass-1", "ann": "annotator-pass-1",
             "ann2": "annotator-pass-2", "res": "researcher-pass-1"}

STEMS = ["cotentin-1976-la-mezoun", "cotentin-1977-le-temps-qu-il-fait",
         "jersey-1994-la-maison-et-la-famille", "caux-1981-le-temps-des-foins"]


def run_all(tmp, data):
    global srv
    src = os.path.join(tmp, "in")
    os.makedirs(src)
    for stem in STEMS:
        for f in os.listdir(CORPUS):
            if f.startswith(stem + "."):
                shutil.copy(os.path.join(CORPUS, f), src)
    r = subprocess.run([PARLERS, "-d", data, "init"], capture_output=True)
    r = subprocess.run([PARLERS, "-d", data, "ingest", "--json", src], capture_output=True,
                       text=True)
    recs = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    ids = {os.path.basename(x["path"]).split(".")[0]: x["id"] for x in recs
           if x.get("status") == "ingested"}
    ok(len(ids) == len(STEMS), "four recordings are ingested", r.stdout + r.stderr)

    # users, with the real CLI: stdin, --password-file, and the errors
    roles = {"admin": "admin", "ann": "annotator", "ann2": "annotator", "res": "researcher"}
    for login, role in roles.items():
        if login == "ann2":
            pf = os.path.join(tmp, "pw")
            with open(pf, "w") as f:
                f.write(PASSWORDS[login] + "\n")
            r = subprocess.run([PARLERS, "-d", data, "user", "add", login, "--role", role,
                                "--password-file", pf], capture_output=True, text=True)
        else:
            r = subprocess.run([PARLERS, "-d", data, "user", "add", login, "--role", role],
                               input=PASSWORDS[login] + "\n", capture_output=True, text=True)
        ok(r.returncode == 0, "user add %s --role %s" % (login, role), r.stderr)
    r = subprocess.run([PARLERS, "-d", data, "user", "add", "ann", "--role", "admin"],
                       input="whatever-pass\n", capture_output=True, text=True)
    ok(r.returncode == 1 and "already exists" in r.stderr, "a taken login: exit 1, one line",
       r.stderr)
    r = subprocess.run([PARLERS, "-d", data, "user", "add", "zed", "--role", "boss"],
                       input="whatever-pass\n", capture_output=True, text=True)
    ok(r.returncode == 2, "an unknown role: usage error (exit 2)", r.stderr)
    r = subprocess.run([PARLERS, "-d", data, "user", "--help"], capture_output=True, text=True)
    ok(r.returncode == 0 and "passwd" in r.stdout, "user --help")
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    leaked = con.execute("SELECT count(*) FROM users WHERE instr(pwhash, 'pass-1') > 0"
                         " OR pwhash NOT LIKE '$argon2id$%'").fetchone()[0]
    con.close()
    ok(leaked == 0, "passwords are stored as Argon2id hashes only")

    srv = Server(data)
    clients = {"anonymous": Client()}
    for login in ["res", "ann", "admin"]:
        clients[login] = Client(login, PASSWORDS[login])
        ok(clients[login].login_status == 200 and clients[login].cookie and clients[login].csrf,
           "%s signs in" % login)
    admin = clients["admin"]

    # one recording per level, each with a word of its own to search for
    levels = {"public": ids[STEMS[0]], "restricted": ids[STEMS[1]], "private": ids[STEMS[2]]}
    words = {"public": "xylophonique", "restricted": "brontosaurus", "private": "quetzalcoatl"}
    firsts = {}
    for level, rid in levels.items():
        st, _, body = admin.send("PATCH", "/api/recordings/%d" % rid, {"access": level})
        ok(st == 200 and jbody(body).get("access") == level,
           "admin sets recording %d to %s" % (rid, level), body)
        st, _, body = admin.get("/api/recordings/%d" % rid)
        rec = jbody(body)
        seg = rec["tiers"][0]["segments"][0]
        st, _, body = admin.send("PATCH", "/api/segments/%d" % seg["id"],
                                 {"version": seg["version"],
                                  "text": seg["text"] + " " + words[level]})
        ok(st == 200, "admin marks a segment of the %s recording" % level, body)
        firsts[level] = jbody(body)

    check_table(levels, words, firsts, clients)
    check_sessions(data, clients, levels)
    check_bad_writes(data, clients, levels)
    check_conflict(levels)
    check_history(data, clients, levels)
    check_withheld(tmp, data, clients, ids[STEMS[3]])
    check_proxy(data)
    check_kill(tmp, data, levels)


# ---- the table ----

WAYS = ["page", "api", "opus", "orig", "export", "clip", "search"]

# what each role gets of each level, way by way: a status, or for page and
# api "full" (transcript there) / "meta" (listed, no transcript) / 404,
# for search "hit" / "none"
EXPECTED = {
    "public": {
        "anonymous": ["full", "full", 200, 403, 200, 200, "hit"],
        "res": ["full", "full", 200, 200, 200, 200, "hit"],
        "ann": ["full", "full", 200, 200, 200, 200, "hit"],
        "admin": ["full", "full", 200, 200, 200, 200, "hit"],
    },
    "restricted": {
        "anonymous": ["meta", "meta", 403, 403, 403, 403, "none"],
        "res": ["full", "full", 200, 200, 200, 200, "hit"],
        "ann": ["full", "full", 200, 200, 200, 200, "hit"],
        "admin": ["full", "full", 200, 200, 200, 200, "hit"],
    },
    "private": {
        "anonymous": [404, 404, 404, 404, 404, 404, "none"],
        "res": [404, 404, 404, 404, 404, 404, "none"],
        "ann": ["full", "full", 200, 200, 200, 200, "hit"],
        "admin": ["full", "full", 200, 200, 200, 200, "hit"],
    },
}


def observe(c, way, rid, word):
    if way in ("page", "api"):
        path = "/recordings/%d" % rid if way == "page" else "/api/recordings/%d" % rid
        st, _, body = c.get(path)
        if st != 200:
            return st
        return "full" if word.encode() in body else "meta"
    if way == "opus":
        return _status_2xx(c.get("/media/%d.opus" % rid, {"Range": "bytes=0-99"})[0])
    if way == "orig":
        return _status_2xx(c.get("/media/%d.orig" % rid, {"Range": "bytes=0-99"})[0])
    if way == "export":
        return c.get("/api/recordings/%d/annotations.json" % rid)[0]
    if way == "clip":
        return c.get("/api/recordings/%d/clip.wav?start=1&end=2" % rid)[0]
    if way == "search":
        st, _, body = c.get("/api/search?q=" + word)
        j = jbody(body) or {}
        return "hit" if any(h.get("recording_id") == rid for h in j.get("hits", [])) else "none"
    return None


def _status_2xx(st):
    return 200 if st in (200, 206) else st


def check_table(levels, words, firsts, clients):
    for level, rid in levels.items():
        for role, want_row in EXPECTED[level].items():
            got_row = [observe(clients[role], way, rid, words[level]) for way in WAYS]
            for way, want, got in zip(WAYS, want_row, got_row):
                ok(got == want, "%-10s %-10s %-6s: %s" % (role, level, way, want),
                   "got %r" % (got,))


# ---- sessions ----

def check_sessions(data, clients, levels):
    priv = levels["private"]
    ann = clients["ann"]
    h = ann.login_headers.get("set-cookie", "")
    ok("HttpOnly" in h and "SameSite=Strict" in h and "Path=/" in h and "Secure" not in h,
       "the cookie is HttpOnly, SameSite=Strict, Path=/ (no Secure over plain HTTP)", h)
    c = Client()
    c.login("res", PASSWORDS["res"], {"X-Forwarded-Proto": "https"})
    ok("Secure" in c.login_headers.get("set-cookie", ""), "behind a TLS proxy it is Secure")

    st, _, body = ann.get("/api/me")
    j = jbody(body) or {}
    ok(st == 200 and j.get("login") == "ann" and j.get("role") == "annotator" and
       j.get("csrf_token") == ann.csrf, "/api/me tells who is signed in", body)
    ok(Client().get("/api/me")[0] == 401, "/api/me without a session: 401")

    forged = Client()
    forged.cookie = ann.cookie[:-4] + ("AAAA" if not ann.cookie.endswith("AAAA") else "BBBB")
    ok(forged.get("/api/me")[0] == 401, "a forged cookie is nobody")
    ok(forged.get("/api/recordings/%d" % priv)[0] == 404,
       "and sees what anonymous visitors see (a private recording is a 404)")
    garbage = Client()
    garbage.cookie = "x" * 5000
    ok(garbage.get("/api/recordings/%d" % priv)[0] == 404, "so does a cookie of garbage")

    st, _, body = Client().send("POST", "/api/login", {"login": "ann", "password": "nope-nope"})
    ok(st == 401 and "wrong" in (jbody(body) or {}).get("error", ""),
       "a wrong password: 401", body)
    st, _, body = Client().send("POST", "/api/login", {"login": "nobody", "password": "nope-nope"})
    ok(st == 401, "an unknown login: the same 401", body)
    st, _, _ = request("POST", "/api/login", {"Content-Type": "application/x-www-form-urlencoded"},
                       "login=ann&password=annotator-pass-1")
    ok(st == 415, "a login from a form (not JSON) is refused: 415")

    # expiry: the session's clock is moved back past the idle limit
    exp = Client("ann", PASSWORDS["ann"])
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    con.execute("UPDATE sessions SET last_seen = last_seen - 13 * 3600,"
                " created_at = created_at - 13 * 3600 WHERE id_hash = ?",
                (hashlib.sha256(exp.cookie.encode()).digest(),))
    con.commit()
    con.close()
    ok(exp.get("/api/me")[0] == 401, "a session idle for 13 hours has expired")

    # logout
    out = Client("ann", PASSWORDS["ann"])
    st, hd, _ = out.send("POST", "/api/logout", csrf=False)
    ok(st == 403, "logout without the CSRF token is refused")
    st, hd, _ = out.send("POST", "/api/logout")
    ok(st == 200 and "Max-Age=0" in hd.get("set-cookie", ""), "logout clears the cookie")
    ok(out.get("/api/me")[0] == 401, "and the old cookie no longer works")

    # the CLI ends sessions when the password or the role changes
    sub = Client("res", PASSWORDS["res"])
    r = subprocess.run([PARLERS, "-d", data, "user", "passwd", "res"],
                       input=PASSWORDS["res"] + "\n", capture_output=True, text=True)
    ok(r.returncode == 0 and sub.get("/api/me")[0] == 401,
       "user passwd ends the account's sessions", r.stderr)
    clients["res"].login("res", PASSWORDS["res"])
    ok(clients["res"].login_status == 200, "and the new password signs in")
    subprocess.run([PARLERS, "-d", data, "user", "add", "temp"], input="temp-pass-1\n",
                   capture_output=True, text=True)
    tmpc = Client("temp", "temp-pass-1")
    r = subprocess.run([PARLERS, "-d", data, "user", "del", "temp"], capture_output=True,
                       text=True)
    ok(r.returncode == 0 and tmpc.get("/api/me")[0] == 401, "user del ends its sessions too")
    r = subprocess.run([PARLERS, "-d", data, "user", "del", "temp"], capture_output=True,
                       text=True)
    ok(r.returncode == 1 and r.stderr.count("\n") == 1, "del of an unknown login: exit 1",
       r.stderr)

    # login limits: on an account of its own, so the others stay usable
    subprocess.run([PARLERS, "-d", data, "user", "add", "victim"], input="victim-pass-1\n",
                   capture_output=True, text=True)
    for i in range(5):
        Client().send("POST", "/api/login", {"login": "victim", "password": "guess-%d" % i})
    st, hd, body = Client().send("POST", "/api/login",
                                 {"login": "victim", "password": "victim-pass-1"})
    ok(st == 429 and int(hd.get("retry-after", "0")) > 0,
       "after 5 failures even the right password gets 429 with Retry-After", (st, hd))
    log = srv.log_text()
    ok("login failed for 'victim'" in log and "guess-" not in log,
       "failures are logged, never the password")

    # wrong passwords sent all at once: each attempt is counted before its
    # check, so only the limit's worth are checked (401) and the rest 429
    subprocess.run([PARLERS, "-d", data, "user", "add", "crowd"], input="crowd-pass-1\n",
                   capture_output=True, text=True)
    answers = []
    start = threading.Barrier(64)

    def guess(i):
        c = Client()
        start.wait()
        answers.append(c.send("POST", "/api/login",
                              {"login": "crowd", "password": "guess-%d" % i})[0])

    crowd = [threading.Thread(target=guess, args=(i,)) for i in range(64)]
    for t in crowd:
        t.start()
    for t in crowd:
        t.join()
    ok(answers.count(401) == 5 and answers.count(429) == 59,
       "64 wrong passwords at once: 5 are checked, 59 get 429",
       {st: answers.count(st) for st in set(answers)})


# ---- refused writes change nothing ----

def check_bad_writes(data, clients, levels):
    ann, res = clients["ann"], clients["res"]
    rid = levels["public"]
    rec = jbody(ann.get("/api/recordings/%d" % rid)[2])
    tier = rec["tiers"][0]
    seg = tier["segments"][1]
    dur = rec["duration_ms"]
    path_new = "/api/recordings/%d/segments" % rid
    path_seg = "/api/segments/%d" % seg["id"]
    good_new = {"tier_id": tier["id"], "start_ms": 0, "end_ms": 10, "text": "x"}
    before = db_state(data)

    def refused(want, what, st_body):
        st, hd, body = st_body
        j = jbody(body) or {}
        ok(st == want and isinstance(j.get("error"), str) and j["error"],
           "%s: %d with a message" % (what, want), (st, body[:300]))
        ok(db_state(data) == before, "%s: nothing changed" % what)

    refused(401, "anonymous write", Client().send("PATCH", path_seg, {"version": 1, "text": "x"}))
    refused(403, "no CSRF token", ann.send("PATCH", path_seg, {"version": seg["version"],
                                                              "text": "x"}, csrf=False))
    refused(403, "a wrong CSRF token", ann.send("PATCH", path_seg,
                                                {"version": seg["version"], "text": "x"},
                                                extra={"X-CSRF-Token": "A" * 43}))
    # another user's cookie with this user's token: tokens are per session
    mixed = Client()
    mixed.cookie, mixed.csrf = res.cookie, ann.csrf
    refused(403, "another session's CSRF token", mixed.send("PATCH", path_seg,
                                                            {"version": seg["version"],
                                                             "text": "x"}))
    refused(403, "a researcher writing", res.send("PATCH", path_seg,
                                                 {"version": seg["version"], "text": "x"}))
    refused(413, "a body over 64 KiB", ann.send("POST", path_new,
                                                raw=json.dumps(dict(good_new, text="a" * 70000))))
    refused(400, "invalid JSON", ann.send("POST", path_new, raw='{"tier_id": 1, "start_ms": '))
    refused(400, "JSON that is not an object", ann.send("POST", path_new, raw="[1, 2]"))
    refused(400, "a time that is not a number", ann.send("POST", path_new,
                                                        dict(good_new, start_ms="soon")))
    refused(422, "a segment ending before it starts",
            ann.send("POST", path_new, dict(good_new, start_ms=500, end_ms=100)))
    refused(422, "a segment past the end", ann.send("POST", path_new,
                                                    dict(good_new, start_ms=dur - 10,
                                                         end_ms=dur + 1000)))
    refused(422, "a segment overlapping its neighbour",
            ann.send("POST", path_new, dict(good_new, start_ms=seg["start_ms"],
                                            end_ms=seg["end_ms"])))
    refused(422, "a segment of no length on a tier of intervals",
            ann.send("POST", path_new, dict(good_new, start_ms=0, end_ms=0)))
    refused(422, "an edit that leaves an interval no length",
            ann.send("PATCH", path_seg, {"version": seg["version"],
                                         "end_ms": seg["start_ms"]}))
    refused(422, "an edit ending before it starts",
            ann.send("PATCH", path_seg, {"version": seg["version"], "end_ms": 0,
                                         "start_ms": 10}))
    refused(400, "a PATCH without its version", ann.send("PATCH", path_seg, {"text": "x"}))
    refused(404, "an unknown segment", ann.send("PATCH", "/api/segments/999999",
                                                {"version": 1, "text": "x"}))
    refused(422, "a tier of another recording",
            ann.send("POST", "/api/recordings/%d/segments" % levels["restricted"], good_new))
    refused(400, "an unknown access level", ann.send("PATCH", "/api/recordings/%d" % rid,
                                                     {"access": "secret"}))
    refused(409, "a tier name already taken", ann.send("POST", "/api/recordings/%d/tiers" % rid,
                                                      {"name": tier["name"]}))
    refused(405, "a method a route does not take", ann.send("PUT", path_seg, {"version": 1}))

    # markup is text: stored as sent, escaped by the page
    script = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    st, _, body = ann.send("PATCH", path_seg, {"version": seg["version"], "text": script})
    ok(st == 200 and jbody(body)["text"] == script, "markup in text is kept as text", body)
    st, _, page = Client().get("/recordings/%d" % rid)
    ok(st == 200 and b"<script>alert(" not in page and b"<img src=x" not in page,
       "and the page never carries it as markup")
    st, _, body = ann.send("PATCH", path_seg, {"version": seg["version"] + 1,
                                               "text": seg["text"]})
    ok(st == 200, "the text is put back")

    # the other writes, each answered with what now is
    st, _, body = ann.send("POST", "/api/recordings/%d/tiers" % rid,
                           {"name": "notes de terrain", "type": "note", "language": "fr"})
    t = jbody(body) or {}
    ok(st == 201 and t.get("name") == "notes de terrain", "a tier is added: 201", body)
    st, _, body = ann.send("PATCH", "/api/tiers/%d" % t.get("id", 0), {"name": "remarques"})
    ok(st == 200 and (jbody(body) or {}).get("name") == "remarques", "and renamed", body)
    st, _, body = ann.send("POST", path_new, {"tier_id": t.get("id"), "start_ms": 0,
                                              "end_ms": 500, "text": "née  e\u0301"})
    s = jbody(body) or {}
    ok(st == 201 and s.get("version") == 1 and s.get("text") == "née  é" and
       set(s) >= {"id", "tier_id", "start_ms", "end_ms", "text", "version"},
       "a segment is added: 201, its text in NFC", body)
    st, _, body = ann.send("DELETE", "/api/segments/%d?version=1" % s.get("id", 0))
    ok(st == 200, "and deleted with its version in the query", body)

    # a whole tier deleted in one change, and put back by its history row
    tid = t.get("id", 0)
    texts = ["zorglub %d" % i for i in range(3)]
    for i, text in enumerate(texts):
        ann.send("POST", path_new, {"tier_id": tid, "start_ms": 1000 * i, "end_ms": 1000 * i + 800,
                                    "text": text})
    before = db_state(data)
    refused(401, "an anonymous tier deletion", Client().send("DELETE", "/api/tiers/%d" % tid))
    refused(403, "a researcher deleting a tier", res.send("DELETE", "/api/tiers/%d" % tid))
    refused(403, "a tier deletion without its CSRF token",
            ann.send("DELETE", "/api/tiers/%d" % tid, csrf=False))
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    parent = con.execute("SELECT t.id FROM tiers t WHERE EXISTS (SELECT 1 FROM tiers c"
                         " WHERE c.parent_id = t.id) LIMIT 1").fetchone()
    con.close()
    if parent:
        refused(422, "deleting a tier other tiers depend on",
                ann.send("DELETE", "/api/tiers/%d" % parent[0]))
    refused(404, "deleting an unknown tier", ann.send("DELETE", "/api/tiers/999999"))
    st, _, body = ann.send("DELETE", "/api/tiers/%d" % tid)
    ok(st == 200 and (jbody(body) or {}).get("segments") == 3,
       "a tier is deleted with its segments: 200, how many", body)
    rec2 = jbody(ann.get("/api/recordings/%d" % rid)[2])
    ok(all(x["id"] != tid for x in rec2["tiers"]), "and the recording has it no more")
    st, _, body = Client().get("/api/search?q=zorglub")
    ann_search = jbody(ann.get("/api/search?q=zorglub")[2]) or {}
    ok(ann_search.get("total") == 0, "nor does search", ann_search)
    hist = jbody(ann.get("/api/recordings/%d/history" % rid)[2])["history"]
    entry = next((h for h in hist if h["action"] == "tier.delete"), None)
    ok(entry is not None, "the deletion is in the history")
    st, _, body = ann.send("POST", "/api/history/%d/revert" % (entry or {}).get("id", 0))
    ok(st == 200 and (jbody(body) or {}).get("id") == tid, "reverting it puts the tier back", body)
    rec3 = jbody(ann.get("/api/recordings/%d" % rid)[2])
    back = next((x for x in rec3["tiers"] if x["id"] == tid), {})
    ok([x["text"] for x in back.get("segments", [])] == texts, "with its segments",
       back.get("segments"))
    ann_search = jbody(ann.get("/api/search?q=zorglub")[2]) or {}
    ok(ann_search.get("total") == 3, "found by search again", ann_search.get("total"))
    st, _, body = ann.send("POST", "/api/history/%d/revert" % (entry or {}).get("id", 0))
    ok(st == 409, "the same deletion cannot be undone twice: 409", (st, body[:200]))


# ---- two annotators, one segment ----

def check_conflict(levels):
    a = Client("ann", PASSWORDS["ann"])
    b = Client("ann2", PASSWORDS["ann2"])
    rec = jbody(a.get("/api/recordings/%d" % levels["public"])[2])
    seg = rec["tiers"][0]["segments"][2]
    st1, _, body1 = a.send("PATCH", "/api/segments/%d" % seg["id"],
                           {"version": seg["version"], "text": "first writer"})
    st2, _, body2 = b.send("PATCH", "/api/segments/%d" % seg["id"],
                           {"version": seg["version"], "text": "second writer"})
    ok(st1 == 200, "the first annotator's edit is taken", body1)
    j = jbody(body2) or {}
    cur = j.get("current") or {}
    ok(st2 == 409 and j.get("error") and cur.get("text") == "first writer" and
       cur.get("version") == seg["version"] + 1,
       "the second gets 409 with the current segment", body2)
    st, _, body = b.send("PATCH", "/api/segments/%d" % seg["id"],
                         {"version": cur.get("version"), "text": "second writer"})
    ok(st == 200, "and can edit from the version it now has", body)
    st3, _, body3 = a.send("DELETE", "/api/segments/%d" % seg["id"],
                           {"version": seg["version"] + 1})
    ok(st3 == 409, "a delete from a stale version is a conflict too", body3)


# ---- history ----

def check_history(data, clients, levels):
    ann, res = clients["ann"], clients["res"]
    rid = levels["public"]
    st, _, body = ann.get("/api/recordings/%d/history" % rid)
    h = (jbody(body) or {}).get("history", [])
    ok(st == 200 and len(h) >= 5 and all({"id", "at", "login", "action", "before", "after"}
                                         <= set(x) for x in h),
       "staff read the history (%d entries)" % len(h), body[:300])
    ok(res.get("/api/recordings/%d/history" % rid)[0] == 403, "researchers may not")
    ok(Client().get("/api/recordings/%d/history" % rid)[0] == 401, "nor visitors")
    upd = next((x for x in h if x["action"] == "segment.update" and x["login"] == "ann2"), None)
    if not ok(upd is not None, "the second annotator's edit is in it"):
        return
    st, _, body = ann.send("POST", "/api/history/%d/revert" % upd["id"])
    ok(st == 200 and (jbody(body) or {}).get("text") == "first writer",
       "reverting it brings back what was before", body)
    st, _, body = ann.send("POST", "/api/history/%d/revert" % upd["id"])
    ok(st == 409, "reverting it again: 409, it moved on", body)
    st, _, body = ann.get("/api/recordings/%d/history?limit=1" % rid)
    last = ((jbody(body) or {}).get("history") or [{}])[0]
    ok(last.get("reverts") == upd["id"], "the revert is itself in the history", body)
    before = db_state(data)
    st, _, _ = res.send("POST", "/api/history/%d/revert" % upd["id"])
    ok(st == 403 and db_state(data) == before, "a researcher's revert: 403, nothing changed")


# ---- withheld spans ----

def loudness(path, start_ms, end_ms):
    """max_volume in dB over [start, end) of an audio file, by ffmpeg."""
    r = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-ss", "%.3f" % (start_ms / 1000),
                        "-t", "%.3f" % ((end_ms - start_ms) / 1000), "-i", path,
                        "-af", "volumedetect", "-f", "null", "-"],
                       capture_output=True, text=True)
    m = re.search(r"max_volume: (-?[\d.]+|-inf) dB", r.stderr)
    if not m:
        return None
    return -200.0 if m.group(1) == "-inf" else float(m.group(1))


def check_withheld(tmp, data, clients, rid):
    admin, res, ann = clients["admin"], clients["res"], clients["ann"]
    anon = clients["anonymous"]
    st, _, _ = admin.send("PATCH", "/api/recordings/%d" % rid, {"access": "public"})
    rec = jbody(admin.get("/api/recordings/%d" % rid)[2])
    seg = max(rec["tiers"][0]["segments"], key=lambda s: s["end_ms"] - s["start_ms"])
    word = "ornithorynque"
    st, _, body = admin.send("PATCH", "/api/segments/%d" % seg["id"],
                             {"version": seg["version"], "text": seg["text"] + " " + word})
    span = (seg["start_ms"], seg["end_ms"])
    before = db_state(data)
    st, _, body = res.send("POST", "/api/recordings/%d/withheld" % rid,
                           {"start_ms": span[0], "end_ms": span[1]})
    ok(st == 403 and db_state(data) == before, "a researcher may not withhold a span")
    st, _, body = admin.send("POST", "/api/recordings/%d/withheld" % rid,
                             {"start_ms": span[0], "end_ms": span[1],
                              "reason": "the speaker asked"})
    w = jbody(body) or {}
    ok(st == 201 and w.get("start_ms") == span[0], "staff withhold %d-%d ms" % span, body)

    for who, c in [("anonymous", anon), ("researcher", res)]:
        st, _, body = c.get("/api/recordings/%d" % rid)
        ok(st == 200 and word.encode() not in body and b"the speaker asked" not in body,
           "%s: the passage is gone from the recording JSON" % who)
        st, _, body = c.get("/recordings/%d" % rid)
        ok(st == 200 and word.encode() not in body, "%s: and from the page" % who)
        for ext in ["json", "eaf", "TextGrid", "csv", "tei"]:
            st, _, body = c.get("/api/recordings/%d/annotations.%s" % (rid, ext))
            ok(st == 200 and word.encode() not in body, "%s: and from the %s export" % (who, ext),
               st)
        st, _, body = c.get("/api/search?q=" + word)
        j = jbody(body) or {}
        ok(st == 200 and j.get("total") == 0 and not j.get("hits"),
           "%s: search neither finds nor counts it" % who, body[:300])
        st, _, body = c.get("/api/search?q=ornithorinque")
        ok(st == 200 and word.encode() not in body,
           "%s: nor offers it as a close spelling" % who, body[:300])
        st, _, _ = c.get("/media/%d.orig" % rid)
        ok(st in (403, 404) if who == "researcher" else st == 403,
           "%s: the original, which holds it, is refused" % who, st)
    for who, c in [("annotator", ann), ("admin", admin)]:
        st, _, body = c.get("/api/recordings/%d" % rid)
        ok(word.encode() in body and b"the speaker asked" in body,
           "%s still reads the passage and why it is withheld" % who)
        st, _, body = c.get("/api/search?q=" + word)
        ok((jbody(body) or {}).get("total") == 1, "%s still finds it" % who)

    pub_path, staff_path = os.path.join(tmp, "pub.opus"), os.path.join(tmp, "staff.opus")
    st1, _, pub = anon.get("/media/%d.opus" % rid)
    st2, _, full = admin.get("/media/%d.opus" % rid)
    with open(pub_path, "wb") as f:
        f.write(pub)
    with open(staff_path, "wb") as f:
        f.write(full)
    ok(st1 == 200 and st2 == 200 and pub != full, "visitors get another Opus copy than staff")
    # inside the span, away from its edges (codec pre-echo)
    inner = (span[0] + 100, span[1] - 100)
    lp, ls = loudness(pub_path, *inner), loudness(staff_path, *inner)
    ok(lp is not None and lp <= -60, "the visitors' copy is silent in the span (max %s dB)" % lp)
    ok(ls is not None and ls > -40, "the staff copy is not (max %s dB)" % ls)
    outside = (max(0, span[0] - 1500), max(1, span[0] - 200))
    if outside[1] - outside[0] > 300:
        lo = loudness(pub_path, *outside)
        ok(lo is not None and lo > -60, "and the visitors' copy is not silent outside (%s dB)"
           % lo)
    st1, _, pub3 = anon.get("/media/%d.mp3" % rid)
    st2, _, full3 = admin.get("/media/%d.mp3" % rid)
    if st2 == 200:
        p3, s3 = os.path.join(tmp, "pub.mp3"), os.path.join(tmp, "staff.mp3")
        with open(p3, "wb") as f:
            f.write(pub3)
        with open(s3, "wb") as f:
            f.write(full3)
        lp3, ls3 = loudness(p3, *inner), loudness(s3, *inner)
        ok(st1 == 200 and lp3 is not None and lp3 <= -60 and ls3 is not None and ls3 > -40,
           "the MP3 copies too (visitors %s dB, staff %s dB)" % (lp3, ls3))
    st, _, clip = anon.get("/api/recordings/%d/clip.wav?start=%.3f&end=%.3f"
                           % (rid, inner[0] / 1000, inner[1] / 1000))
    if st == 200:
        cp = os.path.join(tmp, "clip.wav")
        with open(cp, "wb") as f:
            f.write(clip)
        lc = loudness(cp, 0, inner[1] - inner[0])
        ok(lc is not None and lc <= -60, "a visitor's clip of the span is silent (%s dB)" % lc)
    else:
        ok(False, "a visitor's clip of the span", st)

    st, _, body = admin.send("DELETE", "/api/recordings/%d/withheld/%d" % (rid, w.get("id", 0)))
    ok(st == 200, "the span is released", body)
    st, _, body = anon.get("/api/recordings/%d" % rid)
    ok(word.encode() in body, "and visitors read the passage again")
    st, _, body = anon.get("/api/search?q=" + word)
    ok((jbody(body) or {}).get("total") == 1, "and find it")
    st, _, body = admin.get("/api/recordings/%d/history?limit=1" % rid)
    last = ((jbody(body) or {}).get("history") or [{}])[0]
    ok(last.get("action") == "withheld.delete", "the release is in the history", body[:300])
    st, _, body = admin.send("POST", "/api/history/%d/revert" % last.get("id", 0))
    ok(st == 200, "reverting the release withholds the span again", body)
    st, _, body = anon.get("/api/recordings/%d" % rid)
    ok(word.encode() not in body, "and the passage is gone for visitors again")
    st, _, again = anon.get("/media/%d.opus" % rid)
    ok(st == 200 and again == pub, "with the same silent copy")
    st, _, body = admin.send("POST", "/api/history/%d/revert" % last.get("id", 0))
    ok(st == 409, "reverting the release twice: 409", body)
    r = subprocess.run([PARLERS, "-d", data, "fsck"], capture_output=True, text=True)
    ok(r.returncode == 0, "fsck knows the muted copies (no stray, nothing missing)",
       r.stdout + r.stderr)


# ---- SIGKILL during a burst of writes ----

def check_proxy(data):
    """Behind a reverse proxy every request comes from its address: with
    --behind-proxy the login limits count the address the proxy appends to
    X-Forwarded-For; without it the header changes nothing."""
    global srv
    plain = srv
    proxied = Server(data, extra=["--behind-proxy"])
    try:
        srv = proxied
        spoof = "198.51.100.1, 203.0.113.7"  # the proxy appended the last one
        for i in range(20):
            Client().send("POST", "/api/login", {"login": "nobody-%d" % i, "password": "guess"},
                          extra={"X-Forwarded-For": spoof})
        st, _, _ = Client().send("POST", "/api/login",
                                 {"login": "res", "password": PASSWORDS["res"]},
                                 extra={"X-Forwarded-For": "203.0.113.7"})
        ok(st == 429, "behind a proxy, 20 failures from one client's address limit it", st)
        st, _, _ = Client().send("POST", "/api/login",
                                 {"login": "res", "password": PASSWORDS["res"]},
                                 extra={"X-Forwarded-For": "203.0.113.8"})
        ok(st == 200, "and not another client behind the same proxy", st)
        st, _, _ = Client().send("POST", "/api/login",
                                 {"login": "res", "password": PASSWORDS["res"]},
                                 extra={"X-Forwarded-For": "203.0.113.7, 203.0.113.9"})
        ok(st == 200, "a limited address the client put before the proxy's is not believed", st)
        ok("from 203.0.113.7" in proxied.log_text(), "the log names the client's address")
        odd = ["", ",", " , ,", "not-an-address", "203.0.113.7 , 2001:db8::1",
               "::ffff:203.0.113.7", "1" * 3000, "203.0.113.7\tx", "[2001:db8::1]:443",
               "999.1.1.1"]
        # the right password, so that no failure is counted against anyone
        right = {"login": "res", "password": PASSWORDS["res"]}
        answers = [Client().send("POST", "/api/login", right, extra={"X-Forwarded-For": v})[0]
                   for v in odd]
        ok(all(st in (200, 429) for st in answers),
           "odd X-Forwarded-For values sign in or are limited, never a 5xx",
           list(zip(odd, answers)))
    finally:
        srv = plain
        proxied.stop()
    st, _, _ = Client().send("POST", "/api/login", {"login": "res", "password": PASSWORDS["res"]},
                             extra={"X-Forwarded-For": "203.0.113.7"})
    ok(st == 200, "without --behind-proxy, X-Forwarded-For names no one", st)


def check_kill(tmp, data, levels):
    global srv
    rid = levels["public"]
    c = Client("admin", PASSWORDS["admin"])
    st, _, body = c.send("POST", "/api/recordings/%d/tiers" % rid, {"name": "rafale"})
    tier = (jbody(body) or {}).get("id")
    acked = {}
    lock = threading.Lock()
    stop = threading.Event()

    def writer(k):
        i = 0
        while not stop.is_set():
            start = (k * 1000 + i) * 10
            try:
                st, _, body = c.send("POST", "/api/recordings/%d/segments" % rid,
                                     {"tier_id": tier, "start_ms": start, "end_ms": start + 5,
                                      "text": "rafale %d %d" % (k, i)})
            except (OSError, http.client.HTTPException):
                return
            if st == 201:
                s = jbody(body)
                with lock:
                    acked[s["id"]] = s["text"]
            i += 1

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    deadline = time.time() + 20
    while time.time() < deadline:
        with lock:
            if len(acked) >= 40:
                break
        time.sleep(0.01)
    srv.kill()
    stop.set()
    for t in threads:
        t.join()
    ok(len(acked) >= 40, "%d writes were acknowledged before SIGKILL" % len(acked))
    srv = Server(data, port=srv.port)
    rec = jbody(c.get("/api/recordings/%d" % rid)[2]) or {}
    have = {}
    for t in rec.get("tiers", []):
        if t["id"] == tier:
            have = {s["id"]: s["text"] for s in t["segments"]}
    lost = {k: v for k, v in acked.items() if have.get(k) != v}
    ok(not lost, "after a restart every acknowledged write is there", lost)
    ok(c.get("/api/me")[0] == 200, "and the session survived the restart")


if __name__ == "__main__":
    sys.exit(main())
