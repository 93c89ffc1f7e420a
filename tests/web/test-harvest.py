#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Harvesting partners over OAI-PMH, against real servers on loopback.

- Two `parlers serve`: a source with the sample corpus (public, three
  records a page so that resumption tokens are followed) and a portal that
  harvests it with `parlers harvest run`: in full, then incrementally after
  an edit and a deletion on the source (updated 1, deleted 1, nothing
  duplicated), then with nothing new;
- the portal's answers: /api/partners, /api/partners/{name}/records
  paged, /api/search's "harvested" records (title, partner, link out),
  the /partners page, and our own OAI-PMH, which never lists them;
- a tiny OAI-PMH server in this file that answers with the saved pages
  of tests/data/oai/ (an OLAC archive over two pages with a deleted
  record, an oai_dc page in ISO-8859-1 sent gzip-compressed with a IIIF
  manifest), 503 once with Retry-After, dies in the middle of a list (the
  first page stays, a later run completes it without duplicates), loops
  its token, sends malformed XML, a web page instead of OAI-PMH, a record
  of 10 MB; and a host that does not answer: each a one-line error;
- `serve --harvest-every HOURS`: the portal harvests on its own while it
  keeps serving.

Python standard library only; TAP.
"""
import gzip
import http.server
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from harness import CORPUS, PARLERS, Server, done, ok  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "data", "oai")


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


def cli(data, *args, stdin=None):
    p = subprocess.run([PARLERS, "-d", data] + list(args), capture_output=True, text=True,
                       input=stdin, timeout=300)
    return p.returncode, p.stdout, p.stderr


def run_json(data, *args):
    """`harvest run --json`: (exit status, {partner: object}, stderr)."""
    rc, out, err = cli(data, "harvest", "run", "--json", "--timeout", "20", *args)
    objs = {}
    for line in out.splitlines():
        try:
            o = json.loads(line)
            objs[o["partner"]] = o
        except (ValueError, KeyError):
            pass
    return rc, objs, err


def get_json(port, path):
    st, _, body = harness.request(port, "GET", path, timeout=30)
    return st, harness.jbody(body)


# ---- a tiny OAI-PMH server: /SCENARIO/oai?... ----

TOKEN_PAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>2026-12-01T08:00:00Z</responseDate>
<request verb="ListRecords">http://x/oai</request>
<ListRecords>%s%s</ListRecords>
</OAI-PMH>
"""


def record(ident, title, description="Une notice."):
    return ("<record><header><identifier>%s</identifier><datestamp>2026-01-01</datestamp>"
            "</header><metadata><oai_dc:dc xmlns:oai_dc=\"http://www.openarchives.org/OAI/2.0/"
            "oai_dc/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>%s</dc:title>"
            "<dc:description>%s</dc:description><dc:identifier>https://partner.example/%s"
            "</dc:identifier></oai_dc:dc></metadata></record>"
            % (ident, title, description, ident)).encode()


def page(records, token=None):
    tok = b"" if token is None else b"<resumptionToken>" + token.encode() + b"</resumptionToken>"
    return TOKEN_PAGE % (b"".join(records), tok)


class State:
    hits = {}          # scenario -> requests seen
    gzipped = {}       # scenario -> whether an answer went out gzip-compressed
    dies_fixed = False  # the "dies" partner answers its second page again
    froms = []         # the from= the "daygran" partner was asked
    lock = threading.Lock()


