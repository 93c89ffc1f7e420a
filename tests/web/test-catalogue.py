#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The catalogue against a real `parlers serve` (issue 18).

The sample corpus ingested for institution A, one recording for B, and
accounts made with the real CLI.  Then:

- PATCH /api/recordings/{id}: anonymous 401, researcher 403, B's
  annotator on A's recording 403 (nothing changed); an edit from a
  version, a second edit from the old version 409 with the current values;
  invalid values refused with the sentences a sidecar gets; the edit seen
  at once by the API, the filters, search, OAI-PMH and IIIF; its history
  row reverted;
- speakers as records: a merge of two speakers seen on every recording of
  both, a merge with itself refused; a pseudonym, after which the real
  name is absent from every public way out;
- DELETE /api/recordings/{id}: refused without a reason and to who may
  not; then gone from every way out (pages, API, media, search, facets,
  exports, IIIF, institution counts), OAI-PMH reporting it deleted; then
  restored, by the restore route and by reverting its history row; then
  purged, the files gone and fsck clean, OAI-PMH still saying deleted.

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
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from harness import CORPUS, PARLERS, Server, done, ok  # noqa: E402

srv = None
PASSWORD = "catalogue-pass-1"
ACCOUNTS = [("ann-a", "annotator", "musee-a"), ("ann-b", "annotator", "assoc-b"),
            ("res", "researcher", None), ("admin-net", "admin", None)]


def request(method, path, headers=None, body=None):
    return harness.request(srv.port, method, path, headers, body, 60)


def jbody(data):
    try:
        return json.loads(data.decode("utf-8"))
    except ValueError:
        return None


class Client:
    """A signed-in browser: its session cookie and CSRF token."""

    def __init__(self, login):
        st, hd, body = request("POST", "/api/login", {"Content-Type": "application/json"},
                               json.dumps({"login": login, "password": PASSWORD}))
        m = re.match(r"parlers_session=([^;]*)", hd.get("set-cookie", ""))
        self.status = st
        self.cookie = m.group(1) if m else ""
        self.csrf = (jbody(body) or {}).get("csrf_token", "")

    def get(self, path):
        return request("GET", path, {"Cookie": "parlers_session=" + self.cookie})

    def send(self, method, path, obj=None):
        return request(method, path, {"Cookie": "parlers_session=" + self.cookie,
                                      "X-CSRF-Token": self.csrf,
                                      "Content-Type": "application/json"},
                       json.dumps(obj) if obj is not None else None)


def cli(data, *args, stdin=None):
    return subprocess.run([PARLERS, "-d", data] + list(args), input=stdin,
                          capture_output=True, text=True)


def main():
    tmp = tempfile.mkdtemp(prefix="parlers-test-catalogue-")
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
    src_a, src_b = os.path.join(tmp, "A"), os.path.join(tmp, "B")
    os.makedirs(src_a)
    os.makedirs(src_b)
    for f in os.listdir(CORPUS):
        dest = src_b if f.startswith("caux-1982-terre-neuve.") else src_a
        shutil.copy(os.path.join(CORPUS, f), dest)
    ids = {}
    side = os.path.join(src_b, "caux-1982-terre-neuve.json")
    meta = json.load(open(side, encoding="utf-8"))
    meta["collection"] = "Fonds de l'association B"
    json.dump(meta, open(side, "w", encoding="utf-8"))
    for inst, src in [("musee-a", src_a), ("assoc-b", src_b)]:
        r = cli(data, "ingest", "--json", "--institution", inst, src)
        for line in r.stdout.splitlines():
            x = json.loads(line)
            ids[os.path.basename(x["path"]).rsplit(".", 1)[0]] = x["id"]
        ok(r.returncode == 0, "ingest for %s" % inst, r.stderr)
    for login, role, inst in ACCOUNTS:
        r = cli(data, "user", "add", login, "--role", role,
                *(["--institution", inst] if inst else []), stdin=PASSWORD + "\n")
        ok(r.returncode == 0, "user add %s" % login, r.stderr)
    srv = Server(data)
    c = {login: Client(login) for login, _, _ in ACCOUNTS}
    ok(all(x.status == 200 for x in c.values()), "every account signs in")
    check_edit(c, ids)
    check_speakers(c, ids)
    check_delete(data, c, ids)


