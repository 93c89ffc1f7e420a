#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Institutions against a real `parlers serve`: who may change what.

Two institutions, A (the archive's own, named at `init`) and B; a
recording deposited by each.  Accounts are made with the real CLI:
annotators and admins of A, of B, and of the network.  Then:

- the role x institution table of writes: an annotator of A gets 403 and
  nothing changes on B's recording through every write route (segments,
  tiers, access level, withheld spans, history revert), and edits A's; a
  network annotator edits both; an admin of A changes A's access level,
  not B's;
- /api/institutions and /api/institutions/{short}; a recording's JSON
  names its institution; /api/recordings?institution= filters;
- the pages /institutions (list, map settings) and /institutions/{short}
  (its facets and recordings), counting only what the viewer may know of;
  `serve --tiles`: the tiles' origin joins the map page's img-src, `none`
  leaves the outline alone, a bad URL is a usage error;
- the home page's featured recordings: two days give different orders, a
  large institution never takes more than its slots, and the first slot
  goes round the institutions rather than to the largest;
- search, export and OAI-PMH by institution: /api/search?institution=,
  `search --institution`, `export --institution` and /api/export's, the
  sets institution:SHORT beside the collections', Identify naming the
  network and each record its institution; an unknown institution is a
  400 or a one-line error, and no file;
- researcher grants (`user grant LOGIN --institution SHORT|--all`, `user
  revoke`): the role x institution x way-out table for researchers granted
  all, one institution, or none, over pages, the recording API, media,
  transcripts, clips, IIIF, search and exports; a grant changed holds at
  the session's next request.

Reads are not scoped to institutions yet: staff of A read B's recordings
as before (checked, so that the day they are scoped this test says so).

Python standard library only; TAP.
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from harness import CORPUS, PARLERS, Server, done, ok  # noqa: E402

srv = None
PASSWORD = "institution-pass-1"


def request(method, path, headers=None, body=None):
    return harness.request(srv.port, method, path, headers, body, 60)


jbody = harness.jbody


def Client(login):
    """A browser on this test's server, signed in as login."""
    c = harness.Client(srv.port, login, PASSWORD, timeout=60)
    c.status = c.login_status
    return c


def db_state(data):
    """What a refused write must leave as it was."""
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    try:
        return (con.execute("SELECT count(*), total(version), group_concat(text, '|')"
                            " FROM (SELECT * FROM segments ORDER BY id)").fetchone(),
                con.execute("SELECT count(*) FROM audit").fetchone()[0],
                con.execute("SELECT group_concat(access) FROM recordings").fetchone()[0],
                con.execute("SELECT group_concat(name, '|') FROM tiers").fetchone()[0],
                con.execute("SELECT group_concat(id || ':' || start_ms || '-' || end_ms)"
                            " FROM withheld_spans").fetchone()[0])
    finally:
        con.close()


def cli(data, *args, stdin=None):
    return subprocess.run([PARLERS, "-d", data] + list(args), input=stdin,
                          capture_output=True, text=True)


STEMS = {"A": "cotentin-1976-la-mezoun", "B": "caux-1981-le-temps-des-foins"}
ACCOUNTS = [("ann-a", "annotator", "musee-a"), ("admin-a", "admin", "musee-a"),
            ("ann-b", "annotator", "assoc-b"), ("ann-net", "annotator", None),
            ("admin-net", "admin", None)]


def main():
    global srv
    tmp = tempfile.mkdtemp(prefix="parlers-test-institutions-")
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
    ok(r.returncode == 0, "init names institution A", r.stderr)
    r = cli(data, "institution", "add", "assoc-b", "--name", "Association B", "--kind",
            "association", "--commune", "Valognes", "--lat", "49.5", "--lon", "-1.47")
    ok(r.returncode == 0, "institution add B", r.stderr)
    rec = {}
    for inst, stem in STEMS.items():
        src = os.path.join(tmp, inst)
        os.makedirs(src)
        for f in os.listdir(CORPUS):
            if f.startswith(stem + "."):
                shutil.copy(os.path.join(CORPUS, f), src)
        r = cli(data, "ingest", "--json", "--institution",
                "musee-a" if inst == "A" else "assoc-b", src)
        lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        ok(r.returncode == 0 and len(lines) == 1 and lines[0]["status"] == "ingested",
           "%s's recording is ingested" % inst, r.stdout + r.stderr)
        rec[inst] = lines[0]["id"] if lines else 0
    for login, role, inst in ACCOUNTS:
        r = cli(data, "user", "add", login, "--role", role,
                *(["--institution", inst] if inst else []), stdin=PASSWORD + "\n")
        ok(r.returncode == 0, "user add %s --role %s%s" % (login, role,
                                                           " --institution " + inst if inst else ""),
           r.stderr)

    srv = Server(data)
    c = {login: Client(login) for login, _, _ in ACCOUNTS}
    ok(all(x.status == 200 for x in c.values()), "every account signs in")
    check_api(rec)
    check_writes(data, c, rec)
    check_pages(data, c, rec)
    check_featured(data, c, rec)
    check_filters(data, c, rec)
    check_grants(data, c, rec)


