#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Themes and the map of voices against a real `parlers serve` on the
sample corpus (its sidecars give a private recording alone at Valognes and
a restricted one beside a public one at Saint-Hélier).

- `parlers theme`: the default list, add (a hostile name kept as text),
  a duplicate, a bad slug, edit, delete, tag and untag a recording and a
  segment, unknown themes and ids: one line and exit 1, usage errors 2;
- GET /api/map is a valid GeoJSON FeatureCollection, a Point per place
  with [lon, lat] and {name, recordings, seconds}, and holds only what the
  viewer may hear: the private recording's place never appears for a
  visitor or a researcher (it does for staff), the restricted one is
  counted for a researcher only; a theme tagged only on the private
  recording gives a visitor an empty map; gzip when accepted, the same
  document once decompressed;
- the filters variety=, decade=, theme= (a recording's tag or a segment's)
  and institution= keep the right places; unknown values and a decade that
  is none are a 400 with a sentence;
- a place's voices (/api/map/places/{id}) list only what the viewer hears;
- themes over HTTP: the list counts for the viewer; staff writes go
  through the session, its CSRF token and the role (401, 403), a hostile
  name comes back as a JSON string and as escaped text on /themes/{slug};
  tags through the API show in the recording's and the segment's JSON;
- the pages /map, /themes/{slug} (404 for an unknown one) and the home
  page's map panel.

