#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Thematic routes ("parcours"): `parlers route` and the route pages and
API against a real `parlers serve`.

- import writes a route whole or not at all: bad JSON, a missing title, a
  bad slug, an unknown recording, a span outside its recording, a route
  that exists without --replace, too many stops: one sentence, exit 1,
  nothing written; --replace raises the version; list, show, delete.
- what a viewer gets holds only the stops they may hear: a stop on a
  restricted recording is left out for an anonymous visitor and shown to a
  researcher, one over a withheld passage is left out for all but staff,
  a route with nothing left is 404 and not listed; each stop carries its
  recording's facts, media and the span's text only.
- hostile titles and notes come back as text; a route of 500 stops answers.

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
PASSWORD = "route-pass-1"


def cli(data, *args):
    return subprocess.run([PARLERS, "-d", data] + list(args), capture_output=True, text=True)


def request(path, client=None):
    if client:
        return client.get(path)
    return harness.request(srv.port, "GET", path, None, None, 60)


def main():
    global srv
    tmp = tempfile.mkdtemp(prefix="parlers-test-parcours-")
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


def write(tmp, name, obj):
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False))
    return path


def count_routes(data):
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    try:
        return con.execute("SELECT (SELECT count(*) FROM parcours),"
                           " (SELECT count(*) FROM parcours_stops)").fetchone()
    finally:
        con.close()


def run_all(tmp, data):
    global srv
    cli(data, "init")
    r = cli(data, "ingest", CORPUS)
    ok(r.returncode == 0, "the sample corpus is ingested", r.stderr)
    recs = json.loads(cli(data, "list", "--json").stdout)["recordings"]
    by = {x["title"]: x for x in recs}
    pub = next(x for t, x in by.items() if t.startswith("Le bère"))
    pub2 = next(x for t, x in by.items() if t.startswith("Le temps des foins"))
    restricted = next(x for x in recs if x["access"] == "restricted")
    private = next(x for x in recs if x["access"] == "private")

    route = {"slug": "le-cidre", "title": "Du pommier au bère",
             "intro": "Des vergers au pressoir.",
             "stops": [{"recording_id": pub["id"], "start_ms": 1000, "end_ms": 10000,
                        "title": "Les pommiers", "note": "Cinquante pommiers."},
                       {"recording_id": restricted["id"], "start_ms": 0, "end_ms": 5000,
                        "title": "À Jersey"},
                       {"recording_id": pub2["id"], "start_ms": 2000, "end_ms": 9000,
                        "title": "Les foins", "note": "Et l'été."},
                       {"recording_id": pub["id"], "start_ms": 11000, "end_ms": 16000,
                        "title": "Le pressoir"}]}
    check_import(tmp, data, route, pub, private)
    for login, role in (("res", "researcher"), ("admin", "admin")):
        r = subprocess.run([PARLERS, "-d", data, "user", "add", login, "--role", role],
                           input=PASSWORD + "\n", capture_output=True, text=True)
        ok(r.returncode == 0, "user add %s" % login, r.stderr)
    srv = Server(data)
    res = harness.Client(srv.port, "res", PASSWORD)
    admin = harness.Client(srv.port, "admin", PASSWORD)
    check_viewers(route, pub, restricted, res, admin)
    check_withheld(pub, admin, res)
    check_private_only(tmp, data, private)
    check_hostile_and_large(tmp, data, pub)


