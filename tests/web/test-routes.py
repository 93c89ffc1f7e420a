#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The route table against a real `parlers serve`, and against README.

`parlers serve --routes` prints the table, one route a line: methods, path
pattern, what it answers, what it shows of the recording {id} names
(listing, content or -), and what it needs (session, csrf, a role, or -).
For every route, an anonymous visitor gets:

- 401 when it needs a session;
- for a route showing a recording: 2xx for a public one; a restricted one
  200 when it shows the listing, 403 when it shows the content, 404 when
  it shows public material only (the embed); 404 for a private one, an
  unknown id and an id that is no number;
- otherwise the answer of the sample request below (200 for a page or
  a read);
- 405 for a method the table does not have for the path, with an Allow
  header naming exactly the methods it has (GET comes with HEAD), JSON
  for the routes that answer JSON or media.

Then README's HTTP route list and the table name the same routes.

Python standard library only; TAP.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from harness import CORPUS, PARLERS, Server, diag, done, ok  # noqa: E402

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")

# one recording per level, ingested without its metadata sidecar so that
# --access decides its level
STEMS = {"public": "cotentin-1976-la-mezoun", "restricted": "cotentin-1977-le-temps-qu-il-fait",
         "private": "caux-1981-le-temps-des-foins"}
UNKNOWN = 999999

# what fills the placeholders that are not ids, by route
TAILS = {"/api/recordings/{id}/annotations.{ext}": "json",
         "/api/recordings/{id}/clip.{ext}": "wav",
         "/static/{name}": "app.css",
         "/api/institutions/{short}": "archive",
         "/routes/{slug}": "la-route",
         "/api/routes/{slug}": "la-route",
         "/institutions/{short}": "archive"}
# a query string or body that makes a route's sample request a whole one
QUERIES = {"/api/recordings/{id}/clip.{ext}": "?start=0&end=1", "/api/search": "?q=la",
           "/oai": "?verb=Identify", "/api/export": "?ids=%(public)d&audio=none",
           "/oembed": "?url=http://127.0.0.1:%(port)d/recordings/%(public)d",
           "/api/games/round": "?game=where"}
# the anonymous answer of routes that show no recording and need no session
SAMPLES = {("POST", "/api/login"): ({"Content-Type": "application/json"},
                                    json.dumps({"login": "nobody", "password": "wrong-pass"}),
                                    401),
           ("POST", "/api/logout"): ({"Content-Type": "application/json"}, "{}", 200),
           ("POST", "/oai"): ({"Content-Type": "application/x-www-form-urlencoded"},
                              "verb=Identify", 200),
           # ingested without sidecars, the recordings have no place: too
           # little material for a game, which says so
           ("GET", "/api/games/round"): (None, None, 404),
           # contributions: a sign-up without its fields; no such contributor
           ("POST", "/api/accounts"): ({"Content-Type": "application/json"}, "{}", 400),
           ("GET", "/contributors/{name}"): (None, None, 404),
           ("GET", "/api/contributors/{name}"): (None, None, 404),
           # a job is nobody's to a visitor
           ("GET", "/api/jobs/{jid}"): (None, None, 404)}
ORDER = ["GET", "HEAD", "POST", "PATCH", "DELETE"]

srv = None


def routes_table():
    r = subprocess.run([PARLERS, "serve", "--routes"], capture_output=True, text=True)
    ok(r.returncode == 0 and r.stdout, "parlers serve --routes prints the table", r.stderr)
    lines = [line.split() for line in r.stdout.splitlines()]
    bad = [" ".join(f) for f in lines if len(f) != 5]
    ok(not bad, "every route is one line of five fields", "\n".join(bad))
    return [{"methods": f[0].split(","), "path": f[1], "answers": f[2], "shows": f[3],
             "needs": f[4]} for f in lines if len(f) == 5]


def fill(path, rid):
    """The pattern with its ids and words filled in."""
    tail = TAILS.get(path)
    out = re.sub(r"\{[a-z]*id\}", str(rid), path)
    out = re.sub(r"\{([a-zA-Z]+),[^}]*\}", lambda m: m.group(1), out)
    return re.sub(r"\{(ext|name|short|slug)\}", lambda m: tail or "x", out)


def send(method, url, headers=None, body=None):
    if body is None and method in ("POST", "PATCH", "DELETE"):
        headers, body = {"Content-Type": "application/json"}, "{}"
    return harness.request(srv.port, method, url, headers, body, 60)


def is_json_error(h, body):
    try:
        return h.get("content-type", "").startswith("application/json") and \
            isinstance(json.loads(body.decode("utf-8")).get("error"), str)
    except ValueError:
        return False