def first_segment(client, rid):
    st, _, body = client.get("/api/recordings/%d" % rid)
    r = jbody(body) or {}
    for t in r.get("tiers", []):
        if t["segments"]:
            return t, t["segments"][0]
    return None, None


def check_api(rec):
    st, _, body = request("GET", "/api/institutions")
    lst = (jbody(body) or {}).get("institutions", [])
    ok(st == 200 and [(i["short"], i["name"], i["kind"]) for i in lst]
       == [("assoc-b", "Association B", "association"), ("musee-a", "Musée A", None)],
       "GET /api/institutions lists them: short, name, kind", body[:300])
    st, _, body = request("GET", "/api/institutions/assoc-b")
    one = jbody(body) or {}
    ok(st == 200 and one.get("short") == "assoc-b" and one.get("commune") == "Valognes"
       and abs(one.get("lat", 0) - 49.5) < 1e-6 and one.get("recordings") == 1,
       "GET /api/institutions/{short}: its fields and its recordings' count", body[:300])
    for path in ["/api/institutions/nowhere", "/api/institutions/Not_A_Short"]:
        st, _, body = request("GET", path)
        ok(st == 404 and "error" in (jbody(body) or {}), "%s: 404 with an error" % path)


def check_writes(data, c, rec):
    net, ann_a, admin_a = c["admin-net"], c["ann-a"], c["admin-a"]
    # the network's admin opens both recordings and names their institutions
    for inst, short, name in [("A", "musee-a", "Musée A"), ("B", "assoc-b", "Association B")]:
        st, _, body = net.send("PATCH", "/api/recordings/%d" % rec[inst], {"access": "public"})
        ok(st == 200, "a network admin sets %s's recording public" % inst, body)
        st, _, body = request("GET", "/api/recordings/%d" % rec[inst])
        ok(st == 200 and (jbody(body) or {}).get("institution") == {"short": short, "name": name},
           "%s's recording JSON names its institution" % inst, body[:200])
    for short, inst in [("musee-a", "A"), ("assoc-b", "B")]:
        st, _, body = request("GET", "/api/recordings?institution=" + short)
        got = [r["id"] for r in (jbody(body) or {}).get("recordings", [])]
        ok(st == 200 and got == [rec[inst]] and jbody(body)["total"] == 1,
           "/api/recordings?institution=%s keeps %s's recording" % (short, inst), body[:200])
    st, _, body = request("GET", "/api/recordings?institution=nowhere")
    ok(st == 400 and "no institution 'nowhere'" in (jbody(body) or {}).get("error", ""),
       "an unknown institution: 400 naming it", body)
    st, _, body = request("GET", "/api/institutions/assoc-b")
    ok((jbody(body) or {}).get("recordings") == 1, "B counts its public recording")

    # on B's recording, made by the network's staff: a tier of its own,
    # a withheld span, a history row to revert
    rb = rec["B"]
    tier_b, seg_b = first_segment(net, rb)
    st, _, body = c["ann-net"].send("POST", "/api/recordings/%d/tiers" % rb, {"name": "notes-b"})
    new_tier = jbody(body) or {}
    ok(st == 201, "a network annotator adds a tier to B's recording", body)
    st, _, body = c["ann-net"].send("PATCH", "/api/segments/%d" % seg_b["id"],
                                    {"version": seg_b["version"], "text": "réseau"})
    seg_b = jbody(body) or seg_b
    ok(st == 200 and seg_b.get("text") == "réseau",
       "a network annotator edits B's segment", body)
    st, _, body = c["ann-b"].send("PATCH", "/api/segments/%d" % seg_b["id"],
                                  {"version": seg_b["version"], "text": "de B"})
    seg_b = jbody(body) or seg_b
    ok(st == 200 and seg_b.get("text") == "de B", "an annotator of B edits B's segment", body)
    st, _, body = net.send("POST", "/api/recordings/%d/withheld" % rb,
                           {"start_ms": 100, "end_ms": 300, "reason": "asked"})
    span = jbody(body) or {}
    ok(st == 201, "a network admin withholds a span of B's recording", body)
    st, _, body = net.get("/api/recordings/%d/history?limit=20" % rb)
    hist = (jbody(body) or {}).get("history", [])
    seg_row = next((h for h in hist if h["action"] == "segment.update"), {})

    # an annotator of A, on B's recording: every write route refused
    before = db_state(data)
    refused = [
        ("POST", "/api/recordings/%d/segments" % rb,
         {"tier_id": new_tier.get("id", 0), "start_ms": 0, "end_ms": 100, "text": "x"},
         "add a segment"),
        ("PATCH", "/api/segments/%d" % seg_b["id"], {"version": seg_b["version"], "text": "A"},
         "change a segment"),
        ("DELETE", "/api/segments/%d?version=%d" % (seg_b["id"], seg_b["version"]), None,
         "delete a segment"),
        ("POST", "/api/recordings/%d/tiers" % rb, {"name": "from-a"}, "add a tier"),
        ("PATCH", "/api/tiers/%d" % new_tier.get("id", 0), {"name": "renamed"}, "rename a tier"),
        ("DELETE", "/api/tiers/%d" % new_tier.get("id", 0), None, "delete a tier"),
        ("PATCH", "/api/recordings/%d" % rb, {"access": "private"}, "change its access"),
        ("PATCH", "/api/recordings/%d" % rb, {"access": "public"},
         "set its access to what it is"),
        ("POST", "/api/recordings/%d/withheld" % rb, {"start_ms": 500, "end_ms": 900},
         "withhold a span"),
        ("DELETE", "/api/recordings/%d/withheld/%d" % (rb, span.get("id", 0)), None,
         "release a withheld span"),
        ("DELETE", "/api/recordings/%d/withheld" % rb, {"id": span.get("id", 0)},
         "release a withheld span (id in the body)"),
        ("POST", "/api/history/%d/revert" % seg_row.get("id", 0), None,
         "revert a change of the history"),
    ]
    for who in ["ann-a", "admin-a"]:
        for method, path, obj, what in refused:
            st, _, body = c[who].send(method, path, obj)
            ok(st == 403 and "error" in (jbody(body) or {}) and db_state(data) == before,
               "%s may not %s of B's recording: 403, nothing changed" % (who, what),
               "%d %s" % (st, body[:200]))
    st, _, body = ann_a.get("/api/recordings/%d" % rb)
    ok(st == 200 and (jbody(body) or {}).get("withheld"),
       "reads are not scoped yet: an annotator of A still reads B's recording")

    # an annotator of A on A's recording: allowed, every kind of write
    ra = rec["A"]
    tier_a, seg_a = first_segment(ann_a, ra)
    st, _, body = ann_a.send("PATCH", "/api/segments/%d" % seg_a["id"],
                             {"version": seg_a["version"], "text": "de A"})
    seg_a = jbody(body) or seg_a
    ok(st == 200 and seg_a.get("text") == "de A", "an annotator of A edits A's segment", body)
    st, _, body = ann_a.send("POST", "/api/recordings/%d/tiers" % ra, {"name": "notes-a"})
    ok(st == 201, "an annotator of A adds a tier to A's recording", body)
    st, _, body = ann_a.send("POST", "/api/recordings/%d/withheld" % ra,
                             {"start_ms": 100, "end_ms": 300})
    ok(st == 201, "an annotator of A withholds a span of A's recording", body)
    st, _, body = ann_a.get("/api/recordings/%d/history?limit=20" % ra)
    row_a = next((h for h in (jbody(body) or {}).get("history", [])
                  if h["action"] == "segment.update"), {})
    st, _, body = ann_a.send("POST", "/api/history/%d/revert" % row_a.get("id", 0))
    ok(st == 200, "an annotator of A reverts a change of A's recording", body)
    st, _, body = c["ann-b"].send("PATCH", "/api/recordings/%d" % ra, {"access": "restricted"})
    ok(st == 403, "an annotator of B may not change A's access", body)

    # the network's annotator edits both
    for inst in "AB":
        t, s = first_segment(net, rec[inst])
        st, _, body = c["ann-net"].send("PATCH", "/api/segments/%d" % s["id"],
                                        {"version": s["version"], "text": "réseau " + inst})
        ok(st == 200, "a network annotator edits %s's recording" % inst, body)

    # an admin of A: A's access levels, not B's
    st, _, body = admin_a.send("PATCH", "/api/recordings/%d" % ra, {"access": "restricted"})
    ok(st == 200 and (jbody(body) or {}).get("access") == "restricted",
       "an admin of A changes A's access level", body)
    before = db_state(data)
    st, _, body = admin_a.send("PATCH", "/api/recordings/%d" % rb, {"access": "restricted"})
    ok(st == 403 and db_state(data) == before, "an admin of A may not change B's: 403, unchanged",
       body)
    st, _, body = c["admin-net"].send("PATCH", "/api/recordings/%d" % rb, {"access": "restricted"})
    ok(st == 200, "a network admin changes B's", body)