def check_import(tmp, data, route, pub, private):
    bad = [
        ("not JSON", "{\"slug\": ", "line 1"),
        ("a list", "[]", "a route is a JSON object"),
        ("no title", dict(route, title=""), "title"),
        ("a bad slug", dict(route, slug="Le Cidre"), "slug"),
        ("no stops", dict(route, stops=[]), "stops"),
        ("an unknown recording", dict(route, stops=[{"recording_id": 99999, "start_ms": 0,
                                                      "end_ms": 10}]), "no recording 99999"),
        ("a span past the end", dict(route, stops=[{"recording_id": pub["id"], "start_ms": 0,
                                                     "end_ms": 10 ** 9}]), "not inside"),
        ("an inverted span", dict(route, stops=[{"recording_id": pub["id"], "start_ms": 5000,
                                                  "end_ms": 4000}]), "not inside"),
        ("a negative time", dict(route, stops=[{"recording_id": pub["id"], "start_ms": -1,
                                                 "end_ms": 4000}]), "start_ms"),
        ("a text id", dict(route, stops=[{"recording_id": "1", "start_ms": 0,
                                           "end_ms": 4000}]), "recording_id"),
        ("a long note", dict(route, stops=[dict(route["stops"][0], note="x" * 5000)]), "note"),
        ("2,001 stops", dict(route, stops=[route["stops"][0]] * 2001), "2000"),
        ("a good stop then a bad one", dict(route, stops=[route["stops"][0],
                                                          {"recording_id": 99999, "start_ms": 0,
                                                           "end_ms": 10}]), "stops[1]"),
    ]
    for what, obj, word in bad:
        r = cli(data, "route", "import", write(tmp, "bad.json", obj))
        ok(r.returncode == 1 and word in r.stderr and len(r.stderr.strip().splitlines()) == 1,
           "import refuses %s with one line naming it" % what, r.stderr)
    ok(count_routes(data) == (0, 0), "and nothing was written")
    r = cli(data, "route", "import", "/nonexistent/route.json")
    ok(r.returncode == 1 and "route.json" in r.stderr, "a missing file is one line", r.stderr)
    r = cli(data, "route", "frobnicate")
    ok(r.returncode == 2, "an unknown verb is a usage error")

    path = write(tmp, "route.json", route)
    r = cli(data, "route", "import", path)
    ok(r.returncode == 0 and "le-cidre" in r.stdout, "import adds the route", r.stderr)
    ok(count_routes(data) == (1, 4), "with its four stops")
    r = cli(data, "route", "import", path)
    ok(r.returncode == 1 and "--replace" in r.stderr, "importing it again asks for --replace", r.stderr)
    r = cli(data, "route", "import", "--replace", path)
    ok(r.returncode == 0, "--replace writes it again", r.stderr)
    ok(count_routes(data) == (1, 4), "replacing leaves no stop of the old one")
    r = cli(data, "route", "list", "--json")
    lst = json.loads(r.stdout)["routes"] if r.returncode == 0 else []
    ok(len(lst) == 1 and lst[0]["slug"] == "le-cidre" and lst[0]["stops"] == 4 and lst[0]["version"] == 2,
       "list --json: one route, four stops (staff hear all), version 2", r.stdout)
    r = cli(data, "route", "show", "le-cidre")
    ok(r.returncode == 0 and "Les pommiers" in r.stdout and "Cinquante pommiers." in r.stdout,
       "show prints the stops and their notes", r.stdout)
    r = cli(data, "route", "show", "nope")
    ok(r.returncode == 1 and "no route 'nope'" in r.stderr, "show of an unknown route: one line", r.stderr)
    r = cli(data, "route", "delete", "nope")
    ok(r.returncode == 1, "delete of an unknown route fails")