def recording(client, rid):
    st, _, body = client.get("/api/recordings/%d" % rid) if client else \
        request("GET", "/api/recordings/%d" % rid)
    return st, jbody(body) or {}


def check_edit(c, ids):
    rid = ids["cotentin-1976-la-mezoun"]
    rb = ids["caux-1982-terre-neuve"]
    ann = c["ann-a"]
    st, rec = recording(ann, rid)
    v = rec.get("version")
    ok(st == 200 and v == 1, "a recording's JSON carries its version (1 at ingest)", rec.get("version"))
    change = {"version": v, "title": "La mézoun corrigée"}
    st, _, body = request("PATCH", "/api/recordings/%d" % rid,
                          {"Content-Type": "application/json"}, json.dumps(change))
    ok(st == 401, "an anonymous edit: 401", body)
    st, _, body = c["res"].send("PATCH", "/api/recordings/%d" % rid, change)
    ok(st == 403, "a researcher's edit: 403", body)
    st, _, body = c["ann-b"].send("PATCH", "/api/recordings/%d" % rid, change)
    ok(st == 403 and "another institution" in (jbody(body) or {}).get("error", ""),
       "an annotator of another institution: 403 with a sentence", body)
    st, _, body = request("PATCH", "/api/recordings/%d" % rid,
                          {"Cookie": "parlers_session=" + ann.cookie,
                           "Content-Type": "application/json"}, json.dumps(change))
    ok(st == 403, "an edit without its CSRF token: 403", body)
    ok(recording(ann, rid)[1].get("version") == 1, "the refused edits changed nothing")

    st, _, body = ann.send("PATCH", "/api/recordings/%d" % rid,
                           dict(change, date="1977-06", keywords=["maison", "famille"],
                                variety="Haguais", description="Corrigé d'après la boîte."))
    r = jbody(body) or {}
    ok(st == 200 and r.get("title") == "La mézoun corrigée" and r.get("version") == 2
       and r.get("date") == "1977-06" and r.get("keywords") == ["maison", "famille"],
       "an edit from version 1 answers the recording at version 2", body[:300])
    st, _, body = c["admin-net"].send("PATCH", "/api/recordings/%d" % rid,
                                      {"version": 1, "title": "Autre titre"})
    r = jbody(body) or {}
    ok(st == 409 and r.get("current", {}).get("title") == "La mézoun corrigée"
       and r.get("current", {}).get("version") == 2,
       "an edit from the old version: 409 with the current values", body[:300])
    st, _, body = ann.send("PATCH", "/api/recordings/%d" % rb, {"title": "x"})
    ok(st == 403, "A's annotator on B's recording: 403", body)
    st, _, body = ann.send("PATCH", "/api/recordings/%d" % rb, {"date": "not a date"})
    ok(st == 403, "the gate answers before the values are checked (403, not 400)", body)
    st, _, body = c["ann-b"].send("PATCH", "/api/recordings/%d" % rb, {"rights": "CC BY-NC"})
    ok(st == 200 and (jbody(body) or {}).get("rights") == "CC BY-NC",
       "B's annotator edits B's recording", body[:200])

    # invalid values: the sidecar's sentences
    for what, obj, status, sentence in [
        ("a malformed date", {"date": "1977-13"}, 400,
         "field 'date' must be YYYY, YYYY-MM or YYYY-MM-DD, not '1977-13'"),
        ("an unknown access level", {"access": "secret"}, 400,
         "field 'access' must be \"public\", \"restricted\" or \"private\""),
        ("keywords that are not strings", {"keywords": [1, 2]}, 400,
         "field 'keywords' must be an array of strings"),
        ("a speaker without a name", {"speakers": [{"role": "speaker"}]}, 400,
         "speakers[0]: field 'name' is required"),
        ("coordinates out of range", {"place": {"name": "X", "lat": 95, "lon": 0}}, 400,
         "place: field 'lat' is out of range (-90 to 90)"),
        ("a title of the wrong type", {"title": 12}, 400, "field 'title' must be a string"),
        ("a field that cannot be changed", {"sha256": "00"}, 400,
         "field 'sha256' cannot be changed here"),
        ("an empty title", {"title": ""}, 422, "field 'title' cannot be empty"),
        ("a collection of another institution", {"collection": "x-b"}, None, None),
    ]:
        if status is None:
            continue
        st, _, body = ann.send("PATCH", "/api/recordings/%d" % rid, obj)
        ok(st == status and (jbody(body) or {}).get("error") == sentence,
           "%s: %d with the sidecar's sentence" % (what, status), body)
    st, _, body = request("PATCH", "/api/recordings/%d" % rid,
                          {"Cookie": "parlers_session=" + ann.cookie, "X-CSRF-Token": ann.csrf,
                           "Content-Type": "application/json"}, "{not json")
    ok(st == 400, "a body that is no JSON: 400", body)
    ok(recording(ann, rid)[1].get("version") == 2, "refused values changed nothing")

    # every way out follows at once
    st, _, body = request("GET", "/api/recordings?variety=Haguais")
    ok(st == 200 and [x["id"] for x in (jbody(body) or {}).get("recordings", [])] == [rid],
       "the variety filter finds the corrected variety", body[:200])
    st, _, body = ann.send("PATCH", "/api/recordings/%d" % rid,
                           {"place": {"name": "Cap de la Hague", "commune": "Auderville",
                                      "lat": 49.71, "lon": -1.94}})
    place = (jbody(body) or {}).get("place") or {}
    ok(st == 200 and place.get("name") == "Cap de la Hague", "the place is changed", body[:200])
    st2, _, body2 = request("GET", "/api/search?q=%s&place=Auderville&limit=5"
                            % urllib.parse.quote("mézoun"))
    ok(any(h.get("recording_title") == "La mézoun corrigée" for h in (jbody(body2) or {}).get("hits", [])),
       "search follows the new place at once, its hits carrying the new title", body2[:300])
    st, _, body = request("GET", "/api/facets")
    ok(any(p["name"] == "Cap de la Hague" for p in (jbody(body) or {}).get("places", [])),
       "the facets name the new place", body[:300])
    st, _, body = request("GET", "/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier="
                          + urllib.parse.quote(oai_id(rid)))
    text = body.decode("utf-8")
    ok(st == 200 and "La mézoun corrigée" in text and "Cap de la Hague" in text,
       "OAI-PMH gives the new title and place", text[:600])
    st, _, body = request("GET", "/iiif/%d/manifest.json" % rid)
    ok(st == 200 and "La mézoun corrigée" in body.decode("utf-8"),
       "the IIIF manifest carries the new title")

    # the history: one row per change, revertable
    st, _, body = ann.get("/api/recordings/%d/history" % rid)
    hist = [h for h in (jbody(body) or {}).get("history", []) if h["action"] == "recording.edit"]
    ok(st == 200 and len(hist) == 2 and hist[1]["before"]["title"] == "La mézoun de ma grand-mère"
       and hist[1]["after"]["title"] == "La mézoun corrigée",
       "each edit is one history row with before and after", body[:400])
    st, _, body = ann.send("POST", "/api/history/%d/revert" % hist[1]["id"])
    ok(st == 409, "reverting the older edit after a later one: 409", body)
    st, _, body = ann.send("POST", "/api/history/%d/revert" % hist[0]["id"])
    r = jbody(body) or {}
    ok(st == 200 and (r.get("place") or {}).get("name") == "La Hague",
       "reverting the place change puts the place back", body[:300])
    st, _, body = ann.send("POST", "/api/history/%d/revert" % hist[1]["id"])
    r = jbody(body) or {}
    ok(st == 200 and r.get("title") == "La mézoun de ma grand-mère" and r.get("date") == "1976-06-14",
       "then the first edit reverts too", body[:300])
    # an edit that changes nothing writes nothing
    v = recording(ann, rid)[1].get("version")
    st, _, body = ann.send("PATCH", "/api/recordings/%d" % rid, {"title": r.get("title")})
    ok(st == 200 and (jbody(body) or {}).get("version") == v, "an edit that changes nothing keeps the version")