def page_data(body, name):
    """The JSON a page carries in <script type="application/json" id=name>."""
    m = re.search(r'<script type="application/json" id="%s">(.*?)</script>' % name,
                  body.decode("utf-8"), re.S)
    try:
        return json.loads(m.group(1)) if m else None
    except ValueError:
        return None


def check_pages(data, c, rec):
    net = c["admin-net"]
    st, _, body = net.send("PATCH", "/api/recordings/%d" % rec["B"], {"access": "private"})
    ok(st == 200, "B's recording made private", body)
    st, hd, body = request("GET", "/institutions?lang=fr")
    lst = (page_data(body, "institutions-data") or {}).get("institutions", [])
    counts = {i["short"]: (i["recordings"], i["collections"]) for i in lst}
    ok(st == 200 and counts == {"musee-a": (1, 1), "assoc-b": (0, 0)},
       "/institutions lists both, counting for a visitor only what they may know of", counts)
    cfg = page_data(body, "map-data") or {}
    ok(cfg.get("tiles") == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
       and "OpenStreetMap" in cfg.get("attribution", ""),
       "the map's tiles are OpenStreetMap's by default, with their credit", cfg)
    ok("img-src 'self' data: https://tile.openstreetmap.org;"
       in hd.get("content-security-policy", ""),
       "the map page lets the tiles' origin serve images", hd.get("content-security-policy"))
    ok(b"/static/leaflet.min.js?v=" in body and b"normandy.geojson?v=" in body,
       "the map page loads Leaflet and the outline from parlers itself")
    for name, mime in [("leaflet.min.js", "text/javascript"), ("leaflet.css", "text/css"),
                       ("normandy.geojson", "application/geo+json")]:
        st, hd2, b2 = request("GET", "/static/" + name)
        ok(st == 200 and hd2.get("content-type", "").startswith(mime) and len(b2) > 1000,
           "/static/%s is served (%s)" % (name, mime))
    st, _, b2 = request("GET", "/static/normandy.geojson")
    geo = jbody(b2) or {}
    names = {f["properties"]["name"] for f in geo.get("features", [])}
    ok({"Manche", "Calvados", "Orne", "Eure", "Seine-Maritime", "Jersey", "Guernsey"} <= names,
       "the outline has the five départements and the Channel Islands", names)
    st, _, body = net.get("/institutions")
    lst = (page_data(body, "institutions-data") or {}).get("institutions", [])
    ok({i["short"]: i["recordings"] for i in lst} == {"musee-a": 1, "assoc-b": 1},
       "staff see the private recording counted")

    st, hd, body = request("GET", "/institutions/assoc-b")
    one = page_data(body, "institution-data") or {}
    facets = page_data(body, "facets-data") or {}
    first = page_data(body, "list-data") or {}
    ok(st == 200 and one.get("short") == "assoc-b" and b"<title>Association B" in body,
       "/institutions/{short}: its page, titled with its name")
    ok(facets == {"collections": [], "places": [], "speakers": []} and first.get("total") == 0,
       "a visitor sees none of a private recording's collection, place, speaker or listing",
       (facets, first.get("total")))
    ok("tile.openstreetmap.org" not in hd.get("content-security-policy", ""),
       "a page without a map keeps images to the site")
    ok(b'name="institution" value="assoc-b"' in body,
       "its search box is scoped to it")
    st, _, body = net.get("/institutions/assoc-b")
    facets = page_data(body, "facets-data") or {}
    first = page_data(body, "list-data") or {}
    ok(len(facets.get("places", [])) == 1 and len(facets.get("speakers", [])) == 1
       and len(facets.get("collections", [])) == 1 and first.get("total") == 1
       and first["recordings"][0]["id"] == rec["B"],
       "staff see its collection, place, speaker and recording",
       (facets, first.get("total")))
    st, _, body = request("GET", "/institutions/musee-a")
    first = page_data(body, "list-data") or {}
    ok([r["id"] for r in first.get("recordings", [])] == [rec["A"]]
       and all(r["institution"]["short"] == "musee-a" for r in first.get("recordings", [])),
       "an institution's page lists its own recordings only")
    for path in ["/institutions/nowhere", "/institutions/Not_Short", "/institutions/a/b"]:
        st, hd, body = request("GET", path)
        ok(st == 404 and hd.get("content-type", "").startswith("text/html"),
           "%s: the 404 page" % path)

    # serve --tiles: another origin, none, and a refused URL
    other = Server(data, extra=["--quiet", "--tiles", "https://{s}.tiles.example.org/{z}/{x}/{y}.png",
                                "--tiles-attribution", "Example tiles"])
    try:
        st, hd, body = harness.request(other.port, "GET", "/institutions")
        cfg = page_data(body, "map-data") or {}
        ok(cfg == {"tiles": "https://{s}.tiles.example.org/{z}/{x}/{y}.png",
                   "attribution": "Example tiles"}
           and "img-src 'self' data: https://*.tiles.example.org;"
           in hd.get("content-security-policy", ""),
           "serve --tiles URL: the page gets it, and img-src its origin (subdomains too)",
           (cfg, hd.get("content-security-policy")))
    finally:
        other.stop()
    other = Server(data, extra=["--quiet", "--tiles", "none"])
    try:
        st, hd, body = harness.request(other.port, "GET", "/institutions")
        cfg = page_data(body, "map-data") or {}
        ok(cfg.get("tiles") is None and "img-src 'self' data:;"
           in hd.get("content-security-policy", ""),
           "serve --tiles none: the outline alone, no outside image", cfg)
    finally:
        other.stop()
    for bad in ["ftp://x.org/{z}/{x}/{y}.png", "https://x.org/tiles.png",
                "https://x.org/{z}/{x}/{y}.png; script-src *", "https://a b/{z}/{x}/{y}"]:
        r = subprocess.run([PARLERS, "-d", data, "serve", "--tiles", bad], capture_output=True,
                           text=True, timeout=20)
        ok(r.returncode == 2 and "--tiles: a tile URL" in r.stderr.splitlines()[0],
           "serve --tiles %r: a usage error saying why" % bad, r.stderr)


