#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Contributors, proposals, review and credit against a real `parlers serve`.

Two institutions, A (the archive's own) and B; A deposits a public, a
restricted and a private recording, B a public one.  A passage of A's
public recording is withheld.  Accounts: a researcher, an annotator of A,
an annotator of B, a network admin (CLI), contributors who sign up over
HTTP, and a workshop batch (`user add-batch`).  Then:

- a contributor gets exactly what an anonymous visitor gets on every way
  out (recording JSON, list, media, original, annotations, clips, search,
  export, peaks, IIIF, OAI-PMH), and 403 on every write and the history;
- sign-up: JSON only, the licence to accept, the honeypot, bad fields,
  a taken login, the limit per address counted (429 with Retry-After),
  another address unaffected;
- proposals for every role: anonymous 401; on a public segment 201 and the
  tier unchanged; restricted 403, private 404, withheld 404 (segment) and
  403 (stretch); new segments within the recording and on untranscribed
  stretches only; markup kept as text; 4 KB, 100 KB, invalid UTF-8, NUL;
  the pending and hourly limits counted;
- listing: a contributor sees only their own; staff of A only A's; admin all;
- review: accept (an edit in the history naming reviewer and contributor),
  accept with changes, decline with a message the contributor reads;
  annotator of B refused on A's proposals, contributor and researcher
  refused; a segment changed since: 409 with both texts, nothing
  overwritten, then accepted with the text the reviewer keeps;
- suspension ends the sessions and removes the pending proposals;
- credit: /api/contributors/{login}, /contributors/{login}, the recording's
  contributors; only those who opted in.

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
PASSWORD = "contrib-pass-1"
SIGNUPS_PER_HOUR = 4
PROPOSALS_PER_HOUR = 8
PROPOSALS_PENDING = 5
# (stem, institution, access level)
RECS = {"pub": ("cotentin-1976-la-mezoun", "musee-a", "public"),
        "res": ("cotentin-1977-le-temps-qu-il-fait", "musee-a", "restricted"),
        "priv": ("caux-1981-le-temps-des-foins", "musee-a", "private"),
        "pub_b": ("jersey-1994-la-maison-et-la-famille", "assoc-b", "public")}
STAFF = [("res1", "researcher", None), ("ann-a", "annotator", "musee-a"),
         ("ann-b", "annotator", "assoc-b"), ("admin", "admin", None)]


def request(method, path, headers=None, body=None):
    return harness.request(srv.port, method, path, headers, body, 60)


jbody = harness.jbody


def client(login, password=PASSWORD):
    c = harness.Client(srv.port, login, password, timeout=60)
    ok(c.login_status == 200, "%s signs in" % login, c.login_status)
    return c


def cli(data, *args, stdin=None):
    return subprocess.run([PARLERS, "-d", data] + list(args), input=stdin,
                          capture_output=True, text=True)


def db(data, sql, *args):
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def segments_state(data):
    return db(data, "SELECT id, text, version, start_ms, end_ms FROM segments ORDER BY id")


def signup(login, addr="192.0.2.1", **extra):
    body = {"login": login, "password": PASSWORD, "display_name": extra.pop("name", login),
            "accept_licence": True}
    body.update(extra)
    return request("POST", "/api/accounts",
                   {"Content-Type": "application/json", "X-Forwarded-For": addr},
                   json.dumps(body))


def main():
    global srv
    tmp = tempfile.mkdtemp(prefix="parlers-test-contrib-")
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
    r = cli(data, "init", "--institution", "musee-a", "--name", "Musée A")
    ok(r.returncode == 0, "init", r.stderr)
    r = cli(data, "institution", "add", "assoc-b", "--name", "Association B")
    ok(r.returncode == 0, "institution add B", r.stderr)
    ids = {}
    for key, (stem, inst, level) in RECS.items():
        src = os.path.join(tmp, key)
        os.makedirs(src)
        for f in os.listdir(CORPUS):
            if f.startswith(stem + ".") and not f.endswith(".json"):
                shutil.copy(os.path.join(CORPUS, f), src)
        r = cli(data, "ingest", "--json", "--access", level, "--institution", inst, src)
        lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        ok(r.returncode == 0 and len(lines) == 1 and lines[0]["status"] == "ingested",
           "%s recording ingested" % key, r.stdout + r.stderr)
        ids[key] = lines[0]["id"] if lines else 0
    for login, role, inst in STAFF:
        r = cli(data, "user", "add", login, "--role", role,
                *(["--institution", inst] if inst else []), stdin=PASSWORD + "\n")
        ok(r.returncode == 0, "user add %s --role %s" % (login, role), r.stderr)
    check_add_batch(data)

    env = dict(os.environ, PARLERS_SIGNUPS_PER_HOUR=str(SIGNUPS_PER_HOUR),
               PARLERS_PROPOSALS_PER_HOUR=str(PROPOSALS_PER_HOUR),
               PARLERS_PROPOSALS_PENDING=str(PROPOSALS_PENDING))
    srv = Server(data, extra=["--quiet", "--behind-proxy", "--contribution-licence",
                              "CC BY 4.0"], env=env)
    c = {login: client(login) for login, _, _ in STAFF}
    check_signup(data)
    c["marie"] = client("marie")
    c["jean"] = client("jean")
    c["atelier-1"] = client("atelier-1", BATCH["atelier-1"])
    c["atelier-2"] = client("atelier-2", BATCH["atelier-2"])
    ctx = setup_recordings(c, ids)
    check_same_as_anonymous(data, c["marie"], ids, ctx)
    check_propose(data, c, ids, ctx)
    check_limits(data, c, ids, ctx)
    check_listing(c, ids)
    check_review(data, c, ids, ctx)
    check_suspend(data, c)
    check_credit(c, ids)


# ---- accounts ----

BATCH = {}


def check_add_batch(data):
    r = cli(data, "user", "add-batch", "atelier", "3")
    lines = [x.split() for x in r.stdout.splitlines()]
    ok(r.returncode == 0 and [x[0] for x in lines] == ["atelier-1", "atelier-2", "atelier-3"]
       and all(len(x) == 2 and len(x[1]) == 12 for x in lines),
       "user add-batch atelier 3 prints three logins with their one-time passwords", r.stdout)
    ok(len({x[1] for x in lines}) == 3, "the three passwords differ")
    BATCH.update({x[0]: x[1] for x in lines})
    roles = db(data, "SELECT login, role FROM users WHERE login LIKE 'atelier-%' ORDER BY login")
    ok(roles == [("atelier-1", -1), ("atelier-2", -1), ("atelier-3", -1)],
       "batch accounts are contributors", roles)
    r = cli(data, "user", "add-batch", "atelier", "5")
    n = db(data, "SELECT count(*) FROM users WHERE login LIKE 'atelier-%'")[0][0]
    ok(r.returncode == 1 and "taken" in r.stderr and n == 3,
       "a batch that meets a taken login makes nothing (exit 1)", (r.returncode, r.stderr, n))
    r = cli(data, "user", "add-batch", "atelier", "0")
    ok(r.returncode == 2, "add-batch 0: usage error", r.returncode)
    r = cli(data, "user", "add-batch", "-x", "2")
    ok(r.returncode == 2, "add-batch with an option for a prefix: usage error", r.returncode)


def check_signup(data):
    st, h, body = request("POST", "/api/accounts", {"Content-Type": "text/plain"},
                          json.dumps({"login": "x"}))
    ok(st == 415, "sign-up: not JSON is 415", st)
    st, _, body = signup("nolicence", accept_licence=False)
    e = (jbody(body) or {}).get("error", "")
    ok(st == 422 and "CC BY 4.0" in e, "sign-up without accepting the licence: 422 naming it",
       (st, body))
    st, _, body = signup("robot", website="http://spam.example")
    ok(st == 400, "sign-up with the honeypot filled: 400", (st, body))
    n = db(data, "SELECT count(*) FROM signups")[0][0]
    ok(n == 0, "refused before the archive: not counted", n)
    st, _, body = signup("marie", name="Marie <b>Lebas</b>", credit_name="Marie Lebas",
                         email="marie@example.org")
    m = jbody(body) or {}
    ok(st == 201 and m.get("role") == "contributor" and m.get("licence") == "CC BY 4.0"
       and "email" not in m and "csrf_token" not in m,
       "sign-up: 201 contributor, no session, the e-mail not shown", (st, body))
    ok("set-cookie" not in {k.lower() for k in h}, "sign-up opens no session")
    st, _, body = signup("jean")
    ok(st == 201, "a second sign-up from the address", (st, body))
    st, _, body = signup("marie")
    ok(st == 409, "a taken login: 409", (st, body))
    st, _, body = signup("bad-pw", password="short")
    ok(st == 422 and "password" in (jbody(body) or {}).get("error", ""),
       "a short password: 422 with a sentence", (st, body))
    st, h, body = signup("fifth")
    ok(st == 429 and int(h.get("retry-after", "0")) > 0,
       "past %d sign-ups an hour from one address: 429 with Retry-After" % SIGNUPS_PER_HOUR,
       (st, body, h.get("retry-after")))
    ok(not db(data, "SELECT 1 FROM users WHERE login = 'fifth'"), "nothing made past the limit")
    st, _, body = signup("other", addr="198.51.100.7")
    ok(st == 201, "another address still signs up", (st, body))
    st, _, body = signup("bad login!", addr="198.51.100.7")
    ok(st == 422, "a bad login: 422", (st, body))
    st, _, body = signup("noname", addr="198.51.100.7", name="a\nb")
    ok(st == 422, "a display name over two lines: 422", (st, body))
    row = db(data, "SELECT role, email, credit_name, licence FROM users WHERE login = 'marie'")
    ok(row == [(-1, "marie@example.org", "Marie Lebas", "CC BY 4.0")],
       "the account keeps its e-mail, credit name and licence", row)


# ---- the recordings ----

def setup_recordings(c, ids):
    """A translation tier with no segment on the public recording, and a
    withheld span over its second segment."""
    adm = c["admin"]
    st, _, body = adm.get("/api/recordings/%d" % ids["pub"])
    rec = jbody(body) or {}
    tier = rec["tiers"][0]
    segs = tier["segments"]
    ctx = {"tier": tier["id"], "seg1": segs[0], "seg2": segs[1], "seg3": segs[2],
           "duration": rec["duration_ms"]}
    st, _, body = adm.send("POST", "/api/recordings/%d/tiers" % ids["pub"],
                           {"name": "traduction-test", "type": "translation", "language": "fr"})
    ok(st == 201, "admin adds an empty translation tier", (st, body))
    ctx["empty_tier"] = (jbody(body) or {}).get("id")
    w = segs[1]
    st, _, body = adm.send("POST", "/api/recordings/%d/withheld" % ids["pub"],
                           {"start_ms": w["start_ms"], "end_ms": w["end_ms"],
                            "reason": "speaker's wish"})
    ok(st == 201, "admin withholds the second segment's span", (st, body))
    for key in ("res", "priv", "pub_b"):
        st, _, body = adm.get("/api/recordings/%d" % ids[key])
        r = jbody(body) or {}
        ctx["seg_" + key] = r["tiers"][0]["segments"][0] if r.get("tiers") else None
    return ctx


def check_same_as_anonymous(data, contributor, ids, ctx):
    anon = harness.Client(srv.port)
    urls = ["/api/recordings", "/api/facets"]
    for key in ("pub", "res", "priv"):
        rid = ids[key]
        urls += ["/api/recordings/%d" % rid, "/media/%d.opus" % rid, "/media/%d.orig" % rid,
                 "/api/recordings/%d/annotations.json" % rid,
                 "/api/recordings/%d/annotations.eaf" % rid,
                 "/api/recordings/%d/clip.wav?start=0&end=1" % rid,
                 "/api/recordings/%d/peaks.json" % rid, "/iiif/%d/manifest.json" % rid,
                 "/api/export?ids=%d&audio=none" % rid, "/recordings/%d" % rid,
                 "/api/recordings/%d/contributors" % rid]
    withheld_text = ctx["seg2"]["text"]
    for q in ["la", "mézoun", withheld_text.split()[0]]:
        urls.append("/api/search?q=" + harness_quote(q))
    urls.append("/oai?verb=ListRecords&metadataPrefix=oai_dc")
    for url in urls:
        sa, _, ba = anon.get(url)
        sc, _, bc = contributor.get(url)
        same = sa == sc
        if same and url.startswith("/api/") and "export" not in url and "clip" not in url:
            ja, jc = jbody(ba), jbody(bc)
            same = ja == jc
        ok(same, "a contributor gets what an anonymous visitor gets: GET %s (%d)" % (url, sa),
           (sa, sc, bc[:200]))
    st, _, body = contributor.get("/api/recordings/%d" % ids["pub"])
    ok(withheld_text not in body.decode("utf-8"), "the withheld segment's text is not shown")
    before = segments_state(data)
    sid = ctx["seg1"]["id"]
    writes = [("PATCH", "/api/segments/%d" % sid, {"version": 1, "text": "x"}),
              ("DELETE", "/api/segments/%d" % sid, {"version": 1}),
              ("POST", "/api/recordings/%d/segments" % ids["pub"],
               {"tier_id": ctx["empty_tier"], "start_ms": 0, "end_ms": 100, "text": "x"}),
              ("POST", "/api/recordings/%d/tiers" % ids["pub"], {"name": "mine"}),
              ("PATCH", "/api/tiers/%d" % ctx["tier"], {"name": "renamed"}),
              ("DELETE", "/api/tiers/%d" % ctx["empty_tier"], {}),
              ("PATCH", "/api/recordings/%d" % ids["pub"], {"access": "private"}),
              ("POST", "/api/recordings/%d/withheld" % ids["pub"], {"start_ms": 0, "end_ms": 10}),
              ("DELETE", "/api/recordings/%d/withheld" % ids["pub"], {"id": 1}),
              ("POST", "/api/history/1/revert", {})]
    for method, url, obj in writes:
        st, _, body = contributor.send(method, url, obj)
        ok(st == 403, "a contributor may not %s %s: 403" % (method, url), (st, body[:200]))
    st, _, body = contributor.get("/api/recordings/%d/history" % ids["pub"])
    ok(st == 403, "a contributor may not read the history: 403", st)
    ok(segments_state(data) == before, "nothing changed")
    st, _, body = contributor.get("/api/me")
    ok(st == 200 and (jbody(body) or {}).get("role") == "contributor",
       "/api/me names the role contributor", body)


def harness_quote(s):
    from urllib.parse import quote
    return quote(s)


# ---- proposing ----

def propose(cl, sid, text, **extra):
    body = {"text": text}
    body.update(extra)
    return cl.send("POST", "/api/segments/%d/proposals" % sid, body)


def propose_new(cl, rid, tier, start, end, text):
    return cl.send("POST", "/api/recordings/%d/proposals" % rid,
                   {"tier_id": tier, "start_ms": start, "end_ms": end, "text": text})


PROPOSED = {}


def check_propose(data, c, ids, ctx):
    marie, jean = c["marie"], c["jean"]
    before = segments_state(data)
    anon = harness.Client(srv.port)
    st, _, _ = anon.send("POST", "/api/segments/%d/proposals" % ctx["seg1"]["id"], {"text": "x"})
    ok(st == 401, "anonymous may not propose: 401", st)
    st, _, _ = anon.get("/api/proposals")
    ok(st == 401, "anonymous may not list proposals: 401", st)
    st, _, body = marie.send("POST", "/api/segments/%d/proposals" % ctx["seg1"]["id"],
                             {"text": "x"}, csrf=False)
    ok(st == 403, "a proposal without the CSRF token: 403", st)
    markup = "Ch'est <b>dans</b> chutte mézoun-là <script>alert(1)</script> & co"
    st, _, body = propose(marie, ctx["seg1"]["id"], markup)
    p = jbody(body) or {}
    ok(st == 201 and p.get("status") == "pending" and p.get("kind") == "correction"
       and p.get("text") == markup and p.get("base_version") == 1,
       "a contributor proposes a correction on a public segment: 201 pending, markup kept "
       "as text", (st, body))
    PROPOSED["marie1"] = p.get("id")
    ok(segments_state(data) == before, "a proposal never changes the published tier")
    st, _, body = propose(jean, ctx["seg1"]["id"], "Ch'est dans chutte mézoun-là que j'sis né")
    ok(st == 201, "a second proposal on the same segment is kept beside the first", (st, body))
    PROPOSED["jean1"] = (jbody(body) or {}).get("id")
    st, _, body = propose(jean, ctx["seg3"]["id"], "Ch'est mei que j'l'ai r'connu", kind="note")
    ok(st == 201 and (jbody(body) or {}).get("kind") == "note", "a note: 201 kind note",
       (st, body))
    PROPOSED["jean_note"] = (jbody(body) or {}).get("id")
    st, _, body = propose(marie, ctx["seg_res"]["id"], "x")
    ok(st == 403, "a contributor on a restricted recording's segment: 403", (st, body))
    st, _, body = propose(marie, ctx["seg_priv"]["id"], "x")
    ok(st == 404, "a contributor on a private recording's segment: 404", (st, body))
    st, _, body = propose(marie, ctx["seg2"]["id"], "x")
    ok(st == 404, "a contributor on a withheld segment: 404", (st, body))
    st, _, body = propose(marie, 999999, "x")
    ok(st == 404, "an unknown segment: 404", (st, body))
    st, _, body = propose(c["res1"], ctx["seg_res"]["id"], "une proposition")
    ok(st == 201, "a researcher may propose on a restricted recording it hears", (st, body))
    PROPOSED["res1"] = (jbody(body) or {}).get("id")
    w = ctx["seg2"]
    st, _, body = propose_new(marie, ids["pub"], ctx["empty_tier"], w["start_ms"] - 100,
                              w["start_ms"] + 100, "x")
    ok(st == 403, "a new segment over a withheld span: 403", (st, body))
    a, b = ctx["seg1"]["start_ms"], ctx["seg1"]["end_ms"]
    st, _, body = propose_new(marie, ids["pub"], ctx["empty_tier"], a, b, "La maison")
    p = jbody(body) or {}
    ok(st == 201 and p.get("kind") == "translation" and p.get("segment_id") is None,
       "a new segment on an untranscribed stretch of a translation tier: 201 translation",
       (st, body))
    PROPOSED["marie_new"] = p.get("id")
    st, _, body = propose_new(marie, ids["pub"], ctx["tier"], a, b, "x")
    ok(st == 422 and "overlaps" in (jbody(body) or {}).get("error", ""),
       "a new segment over a transcribed stretch: 422", (st, body))
    for start, end, what in [(-5, 100, "before 0"), (100, 50, "inverted"),
                             (ctx["duration"] - 10, ctx["duration"] + 1000, "past the end")]:
        st, _, body = propose_new(marie, ids["pub"], ctx["empty_tier"], start, end, "x")
        ok(st == 422, "a new segment %s: 422" % what, (st, body))
    st, _, body = propose_new(marie, ids["pub"], ctx["tier_b"] if "tier_b" in ctx else 999999,
                              0, 100, "x")
    ok(st == 422, "a tier of another recording: 422", (st, body))
    st, _, body = propose_new(marie, ids["priv"], 1, 0, 100, "x")
    ok(st == 404, "a new segment on a private recording: 404", (st, body))
    st, _, body = propose_new(marie, ids["res"], 1, 0, 100, "x")
    ok(st == 403, "a new segment on a restricted recording: 403", (st, body))
    sid = ctx["seg1"]["id"]
    st, _, body = propose(marie, sid, "é" * 2049)
    ok(st == 422 and "4096" in (jbody(body) or {}).get("error", ""),
       "a text over 4 KB: 422 with a sentence", (st, body))
    st, _, body = propose(marie, sid, "a" * 100000)
    ok(st == 413, "100 KB of text: 413", (st, body[:100]))
    st, _, body = marie.send("POST", "/api/segments/%d/proposals" % sid,
                             raw=b'{"text": "caf\xe9"}')
    ok(st == 400, "invalid UTF-8: 400", (st, body))
    st, _, body = marie.send("POST", "/api/segments/%d/proposals" % sid,
                             raw=b'{"text": "a\\u0000b"}')
    ok(st == 400, "a NUL in the text: 400", (st, body))
    st, _, body = propose(marie, sid, "   ")
    ok(st == 422, "a blank text: 422", (st, body))
    st, _, body = propose(marie, sid, "x", kind="weird")
    ok(st == 400, "an unknown kind: 400", (st, body))
    st, _, body = marie.send("POST", "/api/segments/%d/proposals" % sid, raw=b"not json")
    ok(st == 400, "not JSON: 400", (st, body))
    ok(segments_state(data) == before, "still nothing changed in the tiers")


def check_limits(data, c, ids, ctx):
    at = c["atelier-1"]
    sid = ctx["seg3"]["id"]
    made = []
    for i in range(PROPOSALS_PENDING):
        st, _, body = propose(at, sid, "essai %d" % i)
        made.append((jbody(body) or {}).get("id"))
        if st != 201:
            ok(False, "proposal %d of the workshop account" % i, (st, body))
    st, h, body = propose(at, sid, "one too many")
    ok(st == 429 and "waiting" in (jbody(body) or {}).get("error", "")
       and h.get("retry-after"),
       "past %d pending proposals: 429 with a sentence" % PROPOSALS_PENDING, (st, body))
    adm = c["admin"]
    for pid in made:
        adm.send("POST", "/api/proposals/%d/decline" % pid, {})
    left = PROPOSALS_PER_HOUR - PROPOSALS_PENDING
    codes = [propose(at, sid, "encore %d" % i)[0] for i in range(left)]
    ok(codes == [201] * left, "once reviewed, more may come within the hour", codes)
    st, _, body = propose(at, sid, "over the hour")
    ok(st == 429 and "hour" in (jbody(body) or {}).get("error", ""),
       "past %d proposals in an hour: 429" % PROPOSALS_PER_HOUR, (st, body))
    n = db(data, "SELECT count(*) FROM proposals p JOIN users u ON u.id = p.user_id"
           " WHERE u.login = 'atelier-1'")[0][0]
    ok(n == PROPOSALS_PER_HOUR, "exactly the allowed proposals were kept (%d)" % n, n)


def check_listing(c, ids):
    st, _, body = c["marie"].get("/api/proposals")
    d = jbody(body) or {}
    logins = {p["contributor"] for p in d.get("proposals", [])}
    ok(st == 200 and logins == {"marie"} and d.get("total") == 2,
       "a contributor lists only their own proposals", (st, body[:300]))
    ok(all("reviewer" not in p for p in d.get("proposals", [])),
       "a contributor is not told who reviews")
    st, _, body = c["marie"].get("/api/proposals?contributor=jean")
    ok(st == 200 and (jbody(body) or {}).get("total") == 0,
       "nor anyone else's by asking for them", body[:200])
    st, _, body = c["ann-a"].get("/api/proposals?status=pending")
    d = jbody(body) or {}
    recs = {p["recording_id"] for p in d.get("proposals", [])}
    ok(st == 200 and recs == {ids["pub"], ids["res"]},
       "an annotator of A lists the pending proposals on A's recordings", (recs, body[:200]))
    st, _, body = c["ann-b"].get("/api/proposals")
    ok(st == 200 and (jbody(body) or {}).get("total") == 0,
       "an annotator of B sees none of A's", body[:200])
    st, _, body = c["admin"].get("/api/proposals?status=pending&kind=note")
    d = jbody(body) or {}
    ok(st == 200 and d.get("total") == 1 and d["proposals"][0]["kind"] == "note",
       "admin filters by kind", body[:300])
    st, _, body = c["admin"].get("/api/proposals?recording=%d&contributor=jean" % ids["pub"])
    ok(st == 200 and (jbody(body) or {}).get("total") == 2,
       "admin filters by recording and contributor", body[:300])
    st, _, body = c["admin"].get("/api/proposals?status=pending&limit=2")
    first = [p["id"] for p in (jbody(body) or {}).get("proposals", [])]
    st, _, body = c["admin"].get("/api/proposals?status=pending&limit=2&after=%d" % first[-1])
    d = jbody(body) or {}
    nxt = [p["id"] for p in d.get("proposals", [])]
    ok(st == 200 and len(first) == 2 and nxt and nxt[0] > first[-1]
       and d.get("total") == (jbody(c["admin"].get("/api/proposals?status=pending")[2]) or {})
       .get("total"), "after= gives the next page; total stays the whole queue's", (first, nxt))
    for q in ["status=nope", "kind=nope", "limit=9999", "recording=abc", "after=x"]:
        st, _, body = c["admin"].get("/api/proposals?" + q)
        ok(st == 400, "GET /api/proposals?%s: 400" % q, (st, body))
    st, _, body = c["res1"].get("/api/proposals")
    ok(st == 200 and (jbody(body) or {}).get("total") == 1,
       "a researcher lists only their own", body[:200])


# ---- review ----

def check_review(data, c, ids, ctx):
    pid = PROPOSED["marie1"]
    before = segments_state(data)
    for who in ["marie", "atelier-2", "res1"]:
        st, _, body = c[who].send("POST", "/api/proposals/%d/accept" % pid, {})
        ok(st == 403, "%s may not accept: 403" % who, (st, body))
        st, _, body = c[who].send("POST", "/api/proposals/%d/decline" % pid, {})
        ok(st == 403, "%s may not decline: 403" % who, (st, body))
    st, _, body = c["ann-b"].send("POST", "/api/proposals/%d/accept" % pid, {})
    ok(st == 403, "an annotator of B may not accept a proposal on A's recording", (st, body))
    st, _, body = c["ann-b"].send("POST", "/api/proposals/%d/decline" % pid, {})
    ok(st == 403, "nor decline it", (st, body))
    st, _, body = harness.Client(srv.port).send("POST", "/api/proposals/%d/accept" % pid, {})
    ok(st == 401, "anonymous: 401", st)
    st, _, body = c["ann-a"].send("POST", "/api/proposals/999999/accept", {})
    ok(st == 404, "an unknown proposal: 404", st)
    ok(segments_state(data) == before and
       db(data, "SELECT status FROM proposals WHERE id = ?", pid) == [("pending",)],
       "refusals changed nothing")

    st, _, body = c["ann-a"].send("POST", "/api/proposals/%d/accept" % pid, {})
    d = jbody(body) or {}
    markup = db(data, "SELECT text FROM proposals WHERE id = ?", pid)[0][0]
    ok(st == 200 and d.get("status") == "accepted" and d["segment"]["text"] == markup
       and d["segment"]["version"] == 2,
       "an annotator of A accepts: the segment takes the text", (st, body))
    hist = db(data, "SELECT login, contributor, action FROM audit WHERE segment_id = ?"
              " ORDER BY id DESC LIMIT 1", ctx["seg1"]["id"])
    ok(hist == [("ann-a", "marie", "segment.update")],
       "one history row names the reviewer and the contributor", hist)
    st, _, body = c["ann-a"].get("/api/recordings/%d/history" % ids["pub"])
    h = ((jbody(body) or {}).get("history") or [{}])[0]
    ok(h.get("login") == "ann-a" and h.get("contributor") == "marie",
       "the history API names both", h)
    st, _, body = c["ann-a"].send("POST", "/api/proposals/%d/accept" % pid, {})
    ok(st == 422, "accepting twice: 422", (st, body))

    # jean's proposal was made on version 1, the segment is at 2 now
    jid = PROPOSED["jean1"]
    before = segments_state(data)
    st, _, body = c["ann-a"].send("POST", "/api/proposals/%d/accept" % jid, {})
    d = jbody(body) or {}
    ok(st == 409 and d.get("current", {}).get("text") == markup
       and d.get("proposed", "").startswith("Ch'est dans") and d["current"]["version"] == 2,
       "a segment changed since the proposal: 409 with both texts", (st, body))
    ok(segments_state(data) == before and
       db(data, "SELECT status FROM proposals WHERE id = ?", jid) == [("pending",)],
       "the conflict overwrote nothing")
    st, _, body = c["admin"].get("/api/proposals?status=pending&contributor=jean")
    p = [x for x in (jbody(body) or {}).get("proposals", []) if x["id"] == jid]
    ok(p and p[0]["changed"] is True and p[0]["current_text"] == markup,
       "the queue shows the segment changed since", p)
    keep = "Ch'est dans chutte mézoun-là que j'sis né, coume mon père"
    st, _, body = c["admin"].send("POST", "/api/proposals/%d/accept" % jid, {"text": keep})
    d = jbody(body) or {}
    ok(st == 200 and d["segment"]["text"] == keep,
       "accepted with the text the reviewer keeps (accept with changes)", (st, body))

    nid = PROPOSED["marie_new"]
    st, _, body = c["ann-a"].send("POST", "/api/proposals/%d/accept" % nid, {})
    d = jbody(body) or {}
    seg = d.get("segment") or {}
    ok(st == 200 and seg.get("tier_id") == ctx["empty_tier"] and seg.get("text") == "La maison",
       "a proposed new segment becomes a segment of its tier", (st, body))

    note = PROPOSED["jean_note"]
    st, _, body = c["ann-a"].send("POST", "/api/proposals/%d/decline" % note,
                                  {"message": "Merci, <i>c'est</i> noté autrement."})
    ok(st == 200 and (jbody(body) or {}).get("status") == "declined", "decline with a message",
       (st, body))
    st, _, body = c["jean"].get("/api/proposals?mine=1")
    mine = {p["id"]: p for p in (jbody(body) or {}).get("proposals", [])}
    ok(mine.get(note, {}).get("message") == "Merci, <i>c'est</i> noté autrement."
       and mine[note]["status"] == "declined" and mine.get(jid, {}).get("status") == "accepted",
       "the contributor sees each status and the decline's message", mine)
    st, _, body = c["ann-a"].send("POST", "/api/proposals/%d/decline" % PROPOSED["res1"],
                                  {"message": "x" * 2001})
    ok(st == 422, "a message over 2,000 bytes: 422", (st, body))
    st, _, body = c["ann-a"].get("/review")
    ok(st == 200 and b"rv-queue" in body, "GET /review: the review page", st)


def check_suspend(data, c):
    st, _, body = propose(c["atelier-2"], 1, "en attente")
    pending = db(data, "SELECT count(*) FROM proposals p JOIN users u ON u.id = p.user_id"
                 " WHERE u.login = 'atelier-2' AND p.status = 'pending'")[0][0]
    ok(st == 201 and pending == 1, "the workshop account has a pending proposal", (st, body))
    r = cli(data, "user", "suspend", "atelier-2")
    ok(r.returncode == 0 and "1 pending" in r.stdout, "user suspend atelier-2", r.stdout + r.stderr)
    st, _, _ = c["atelier-2"].get("/api/me")
    ok(st == 401, "its session ended", st)
    pending = db(data, "SELECT count(*) FROM proposals p JOIN users u ON u.id = p.user_id"
                 " WHERE u.login = 'atelier-2'")[0][0]
    ok(pending == 0, "its pending proposals are gone", pending)
    again = harness.Client(srv.port, "atelier-2", BATCH["atelier-2"])
    ok(again.login_status in (401, 403), "a suspended account cannot sign in", again.login_status)
    r = cli(data, "user", "suspend", "nobody")
    ok(r.returncode == 1, "suspending an unknown login: exit 1", r.returncode)


def check_credit(c, ids):
    anon = harness.Client(srv.port)
    st, _, body = anon.get("/api/contributors/marie")
    d = jbody(body) or {}
    ok(st == 200 and d.get("name") == "Marie Lebas" and len(d.get("accepted", [])) == 2
       and "email" not in body.decode("utf-8") and "marie@example.org" not in body.decode(),
       "/api/contributors/marie lists her accepted work, never her e-mail", (st, body[:300]))
    st, _, body = anon.get("/api/contributors/jean")
    ok(st == 404, "a contributor who did not opt in to credit: 404", st)
    st, _, body = anon.get("/contributors/marie")
    ok(st == 200 and b"co-data" in body and b"<b>" not in body,
       "the contributor's page, data escaped", st)
    st, _, body = anon.get("/api/recordings/%d/contributors" % ids["pub"])
    names = [x["name"] for x in (jbody(body) or {}).get("contributors", [])]
    ok(st == 200 and names == ["Marie Lebas"],
       "the recording names its credited contributors", (st, body))
    st, _, body = anon.get("/api/recordings/%d/annotations.eaf" % ids["pub"])
    ok(st == 200 and b'ANNOTATOR="Marie Lebas"' in body,
       "the EAF export names her as the annotator of the tier she helped write", st)
    st, _, body = anon.get("/api/recordings/%d/annotations.tei" % ids["pub"])
    ok(st == 200 and b"<respStmt><resp>traduction-test</resp><name>Marie Lebas</name>" in body,
       "the TEI export credits her in a respStmt", body[:600])
    st, _, body = anon.get("/api/recordings/%d/contributors" % ids["priv"])
    ok(st == 404, "not for a private recording", st)
    st, _, body = anon.get("/signup")
    ok(st == 200 and b"CC BY 4.0" in body and b"su-website" in body,
       "the sign-up page names the operator's licence and has its honeypot", st)


if __name__ == "__main__":
    sys.exit(main())