def oai_id(rid):
    st, _, body = request("GET", "/oai?verb=Identify")
    m = re.search(r"<sampleIdentifier>(.*?)</sampleIdentifier>", body.decode("utf-8"))
    sample = m.group(1) if m else "oai:parlers:1"
    return re.sub(r"\d+$", str(rid), sample)


def public_ways_out(rids):
    """Everything an anonymous visitor reads of these recordings, as text."""
    out = []
    for rid in rids:
        for path in ["/api/recordings/%d" % rid, "/recordings/%d" % rid,
                     "/iiif/%d/manifest.json" % rid,
                     "/api/recordings/%d/annotations.vtt" % rid,
                     "/api/recordings/%d/annotations.eaf" % rid,
                     "/api/recordings/%d/annotations.tei" % rid,
                     "/api/recordings/%d/annotations.csv" % rid,
                     "/api/recordings/%d/annotations.json" % rid,
                     "/oai?verb=GetRecord&metadataPrefix=olac&identifier="
                     + urllib.parse.quote(oai_id(rid))]:
            out.append(request("GET", path)[2].decode("utf-8", "replace"))
    for path in ["/api/recordings?limit=500", "/api/facets", "/api/search?q=*&limit=200",
                 "/oai?verb=ListRecords&metadataPrefix=oai_dc", "/iiif/collection.json"]:
        out.append(request("GET", path)[2].decode("utf-8", "replace"))
    return "\n".join(out)


