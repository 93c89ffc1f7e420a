#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Routes written on the web: the editor's pages, POST/PUT/DELETE
/api/routes, the routes' history and its reverts, and a route as a IIIF
Collection, against a real `parlers serve` and a real archive.

- every new route for every role: anonymous 401, a researcher 403, a
  write without the CSRF token 403, staff through;
- a write is checked whole (bad JSON 400; a span outside its recording,
  an unknown recording, a slug that changes, the reserved slug "new", a
  cover that is not one of the route's recordings: 422 and nothing
  written; an existing slug or a stale version: 409);
- stops pass through the access gate (staff hear every recording, so an
  institution's annotator may use another's private one); the public and
  researchers never get a stop they may not hear, page, API or IIIF;
- every change is a history row; each one is undone by its revert,
  a deletion too;
- hostile titles and notes come back as text; a route of 500 stops saved
  through the API answers whole;
- the IIIF Collection lists the manifests of the stops the viewer may
  hear, each with a Range per stop;
- `parlers export --route` and /api/export?route= bag the route's JSON
  with its stops' recordings, the stops the viewer may not hear left out.

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
PASSWORD = "route-edit-pass-1"
B_STEM = "caux-1981-le-temps-des-foins"
ACCOUNTS = [("admin", "admin", None), ("ann-a", "annotator", "musee-a"),
            ("res", "researcher", None)]


def cli(data, *args, stdin=None):
    return subprocess.run([PARLERS, "-d", data] + list(args), capture_output=True, text=True,
                          input=stdin)


def jb(body):
    try:
        return json.loads(body)
    except ValueError:
        return None


def anon(method, path, obj=None):
    h = {"Content-Type": "application/json"} if obj is not None else None
    return harness.request(srv.port, method, path, h,
                           json.dumps(obj) if obj is not None else None, 60)


def rows(data, sql):
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def main():
    global srv
    tmp = tempfile.mkdtemp(prefix="parlers-test-route-edit-")
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
    r = cli(data, "institution", "add", "assoc-b", "--name", "Association B")
    ok(r.returncode == 0, "institution add B", r.stderr)
    a_dir, b_dir = os.path.join(tmp, "a"), os.path.join(tmp, "b")
    os.makedirs(a_dir)
    os.makedirs(b_dir)
    for f in os.listdir(CORPUS):
        if f.startswith(B_STEM + "."):
            if f.endswith(".wav"):  # no sidecar: --access decides
                shutil.copy(os.path.join(CORPUS, f), b_dir)
        elif not f.endswith(".md"):
            shutil.copy(os.path.join(CORPUS, f), a_dir)
    r = cli(data, "ingest", "--institution", "musee-a", a_dir)
    ok(r.returncode == 0, "A's recordings are ingested", r.stderr)
    r = cli(data, "ingest", "--json", "--institution", "assoc-b", "--access", "private", b_dir)
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    ok(r.returncode == 0 and len(lines) == 1, "B's private recording is ingested", r.stderr)
    b_private = lines[0]["id"] if lines else 0
    recs = json.loads(cli(data, "list", "--json").stdout)["recordings"]
    pub = [x for x in recs if x["access"] == "public"]
    ok(len(pub) >= 2, "two public recordings of A")
    for login, role, inst in ACCOUNTS:
        r = cli(data, "user", "add", login, "--role", role,
                *(["--institution", inst] if inst else []), stdin=PASSWORD + "\n")
        ok(r.returncode == 0, "user add %s" % login, r.stderr)
    srv = Server(data)
    c = {login: harness.Client(srv.port, login, PASSWORD) for login, _, _ in ACCOUNTS}
    ok(all(x.login_status == 200 for x in c.values()), "every account signs in")
    p1, p2 = pub[0]["id"], pub[1]["id"]
    route = {"slug": "la-mer", "title": "La mer", "intro": "Du vraic aux bateaux.",
             "stops": [{"recording_id": p1, "start_ms": 1000, "end_ms": 6000,
                        "title": "Premier", "note": "Une note."},
                       {"recording_id": p2, "start_ms": 0, "end_ms": 4000, "title": "Second"}]}
    check_roles(c, route)
    check_writes(data, c, route, p1, p2)
    check_history(data, c, route)
    check_institution(data, c, route, p1, b_private)
    check_hostile_and_large(c, p1)
    check_iiif(c, p1, p2, b_private)
    check_bag(tmp, data, c, p1, b_private)


