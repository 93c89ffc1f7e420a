#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The list of themes (/themes) and the decades of the map's filter
(/api/map/decades) against a real `parlers serve` on the sample corpus,
whose private recording is dated in the 1950s and restricted one in the
1960s here, so that each decade belongs to one access level.

- /themes for a visitor: 200, every theme in the page's data with the
  recordings a visitor may hear, no staff flag and no tag counts (what
  deleting a theme would untag is for staff), a hostile name never markup;
  the page's controls are for staff: annotators and admins get the flag
  and the counts, a researcher does not; the writes the controls make are
  401 for a visitor and 403 for a researcher, whatever the page shows;
- the counts staff see (tagged recordings and segments) follow tags and go
  with the theme; a renamed slug moves its tags and its page;
- /api/map/decades by role: a visitor is offered only the decades of
  public recordings (not the private one's, not the restricted one's), a
  researcher the restricted one's too, staff every decade; the other
  filters narrow the list, unknown ones are a 400 with a sentence; no
  dated recording under a filter is [];
- a date changed while the server runs changes the list (the cached
  answer is not kept past a change);
- the pages that show themes link to /themes; the decades kept in the
  server's cache are never another piece kept there (the home page's).

Python standard library only; TAP.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from harness import CORPUS, PARLERS, Server, done, ok  # noqa: E402

srv = None
PASSWORD = "themes-pass-1"
HOSTILE = '</script><script>alert("x")</script> & <b>noces</b>'


def cli(data, *args):
    return subprocess.run([PARLERS, "-d", data] + list(args), capture_output=True, text=True)


def get(path, client=None):
    if client:
        return client.get(path)
    return harness.request(srv.port, "GET", path, None, None, 60)


def Client(login):
    return harness.Client(srv.port, login, PASSWORD, timeout=60)


def page_data(html, node_id):
    """The JSON of the page's <script type="application/json" id=node_id>."""
    start = html.find('<script type="application/json" id="%s">' % node_id)
    if start < 0:
        return None
    start = html.index(">", start) + 1
    return harness.jbody(html[start:html.index("</script>", start)].encode("utf-8"))


def decades(client=None, query=""):
    st, hd, body = get("/api/map/decades" + query, client)
    return st, hd, (harness.jbody(body) or {}).get("decades")


def main():
    global srv
    tmp = tempfile.mkdtemp(prefix="parlers-test-themes-page-")
    try:
        run_all(os.path.join(tmp, "data"))
    except Exception:  # a crash is a failed test, not a lost plan
        import traceback
        ok(False, "the tests ran to the end", traceback.format_exc())
    finally:
        if srv:
            srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


def run_all(data):
    global srv
    cli(data, "init")
    r = cli(data, "ingest", CORPUS)
    ok(r.returncode == 0, "the sample corpus is ingested", r.stderr)
    recs = json.loads(cli(data, "list", "--json").stdout)["recordings"]
    private = next(x for x in recs if x["access"] == "private")
    restricted = next(x for x in recs if x["access"] == "restricted")
    r1 = cli(data, "edit", str(private["id"]), "--set", "date=1952-05-01")
    r2 = cli(data, "edit", str(restricted["id"]), "--set", "date=1963")
    ok(r1.returncode == 0 and r2.returncode == 0,
       "the private recording dated 1952, the restricted one 1963", r1.stderr + r2.stderr)
    for login, role in (("res", "researcher"), ("anno", "annotator"), ("admin", "admin")):
        r = subprocess.run([PARLERS, "-d", data, "user", "add", login, "--role", role],
                           input=PASSWORD + "\n", capture_output=True, text=True)
        ok(r.returncode == 0, "user add %s" % login, r.stderr)
    srv = Server(data, extra=["--tiles", "none"])
    check_page()
    check_writes(data, private)
    check_decades(data, private)
    check_links()