def add_copies(data, of, short, n):
    """n more public recordings of institution short, rows copied from
    recording of (a test's shortcut: featuring reads rows, not media)."""
    db = sqlite3.connect(os.path.join(data, "archive.db"), timeout=30)
    try:
        cols = [r[1] for r in db.execute("PRAGMA table_info(recordings)") if r[1] != "id"]
        inst = db.execute("SELECT id FROM institutions WHERE short = ?", (short,)).fetchone()[0]
        sel = ["?" if c in ("sha256", "title", "institution_id", "access", "collection_id")
               else c for c in cols]
        for i in range(n):
            args = []
            for c in cols:
                if c == "sha256":
                    args.append("%064x" % (0xfeed0000 + i + inst * 1000))
                elif c == "title":
                    args.append("%s copy %d" % (short, i))
                elif c == "institution_id":
                    args.append(inst)
                elif c == "access":
                    args.append(0)
                elif c == "collection_id":
                    args.append(None)
            db.execute("INSERT INTO recordings(%s) SELECT %s FROM recordings WHERE id = %d"
                       % (",".join(cols), ",".join(sel), of), args)
        db.commit()
    finally:
        db.close()


def check_featured(data, c, rec):
    for short, name in [("big", "Grand centre"), ("small-c", "Petit C"), ("small-d", "Petit D")]:
        r = cli(data, "institution", "add", short, "--name", name)
        ok(r.returncode == 0, "institution add " + short, r.stderr)
    add_copies(data, rec["A"], "big", 30)
    add_copies(data, rec["A"], "small-c", 1)
    add_copies(data, rec["A"], "small-d", 1)
    orders, firsts = set(), set()
    worst = 0
    for day in ["2026-12-%02d" % d for d in range(1, 15)]:
        st, _, body = request("GET", "/api/featured?day=%s&per_institution=2" % day)
        f = jbody(body) or {}
        recs = f.get("recordings", [])
        insts = [r["institution"]["short"] for r in recs]
        worst = max([worst] + [insts.count(s) for s in set(insts)])
        orders.add(tuple(r["id"] for r in recs))
        if insts:
            firsts.add(insts[0])
        if day == "2026-12-01":
            ok(st == 200 and f.get("day") == day and f.get("per_institution") == 2
               and {"big", "small-c", "small-d", "musee-a"} <= set(insts)
               and set(i["short"] for i in f.get("institutions", []))
               == {"musee-a", "assoc-b", "big", "small-c", "small-d"},
               "/api/featured: every institution with something to show has a slot", insts)
            ok(len(set(insts[:4])) == 4,
               "first picks of each institution come before any second one", insts)
            ok(rec["B"] not in [r["id"] for r in recs],
               "a private recording is never featured to a visitor")
    ok(worst == 2, "a large institution (32 recordings) never takes more than 2 slots", worst)
    ok(len(orders) >= 10, "the order changes from day to day (%d orders in 14 days)" % len(orders))
    ok(len(firsts) >= 3, "the first slot goes round the institutions, not to the largest",
       sorted(firsts))
    st, _, body = request("GET", "/api/featured?day=2026-12-01&per_institution=2")
    st2, _, body2 = request("GET", "/api/featured?day=2026-12-01&per_institution=2")
    ok(body == body2, "one day, one order")
    for q in ["day=2026-13-01", "day=yesterday", "per_institution=0", "per_institution=x"]:
        st, _, body = request("GET", "/api/featured?" + q)
        ok(st == 400 and "error" in (jbody(body) or {}), "/api/featured?%s: 400" % q)
    st, _, body = request("GET", "/")
    home = page_data(body, "featured-data") or {}
    shorts = [r["institution"]["short"] for r in home.get("recordings", [])]
    ok(st == 200 and len(shorts) == 5 and shorts.count("big") == 2,
       "the home page carries today's picks, two of the large institution's and no more",
       shorts)
    st, _, body = request("GET", "/?institution=small-c")
    lst = page_data(body, "list-data") or {}
    ok(st == 200 and lst.get("total") == 1, "the home page's list filters by institution")
    st, _, body = request("GET", "/api/recordings?institution=big&limit=5")
    ok(st == 200 and (jbody(body) or {}).get("total") == 30, "browse by institution: its count")