def check_roles(c, route):
    for method, path in (("POST", "/api/routes"), ("PUT", "/api/routes/la-mer"),
                         ("DELETE", "/api/routes/la-mer"),
                         ("POST", "/api/route-history/1/revert")):
        st, _, body = anon(method, path, route)
        ok(st == 401, "%s %s, anonymous: 401" % (method, path), (st, body[:200]))
        st, _, body = c["res"].send(method, path, route)
        ok(st == 403 and b"only annotators and admins" in body,
           "%s %s, a researcher: 403 with a sentence" % (method, path), (st, body[:200]))
        st, _, body = c["admin"].send(method, path, route, csrf=False)
        ok(st == 403, "%s %s without the CSRF token: 403" % (method, path), (st, body[:200]))
    st, _, body = anon("GET", "/api/route-history/la-mer")
    ok(st == 401, "GET /api/route-history/{slug}, anonymous: 401", st)
    st, _, body = c["res"].get("/api/route-history/la-mer")
    ok(st == 403, "GET /api/route-history/{slug}, a researcher: 403", st)
    for path in ("/routes/new", "/routes/la-mer/edit"):
        st, h, body = anon("GET", path)
        ok(st == 200 and b'"staff":false' in body and b'"route":null' in body,
           "GET %s, anonymous: the page that asks to sign in" % path, (st, body[:300]))
    st, _, body = c["admin"].get("/routes/la-mer/edit")
    ok(st == 404, "GET /routes/{slug}/edit of an unknown route, staff: 404", st)
    st, _, body = c["admin"].get("/routes/new")
    ok(st == 200 and b'"staff":true' in body and b"Sortable.min.js" in body,
       "GET /routes/new, staff: the editor with its drag and drop", body[:300])
    st, h, body = anon("GET", "/static/Sortable.min.js")
    ok(st == 200 and b"Sortable" in body, "SortableJS is served by parlers", st)
    st, h, body = c["res"].get("/routes/new")
    ok(st == 200 and b'"staff":false' in body, "GET /routes/new, a researcher: asked to sign in as staff",
       body[:200])
    st, h, body = anon("GET", "/games")
    ok(st == 200 and b'id="where-map"' in body and b'"tiles"' in body and
       b"games-where.js" in body and b"leaflet.min.js" in body,
       "GET /games: the where game's map, with the map's settings", body[:200])


