#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The embeddable player and oEmbed against a real `parlers serve`.

- /embed/{id}: only what an anonymous visitor may hear embeds, whoever
  asks (staff included: the page goes where sessions do not); ?t= is a
  Media Fragments span, and a malformed one is 400; the page carries the
  span's segments only, none of a withheld passage; it may be framed by
  the sources `serve --frame-ancestors` names (any by default), every
  other page by none; it sets no cookie.
- /oembed: valid oEmbed JSON for links to this archive's public
  recordings, 404 for other sites and for what is not public, 501 for a
  format other than JSON; the recording page links it for discovery.
- `serve --frame-ancestors` refuses what would break the header.

Python standard library only; TAP.
"""
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from harness import CORPUS, PARLERS, Server, done, ok  # noqa: E402

srv = None
PASSWORD = "embed-pass-1"


def request(method, path, headers=None, body=None):
    return harness.request(srv.port, method, path, headers, body, 60)


def cli(data, *args, stdin=None):
    return subprocess.run([PARLERS, "-d", data] + list(args), input=stdin,
                          capture_output=True, text=True)


def embed_data(body):
    m = re.search(rb'<script type="application/json" id="embed-data">(.*?)</script>', body, re.S)
    return json.loads(m.group(1)) if m else None


def csp_frame(headers):
    m = re.search(r"frame-ancestors ([^;]*)", headers.get("content-security-policy", ""))
    return m.group(1).strip() if m else None


def main():
    global srv
    tmp = tempfile.mkdtemp(prefix="parlers-test-embed-")
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
    pub = next(x["id"] for x in recs if x["title"].startswith("Le bère"))
    restricted = next(x["id"] for x in recs if x["access"] == "restricted")
    private = next(x["id"] for x in recs if x["access"] == "private")
    r = cli(data, "user", "add", "admin", "--role", "admin", stdin=PASSWORD + "\n")
    ok(r.returncode == 0, "an admin account is made", r.stderr)
    srv = Server(data)
    admin = harness.Client(srv.port, "admin", PASSWORD)
    ok(admin.login_status == 200, "the admin signs in")

    check_embed(pub, restricted, private, admin)
    check_withheld(pub, admin)
    check_oembed(pub, restricted, private)
    srv.stop()
    srv = None
    check_frame_option(data, pub)


def check_embed(pub, restricted, private, admin):
    st, h, body = request("GET", "/embed/%d?t=5,16&transcript=1&lang=en" % pub)
    ok(st == 200 and h.get("content-type", "").startswith("text/html"), "a public recording embeds")
    ok(csp_frame(h) == "*", "any site may frame the embed by default", h.get("content-security-policy"))
    ok("set-cookie" not in h, "the embed sets no cookie, ?lang= included", h.get("set-cookie"))
    ok(h.get("content-language") == "en", "?lang=en gives the English player")
    d = embed_data(body)
    ok(d is not None and d["id"] == pub and d["t"] == [5000, 16000], "the page carries the span", d)
    segs = d.get("transcript", []) if d else []
    ok(len(segs) == 3 and all(s["e"] > 5000 and s["s"] < 16000 for s in segs),
       "only the span's segments come with the page", segs)
    ok(d and len(d.get("translation", [])) == 3, "with their translation")
    ok(d and d.get("institution", {}).get("name") and d.get("rights") == "CC BY-NC 4.0"
       and d.get("collector") == "Henri Duboc", "and the credit: institution, collector, rights")
    ok(d and re.fullmatch(r"/media/%d\.opus\?v=[0-9a-f]{16}" % pub, d["media"]["opus"]),
       "the audio is the public copy's immutable URL", d and d["media"])
    st, h, body = request("GET", "/embed/%d" % pub)
    d = embed_data(body)
    ok(st == 200 and d and "transcript" not in d and d["t"] == [0, d["duration_ms"]],
       "without ?t= nor ?transcript=1: the whole recording, no text")

    for rid, what in ((private, "private"), (restricted, "restricted"), (999999, "unknown")):
        st, h, body = request("GET", "/embed/%d" % rid)
        ok(st == 404, "a %s recording does not embed (404)" % what, st)
        st, h, body = admin.get("/embed/%d" % rid)
        ok(st == 404, "not even for staff: a %s recording (404)" % what, st)
    ok(csp_frame(h) == "*", "the embed's 404 page may be framed: it says in the frame why")
    for t in ("abc", "50", "3,2", "3,3", "-1,2", "1,2,3", "1e3", ""):
        st, h, body = request("GET", "/embed/%d?t=%s" % (pub, urllib.parse.quote(t)))
        ok(st == 400, "t=%s is refused (400)" % t, st)
    for path in ("/", "/recordings/%d" % pub, "/search", "/login", "/nowhere"):
        st, h, body = request("GET", path)
        ok(csp_frame(h) == "'none'", "%s may not be framed" % path, h.get("content-security-policy"))


def check_withheld(pub, admin):
    st, h, body = admin.send("POST", "/api/recordings/%d/withheld" % pub,
                             {"start_ms": 6000, "end_ms": 10000, "reason": "a name"})
    ok(st in (200, 201), "a passage of the public recording is withheld", body)
    st, h, body = request("GET", "/embed/%d?transcript=1" % pub)
    d = embed_data(body)
    texts = " ".join(s["text"] for s in (d or {}).get("transcript", []))
    ok(d and "Saint-Michel" not in texts and "pommiers" in texts,
       "a withheld segment's text is not in the embed", texts)
    ok(d and len(d.get("withheld", [])) == 1, "the embed knows where the silence is",
       d and d.get("withheld"))
    ok(d and "/media/%d.opus" % pub in d["media"]["opus"], "its audio is the public (silenced) copy")
    admin.send("DELETE", "/api/recordings/%d/withheld" % pub)


def oembed(url, extra=""):
    st, h, body = request("GET", "/oembed?url=%s%s" % (urllib.parse.quote(url, safe=""), extra))
    try:
        return st, h, json.loads(body)
    except ValueError:
        return st, h, None


def check_oembed(pub, restricted, private):
    base = "http://127.0.0.1:%d" % srv.port
    st, h, j = oembed("%s/recordings/%d" % (base, pub), "&format=json")
    ok(st == 200 and h.get("content-type", "").startswith("application/json"), "oEmbed answers JSON")
    ok(j and j.get("version") == "1.0" and j.get("type") == "rich" and j.get("width") == 480
       and j.get("height") == 168 and j.get("title") == "Le bère et les pommiers",
       "with version, type rich, width, height and title", j)
    m = re.fullmatch(r'<iframe src="([^"]*)" width="480" height="168" title="[^"]*" '
                     r'loading="lazy" style="border:0"></iframe>', j["html"] if j else "")
    ok(m and html.unescape(m.group(1)) == "%s/embed/%d" % (base, pub), "its html is the embed's iframe",
       j and j["html"])
    st, h, j = oembed("https://127.0.0.1:%d/embed/%d?t=3,9&transcript=1" % (srv.port, pub),
                      "&maxwidth=300&maxheight=1000")
    m = re.search(r'src="([^"]*)"', j["html"] if j else "")
    ok(st == 200 and j["width"] == 300 and j["height"] == 300 and m and
       html.unescape(m.group(1)) == "%s/embed/%d?t=3,9&transcript=1" % (base, pub),
       "an embed link keeps its span; maxwidth is obeyed", j)
    st, h, j = oembed("%s/recordings/%d" % (base, pub), "&maxwidth=10")
    ok(st == 200 and j["width"] == 240, "never narrower than the controls need", j)
    for url, what in (("http://evil.example/recordings/%d" % pub, "another site"),
                      ("%s/recordings/%d" % (base, private), "a private recording"),
                      ("%s/recordings/%d" % (base, restricted), "a restricted recording"),
                      ("%s/recordings/%dx" % (base, pub), "not a recording's link"),
                      ("%s/search?q=%d" % (base, pub), "a search page"),
                      ("%s:1/recordings/%d" % (base, pub), "another port"),
                      ("javascript:alert(1)", "a script URL")):
        st, h, j = oembed(url)
        ok(st == 404 and j and j.get("error"), "oEmbed for %s: 404" % what, (st, j))
    st, h, j = oembed("%s/recordings/%d" % (base, pub), "&format=xml")
    ok(st == 501, "format=xml: 501 as oEmbed says", st)
    st, h, body = request("GET", "/oembed")
    ok(st == 400, "no url: 400", st)
    st, h, body = request("GET", "/recordings/%d" % pub)
    m = re.search(rb'<link rel="alternate" type="application/json\+oembed" href="([^"]*)">', body)
    ok(m is not None, "a public recording's page links its oEmbed")
    if m:
        href = html.unescape(m.group(1).decode())
        st, h, body = request("GET", href[len(base):])
        ok(st == 200 and json.loads(body)["type"] == "rich", "the discovery link answers", href)
    st, h, body = request("GET", "/recordings/%d" % restricted)
    ok(st == 200 and b"json+oembed" not in body, "a restricted recording's page offers none")


def check_frame_option(data, pub):
    global srv
    srv = Server(data, extra=["--quiet", "--frame-ancestors", "https://musee.example 'self'"])
    st, h, body = request("GET", "/embed/%d" % pub)
    ok(st == 200 and csp_frame(h) == "https://musee.example 'self'",
       "--frame-ancestors names who may frame the embed", h.get("content-security-policy"))
    st, h, body = request("GET", "/")
    ok(csp_frame(h) == "'none'", "and still no one frames the other pages")
    srv.stop()
    srv = None
    for bad in ("x;script-src *", "'unsafe-inline'", "a\nb", "", "  ", "a,b"):
        r = subprocess.run([PARLERS, "-d", data, "serve", "--listen", "127.0.0.1:1",
                            "--frame-ancestors", bad], capture_output=True, text=True, timeout=20)
        ok(r.returncode == 2 and "--frame-ancestors" in r.stderr and "is not a list of sources" in r.stderr,
           "--frame-ancestors %r is refused with a sentence" % bad, r.stderr)


if __name__ == "__main__":
    sys.exit(main())