def check_page():
    st, hd, body = get("/themes")
    html = body.decode("utf-8", "replace")
    doc = page_data(html, "themes-data") or {}
    themes = {t["slug"]: t for t in (doc.get("list") or {}).get("themes", [])}
    ok(st == 200 and hd.get("content-type", "").startswith("text/html"), "GET /themes: a page")
    ok({"la-mer", "les-metiers", "la-ferme", "les-veillees", "les-fetes"} <= set(themes),
       "it carries every theme", html[:300])
    ok(doc.get("staff") is False, "a visitor is not staff: the page shows no controls")
    ok(all("tagged" not in t for t in themes.values()),
       "a visitor is not told what deleting a theme would untag")
    ok(all(isinstance(t.get("recordings"), int) for t in themes.values()),
       "each theme with its count of recordings")
    ok("themes.js" in html and 'href="/themes"' in html.split("</header>")[0],
       "the page's script; the site's header links /themes")
    ok('<form id="th-add" novalidate>' in html and 'id="th-add-box" class="th-add" hidden' in html,
       "the staff form is hidden until the script finds the viewer is staff")
    for login, staff in (("res", False), ("anno", True), ("admin", True)):
        st, _, body = get("/themes", Client(login))
        doc = page_data(body.decode("utf-8", "replace"), "themes-data") or {}
        mer = next((t for t in (doc.get("list") or {}).get("themes", []) if t["slug"] == "la-mer"),
                   {})
        ok(st == 200 and doc.get("staff") is staff and ("tagged" in mer) is staff,
           "%s: %s" % (login, "the controls and the tag counts" if staff else "no controls"),
           str(doc)[:300])


def check_writes(data, private):
    new = {"slug": "les-noces", "name": HOSTILE, "description": "Noces & fêtes"}
    for method, path, body in (("POST", "/api/themes", new),
                               ("PATCH", "/api/themes/la-mer", {"name": "x"}),
                               ("DELETE", "/api/themes/la-mer", None)):
        st, _, _ = harness.request(srv.port, method, path, {"Content-Type": "application/json"},
                                   json.dumps(body) if body else None)
        ok(st == 401, "a visitor's %s %s: 401" % (method, path))
        st, _, _ = Client("res").send(method, path, body)
        ok(st == 403, "a researcher's %s %s: 403" % (method, path))
    anno = Client("anno")
    st, _, body = anno.send("POST", "/api/themes", new)
    ok(st == 201, "an annotator adds a theme", body[:200])
    st, _, body = anno.send("POST", "/api/themes", dict(new, name="Encore"))
    err = (harness.jbody(body) or {}).get("error", "")
    ok(st == 409 and "exists" in err, "a slug taken: 409 with the sentence the page shows", err)
    st, _, body = anno.send("POST", "/api/themes", {"slug": "Les Noces", "name": "x"})
    err = (harness.jbody(body) or {}).get("error", "")
    ok(st in (400, 422) and "slug" in err, "a bad slug: 4xx with a sentence naming it", err)
    st, _, body = get("/themes")
    html = body.decode("utf-8", "replace")
    ok("<script>alert" not in html and "</script><script>alert" not in html,
       "a hostile name never becomes markup on /themes")
    doc = page_data(html, "themes-data") or {}
    ok(any(t["name"] == HOSTILE for t in doc["list"]["themes"]),
       "and comes back as the same text in the page's data")
    # tags, counted for staff
    hague = next(x for x in json.loads(cli(data, "list", "--json").stdout)["recordings"]
                 if x["title"].startswith("La mézoun"))
    st, _, body = get("/api/recordings/%d" % hague["id"])
    sid = harness.jbody(body)["tiers"][0]["segments"][1]["id"]
    anno.send("POST", "/api/recordings/%d/themes" % hague["id"], {"theme": "les-noces"})
    anno.send("POST", "/api/recordings/%d/themes" % private["id"], {"theme": "les-noces"})
    anno.send("POST", "/api/segments/%d/themes" % sid, {"theme": "les-noces"})

    def noces(client=None):
        st, _, body = get("/api/themes", client)
        return next((t for t in (harness.jbody(body) or {}).get("themes", [])
                     if t["slug"] in ("les-noces", "les-noces-2")), None)

    mine = noces(anno) or {}
    ok(mine.get("tagged") == {"recordings": 2, "segments": 1},
       "staff see what deleting it would untag: 2 recordings (one private), 1 segment", str(mine))
    ok(mine.get("recordings") == 2, "and the recordings they may hear under it", str(mine))
    vis = noces() or {}
    ok(vis.get("recordings") == 1 and "tagged" not in vis,
       "a visitor counts the public recording only, and no tags", str(vis))
    st, _, body = anno.send("PATCH", "/api/themes/les-noces",
                            {"slug": "les-noces-2", "name": "Les noces"})
    ok(st == 200 and (harness.jbody(body) or {}).get("slug") == "les-noces-2",
       "the slug and the name changed", body[:200])
    mine = noces(anno) or {}
    ok(mine.get("slug") == "les-noces-2" and mine.get("tagged") == {"recordings": 2, "segments": 1},
       "the tags follow the new slug", str(mine))
    ok(get("/themes/les-noces-2")[0] == 200 and get("/themes/les-noces")[0] == 404,
       "the theme's page moves with its slug")
    st, _, body = anno.send("PATCH", "/api/themes/les-noces-2", {"slug": "la-mer"})
    err = (harness.jbody(body) or {}).get("error", "")
    ok(st == 409 and err, "renamed to a slug another theme has: 409 with a sentence", err)
    st, _, body = Client("admin").send("DELETE", "/api/themes/les-noces-2")
    ok(st == 200 and noces(anno) is None, "an admin deletes it", body[:200])
    st, _, body = get("/api/recordings/%d" % hague["id"])
    ok("les-noces-2" not in json.dumps(harness.jbody(body)), "its tags are gone with it")