def check_writes(data, c, route, p1, p2):
    admin = c["admin"]
    st, _, body = admin.send("POST", "/api/routes", route)
    j = jb(body) or {}
    ok(st == 201 and j.get("slug") == "la-mer" and j.get("version") == 1 and
       len(j.get("stops", [])) == 2 and j["stops"][0].get("recording", {}).get("id") == p1,
       "POST /api/routes: 201 with the route as the player gets it", (st, body[:300]))
    st, _, body = anon("GET", "/api/routes/la-mer")
    ok(st == 200 and (jb(body) or {}).get("title") == "La mer", "the public follows it", st)
    st, h, body = anon("GET", "/routes/la-mer")
    ok(st == 200 and b'id="route-map"' in body and b'id="map-data"' in body and
       b"leaflet.min.js" in body, "its page carries the map of its stops", body[:200])
    st, _, body = admin.get("/routes/la-mer/edit")
    ok(st == 200 and b'"staff":true' in body and b"Du vraic aux bateaux." in body,
       "GET /routes/{slug}/edit, staff: the editor with the route", body[:200])
    st, _, body = admin.send("POST", "/api/routes", route)
    ok(st == 409, "POST of an existing slug: 409", (st, body[:200]))
    moved = dict(route, title="La mer, encore", version=1,
                 stops=[route["stops"][1], route["stops"][0]], cover_recording_id=p2)
    del moved["slug"]
    st, _, body = admin.send("PUT", "/api/routes/la-mer", moved)
    j = jb(body) or {}
    ok(st == 200 and j.get("version") == 2 and j.get("title") == "La mer, encore" and
       [s["recording_id"] for s in j.get("stops", [])] == [p2, p1] and
       j.get("cover_recording_id") == p2,
       "PUT: the stops reordered, the cover set, version 2", (st, body[:300]))
    st, _, body = admin.send("PUT", "/api/routes/la-mer", moved)
    ok(st == 409 and b"reload" in body, "PUT on a stale version: 409 with a sentence",
       (st, body[:200]))
    before = rows(data, "SELECT version, title FROM parcours WHERE slug = 'la-mer'")
    bad = [("not JSON", None, b"{\"title\": ", 400),
           ("a span outside its recording",
            dict(moved, version=2, stops=[{"recording_id": p1, "start_ms": 0,
                                           "end_ms": 99999999}]), None, 422),
           ("an unknown recording",
            dict(moved, version=2, stops=[{"recording_id": 987654, "start_ms": 0,
                                           "end_ms": 1000}]), None, 422),
           ("a slug that changes", dict(moved, version=2, slug="autre"), None, 422),
           ("a cover off the route", dict(moved, version=2, cover_recording_id=987654), None,
            422),
           ("no stops", dict(moved, version=2, stops=[]), None, 422),
           ("a note that is no text",
            dict(moved, version=2, stops=[dict(route["stops"][0], note=5)]), None, 422)]
    for what, obj, raw, want in bad:
        st, _, body = admin.send("PUT", "/api/routes/la-mer", obj, raw=raw)
        ok(st == want and isinstance((jb(body) or {}).get("error"), str),
           "PUT with %s: %d with a sentence" % (what, want), (st, body[:200]))
    ok(rows(data, "SELECT version, title FROM parcours WHERE slug = 'la-mer'") == before,
       "nothing of them was written")
    st, _, body = admin.send("POST", "/api/routes", dict(route, slug="new"))
    ok(st == 422, "the slug 'new' is the editor's: 422", (st, body[:200]))
    for method in ("PUT", "DELETE"):
        st, _, body = admin.send(method, "/api/routes/nowhere", moved)
        ok(st == 404, "%s of an unknown route: 404" % method, (st, body[:200]))


def check_history(data, c, route):
    admin = c["admin"]
    st, _, body = admin.get("/api/route-history/la-mer")
    h = (jb(body) or {}).get("history", [])
    ok(st == 200 and [x["action"] for x in h] == ["update", "create"] and
       h[0]["login"] == "admin" and h[0]["after"]["title"] == "La mer, encore" and
       h[1]["before"] is None, "the history: one row per save, newest first", body[:300])
    st, _, body = admin.send("POST", "/api/route-history/%d/revert" % h[0]["id"], {})
    j = jb(body) or {}
    ok(st == 200 and j.get("title") == "La mer" and j.get("version") == 3 and
       [s["recording_id"] for s in j["stops"]] ==
       [s["recording_id"] for s in route["stops"]],
       "reverting the edit brings the route back as it was (version 3)", (st, body[:300]))
    st, _, body = admin.send("DELETE", "/api/routes/la-mer")
    ok(st == 200 and (jb(body) or {}).get("deleted") is True, "DELETE: 200", (st, body[:200]))
    st, _, _ = anon("GET", "/api/routes/la-mer")
    ok(st == 404, "a deleted route is 404", st)
    st, _, body = admin.get("/api/route-history/la-mer")
    h = (jb(body) or {}).get("history", [])
    ok([x["action"] for x in h] == ["delete", "revert", "update", "create"] and
       h[1].get("reverts") == h[2]["id"], "the deletion and the revert are in the history",
       body[:300])
    st, _, body = admin.send("POST", "/api/route-history/%d/revert" % h[0]["id"], {})
    ok(st == 200 and (jb(body) or {}).get("title") == "La mer",
       "reverting the deletion brings the route back", (st, body[:200]))
    st, _, body = admin.send("POST", "/api/route-history/%d/revert" % h[0]["id"], {})
    ok(st == 409, "reverting it again: 409, it is already back", (st, body[:200]))
    st, _, body = admin.send("POST", "/api/route-history/999999/revert", {})
    ok(st == 404, "reverting an unknown history row: 404", (st, body[:200]))
    st, _, body = admin.get("/api/route-history/nowhere")
    ok(st == 404, "the history of an unknown route: 404", (st, body[:200]))
    n = rows(data, "SELECT count(*) FROM parcours_history WHERE slug = 'la-mer'")[0][0]
    ok(n == 5, "every change wrote exactly one history row (%d)" % n)