def check_filters(data, c, rec):
    net = c["admin-net"]
    # A's and B's recordings, public for everyone to search
    for inst in "AB":
        st, _, body = net.send("PATCH", "/api/recordings/%d" % rec[inst], {"access": "public"})
        ok(st == 200, "%s's recording public again" % inst, body)
    hits = {}
    for short in ["musee-a", "assoc-b"]:
        st, _, body = request("GET", "/api/search?q=la&limit=200&institution=" + short)
        got = jbody(body) or {}
        hits[short] = {h["recording_id"] for h in got.get("hits", [])}
        ok(st == 200 and got.get("total", 0) > 0, "/api/search?institution=%s finds" % short,
           body[:200])
    ok(hits["musee-a"] == {rec["A"]} and hits["assoc-b"] == {rec["B"]},
       "each institution's search keeps to its own recordings", hits)
    st, _, body = request("GET", "/api/search?q=la&institution=nowhere")
    ok(st == 400 and "no institution 'nowhere'" in (jbody(body) or {}).get("error", ""),
       "/api/search with an unknown institution: 400 naming it", body)
    r = cli(data, "search", "--json", "--limit", "200", "--institution", "assoc-b", "la")
    got = json.loads(r.stdout) if r.returncode == 0 else {}
    ok({h["recording_id"] for h in got.get("hits", [])} == {rec["B"]},
       "search --institution keeps to its recordings", r.stderr)
    r = cli(data, "search", "--institution", "nowhere", "la")
    ok(r.returncode == 1 and r.stderr.count("\n") == 1 and "nowhere" in r.stderr,
       "search --institution nowhere: exit 1, one line", r.stderr)

    out = os.path.join(data, "..", "b.zip")
    r = cli(data, "export", "--institution", "assoc-b", "--audio", "none", "-o", out)
    names = []
    if r.returncode == 0:
        import zipfile
        with zipfile.ZipFile(out) as z:
            names = z.namelist()
    folders = {n.split("/")[2] for n in names if n.startswith("data/recordings/")}
    ok(r.returncode == 0 and folders == {"%06d-le-temps-des-foins" % rec["B"]},
       "export --institution assoc-b: its recording alone", (r.stderr, folders))
    bad = os.path.join(data, "..", "none.zip")
    r = cli(data, "export", "--institution", "nowhere", "--audio", "none", "-o", bad)
    ok(r.returncode == 1 and "nowhere" in r.stderr and not os.path.exists(bad),
       "export --institution nowhere: exit 1, no file", r.stderr)
    st, hd, body = request("GET", "/api/export?institution=musee-a&audio=none")
    ok(st == 200 and hd.get("content-type") == "application/zip"
       and ("%06d-" % rec["A"]).encode() in body and ("%06d-" % rec["B"]).encode() not in body,
       "/api/export?institution=: that institution's bag")
    st, _, body = request("GET", "/api/export?institution=nowhere&audio=none")
    ok(st == 400 and "nowhere" in (jbody(body) or {}).get("error", ""),
       "/api/export with an unknown institution: 400", body[:200])

    st, _, body = request("GET", "/oai?verb=ListSets")
    text = body.decode("utf-8")
    ok("<setSpec>institution:musee-a</setSpec><setName>Musée A</setName>" in text
       and "<setSpec>collection:" in text, "ListSets: a set per institution beside the collections")
    st, _, body = request("GET", "/oai?verb=ListRecords&metadataPrefix=olac&set=institution:assoc-b")
    text = body.decode("utf-8")
    ids = re.findall(r"recording/(\d+)</identifier>", text)
    ok(ids == [str(rec["B"])] and "<setSpec>institution:assoc-b</setSpec>" in text
       and "<dc:publisher>Association B</dc:publisher>" in text,
       "set=institution:assoc-b: its record, naming its institution", text[-600:])
    st, _, body = request("GET", "/oai?verb=ListIdentifiers&metadataPrefix=oai_dc"
                          "&set=institution:nowhere")
    ok(b'code="noRecordsMatch"' in body, "an unknown institution's set: noRecordsMatch")
    st, _, body = request("GET", "/oai?verb=Identify")
    ok(re.search(r"<institution>parlers, a network of \d+ institutions: [^<]*Musée A", 
                 body.decode("utf-8")) is not None, "Identify names the network and its members")


