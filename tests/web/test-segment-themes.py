#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A segment's themes in the recording's JSON, which the annotation editor
reads, against a real `parlers serve` on a real archive:

- before any tag no segment carries "themes"; a tag made through the API
  the editor calls (POST /api/segments/{sid}/themes) shows in the JSON of
  every role that reads the segment, the visitor's and the annotator's,
  in /api/recordings/{id} and in the recording page's own data, though
  both were read (and kept in the server's cache) just before; the other
  segments stay without; two tags on one segment are both there, and the
  recording's own themes are not touched;
- DELETE .../themes/{slug} takes one away, the last one takes the key away;
- who may not change the recording may not tag it either (a visitor 401,
  a researcher 403, the segment unchanged); an unknown theme or segment is
  a 404 with a sentence, a slug that is none a 4xx, never a 500.

Python standard library only; TAP.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from harness import CORPUS, PARLERS, Server, done, ok  # noqa: E402

STEM = "cotentin-1976-la-mezoun"
PASSWORD = "segtheme-pass-1"
# an entry kept under a signature a commit could not change lasts this long (web/cache.c)
CACHE_TTL_S = 1.0
srv = None


def cli(data, *args):
    return subprocess.run([PARLERS, "-d", data] + list(args), capture_output=True, text=True)


def page_data(html, node_id):
    """The JSON of the page's <script type="application/json" id=node_id>."""
    start = html.find('<script type="application/json" id="%s">' % node_id)
    if start < 0:
        return None
    start = html.index(">", start) + 1
    return harness.jbody(html[start:html.index("</script>", start)].encode("utf-8"))


def segments(doc):
    return {s["id"]: s for t in (doc or {}).get("tiers", []) for s in t["segments"]}


def api_json(rid, client=None):
    path = "/api/recordings/%d" % rid
    st, _, body = client.get(path) if client else harness.request(srv.port, "GET", path)
    return st, harness.jbody(body)


def page_json(rid, client=None):
    path = "/recordings/%d" % rid
    st, _, body = client.get(path) if client else harness.request(srv.port, "GET", path)
    return st, page_data(body.decode("utf-8", "replace"), "rec-data")


def themes_everywhere(rid, sid, clients, want):
    """Whether every view of the recording gives segment sid the themes
    want (None: no key); the views read again for at most the cache's
    lifetime of an entry its signature could not tell apart."""
    deadline = time.time() + CACHE_TTL_S + 2
    while True:
        seen = []
        for c in clients:
            for fetch in (api_json, page_json):
                st, doc = fetch(rid, c)
                seen.append((st, segments(doc).get(sid, {}).get("themes")))
        if all(st == 200 and got == want for st, got in seen) or time.time() > deadline:
            return all(st == 200 and got == want for st, got in seen), seen
        time.sleep(0.1)


def main():
    global srv
    tmp = tempfile.mkdtemp(prefix="parlers-test-segment-themes-")
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
    src = os.path.join(tmp, STEM)
    os.mkdir(src)
    for f in os.listdir(CORPUS):
        if f.startswith(STEM + "."):
            shutil.copy(os.path.join(CORPUS, f), src)
    cli(data, "init")
    r = cli(data, "ingest", "--json", src)
    line = json.loads((r.stdout.splitlines() or ["{}"])[0])
    ok(r.returncode == 0 and line.get("status") == "ingested", "a public recording is ingested",
       r.stderr)
    rid = line["id"]
    for login, role in (("res", "researcher"), ("anno", "annotator")):
        r = subprocess.run([PARLERS, "-d", data, "user", "add", login, "--role", role],
                           input=PASSWORD + "\n", capture_output=True, text=True)
        ok(r.returncode == 0, "user add %s" % login, r.stderr)
    srv = Server(data, extra=["--tiles", "none"])
    anno = harness.Client(srv.port, "anno", PASSWORD, timeout=60)
    res = harness.Client(srv.port, "res", PASSWORD, timeout=60)
    viewers = (None, anno)

    st, doc = api_json(rid)
    segs = segments(doc)
    ok(st == 200 and len(segs) >= 3, "the recording's JSON has its segments", str(doc)[:200])
    ok(all("themes" not in s for s in segs.values()), "before any tag, no segment carries themes")
    rec_themes = doc.get("themes")
    tier = next(t for t in doc["tiers"] if not t.get("parent_id"))
    sid = tier["segments"][1]["id"]
    # read by each role (and so kept in the server's cache) just before the tag
    for c in viewers:
        api_json(rid, c)
        page_json(rid, c)

    st, _, body = anno.send("POST", "/api/segments/%d/themes" % sid, {"theme": "les-veillees"})
    ok(st == 200 and harness.jbody(body) == {"segment_id": sid, "theme": "les-veillees",
                                            "tagged": True},
       "the editor's call tags the segment", body[:200])
    good, seen = themes_everywhere(rid, sid, viewers, ["les-veillees"])
    ok(good, "a visitor's and an annotator's JSON and page data carry the segment's theme", seen)
    st, doc = api_json(rid, anno)
    others = [s for s in segments(doc).values() if s["id"] != sid and "themes" in s]
    ok(not others, "no other segment carries a theme", others)
    ok(doc.get("themes") == rec_themes, "the recording's own themes are not touched",
       doc.get("themes"))

    st, _, body = anno.send("POST", "/api/segments/%d/themes" % sid, {"theme": "la-mer"})
    ok(st == 200, "a second theme on the same segment", body[:200])
    st, doc = api_json(rid, anno)
    got = segments(doc)[sid].get("themes") or []
    ok(sorted(got) == ["la-mer", "les-veillees"], "both are in the JSON", got)

    # who may not change the recording may not tag it
    st, _, _ = harness.request(srv.port, "POST", "/api/segments/%d/themes" % sid,
                               {"Content-Type": "application/json"},
                               json.dumps({"theme": "la-ferme"}))
    ok(st == 401, "a visitor's tag: 401", st)
    st, _, body = res.send("POST", "/api/segments/%d/themes" % sid, {"theme": "la-ferme"})
    ok(st == 403, "a researcher's tag: 403", body[:200])
    st, _, body = res.send("DELETE", "/api/segments/%d/themes/la-mer" % sid)
    ok(st == 403, "a researcher's untag: 403", body[:200])
    st, doc = api_json(rid, anno)
    got = segments(doc)[sid].get("themes") or []
    ok(sorted(got) == ["la-mer", "les-veillees"], "the segment is unchanged", got)

    # bad input: a sentence and a 4xx
    for what, method, path, obj, want in (
            ("an unknown theme", "POST", "/api/segments/%d/themes" % sid, {"theme": "nulle-part"},
             (404,)),
            ("an unknown segment", "POST", "/api/segments/99999999/themes", {"theme": "la-mer"},
             (404,)),
            ("a slug that is none", "DELETE", "/api/segments/%d/themes/La%%20Mer" % sid, None,
             (400, 404, 422)),
            ("no theme named", "POST", "/api/segments/%d/themes" % sid, {"slug": "la-mer"},
             (400,))):
        st, _, body = anno.send(method, path, obj)
        err = (harness.jbody(body) or {}).get("error", "")
        ok(st in want and err, "%s: %d with a sentence" % (what, st), body[:200])

    st, _, body = anno.send("DELETE", "/api/segments/%d/themes/la-mer" % sid)
    ok(st == 200 and (harness.jbody(body) or {}).get("tagged") is False, "one theme taken away",
       body[:200])
    good, seen = themes_everywhere(rid, sid, viewers, ["les-veillees"])
    ok(good, "the other stays, in every view", seen)
    st, _, body = anno.send("DELETE", "/api/segments/%d/themes/les-veillees" % sid)
    ok(st == 200, "the last one taken away", body[:200])
    good, seen = themes_everywhere(rid, sid, viewers, None)
    ok(good, "the segment no longer carries themes, in any view", seen)


if __name__ == "__main__":
    sys.exit(main())