def check_institution(data, c, route, p1, b_private):
    # the access gate lets staff hear every recording, another
    # institution's private ones too: an institution's annotator may use
    # them; the public never hears them
    ann = c["ann-a"]
    mixed = {"slug": "melange", "title": "Mélange",
             "stops": [{"recording_id": p1, "start_ms": 0, "end_ms": 3000},
                       {"recording_id": b_private, "start_ms": 0, "end_ms": 3000}]}
    st, _, body = ann.send("POST", "/api/routes", mixed)
    ok(st == 201 and len((jb(body) or {}).get("stops", [])) == 2,
       "an institution's annotator writes a route with stops they may hear", (st, body[:200]))
    st, _, body = anon("GET", "/api/routes/melange")
    ok(st == 200 and len((jb(body) or {}).get("stops", [])) == 1 and
       (jb(body) or {}).get("hidden") == 1, "the public hears the one public stop", body[:200])
    st, _, body = anon("GET", "/routes/melange")
    ok(st == 200 and b'"recording_id":%d' % b_private not in body,
       "the route page holds nothing of the private stop", body[:200])
    st, _, body = c["res"].get("/api/routes/melange")
    ok(st == 200 and len((jb(body) or {}).get("stops", [])) == 1,
       "nor does a researcher hear it", body[:200])
    only_private = {"slug": "cachee", "title": "Cachée", "stops": mixed["stops"][1:]}
    st, _, body = ann.send("POST", "/api/routes", only_private)
    ok(st == 201, "a route of private stops only is written", (st, body[:200]))
    for who, client in (("anonymous", None), ("a researcher", c["res"])):
        st, _, body = client.get("/api/routes/cachee") if client else \
            anon("GET", "/api/routes/cachee")
        ok(st == 404, "it is 404 for %s" % who, (st, body[:200]))
    st, _, body = anon("GET", "/iiif/routes/cachee/collection.json")
    ok(st == 404, "its IIIF collection too", st)


def check_hostile_and_large(c, p1):
    evil = "<script>alert(1)</script>&\"'"
    st, _, body = c["admin"].send("POST", "/api/routes", {
        "slug": "evil", "title": evil, "intro": evil,
        "stops": [{"recording_id": p1, "start_ms": 0, "end_ms": 3000, "title": evil,
                   "note": evil}]})
    ok(st == 201 and (jb(body) or {}).get("stops", [{}])[0].get("note") == evil,
       "hostile text is kept as text", (st, body[:200]))
    for path in ("/routes/evil", "/routes/evil/edit"):
        st, _, body = c["admin"].get(path)
        ok(st == 200 and b"<script>alert" not in body, "%s holds no markup of it" % path,
           body[:200])
    big = {"slug": "longue", "title": "Longue",
           "stops": [{"recording_id": p1, "start_ms": i, "end_ms": i + 1000}
                     for i in range(500)]}
    st, _, body = c["admin"].send("POST", "/api/routes", big)
    ok(st == 201 and len((jb(body) or {}).get("stops", [])) == 500,
       "a route of 500 stops is saved through the API and answers whole", (st, body[:200]))
    st, _, body = c["admin"].send("POST", "/api/routes", dict(
        big, slug="trop", stops=big["stops"] * 5))
    ok(st in (413, 422), "one of 2,500 stops: refused with a sentence (%d)" % st, body[:200])