Python standard library only; TAP.
"""
import gzip
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
PASSWORD = "map-pass-1"
HOSTILE = '<script>alert("x")</script> & <b>fêtes</b>'


def cli(data, *args):
    return subprocess.run([PARLERS, "-d", data] + list(args), capture_output=True, text=True)


def get(path, client=None, headers=None):
    if client:
        return client.get(path, headers)
    return harness.request(srv.port, "GET", path, headers, None, 60)


def Client(login):
    return harness.Client(srv.port, login, PASSWORD, timeout=60)


def one_line_failure(r):
    return r.returncode == 1 and r.stdout == "" and len(r.stderr.strip().splitlines()) == 1


def geojson(body):
    """The FeatureCollection in body, checked; {place name + commune: properties}."""
    doc = harness.jbody(body)
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or \
            not isinstance(doc.get("features"), list):
        return None
    out = {}
    for f in doc["features"]:
        g = f.get("geometry") or {}
        c = g.get("coordinates")
        p = f.get("properties") or {}
        if f.get("type") != "Feature" or g.get("type") != "Point" or not isinstance(c, list) \
                or len(c) != 2 or not all(isinstance(x, (int, float)) for x in c) \
                or not (-180 <= c[0] <= 180 and -90 <= c[1] <= 90) \
                or not isinstance(p.get("name"), str) or not isinstance(p.get("recordings"), int) \
                or not isinstance(p.get("seconds"), int) or p["recordings"] < 1:
            return None
        out[p.get("commune") or p["name"]] = dict(p, lon=c[0], lat=c[1])
    return out


def main():
    global srv
    tmp = tempfile.mkdtemp(prefix="parlers-test-map-")
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
    cli(data, "init")
    r = cli(data, "ingest", CORPUS)
    ok(r.returncode == 0, "the sample corpus is ingested", r.stderr)
    recs = json.loads(cli(data, "list", "--json").stdout)["recordings"]
    by = {x["title"]: x for x in recs}
    private = next(x for x in recs if x["access"] == "private")
    restricted = next(x for x in recs if x["access"] == "restricted")
    pub = next(x for t, x in by.items() if t.startswith("Le bère"))
    hague = next(x for t, x in by.items() if t.startswith("La mézoun"))
    check_cli(data, pub, private)
    for login, role in (("res", "researcher"), ("anno", "annotator"), ("admin", "admin")):
        r = subprocess.run([PARLERS, "-d", data, "user", "add", login, "--role", role],
                           input=PASSWORD + "\n", capture_output=True, text=True)
        ok(r.returncode == 0, "user add %s" % login, r.stderr)
    srv = Server(data, extra=["--tiles", "none"])
    check_access(data, private, restricted)
    check_filters(data, pub, private, hague)
    check_voices(restricted, private)
    check_theme_api(data, pub, hague)
    check_pages()


def check_cli(data, pub, private):
    r = cli(data, "theme", "list", "--json")
    themes = json.loads(r.stdout)["themes"] if r.returncode == 0 else []
    ok({"la-mer", "les-metiers", "la-ferme", "les-veillees", "les-fetes"} <=
       {t["slug"] for t in themes}, "the default themes are there", r.stdout + r.stderr)
    r = cli(data, "theme", "add", "les-contes", HOSTILE, "--description", "Contes & légendes")
    ok(r.returncode == 0 and "les-contes" in r.stdout, "theme add", r.stderr)
    r = cli(data, "theme", "add", "les-contes", "Encore")
    ok(one_line_failure(r) and "exists" in r.stderr, "a theme added twice: one line, exit 1",
       r.stderr)
    for bad in ("Les Contes", "a/b", "", "x" * 65):
        r = cli(data, "theme", "add", bad, "Nom")
        ok(one_line_failure(r), "a bad slug %r: one line, exit 1" % bad, r.stderr)
    r = cli(data, "theme", "add", "vide", "")
    ok(one_line_failure(r), "an empty name: one line, exit 1", r.stderr)
    r = cli(data, "theme", "list", "--json")
    mine = next((t for t in json.loads(r.stdout)["themes"] if t["slug"] == "les-contes"), {})
    ok(mine.get("name") == HOSTILE and mine.get("description") == "Contes & légendes",
       "the hostile name is kept as it was given", r.stdout)
    r = cli(data, "theme", "edit", "les-contes", "--slug", "les-contes-2", "--description", "")
    ok(r.returncode == 0, "theme edit renames the slug and clears the description", r.stderr)
    r = cli(data, "theme", "edit", "les-contes-2", "--slug", "la-mer")
    ok(one_line_failure(r), "a slug that another theme has: one line, exit 1", r.stderr)
    r = cli(data, "theme", "tag", "la-mer", "--recording", str(pub["id"]))
    ok(r.returncode == 0, "tag a recording", r.stderr)
    r = cli(data, "theme", "tag", "la-mer", "--recording", str(pub["id"]))
    ok(r.returncode == 0, "tagging twice changes nothing and succeeds", r.stderr)
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    seg = con.execute("SELECT s.id FROM segments s JOIN tiers t ON t.id = s.tier_id"
                      " WHERE t.recording_id = ? ORDER BY s.id LIMIT 1",
                      (private["id"],)).fetchone()[0]
    ok(con.execute("SELECT count(*) FROM recording_themes").fetchone()[0] == 1,
       "one tag row for the recording")
    con.close()
    r = cli(data, "theme", "tag", "les-veillees", "--segment", str(seg))
    ok(r.returncode == 0, "tag a segment (of the private recording)", r.stderr)
    for args, what in ((["tag", "nope", "--recording", str(pub["id"])], "an unknown theme"),
                       (["tag", "la-mer", "--recording", "99999"], "an unknown recording"),
                       (["tag", "la-mer", "--segment", "99999"], "an unknown segment"),
                       (["delete", "nope"], "deleting an unknown theme"),
                       (["edit", "nope", "--name", "x"], "editing an unknown theme")):
        r = cli(data, "theme", *args)
        ok(one_line_failure(r), "%s: one line, exit 1" % what, r.stderr)
    for args in (["frob"], ["tag", "la-mer"], ["tag", "la-mer", "--recording", "x"],
                 ["add", "x"], ["list", "--bogus"]):
        r = cli(data, "theme", *args)
        ok(r.returncode == 2, "usage error %s: exit 2" % " ".join(args), r.stderr)
    r = cli(data, "theme", "add", "a-supprimer", "Provisoire")
    r2 = cli(data, "theme", "tag", "a-supprimer", "--recording", str(pub["id"]))
    r3 = cli(data, "theme", "delete", "a-supprimer")
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    left = con.execute("SELECT count(*) FROM recording_themes rt JOIN themes t"
                       " ON t.id = rt.theme_id WHERE t.slug = 'a-supprimer'").fetchone()[0]
    con.close()
    ok(r.returncode == 0 and r2.returncode == 0 and r3.returncode == 0 and left == 0,
       "deleting a theme takes its tags", r3.stderr)
    r = cli(data, "show", str(pub["id"]), "--json")
    ok([t["slug"] for t in json.loads(r.stdout).get("themes", [])] == ["la-mer"],
       "a recording's JSON carries its themes", r.stdout[:300])
    r = cli(data, "show", str(private["id"]), "--json")
    segs = [s for t in json.loads(r.stdout)["tiers"] for s in t["segments"] if s["id"] == seg]
    ok(segs and segs[0].get("themes") == ["les-veillees"], "a segment's JSON carries its themes")


def check_access(data, private, restricted):
    st, hd, body = get("/api/map")
    anon = geojson(body)
    ok(st == 200 and anon is not None, "GET /api/map: a valid GeoJSON FeatureCollection",
       body[:300])
    ok(hd.get("content-type", "").startswith("application/geo+json"), "as application/geo+json")
    anon = anon or {}
    ok("Valognes" not in anon, "the private recording's place is not on a visitor's map")
    ok(anon.get("Saint-Hélier", {}).get("recordings") == 1,
       "the restricted recording is not counted for a visitor", str(anon.get("Saint-Hélier")))
    public_with_place = [x for x in json.loads(cli(data, "list", "--json").stdout)["recordings"]
                         if x["access"] == "public" and x.get("place")]
    ok(sum(p["recordings"] for p in anon.values()) == len(public_with_place),
       "a visitor's map counts every public recording once")
    yv = anon.get("Yvetot", {})
    ok(yv.get("recordings") == 2 and 60 <= yv.get("seconds", 0) <= 90 and
       abs(yv.get("lat", 0) - 49.617) < 1e-3 and abs(yv.get("lon", 0) - 0.754) < 1e-3,
       "a place: its point [lon, lat], its recordings and seconds of speech", str(yv))
    res = geojson(get("/api/map", Client("res"))[2]) or {}
    ok("Valognes" not in res and res.get("Saint-Hélier", {}).get("recordings") == 2,
       "a researcher: the restricted one counted, the private place absent")
    adm = geojson(get("/api/map", Client("admin"))[2]) or {}
    ok(adm.get("Valognes", {}).get("recordings") == 1, "staff see the private recording's place")
    st, hd, gz = get("/api/map", headers={"Accept-Encoding": "gzip"})
    ok(st == 200 and hd.get("content-encoding") == "gzip" and gzip.decompress(gz) == body,
       "gzip when accepted: the same document", str(hd))
    ok("accept-encoding" in hd.get("vary", "").lower(), "Vary: Accept-Encoding")
    st, _, body = get("/api/map?theme=les-veillees")
    doc = harness.jbody(body) or {}
    ok(st == 200 and doc.get("features") == [],
       "a theme tagged only on a private recording: an empty map for a visitor", body[:200])
    adm = geojson(get("/api/map?theme=les-veillees", Client("admin"))[2]) or {}
    ok(list(adm) == ["Valognes"], "and its place for staff", str(adm))


def check_filters(data, pub, private, hague):
    def places(q):
        st, _, body = get("/api/map" + q)
        return st, set(geojson(body) or {})

    st, p = places("?variety=Cauchois")
    ok(st == 200 and p == {"Yvetot", "Fécamp"}, "variety=Cauchois", str(p))
    st, p2 = places("?variety=cauchois")
    ok(p2 == p, "a variety in any case")
    st, p = places("?decade=1970")
    ok(st == 200 and p == {"Beaumont-Hague", "Vauville", "Saint-Vaast-la-Hougue"},
       "decade=1970", str(p))
    st, p = places("?decade=1980")
    ok(p == {"Yvetot", "Fécamp"}, "decade=1980", str(p))
    st, p = places("?theme=la-mer")
    ok(st == 200 and p == {"Yvetot"}, "theme=: a tagged recording's place", str(p))
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    seg = con.execute("SELECT s.id FROM segments s JOIN tiers t ON t.id = s.tier_id"
                      " WHERE t.recording_id = ? ORDER BY s.id LIMIT 1",
                      (hague["id"],)).fetchone()[0]
    con.close()
    cli(data, "theme", "tag", "la-mer", "--segment", str(seg))
    st, p = places("?theme=la-mer")
    ok(p == {"Yvetot", "Beaumont-Hague"}, "theme=: a tagged segment's recording too", str(p))
    st, p = places("?theme=la-mer&decade=1980")
    ok(p == {"Yvetot"}, "filters combine", str(p))
    inst = json.loads(cli(data, "institution", "list", "--json").stdout)["institutions"][0]
    st, p = places("?institution=" + inst["short"])
    ok(st == 200 and len(p) >= 5, "institution=", str(p))
    for q, what in (("?variety=Picard", "an unknown variety"),
                    ("?decade=1975", "a decade that is none"),
                    ("?decade=19x0", "a decade that is no year"),
                    ("?decade=-1970", "a negative decade"),
                    ("?theme=nope", "an unknown theme"),
                    ("?theme=%3Cb%3E", "a theme that is no slug"),
                    ("?institution=nope", "an unknown institution")):
        st, hd, body = get("/api/map" + q)
        err = (harness.jbody(body) or {}).get("error", "")
        ok(st == 400 and len(err) > 10 and "\n" not in err,
           "%s: 400 with a sentence" % what, "%d %s" % (st, body[:200]))


def check_voices(restricted, private):
    anon = geojson(get("/api/map")[2])
    jersey = anon["Saint-Hélier"]["id"]
    st, _, body = get("/api/map/places/%d" % jersey)
    doc = harness.jbody(body) or {}
    ids = [x["id"] for x in doc.get("recordings", [])]
    ok(st == 200 and len(ids) == 1 and restricted["id"] not in ids,
       "a place's voices: only what a visitor hears", body[:300])
    first = (doc.get("recordings") or [{}])[0]
    ok(all(k in first for k in ("id", "title", "date", "duration_ms", "speakers")),
       "each voice with its title, date, duration and speakers", str(first))
    st, _, body = get("/api/map/places/%d" % jersey, Client("res"))
    ok(restricted["id"] in [x["id"] for x in (harness.jbody(body) or {}).get("recordings", [])],
       "and the restricted one for a researcher")
    adm = geojson(get("/api/map", Client("admin"))[2])
    valognes = adm["Valognes"]["id"]
    st, _, body = get("/api/map/places/%d" % valognes)
    doc = harness.jbody(body) or {}
    ok(st == 200 and doc.get("recordings") == [] and doc.get("total") == 0,
       "the private place's voices: none for a visitor", body[:200])
    st, _, body = get("/api/map/places/%d?variety=Picard" % jersey)
    ok(st == 400, "a place's voices: an unknown filter is a 400")
    st, _, body = get("/api/map/places/abc")
    ok(st == 404, "a place that is no id: 404")


def check_theme_api(data, pub, hague):
    st, _, body = get("/api/themes")
    themes = {t["slug"]: t for t in (harness.jbody(body) or {}).get("themes", [])}
    ok(st == 200 and themes.get("la-mer", {}).get("recordings") == 2,
       "GET /api/themes counts a theme's recordings (tagged or by a segment)", body[:300])
    ok(themes.get("les-veillees", {}).get("recordings") == 0,
       "a private recording's tag is not counted for a visitor")
    new = {"slug": "les-noces", "name": HOSTILE, "description": "Noces & fêtes"}
    st, _, _ = harness.request(srv.port, "POST", "/api/themes",
                               {"Content-Type": "application/json"}, json.dumps(new))
    ok(st == 401, "a visitor may not add a theme (401)")
    anno = Client("anno")
    st, _, _ = anno.send("POST", "/api/themes", new, csrf=False)
    ok(st == 403, "without the CSRF token: 403")
    st, _, body = Client("res").send("POST", "/api/themes", new)
    ok(st == 403, "a researcher may not add a theme (403)")
    st, _, body = anno.send("POST", "/api/themes", new)
    doc = harness.jbody(body) or {}
    ok(st == 201 and doc.get("name") == HOSTILE, "an annotator adds a theme (201)", body[:200])
    st, _, body = anno.send("POST", "/api/themes", new)
    ok(st == 409 and (harness.jbody(body) or {}).get("error"), "twice: 409 with a sentence")
    for bad, what in (({"slug": "Bad Slug", "name": "x"}, "a bad slug"),
                      ({"slug": "ok-slug", "name": ""}, "an empty name"),
                      ({"slug": "ok-slug", "name": 5}, "a name that is no text"),
                      ({"slug": "ok-slug", "name": "x" * 300}, "a name too long")):
        st, _, body = anno.send("POST", "/api/themes", bad)
        ok(st in (400, 422) and (harness.jbody(body) or {}).get("error"),
           "%s: 4xx with a sentence" % what, "%d %s" % (st, body[:200]))
    st, _, body = anno.send("POST", "/api/themes", raw=b"{not json")
    ok(st == 400, "a body that is no JSON: 400")
    st, _, body = anno.send("PATCH", "/api/themes/les-noces", {"description": "Les noces."})
    ok(st == 200 and (harness.jbody(body) or {}).get("description") == "Les noces.",
       "PATCH changes a theme", body[:200])
    st, _, body = anno.send("PATCH", "/api/themes/nope", {"name": "x"})
    ok(st == 404, "PATCH of an unknown theme: 404")
    st, _, body = anno.send("POST", "/api/recordings/%d/themes" % hague["id"],
                            {"theme": "les-noces"})
    ok(st == 200, "POST /api/recordings/{id}/themes tags it", body[:200])
    st, _, body = get("/api/recordings/%d" % hague["id"])
    ok("les-noces" in [t["slug"] for t in (harness.jbody(body) or {}).get("themes", [])],
       "the recording's JSON carries the new theme")
    tiers = (harness.jbody(body) or {}).get("tiers", [])
    sid = tiers[0]["segments"][1]["id"]
    st, _, body = anno.send("POST", "/api/segments/%d/themes" % sid, {"theme": "les-noces"})
    ok(st == 200, "POST /api/segments/{sid}/themes tags it", body[:200])
    st, _, body = get("/api/recordings/%d" % hague["id"])
    seg = [s for t in (harness.jbody(body) or {}).get("tiers", []) for s in t["segments"]
           if s["id"] == sid]
    ok(seg and "les-noces" in seg[0].get("themes", []), "the segment's JSON carries it")
    st, _, body = anno.send("DELETE", "/api/segments/%d/themes/les-noces" % sid)
    ok(st == 200, "DELETE .../themes/{slug} untags a segment", body[:200])
    st, _, body = anno.send("POST", "/api/segments/999999/themes", {"theme": "les-noces"})
    ok(st == 404, "an unknown segment: 404")
    st, _, body = anno.send("POST", "/api/recordings/%d/themes" % hague["id"], {"theme": "nope"})
    ok(st == 404, "an unknown theme: 404")
    st, _, body = anno.send("POST", "/api/recordings/%d/themes" % hague["id"], {"them": "x"})
    ok(st == 400, "a body without a theme: 400")
    st, _, body = Client("res").send("POST", "/api/recordings/%d/themes" % hague["id"],
                                     {"theme": "la-mer"})
    ok(st == 403, "a researcher may not tag (403)")
    st, _, body = get("/themes/les-noces")
    html = body.decode("utf-8", "replace")
    ok(st == 200 and "<script>alert" not in html and "&lt;script&gt;alert" in html,
       "/themes/{slug}: the hostile name is escaped text", html[:200])
    ok(hague["title"] in html, "the theme's page lists its recording")
    st, _, body = anno.send("DELETE", "/api/recordings/%d/themes/les-noces" % hague["id"])
    ok(st == 200, "DELETE /api/recordings/{id}/themes/{slug} untags it")
    st, _, body = anno.send("DELETE", "/api/themes/les-noces")
    ok(st == 200, "DELETE /api/themes/{slug}")
    st, _, body = get("/api/themes/les-noces")
    ok(st == 404, "a deleted theme: 404")


def check_pages():
    st, hd, body = get("/map")
    html = body.decode("utf-8", "replace")
    ok(st == 200 and 'class="voices-map"' in html and "leaflet.markercluster.min.js" in html,
       "/map: the page, with Leaflet.markercluster served by parlers")
    ok("https://" not in re.sub(r'href="https?://[^"]*"', "", html.split("</header>")[1]),
       "nothing on the page is fetched from elsewhere")
    for name in ("leaflet.markercluster.min.js", "MarkerCluster.css",
                 "MarkerCluster.Default.css", "map.js", "map.css"):
        st, _, _ = get("/static/" + name)
        ok(st == 200, "/static/%s is served" % name)
    st, hd, body = get("/")
    ok(st == 200 and b'class="map-panel"' in body and b"map.js" in body,
       "the home page has a map panel")
    ok("tile.openstreetmap.org" not in hd.get("content-security-policy", "x"),
       "its panel draws the outline alone: no tile server is asked from the home page")
    st, _, body = get("/themes/la-mer")
    html = body.decode("utf-8", "replace")
    ok(st == 200 and "Le bère et les pommiers" in html, "/themes/la-mer lists its recording")
    ok("Souvenirs" not in html, "and no private recording")
    for path in ("/themes/nope", "/themes/BAD", "/themes/a%2Fb"):
        st, _, _ = get(path)
        ok(st == 404, "%s: 404" % path)


if __name__ == "__main__":
    sys.exit(main())