def check_decades(data, private):
    st, hd, d = decades()
    ok(st == 200 and hd.get("content-type", "").startswith("application/json"),
       "GET /api/map/decades: JSON", str(d))
    ok(d == [1970, 1980, 1990], "a visitor: the decades of public recordings only", str(d))
    ok(decades()[2] == d, "asked again (kept): the same")
    st, _, d = decades(Client("res"))
    ok(d == [1960, 1970, 1980, 1990], "a researcher: the restricted recording's 1960s too", str(d))
    for login in ("anno", "admin"):
        st, _, d = decades(Client(login))
        ok(d == [1950, 1960, 1970, 1980, 1990], "%s: every decade, the private 1950s too" % login,
           str(d))
    st, _, d = decades(None, "?variety=Cauchois")
    ok(st == 200 and d == [1980], "variety=Cauchois: its decade", str(d))
    st, _, d = decades(None, "?theme=les-fetes")
    ok(st == 200 and d == [], "a theme with no recording: no decade", str(d))
    inst = json.loads(cli(data, "institution", "list", "--json").stdout)["institutions"][0]
    st, _, d = decades(None, "?institution=" + inst["short"])
    ok(st == 200 and d == [1970, 1980, 1990], "institution=: its decades for a visitor", str(d))
    st, _, d = decades(None, "?decade=1970")
    ok(st == 200 and d == [1970, 1980, 1990], "decade= does not narrow the decades offered", str(d))
    for q, what in (("?variety=Picard", "an unknown variety"), ("?theme=nope", "an unknown theme"),
                    ("?institution=nope", "an unknown institution"),
                    ("?decade=1975", "a decade that is none")):
        st, _, body = get("/api/map/decades" + q)
        err = (harness.jbody(body) or {}).get("error", "")
        ok(st == 400 and len(err) > 10 and "\n" not in err, "%s: 400 with a sentence" % what,
           "%d %s" % (st, body[:200]))
    # a change while the server runs: the kept answer goes
    pub = next(x for x in json.loads(cli(data, "list", "--json").stdout)["recordings"]
               if x["access"] == "public" and (x.get("date") or "").startswith("1994"))
    r = cli(data, "edit", str(pub["id"]), "--set", "date=2003-04-05")
    ok(r.returncode == 0, "a public recording of the 1990s dated 2003", r.stderr)
    st, _, d = decades()
    ok(d == [1970, 1980, 2000], "the visitor's decades follow: 2000s in, 1990s out", str(d))
    r = cli(data, "edit", str(pub["id"]), "--set", "date=")
    st, _, d = decades()
    ok(r.returncode == 0 and d == [1970, 1980], "an undated recording counts for no decade",
       str(d))
    r = cli(data, "edit", str(private["id"]), "--set", "date=1852")
    st, _, d = decades(Client("admin"))
    ok(d is not None and d[0] == 1850, "the 1850s are a decade the filter takes", str(d))
    st, _, d = decades()
    ok(d == [1970, 1980], "and still not a visitor's", str(d))


def check_links():
    # the decades and the home page's pieces are kept side by side, never
    # one served for the other
    decades()
    st, _, body = get("/")
    facets = page_data(body.decode("utf-8", "replace"), "facets-data") or {}
    st2, _, d = decades()
    ok(st == 200 and "decades" not in facets and facets and st2 == 200 and isinstance(d, list),
       "the kept decades and the home page's kept facets stay apart", str(facets)[:200])
    for path, what in (("/themes/la-mer", "a theme's page"), ("/map", "the map, by its theme filter"),
                       ("/", "the home page (the site's header)")):
        st, _, body = get(path)
        ok(st == 200 and b'href="/themes"' in body, "%s links to /themes" % what)
    st, _, body = get("/map")
    ok(b'id="m-decade-field"' in body, "the map's decade filter can be hidden when nothing is dated")


if __name__ == "__main__":
    sys.exit(main())