def check_viewers(route, pub, restricted, res, admin):
    st, h, body = request("/api/routes")
    lst = json.loads(body)["routes"]
    ok(st == 200 and len(lst) == 1 and lst[0]["stops"] == 3,
       "an anonymous visitor is told of three stops", body)
    st, h, body = request("/api/routes/le-cidre")
    j = json.loads(body)
    ok(st == 200 and [s["n"] for s in j["stops"]] == [1, 3, 4] and j["hidden"] == 1,
       "the restricted stop is left out for an anonymous visitor, and counted", [s["n"] for s in j["stops"]])
    s1 = j["stops"][0]
    ok(s1["recording"]["title"] == pub["title"] and s1["recording"]["place"]["name"] == "Pays de Caux"
       and s1["recording"]["institution"]["short"] == "archive",
       "a stop carries its recording's title, place and institution", s1["recording"])
    ok(re.fullmatch(r"/media/%d\.opus\?v=[0-9a-f]{16}" % pub["id"], s1["media"]["opus"]),
       "and the media to play")
    ok(len(s1["transcript"]) == 2 and all(x["e"] > 1000 and x["s"] < 10000 for x in s1["transcript"])
       and len(s1["translation"]) == 2, "and the span's transcript and translation only",
       s1["transcript"])
    st, h, body = request("/api/routes/le-cidre", res)
    j = json.loads(body)
    ok(st == 200 and [s["n"] for s in j["stops"]] == [1, 2, 3, 4] and j["hidden"] == 0,
       "a researcher hears the restricted stop too")
    st, h, body = request("/routes/le-cidre")
    ok(st == 200 and b"<title>Du pommier au b\xc3\xa8re" in body and b'id="route-data"' in body,
       "the route page carries the route")
    m = re.search(rb'<script type="application/json" id="route-data">(.*?)</script>', body, re.S)
    ok(m and len(json.loads(m.group(1))["stops"]) == 3, "as the visitor may hear it")
    st, h, body = request("/routes")
    ok(st == 200 and b'id="routes-data"' in body, "the routes page answers")
    for path, want in (("/api/routes/nope", 404), ("/routes/nope", 404), ("/api/routes/NOPE", 404),
                       ("/api/routes/%2e%2e", 404), ("/routes/a%20b", 404)):
        st, h, body = request(path)
        ok(st == want, "%s is %d" % (path, want), st)


def check_withheld(pub, admin, res):
    st, h, body = admin.send("POST", "/api/recordings/%d/withheld" % pub["id"],
                             {"start_ms": 12000, "end_ms": 13000, "reason": "a name"})
    ok(st in (200, 201), "a passage inside the last stop is withheld", body)
    st, h, body = request("/api/routes/le-cidre")
    ok([s["n"] for s in json.loads(body)["stops"]] == [1, 3], "the stop over it is left out for a visitor")
    st, h, body = request("/api/routes/le-cidre", res)
    ok([s["n"] for s in json.loads(body)["stops"]] == [1, 2, 3], "and for a researcher")
    st, h, body = request("/api/routes/le-cidre", admin)
    ok([s["n"] for s in json.loads(body)["stops"]] == [1, 2, 3, 4], "staff hear every stop")
    admin.send("DELETE", "/api/recordings/%d/withheld" % pub["id"])


def check_private_only(tmp, data, private):
    r = cli(data, "route", "import", write(tmp, "p.json", {
        "slug": "prive", "title": "Privé",
        "stops": [{"recording_id": private["id"], "start_ms": 0, "end_ms": 3000}]}))
    ok(r.returncode == 0, "a route of a private recording's span is written", r.stderr)
    st, h, body = request("/api/routes/prive")
    ok(st == 404, "it does not exist for a visitor (404)", st)
    st, h, body = request("/routes/prive")
    ok(st == 404, "nor its page")
    st, h, body = request("/api/routes")
    ok([x["slug"] for x in json.loads(body)["routes"]] == ["le-cidre"], "nor in the list")
    r = cli(data, "route", "delete", "prive")
    ok(r.returncode == 0 and count_routes(data)[0] == 1, "delete removes it", r.stderr)


def check_hostile_and_large(tmp, data, pub):
    evil = "<script>alert(1)</script>&\"'"
    r = cli(data, "route", "import", write(tmp, "e.json", {
        "slug": "evil", "title": evil, "intro": evil,
        "stops": [{"recording_id": pub["id"], "start_ms": 0, "end_ms": 3000, "title": evil,
                   "note": evil}] * 500}))
    ok(r.returncode == 0, "a route of 500 stops with hostile text is written", r.stderr)
    st, h, body = request("/api/routes/evil")
    j = json.loads(body)
    ok(st == 200 and len(j["stops"]) == 500 and j["title"] == evil and j["stops"][0]["note"] == evil,
       "it comes back whole, its text as it was given")
    st, h, body = request("/routes/evil")
    ok(st == 200 and b"<script>alert" not in body, "its page holds no markup of it", body[:200])


if __name__ == "__main__":
    sys.exit(main())