def check_iiif(c, p1, p2, b_private):
    st, h, body = anon("GET", "/iiif/routes/melange/collection.json")
    j = jb(body) or {}
    ok(st == 200 and j.get("type") == "Collection" and
       "http://iiif.io/api/presentation/3/context.json" == j.get("@context"),
       "GET /iiif/routes/{slug}/collection.json: a IIIF Presentation 3 Collection", body[:300])
    ids = [x["id"] for x in j.get("items", [])]
    ok(len(ids) == 1 and ("/iiif/%d/manifest.json?route=melange" % p1) in ids[0] and
       all(x["type"] == "Manifest" for x in j["items"]),
       "anonymous: only the manifest of the stop they may hear", ids)
    st, h, body = c["admin"].get("/iiif/routes/melange/collection.json")
    ok(len((jb(body) or {}).get("items", [])) == 2, "staff: both manifests", body[:300])
    st, h, body = anon("GET", "/iiif/%d/manifest.json?route=melange" % p1)
    m = jb(body) or {}
    ranges = m.get("structures", [])
    ok(st == 200 and len(ranges) == 1 and ranges[0]["type"] == "Range" and
       ranges[0]["items"][0]["id"].endswith("/canvas/1#t=0.000,3.000"),
       "its manifest carries a Range for the stop, a Media Fragment of its Canvas", body[:300])
    st, h, body = anon("GET", "/iiif/%d/manifest.json?route=melange" % b_private)
    ok(st == 404, "the private recording's manifest stays 404", st)
    st, h, body = anon("GET", "/iiif/routes/nowhere/collection.json")
    ok(st == 404, "an unknown route's collection: 404", st)


def bag_route(zbytes, slug):
    with zipfile.ZipFile(io.BytesIO(zbytes)) as z:
        names = z.namelist()
        route = json.loads(z.read("data/routes/%s.json" % slug)) \
            if "data/routes/%s.json" % slug in names else None
        manifest = z.read("manifest-sha256.txt").decode()
        readme = z.read("data/README.txt").decode()
    return names, route, manifest, readme


def check_bag(tmp, data, c, p1, b_private):
    out = os.path.join(tmp, "route.zip")
    r = cli(data, "export", "--route", "melange", "--audio", "none", "-o", out)
    ok(r.returncode == 0, "parlers export --route writes a bag", r.stderr)
    with open(out, "rb") as f:
        names, route, manifest, readme = bag_route(f.read(), "melange")
    ok(route is not None and [s["recording_id"] for s in route["stops"]] == [p1, b_private],
       "the bag holds the route's JSON, every stop for staff", route)
    # (B's recording has no tiers, and --audio none: its folder holds nothing)
    ok(all(s["folder"].startswith("data/recordings/%06d-" % s["recording_id"])
           for s in route["stops"]) and
       any(n.startswith(route["stops"][0]["folder"] + "/") for n in names) and
       route["stops"][0]["fragment"] == "#t=0.000,3.000",
       "each stop names its recording's folder in the bag and its span", route["stops"])
    ok("data/routes/melange.json" in manifest and "data/routes/SLUG.json" in readme,
       "the route's file is in the manifest, and the README says what it holds")
    r = cli(data, "export", "--public", "--route", "melange", "--audio", "none", "-o", out)
    with open(out, "rb") as f:
        names, route, _, _ = bag_route(f.read(), "melange")
    ok(r.returncode == 0 and [s["recording_id"] for s in route["stops"]] == [p1] and
       not any("%06d-" % b_private in n for n in names),
       "--public: the private stop and its recording are left out", route)
    st, h, body = harness.request(srv.port, "GET", "/api/export?route=melange&audio=none", None,
                                  None, 60)
    ok(st == 200 and [s["recording_id"] for s in bag_route(body, "melange")[1]["stops"]] == [p1],
       "/api/export?route=: the route's bag as the visitor may have it", st)
    r = cli(data, "export", "--public", "--route", "cachee", "--audio", "none", "-o", out)
    ok(r.returncode == 1 and "no route" in r.stderr,
       "a route with nothing the viewer may hear: exit 1, one sentence", r.stderr)


if __name__ == "__main__":
    sys.exit(main())