def zip_names(body):
    import io
    import zipfile
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            return z.namelist()
    except zipfile.BadZipFile:
        return []


def ways_out(client, rid, inst_short):
    """What client gets of recording rid through each way out: way -> heard."""
    got = {}
    st, _, body = client.get("/api/recordings/%d" % rid)
    r = jbody(body) or {}
    got["api"] = st == 200 and r.get("can_listen") is True and any(
        t["segments"] for t in r.get("tiers", []))
    st, _, body = client.get("/recordings/%d" % rid)
    page = page_data(body, "data") or page_data(body, "recording-data") or {}
    m = re.search(rb'"can_listen":(true|false)', body)
    got["page"] = st == 200 and m is not None and m.group(1) == b"true"
    st, _, _ = client.get("/media/%d.opus" % rid)
    got["media"] = st == 200
    st, _, _ = client.get("/api/recordings/%d/annotations.eaf" % rid)
    got["transcript"] = st == 200
    st, _, _ = client.get("/api/recordings/%d/clip.wav?start=0&end=1" % rid)
    got["clip"] = st == 200
    st, _, body = client.get("/iiif/%d/manifest.json" % rid)
    got["iiif"] = st == 200 and b".opus" in body
    st, _, body = client.get("/api/search?q=la&limit=200&institution=" + inst_short)
    got["search"] = rid in {h["recording_id"] for h in (jbody(body) or {}).get("hits", [])}
    st, _, body = client.get("/api/export?ids=%d&audio=opus" % rid)
    got["export"] = st == 200 and any(n.endswith(".opus") for n in zip_names(body))
    return got, page