def check_anonymous(rows, ids):
    for row in rows:
        path, method = row["path"], row["methods"][0]
        query = QUERIES.get(path, "") % ids
        what = "%s %s" % (method, path)
        if row["needs"] != "-":
            st, h, body = send(method, fill(path, ids["public"]) + query)
            ok(st == 401 and is_json_error(h, body), "%s needs a session: anonymous 401" % what,
               (st, body[:200]))
            continue
        if row["shows"] != "-":
            want = {"public": (200, 206), "unknown": (404,), "private": (404,),
                    "restricted": {"listing": (200,), "content": (403,),
                                   "public": (404,)}[row["shows"]]}
            for level in ["public", "restricted", "private", "unknown"]:
                st, h, body = send(method, fill(path, ids[level]) + query)
                ok(st in want[level], "%s, %s recording: %s" % (what, level, want[level][0]),
                   (st, body[:200]))
            st, h, body = send(method, fill(path, 0).replace("/0", "/abc", 1) + query)
            ok(st == 404, "%s with an id that is no number: 404" % what, (st, body[:200]))
            continue
        headers, body, want = SAMPLES.get((method, path), (None, None, 200))
        st, h, out = send(method, fill(path, 0) + query, headers, body)
        ok(st == want, "%s, anonymous: %d" % (what, want), (st, out[:200]))


def check_methods(rows, ids):
    allowed = {}
    for row in rows:
        allowed.setdefault(row["path"], []).append(row)
    for path, group in allowed.items():
        methods = {m for row in group for m in row["methods"]}
        allow = ", ".join(m for m in ORDER if m in methods)
        url = fill(path, ids["public"])
        for method in ["PUT"] + [m for m in ORDER if m not in methods and m != "HEAD"][:1]:
            st, h, body = send(method, url)
            ok(st == 405 and h.get("allow") == allow,
               "%s %s: 405, Allow: %s" % (method, path, allow), (st, h.get("allow")))
            if group[0]["answers"] in ("json", "media"):
                ok(is_json_error(h, body), "%s %s: the 405 is JSON" % (method, path), body[:200])
            else:
                ok(h.get("content-type", "").startswith("text/plain"),
                   "%s %s: the 405 is plain text" % (method, path), h.get("content-type"))
    for path, json_error in [("/api/nothing", True), ("/media/1.wav", True),
                             ("/iiif/nothing", True), ("/nothing", False)]:
        st, h, body = send("GET", path)
        ok(st == 404 and (is_json_error(h, body) if json_error
                          else h.get("content-type", "").startswith("text/html")),
           "GET %s: no route, 404 (%s)" % (path, "JSON" if json_error else "HTML"), st)


def readme_routes():
    """(method, path) of every route README's HTTP block lists."""
    text = open(README, encoding="utf-8").read()
    m = re.search(r"^## HTTP\n.*?^```\n(.*?)^```", text, re.S | re.M)
    ok(m is not None, "README has an HTTP section with a route list")
    found = set()
    for line in (m.group(1) if m else "").splitlines():
        method = None
        for tok in line.split():
            if tok in ORDER:
                method = tok
            elif method and tok.startswith("/"):
                found.add((method, tok.split("?")[0]))
            else:
                method = None  # the description: a path there is not a route
    return found


def check_readme(rows):
    table = {(m, row["path"]) for row in rows for m in row["methods"] if m != "HEAD"}
    readme = readme_routes()
    for m, p in sorted(table - readme):
        ok(False, "README lists %s %s" % (m, p))
    for m, p in sorted(readme - table):
        ok(False, "the table has %s %s, which README lists" % (m, p))
    ok(table == readme, "README's route list and the table agree (%d routes)" % len(table))


def main():
    global srv
    tmp = tempfile.mkdtemp(prefix="parlers-test-routes-")
    data = os.path.join(tmp, "data")
    try:
        rows = routes_table()
        ok(len(rows) >= 30, "the table has every route (%d)" % len(rows))
        check_readme(rows)
        subprocess.run([PARLERS, "-d", data, "init"], capture_output=True, check=True)
        ids = {"unknown": UNKNOWN}
        for level, stem in STEMS.items():
            src = os.path.join(tmp, level)
            os.makedirs(src)
            for f in os.listdir(CORPUS):
                if f.startswith(stem + ".") and not f.endswith(".json"):
                    shutil.copy(os.path.join(CORPUS, f), src)
            r = subprocess.run([PARLERS, "-d", data, "ingest", "--json", "--access", level, src],
                               capture_output=True, text=True)
            recs = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
            ok(len(recs) == 1 and recs[0].get("status") == "ingested",
               "a %s recording is ingested" % level, r.stdout + r.stderr)
            ids[level] = recs[0]["id"] if recs else UNKNOWN
        route = os.path.join(tmp, "route.json")
        with open(route, "w") as f:
            json.dump({"slug": "la-route", "title": "La route", "stops": [
                {"recording_id": ids["public"], "start_ms": 0, "end_ms": 1000}]}, f)
        r = subprocess.run([PARLERS, "-d", data, "route", "import", route],
                           capture_output=True, text=True)
        ok(r.returncode == 0, "a route through the public recording is imported", r.stderr)
        srv = Server(data, extra=["--quiet", "--no-search-memory"])
        ids["port"] = srv.port
        check_anonymous(rows, ids)
        check_methods(rows, ids)
    except Exception:  # a crash is a failed test, not a lost plan
        import traceback
        ok(False, "the tests ran to the end", traceback.format_exc())
    finally:
        if srv:
            srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    diag("%d routes" % len(rows) if "rows" in locals() else "no table")
    return done()


if __name__ == "__main__":
    sys.exit(main())