class Partner(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, body, status=200, ctype="text/xml; charset=utf-8", headers=None,
             compress=False):
        if compress and "gzip" in (self.headers.get("Accept-Encoding") or ""):
            body = gzip.compress(body)
            headers = dict(headers or {}, **{"Content-Encoding": "gzip"})
            State.gzipped[self.scenario] = True
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        self.scenario = u.path.strip("/").split("/")[0]
        with State.lock:
            n = State.hits.get(self.scenario, 0) + 1
            State.hits[self.scenario] = n
        tok = q.get("resumptionToken")
        s = self.scenario
        if s == "olac":
            self.send(fixture("olac-page2.xml") if tok == "olac!nrf!3"
                      else fixture("olac-page1.xml"))
        elif s == "dc":
            self.send(fixture("dc-latin1.xml"), ctype="text/xml; charset=ISO-8859-1",
                      compress=True)
        elif s == "busy":
            if n == 1:
                self.send(b"busy", 503, "text/plain", {"Retry-After": "1"})
            else:
                self.send(page([record("busy-1", "Après l'attente")]))
        elif s == "dies":
            if not tok:
                self.send(page([record("dies-%d" % i, "Premier lot %d" % i) for i in range(3)],
                               "next"))
            elif State.dies_fixed:
                self.send(page([record("dies-%d" % i, "Second lot %d" % i) for i in range(3, 5)]))
            else:
                # headers promise more than is sent, then the connection drops
                body = page([record("dies-%d" % i, "Second lot %d" % i) for i in range(3, 5)])
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
        elif s == "loop":
            self.send(page([record("loop-%d" % n, "Boucle %d" % n)], "same-token"))
        elif s == "malformed":
            self.send(b"<?xml version=\"1.0\"?><OAI-PMH xmlns=\"http://www.openarchives.org/OAI/"
                      b"2.0/\"><ListRecords><record><header>")
        elif s == "notoai":
            self.send(fixture("not-oai.html"), ctype="text/html; charset=utf-8")
        elif s == "huge":
            big = "é" * (5 * 1024 * 1024)  # 10 MB of UTF-8
            self.send(page([record("huge-1", "Énorme", big), record("huge-2", "Normale")]))
        elif s == "badtoken":
            self.send(page([record("bt-1", "Avant le jeton")], "expired") if not tok
                      else fixture("error-badtoken.xml"))
        elif s == "daygran":
            # a provider whose granularity is the day refuses seconds
            frm = q.get("from")
            State.froms.append(frm)
            if frm and "T" in frm:
                self.send(fixture("error-badargument.xml"))
            else:
                self.send(page([record("day-1", "Au jour près")]))
        elif s == "norecords":
            self.send(fixture("error-norecords.xml"))
        else:
            self.send(b"not here", 404, "text/plain")