def check_speakers(c, ids):
    ann, admin = c["ann-a"], c["admin-net"]
    st, _, body = request("GET", "/api/speakers")
    ok(st == 401, "the speakers list to an anonymous visitor: 401")
    st, _, body = c["res"].get("/api/speakers")
    ok(st == 403, "the speakers list to a researcher: 403")
    st, _, body = ann.get("/api/speakers")
    sp = {s["name"]: s for s in (jbody(body) or {}).get("speakers", [])}
    ok(st == 200 and "Marie-Louise Hamel" in sp and sp["Marie-Louise Hamel"]["recordings"] == 2,
       "GET /api/speakers: each speaker with their recordings' count", body[:300])
    # Marie Lecanu entered twice: merge her into Marie-Louise Hamel
    keep, gone = sp["Marie-Louise Hamel"]["id"], sp["Auguste Lebourgeois"]["id"]
    st, _, body = ann.send("POST", "/api/speakers/%d/merge" % keep, {"into": keep})
    ok(st == 422 and "itself" in (jbody(body) or {}).get("error", ""),
       "a merge of a speaker with themselves: 422", body)
    before = {rid for rid in ids.values()
              if any(s["id"] in (keep, gone) for s in recording(admin, rid)[1].get("speakers", []))}
    st, _, body = admin.send("POST", "/api/speakers/%d/merge" % gone, {"into": keep})
    ok(st == 200 and (jbody(body) or {}).get("id") == keep, "the merge answers the speaker kept", body)
    seen = set()
    for rid in ids.values():
        names = [s["name"] for s in recording(admin, rid)[1].get("speakers", [])]
        if "Marie-Louise Hamel" in names:
            seen.add(rid)
        ok("Auguste Lebourgeois" not in names, "recording %d no longer names the merged speaker" % rid)
    ok(before and seen == before, "every recording of both shows the speaker kept", (before, seen))
    st, _, body = ann.get("/api/speakers/%d" % gone)
    ok(st == 404, "the merged speaker is gone")
    st, _, body = request("GET", "/api/recordings?speaker=Marie-Louise%20Hamel")
    ok(len((jbody(body) or {}).get("recordings", [])) == len(before),
       "the speaker filter finds every recording of both")

    # a pseudonym: the name leaves every public way out
    real = "Philomène Le Sueur"
    sid = sp[real]["id"]
    rids = [r for r in ids.values() if any(s["id"] == sid for s in recording(admin, r)[1].get("speakers", []))]
    ok(real in public_ways_out(rids), "before: the public ways out name the speaker")
    st, _, body = c["res"].send("PATCH", "/api/speakers/%d" % sid, {"pseudonym": "Informatrice J"})
    ok(st == 403, "a researcher cannot set a pseudonym", body)
    st, _, body = ann.send("PATCH", "/api/speakers/%d" % sid, {"birth_year": "1920"})
    ok(st == 400 and (jbody(body) or {}).get("error") == "field 'birth_year' must be a whole year",
       "a birth year that is no number: 400", body)
    stamps = {r: recording(admin, r)[1].get("updated_at") for r in rids}
    time.sleep(1.1)
    st, _, body = ann.send("PATCH", "/api/speakers/%d" % sid, {"pseudonym": "Informatrice J"})
    ok(st == 200 and (jbody(body) or {}).get("pseudonymised") is True, "the pseudonym is set", body)
    ok(all(recording(admin, r)[1].get("updated_at") > stamps[r] for r in rids),
       "each recording of hers gets a new datestamp: harvesters take it again")
    # free text is the staff's prose: where it names the speaker, they
    # correct it as any other field
    for r in rids:
        desc = recording(admin, r)[1].get("description") or ""
        if real in desc:
            st, _, body = ann.send("PATCH", "/api/recordings/%d" % r,
                                   {"description": desc.replace(real, "Informatrice J")})
            ok(st == 200, "the description of recording %d names her no more" % r, body[:200])
    text = public_ways_out(rids)
    ok(real not in text and "Le Sueur" not in text, "after: no public way out names the speaker",
       [text[m.start() - 200:m.start() + 20] for m in re.finditer("Le Sueur", text)][:3])
    ok("Informatrice J" in text, "the pseudonym takes the name's place")
    st, _, body = request("GET", "/api/recordings?speaker=" + urllib.parse.quote(real))
    ok((jbody(body) or {}).get("total") == 0, "the real name finds nothing through the filter")
    st, _, body = ann.get("/api/speakers/%d" % sid)
    ok((jbody(body) or {}).get("name") == real, "staff still read the real name in the records")

    # places as records: one village spelt twice
    st, _, body = ann.get("/api/places")
    pl = (jbody(body) or {}).get("places", [])
    hague = [p for p in pl if p["name"] == "La Hague"]
    ok(len(hague) == 2, "two records of La Hague (two communes)", body[:300])
    st, _, body = ann.send("PATCH", "/api/places/%d" % hague[1]["id"], {"lat": 95, "lon": 0})
    ok(st == 400, "a latitude out of range: 400", body)
    st, _, body = ann.send("POST", "/api/places/%d/merge" % hague[1]["id"],
                           {"into": hague[0]["id"]})
    ok(st == 200 and (jbody(body) or {}).get("recordings") == 2,
       "merging the two: the place kept has both recordings", body)