def check_grants(data, c, rec):
    net = c["admin-net"]
    for inst in "AB":
        st, _, body = net.send("PATCH", "/api/recordings/%d" % rec[inst], {"access": "restricted"})
        ok(st == 200, "%s's recording restricted" % inst, body)
    for login, inst in [("res-a", "musee-a"), ("res-all", None), ("res-none", None)]:
        r = cli(data, "user", "add", login, "--role", "researcher",
                *(["--institution", inst] if inst else []), stdin=PASSWORD + "\n")
        ok(r.returncode == 0, "user add %s --role researcher" % login, r.stderr)
    r = cli(data, "user", "revoke", "res-none")
    ok(r.returncode == 0, "user revoke res-none", r.stderr)
    r = cli(data, "user", "grant", "res-all", "--all", "--json")
    ok(r.returncode == 0 and json.loads(r.stdout or "{}") == {
        "login": "res-all", "role": "researcher", "grant": "all"},
       "user grant --all --json says what it holds", r.stdout + r.stderr)
    r = cli(data, "user", "grant", "ann-a", "--all")
    ok(r.returncode == 1 and "only researchers" in r.stderr, "staff are not granted", r.stderr)
    for args in [["--all", "--institution", "musee-a"], []]:
        r = cli(data, "user", "grant", "res-a", *args)
        ok(r.returncode == 2, "user grant %s: usage error" % " ".join(args), r.stderr)
    r = cli(data, "user", "grant", "res-a", "--institution", "nowhere")
    ok(r.returncode == 1 and "nowhere" in r.stderr, "a grant of an unknown institution: exit 1",
       r.stderr)

    shorts = {"A": "musee-a", "B": "assoc-b"}
    clients = {login: Client(login) for login in ["res-a", "res-all", "res-none"]}
    clients["anonymous"] = Anonymous()
    expect = {"res-all": "AB", "res-a": "A", "res-none": "", "anonymous": ""}
    for who, cl in clients.items():
        for inst in "AB":
            got, _ = ways_out(cl, rec[inst], shorts[inst])
            want = inst in expect[who]
            wrong = sorted(w for w, heard in got.items() if heard != want)
            ok(not wrong, "%s %s %s's restricted recording on every way out"
               % (who, "hears" if want else "does not hear", inst), wrong)
    # searching without an institution: only a grant of all reads restricted hits
    for who, want in [("res-all", {rec["A"], rec["B"]}), ("res-a", set()), ("res-none", set())]:
        st, _, body = clients[who].get("/api/search?q=la&limit=200")
        hits = {h["recording_id"] for h in (jbody(body) or {}).get("hits", [])}
        ok(hits == want, "%s's search over every institution" % who, sorted(hits))
    # listings are the same for all: restricted recordings are listed to everyone
    for who, cl in clients.items():
        st, _, body = cl.get("/api/recordings?limit=100")
        ids = {r["id"] for r in (jbody(body) or {}).get("recordings", [])}
        ok({rec["A"], rec["B"]} <= ids, "%s sees both restricted recordings listed" % who)
    # an annotator of A made a researcher is granted A's; made staff again, none is kept
    r = cli(data, "user", "role", "ann-a", "--role", "researcher")
    ok(r.returncode == 0, "user role ann-a --role researcher", r.stderr)
    db = sqlite3.connect(os.path.join(data, "archive.db"))
    grant = db.execute("SELECT g.institution_id = u.institution_id FROM researcher_grants g"
                       " JOIN users u ON u.id = g.user_id WHERE u.login = 'ann-a'").fetchall()
    db.close()
    ok(grant == [(1,)], "an account made a researcher is granted its institution's", grant)
    r = cli(data, "user", "role", "ann-a", "--role", "annotator")
    db = sqlite3.connect(os.path.join(data, "archive.db"))
    grant = db.execute("SELECT count(*) FROM researcher_grants g JOIN users u"
                       " ON u.id = g.user_id WHERE u.login = 'ann-a'").fetchone()[0]
    db.close()
    ok(r.returncode == 0 and grant == 0, "and made staff again, keeps none", grant)
    # a grant changed holds at once, in the same session
    r = cli(data, "user", "grant", "res-a", "--institution", "assoc-b")
    ok(r.returncode == 0, "user grant res-a --institution assoc-b", r.stderr)
    got_a, _ = ways_out(clients["res-a"], rec["A"], "musee-a")
    got_b, _ = ways_out(clients["res-a"], rec["B"], "assoc-b")
    ok(not any(got_a.values()) and all(got_b.values()),
       "regranted, res-a hears B's and no longer A's, at its next request", (got_a, got_b))


class Anonymous:
    def get(self, path):
        return request("GET", path)


if __name__ == "__main__":
    sys.exit(main())