def main():
    global_tmp = tempfile.mkdtemp(prefix="parlers-harvest-")
    partner = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Partner)
    partner.daemon_threads = True
    threading.Thread(target=partner.serve_forever, daemon=True).start()
    pport = partner.server_address[1]
    purl = "http://127.0.0.1:%d/%%s/oai" % pport
    src = os.path.join(global_tmp, "source")
    dst = os.path.join(global_tmp, "portal")
    source = portal = None
    try:
        # ---- the source: the sample corpus, public ----
        rc, _, err = cli(src, "init")
        rc2, out, err2 = cli(src, "ingest", "--access", "public", "--json", CORPUS)
        ok(rc == 0 and rc2 == 0, "the source archive is made", err + err2)
        env = dict(os.environ, PARLERS_OAI_PAGE="3")
        source = Server(src, env=env, extra=["--quiet"])
        st, listing = get_json(source.port, "/api/recordings?limit=100")
        public = listing["total"] if listing else 0
        ok(public >= 5, "the source lists its public recordings (%d)" % public)
        base = "http://127.0.0.1:%d/oai" % source.port

        # ---- the portal ----
        rc, _, err = cli(dst, "init")
        ok(rc == 0, "the portal archive is made", err)
        rc, out, err = cli(dst, "harvest", "add", "voisins", base, "--prefix", "olac")
        ok(rc == 0, "harvest add names a partner", err)
        rc, out, err = cli(dst, "harvest", "add", "voisins", base)
        ok(rc == 1 and "already exists" in err and err.count("\n") == 1,
           "the same name twice: a one-line error", err)
        for bad, why in ((["Bad Name", base], "a bad name"),
                         (["x", "ftp://host/oai"], "an ftp URL"),
                         (["y", base, "--prefix", "marc"], "an unknown prefix")):
            rc, out, err = cli(dst, "harvest", "add", *bad)
            ok(rc in (1, 2) and err.strip() and "Traceback" not in err,
               "harvest add refuses %s" % why, err)

        for args, code in ((["harvest"], 2), (["harvest", "frob"], 2),
                           (["harvest", "run", "--retries", "x"], 2),
                           (["harvest", "run", "a", "b"], 2), (["harvest", "--help"], 0),
                           (["harvest", "run", "nobody"], 1), (["harvest", "remove", "nobody"], 1)):
            rc, out, err = cli(dst, *args)
            ok(rc == code and (code == 0 or err.strip()) and "Traceback" not in err,
               "parlers %s: exit %d" % (" ".join(args), code), (rc, err))

        rc, objs, err = run_json(dst, "voisins")
        o = objs.get("voisins", {})
        ok(rc == 0 and o.get("added") == public and o.get("errors") == 0
           and o.get("deleted") == 0 and o.get("pages", 0) >= 2,
           "a full harvest adds every public record, page by page", (rc, o, err))
        ok(set(o) >= {"partner", "added", "updated", "deleted", "errors"},
           "run --json prints the partner's counts", o)

        rc, objs, err = run_json(dst, "voisins")
        o = objs.get("voisins", {})
        ok(rc == 0 and o.get("added") == 0 and o.get("updated") == 0,
           "a second run with nothing new stores nothing (from= the last responseDate)",
           (o, err))

        # an edit and a deletion on the source, a second later than the run
        time.sleep(1.1)
        ids = [r["id"] for r in listing["recordings"]]
        rc, _, err = cli(src, "edit", str(ids[0]), "--set", "title=Titre corrigé à la source")
        ok(rc == 0, "the source edits a title", err)
        rc, _, err = cli(src, "delete", str(ids[1]), "--reason", "retiré par le dépositaire")
        ok(rc == 0, "the source deletes a recording", err)
        rc, objs, err = run_json(dst)
        o = objs.get("voisins", {})
        ok(rc == 0 and o.get("added") == 0 and o.get("updated") == 1 and o.get("deleted") == 1,
           "an incremental run: updated 1, deleted 1", (o, err))
        db = sqlite3.connect(os.path.join(dst, "archive.db"))
        live = db.execute("SELECT count(*) FROM partner_records WHERE deleted = 0").fetchone()[0]
        dup = db.execute("SELECT count(*) - count(DISTINCT identifier) FROM partner_records"
                         ).fetchone()[0]
        db.close()
        ok(live == public - 1 and dup == 0, "nothing duplicated, the deleted record gone",
           (live, public, dup))

        # ---- the portal's answers ----
        portal = Server(dst, extra=["--quiet"])
        st, pl = get_json(portal.port, "/api/partners")
        p0 = (pl or {}).get("partners", [{}])[0]
        ok(st == 200 and p0.get("name") == "voisins" and p0.get("records") == public - 1
           and p0.get("last_status") == "ok" and p0.get("last_response_date"),
           "/api/partners lists the partner and how its last harvest went", pl)
        st, recs = get_json(portal.port, "/api/partners/voisins/records?offset=0&limit=2")
        ok(st == 200 and recs["total"] == public - 1 and len(recs["records"]) == 2
           and all(set(r) >= {"identifier", "title", "url"} for r in recs["records"]),
           "/api/partners/{name}/records pages the records", recs)
        titles = []
        off = 0
        while True:
            st, page_ = get_json(portal.port, "/api/partners/voisins/records?offset=%d&limit=2"
                                 % off)
            if st != 200 or not page_["records"]:
                break
            titles += [r["title"] for r in page_["records"]]
            off += 2
        ok(len(titles) == public - 1 and "Titre corrigé à la source" in titles,
           "every page together gives each record once, the edit included", titles)
        url0 = [r for r in recs["records"]][0]["url"]
        ok(url0.startswith("http://127.0.0.1:%d/recordings/" % source.port),
           "a record links back to its page on the partner", url0)
        for path, code in (("/api/partners/nobody/records", 404),
                           ("/api/partners/Bad%20Name/records", 404),
                           ("/api/partners/voisins/records?limit=x", 400)):
            st, body = get_json(portal.port, path)
            ok(st == code and body and body.get("error"), "%s: %d" % (path, code), (st, body))
        st, res = get_json(portal.port, "/api/search?q=corrig%C3%A9")
        hv = (res or {}).get("harvested", {})
        ok(st == 200 and hv.get("total") == 1 and hv["records"][0]["partner"] == "voisins"
           and hv["records"][0]["harvested"] is True and hv["records"][0]["url"],
           "search finds a harvested record (accents ignored), marked with its partner", res)
        st, res = get_json(portal.port, "/api/search?q=corrig%C3%A9&place=Yvetot")
        ok(st == 200 and "harvested" not in res, "our own filters leave the partners out", res)
        st, _, body = harness.request(portal.port, "GET", "/oai?verb=ListRecords&metadataPrefix=oai_dc")
        ok(b"noRecordsMatch" in body and b"corrig" not in body,
           "our own OAI-PMH never re-exports harvested records", body[:300])
        st, _, body = harness.request(portal.port, "GET", "/partners")
        ok(st == 200 and b"pa-data" in body and b"voisins" in body,
           "the /partners page carries the partners", st)
        portal.stop()
        portal = None

        # ---- saved answers of real providers ----
        cli(dst, "harvest", "add", "lacito", purl % "olac", "--prefix", "olac")
        rc, objs, err = run_json(dst, "lacito")
        o = objs.get("lacito", {})
        ok(rc == 0 and o.get("added") == 4 and o.get("pages") == 2 and o.get("deleted") == 0,
           "an OLAC archive over two pages: 4 records, the deleted one never stored",
           (o, err))
        rc, out, _ = cli(dst, "harvest", "records", "lacito", "--limit", "10")
        recs = {r["identifier"]: r for r in json.loads(out)["records"]}
        v = recs.get("oai:lacito.example.org:crdo-NRF_VRAIC_1972", {})
        ok(v.get("speakers") == "Marie Lecoutour; Jean Hamel" and v.get("date") == "1972-08-17"
           and v.get("language") == "nrf" and "Flamanville" in (v.get("place") or "")
           and v.get("iiif_manifest", "").endswith("/manifest")
           and v.get("url") == "https://lacito.example.org/ark:/87895/1.17-375447",
           "OLAC: speakers by role, created date, language code, place, IIIF, link", v)
        h = recs.get("oai:lacito.example.org:crdo-NRF_HITRES", {})
        ok(h and h.get("date") is None and h.get("speakers") == "Albert Leroux",
           "a record without a date is kept without one", h)

        cli(dst, "harvest", "add", "bnf", purl % "dc", "--set", "gallica:typedoc:sonore")
        rc, objs, err = run_json(dst, "bnf")
        o = objs.get("bnf", {})
        ok(rc == 0 and o.get("added") == 2 and State.gzipped.get("dc"),
           "an oai_dc page sent gzip-compressed", (o, err, State.gzipped))
        rc, out, _ = cli(dst, "harvest", "records", "bnf")
        recs = {r["identifier"]: r for r in json.loads(out)["records"]}
        b = recs.get("oai:bnf.example.fr:ark:/12148/bpt6k8812345", {})
        ok(b.get("title") == "Enquête dialectale à Bayeux : la moisson et les veillées"
           and b.get("speakers") == "Augustine Lefèvre; Émile Godefroy"
           and b.get("place") == "Bessin (Calvados)" and "veillée" in b.get("description", "")
           and b.get("iiif_manifest", "").endswith("/manifest.json"),
           "ISO-8859-1 declared: accents read right; contributors, coverage, IIIF", b)

        # ---- partners that misbehave ----
        cli(dst, "harvest", "add", "busy", purl % "busy")
        t0 = time.time()
        rc, objs, err = run_json(dst, "busy")
        o = objs.get("busy", {})
        ok(rc == 0 and o.get("added") == 1 and State.hits.get("busy") == 2
           and time.time() - t0 >= 0.9,
           "503 with Retry-After: 1 is retried after a second", (o, err, State.hits))

        cli(dst, "harvest", "add", "dies", purl % "dies")
        rc, objs, err = run_json(dst, "dies", "--retries", "1")
        o = objs.get("dies", {})
        lines = [x for x in err.splitlines() if x.strip()]
        ok(rc == 1 and o.get("added") == 3 and o.get("status") == "error"
           and lines and all(x.startswith("parlers: harvest dies: page 2:") for x in lines),
           "a partner that dies mid-list: the first page kept, a one-line error", (o, err))
        State.dies_fixed = True
        rc, objs, err = run_json(dst, "dies")
        o = objs.get("dies", {})
        ok(rc == 0 and o.get("added") == 2 and o.get("updated") == 3,
           "the next run completes the list, nothing duplicated", (o, err))

        cli(dst, "harvest", "add", "loop", purl % "loop")
        rc, objs, err = run_json(dst, "loop")
        o = objs.get("loop", {})
        ok(rc == 1 and "twice" in err and o.get("added") == 2 and err.count("\n") == 1,
           "a resumption token sent twice stops the run with one line", (o, err))

        cli(dst, "harvest", "add", "badtoken", purl % "badtoken")
        rc, objs, err = run_json(dst, "badtoken")
        ok(rc == 1 and "badResumptionToken" in err and objs.get("badtoken", {}).get("added") == 1,
           "an OAI-PMH error is named; the page before it stays", err)

        cli(dst, "harvest", "add", "daygran", purl % "daygran")
        run_json(dst, "daygran")
        rc, objs, err = run_json(dst, "daygran")
        ok(rc == 0 and objs.get("daygran", {}).get("updated") == 1
           and State.froms == [None, "2026-12-01T08:00:00Z", "2026-12-01"],
           "a partner of day granularity is asked again with from= the day",
           (objs, err, State.froms))

        cli(dst, "harvest", "add", "norecords", purl % "norecords")
        rc, objs, err = run_json(dst, "norecords")
        ok(rc == 0 and objs.get("norecords", {}).get("status") == "ok",
           "noRecordsMatch is an empty harvest, not a failure", (objs, err))

        for name, what in (("malformed", "malformed XML"), ("notoai", "not an OAI-PMH answer")):
            cli(dst, "harvest", "add", name, purl % name)
            rc, objs, err = run_json(dst, name)
            ok(rc == 1 and what in err and err.count("\n") == 1
               and objs.get(name, {}).get("added") == 0,
               "%s: a one-line error, nothing stored" % what, err)

        cli(dst, "harvest", "add", "huge", purl % "huge")
        rc, objs, err = run_json(dst, "huge")
        o = objs.get("huge", {})
        ok(rc == 1 and o.get("added") == 1 and o.get("errors") == 1 and "huge-1" in err
           and "left out" in err,
           "a 10 MB record is left out with one line; the others are kept", (o, err))

        closed = harness.free_port()
        cli(dst, "harvest", "add", "gone", "http://127.0.0.1:%d/oai" % closed)
        t0 = time.time()
        rc, objs, err = run_json(dst, "gone", "--retries", "0")
        ok(rc == 1 and objs.get("gone", {}).get("status") == "error" and err.count("\n") == 1
           and "connect" in err.lower(),
           "an unreachable host: one line, the run fails", err)
        rc, out, _ = cli(dst, "harvest", "list", "--json")
        gone = [p for p in json.loads(out)["partners"] if p["name"] == "gone"][0]
        ok(gone["last_status"] == "error" and gone["last_error"]
           and gone["last_response_date"] is None,
           "a failed run is recorded, its from= not moved", gone)

        rc, out, err = cli(dst, "harvest", "remove", "loop")
        rc2, out2, _ = cli(dst, "harvest", "records", "loop")
        ok(rc == 0 and rc2 == 1, "harvest remove takes the partner and its records", err)

        # ---- serve --harvest-every ----
        sched = os.path.join(global_tmp, "scheduled")
        cli(sched, "init")
        cli(sched, "harvest", "add", "voisins", base, "--prefix", "olac")
        st_bad = subprocess.run([PARLERS, "-d", sched, "serve", "--harvest-every", "0"],
                                capture_output=True, text=True, timeout=30)
        ok(st_bad.returncode == 2, "--harvest-every 0 is a usage error", st_bad.stderr)
        portal = Server(sched, extra=["--quiet", "--harvest-every", "0.0005"])
        seen = 0
        deadline = time.time() + 60
        while time.time() < deadline:
            st, pl = get_json(portal.port, "/api/partners")
            seen = pl["partners"][0]["records"] if st == 200 else 0
            if seen == public - 1:
                break
            time.sleep(0.2)
        ok(seen == public - 1, "serve --harvest-every harvests while serving", seen)
        st, _ = get_json(portal.port, "/api/health")
        ok(st == 200, "the server keeps serving")
        code = portal.stop()
        portal = None
        ok(code == 0, "the server stops cleanly with its harvesting thread", code)
    finally:
        for s in (portal, source):
            if s:
                s.stop()
        partner.shutdown()
        shutil.rmtree(global_tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