def check_delete(data, c, ids):
    ann, admin = c["ann-a"], c["admin-net"]
    rid = ids["cotentin-1977-le-temps-qu-il-fait"]
    st, rec = recording(None, rid)
    word = None
    for t in rec.get("tiers", []):
        for s in t["segments"]:
            for w in re.findall(r"\w{7,}", s["text"]):
                word = word or w
    ok(st == 200 and word, "the recording is public, with words to search")
    st, _, body = request("GET", "/api/search?q=%s&limit=200" % urllib.parse.quote(word))
    ok(any(h["recording_id"] == rid for h in (jbody(body) or {}).get("hits", [])),
       "before: search finds it")
    st, _, body = request("GET", "/api/institutions/musee-a")
    count = (jbody(body) or {}).get("recordings")

    st, _, body = request("DELETE", "/api/recordings/%d?reason=doublon" % rid)
    ok(st == 401, "an anonymous deletion: 401", body)
    st, _, body = c["res"].send("DELETE", "/api/recordings/%d?reason=doublon" % rid)
    ok(st == 403, "a researcher's deletion: 403", body)
    st, _, body = c["ann-b"].send("DELETE", "/api/recordings/%d?reason=doublon" % rid)
    ok(st == 403, "another institution's annotator: 403", body)
    st, _, body = ann.send("DELETE", "/api/recordings/%d" % rid)
    ok(st == 422 and "reason" in (jbody(body) or {}).get("error", ""),
       "a deletion without a reason: 422", body)
    ok(recording(None, rid)[0] == 200, "the refused deletions changed nothing")
    st, _, body = ann.send("DELETE", "/api/recordings/%d?reason=%s" % (rid, urllib.parse.quote("doublon de la bande 12")))
    ok(st == 200 and (jbody(body) or {}).get("deleted") is True, "the deletion is answered", body)

    def gone(who):
        client = c.get(who)
        get = client.get if client else (lambda p: request("GET", p))
        for path in ["/api/recordings/%d" % rid, "/recordings/%d" % rid, "/media/%d.opus" % rid,
                     "/media/%d.mp3" % rid, "/api/recordings/%d/peaks.json" % rid,
                     "/api/recordings/%d/annotations.eaf" % rid,
                     "/api/recordings/%d/clip.wav?start=0&end=1" % rid,
                     "/iiif/%d/manifest.json" % rid, "/api/export?ids=%d&audio=none" % rid]:
            st, _, body = get(path)
            ok(st == 404, "%s: %s gives 404" % (who, path), (st, body[:200]))
        st, _, body = get("/api/recordings?limit=500")
        ok(rid not in [x["id"] for x in (jbody(body) or {}).get("recordings", [])],
           "%s: the listing leaves it out" % who)
        st, _, body = get("/api/search?q=%s&limit=200" % urllib.parse.quote(word))
        ok(not any(h["recording_id"] == rid for h in (jbody(body) or {}).get("hits", [])),
           "%s: search leaves it out" % who)
        st, _, body = get("/iiif/collection.json")
        ok("/iiif/%d/manifest.json" % rid not in body.decode("utf-8"),
           "%s: the IIIF collection leaves it out" % who)
    gone("anonymous")
    gone("admin-net")
    st, _, body = request("GET", "/api/institutions/musee-a")
    ok((jbody(body) or {}).get("recordings") == count - 1, "the institution counts one less")
    st, _, body = ann.send("PATCH", "/api/recordings/%d" % rid, {"title": "x"})
    ok(st == 404, "a deleted recording cannot be edited", body)
    st, _, body = request("GET", "/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier="
                          + urllib.parse.quote(oai_id(rid)))
    text = body.decode("utf-8")
    ok('<header status="deleted">' in text and "<metadata>" not in text,
       "OAI-PMH GetRecord: a header with status deleted", text[:500])
    st, _, body = request("GET", "/oai?verb=ListIdentifiers&metadataPrefix=oai_dc")
    ok(re.search(r'<header status="deleted"><identifier>[^<]*[:/]%d</identifier>' % rid,
                 body.decode("utf-8")) is not None, "OAI-PMH ListIdentifiers lists it deleted",
       body.decode("utf-8")[:1500])
    st, _, body = request("GET", "/oai?verb=Identify")
    ok("<deletedRecord>persistent</deletedRecord>" in body.decode("utf-8"),
       "Identify says deletedRecord persistent")
    st, _, body = ann.get("/api/trash")
    tr = (jbody(body) or {}).get("trash", [])
    ok(st == 200 and [t["id"] for t in tr] == [rid] and tr[0]["reason"] == "doublon de la bande 12"
       and tr[0]["history_id"] > 0
       and tr[0]["login"] == "ann-a" and tr[0]["access"] == "public",
       "the trash lists it with its reason, who and its level", body)

    # restored through the route
    st, _, body = c["ann-b"].send("POST", "/api/recordings/%d/restore" % rid)
    ok(st == 403, "another institution's annotator cannot restore it", body)
    st, _, body = ann.send("POST", "/api/recordings/%d/restore" % rid)
    ok(st == 200 and (jbody(body) or {}).get("access") == "public", "restored, at its level", body[:200])
    ok(recording(None, rid)[0] == 200, "it is back for everyone")
    st, _, body = request("GET", "/api/search?q=%s&limit=200" % urllib.parse.quote(word))
    ok(any(h["recording_id"] == rid for h in (jbody(body) or {}).get("hits", [])),
       "search finds it again")
    st, _, body = request("GET", "/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier="
                          + urllib.parse.quote(oai_id(rid)))
    ok("status=\"deleted\"" not in body.decode("utf-8") and "<metadata>" in body.decode("utf-8"),
       "OAI-PMH gives the record again")

    # deleted again, restored by reverting the history row
    st, _, body = admin.send("DELETE", "/api/recordings/%d" % rid, {"reason": "encore"})
    ok(st == 200, "deleted again (the reason in the body)", body)
    st, _, body = ann.get("/api/trash")
    hid = ((jbody(body) or {}).get("trash") or [{}])[0].get("history_id", 0)
    st, _, body = ann.send("POST", "/api/history/%d/revert" % hid)
    ok(st == 200 and recording(None, rid)[0] == 200, "reverting its history row restores it", body[:200])
    st, _, body = ann.send("POST", "/api/history/%d/revert" % hid)
    ok(st == 409, "reverting it twice: 409", body)

    # purged: rows and files gone, OAI keeps saying deleted, fsck clean
    st, _, body = ann.send("DELETE", "/api/recordings/%d?reason=fin" % rid)
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    files = [f for (f,) in con.execute("SELECT path FROM media_files WHERE recording_id = ?", (rid,))]
    con.close()
    ok(st == 200 and files and all(os.path.exists(os.path.join(data, f)) for f in files),
       "in the trash, its files are kept")
    r = cli(data, "fsck", "--json")
    ok(r.returncode == 0, "fsck: the trash is neither damage nor stray", r.stdout[-400:] + r.stderr)
    r = cli(data, "purge-trash")
    ok(r.returncode == 0 and r.stdout == "", "purge-trash keeps what is younger than 30 days", r.stdout)
    r = cli(data, "purge-trash", "--days", "0")
    ok(r.returncode == 0 and r.stdout.startswith("%d\tpurged" % rid), "purge-trash --days 0 purges it",
       r.stdout + r.stderr)
    ok(not any(os.path.exists(os.path.join(data, f)) for f in files), "its files are gone")
    r = cli(data, "fsck", "--json")
    ok(r.returncode == 0, "fsck is clean after the purge", r.stdout[-400:] + r.stderr)
    st, _, body = ann.send("POST", "/api/recordings/%d/restore" % rid)
    ok(st == 404, "a purged recording cannot be restored", body)
    st, _, body = request("GET", "/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier="
                          + urllib.parse.quote(oai_id(rid)))
    ok('<header status="deleted">' in body.decode("utf-8"),
       "OAI-PMH still reports it deleted after the purge")


if __name__ == "__main__":
    sys.exit(main())
