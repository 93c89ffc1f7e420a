#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP tests of `parlers serve` against a real server on the sample corpus.

Builds a fresh data folder, ingests $PARLERS_CORPUS, serves it on a free
port and checks what a browser, a player, a script and an attacker rely
on: the JSON of every route, every access level on pages, API, media and
annotations, byte ranges and conditional requests, bad input (traversal,
odd ranges, long URLs and headers, unknown ids), clients that go silent or
vanish, and a clean SIGTERM.  Python standard library only; TAP output.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from harness import CORPUS, PARLERS, Server, diag, done, ok  # noqa: E402


srv = None


def request(method, path, headers=None, body=None, timeout=10):
    """Returns (status, headers dict with lower-case names, body bytes)."""
    return harness.request(srv.port, method, path, headers, body, timeout)


def raw(data, timeout=10):
    """Sends raw bytes; returns the status line's code (or None) and all bytes."""
    st, out, _ = harness.raw(srv.port, data, timeout)
    return st, out


def get_json(path, headers=None):
    st, h, body = request("GET", path, headers)
    try:
        return st, h, json.loads(body.decode("utf-8"))
    except ValueError:
        return st, h, None


def is_json_error(st, h, body, want):
    try:
        j = json.loads(body.decode("utf-8"))
    except ValueError:
        j = None
    return (st == want and h.get("content-type", "").startswith("application/json")
            and isinstance(j, dict) and isinstance(j.get("error"), str))


def main():
    global srv
    tmp = tempfile.mkdtemp(prefix="parlers-http-")
    data = os.path.join(tmp, "data")
    try:
        run_all(tmp, data)
    finally:
        if srv is not None:
            srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


def run_all(tmp, data):
    global srv
    r = subprocess.run([PARLERS, "-d", data, "ingest", "--json", CORPUS],
                       capture_output=True, text=True)
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    ingested = [x for x in lines if x.get("status") == "ingested"]
    ok(len(ingested) >= 3, "the sample corpus is ingested (%d recordings)" % len(ingested),
       r.stderr)
    r = subprocess.run([PARLERS, "-d", data, "list", "--json"], capture_output=True, text=True)
    everything = json.loads(r.stdout)["recordings"]
    by_access = {}
    for rec in everything:
        by_access.setdefault(rec["access"], []).append(rec)
    pub = by_access.get("public", [])
    pub_id = pub[0]["id"] if pub else None
    res_id = by_access.get("restricted", [{}])[0].get("id")
    priv_id = by_access.get("private", [{}])[0].get("id")
    ok(pub_id and res_id and priv_id, "the corpus has public, restricted and private recordings")
    if not (pub_id and res_id and priv_id):
        return
    # a public recording with tiers, for the transcript checks
    tiered = None
    for rec in pub:
        j = json.loads(subprocess.run([PARLERS, "-d", data, "show", "--json", str(rec["id"])],
                                      capture_output=True, text=True).stdout or "{}")
        if any(t.get("segments") for t in j.get("tiers", [])):
            tiered = rec["id"]
            break

    srv = Server(data)
    diag("serving on port %d" % srv.port)

    check_api(pub_id, res_id, priv_id, tiered, len(pub) + len(by_access.get("restricted", [])))
    check_search([r["id"] for r in pub], tiered)
    check_search_memory(data)
    check_media(pub_id, res_id, priv_id)
    check_conditionals(pub_id)
    check_annotations(tiered or pub_id, res_id, priv_id)
    check_pages(pub_id, res_id, priv_id)
    check_bad_input(pub_id)
    check_limits()
    check_methods(pub_id)
    check_clients(pub_id)
    check_tools(pub_id)
    check_access_changes(data, pub_id)
    check_log()
    check_shutdown(pub_id)


def check_api(pub_id, res_id, priv_id, tiered, visible):
    st, h, j = get_json("/api/health")
    ok(st == 200 and j and j.get("status") == "ok", "/api/health answers ok")

    st, h, j = get_json("/api/recordings")
    ok(st == 200 and h.get("content-type") == "application/json; charset=utf-8",
       "/api/recordings is JSON")
    ok(j and set(["total", "offset", "recordings"]) <= set(j), "/api/recordings has total, offset, recordings")
    ids = [r["id"] for r in j["recordings"]] if j else []
    ok(j and j["total"] == visible and len(ids) == visible,
       "/api/recordings lists exactly the public and restricted recordings", j and j["total"])
    ok(priv_id not in ids, "a private recording is not listed to anonymous visitors")
    ok(res_id in ids, "a restricted recording is listed")
    ok(all("tiers" not in r or not r["tiers"] for r in j["recordings"]), "the list has no transcripts")
    rec = next(r for r in j["recordings"] if r["id"] == pub_id)
    keys = ["id", "title", "date", "collection", "place", "variety", "language", "access",
            "duration_ms", "sample_rate", "channels", "sha256", "speakers"]
    ok(all(k in rec for k in keys), "a listed recording has DESIGN.md's fields",
       [k for k in keys if k not in rec])

    st, h, j = get_json("/api/recordings?limit=2&offset=1")
    ok(st == 200 and len(j["recordings"]) == min(2, visible - 1) and j["offset"] == 1,
       "limit and offset page the list")
    var = rec.get("variety")
    st, h, j = get_json("/api/recordings?variety=" + urlq(var))
    ok(st == 200 and j["total"] >= 1 and all(r["variety"] == var for r in j["recordings"]),
       "the variety filter keeps only that variety")
    if rec.get("place"):
        st, h, j = get_json("/api/recordings?place=%d" % rec["place"]["id"])
        ok(st == 200 and j["total"] >= 1 and
           all(r["place"]["id"] == rec["place"]["id"] for r in j["recordings"]),
           "the place filter (by id) keeps only that place")
    if rec.get("speakers"):
        sp = rec["speakers"][0]
        st, h, j = get_json("/api/recordings?speaker=" + urlq(sp["name"]))
        ok(st == 200 and j["total"] >= 1 and
           all(any(s["id"] == sp["id"] for s in r["speakers"]) for r in j["recordings"]),
           "the speaker filter (by name) keeps only that speaker")
    st, h, j = get_json("/api/recordings?collection=%s" % urlq(rec.get("collection") or "x"))
    ok(st == 200 and all(r["collection"] == rec.get("collection") for r in j["recordings"]),
       "the collection filter keeps only that collection")
    st, h, j = get_json("/api/recordings?variety=nothing-like-this")
    ok(st == 200 and j["total"] == 0 and j["recordings"] == [], "a filter that matches nothing gives an empty list")
    for q in ["limit=abc", "offset=-1", "limit=1e3", "offset=%20"]:
        st, h, body = request("GET", "/api/recordings?" + q)
        ok(is_json_error(st, h, body, 400), "/api/recordings?%s is a JSON 400" % q, (st, body[:200]))

    st, h, j = get_json("/api/recordings/%d" % pub_id)
    ok(st == 200 and j["id"] == pub_id and j.get("can_listen") is True,
       "a public recording's JSON says can_listen")
    if tiered:
        st, h, j = get_json("/api/recordings/%d" % tiered)
        segs = [s for t in j.get("tiers", []) for s in t.get("segments", [])]
        ok(segs and all(set(["id", "start_ms", "end_ms", "text"]) <= set(s) for s in segs),
           "tiers carry segments with id, start_ms, end_ms, text")
        ok(all(set(["id", "name", "type", "language", "speaker", "parent_id"]) <= set(t)
               for t in j["tiers"]), "tiers carry id, name, type, language, speaker, parent_id")
    st, h, plain = request("GET", "/api/recordings/%d" % pub_id)
    st2, h2, packed = request("GET", "/api/recordings/%d" % pub_id, {"Accept-Encoding": "gzip, br"})
    import gzip
    ok(st2 == 200 and h2.get("content-encoding") == "gzip" and gzip.decompress(packed) == plain
       and "Accept-Encoding" in h2.get("vary", ""),
       "a recording's JSON comes gzip-compressed to clients that accept it, with Vary")
    st3, h3, b3 = request("GET", "/api/recordings/%d" % pub_id, {"Accept-Encoding": "gzip;q=0"})
    ok(st3 == 200 and "content-encoding" not in h3 and b3 == plain, "gzip;q=0 gets the plain JSON")
    st, h, j = get_json("/api/recordings/%d" % res_id)
    ok(st == 200 and j.get("can_listen") is False and not j.get("tiers"),
       "a restricted recording's JSON has metadata, no transcript, can_listen false")
    for path in ["/api/recordings/%d" % priv_id, "/api/recordings/999999", "/api/recordings/abc",
                 "/api/recordings/0", "/api/recordings/-1", "/api/recordings/1.5",
                 "/api/recordings/99999999999999999999999", "/api/recordings/%d/" % pub_id,
                 "/api/recordings/%d/nothing" % pub_id, "/api/nothing", "/api/"]:
        st, h, body = request("GET", path)
        ok(is_json_error(st, h, body, 404), "GET %s is a JSON 404" % path, (st, body[:200]))

    st, h, j = get_json("/api/facets")
    ok(st == 200 and j and all(k in j for k in ["collections", "places", "speakers", "varieties"]),
       "/api/facets has collections, places, speakers, varieties")
    if j:
        ok(sum(v["count"] for v in j["varieties"]) <= visible and
           all(isinstance(p.get("count"), int) for p in j["places"]),
           "facet counts only count what anonymous visitors may know of")

    st, h, j = get_json("/api/recordings/%d/peaks.json" % pub_id)
    ok(st == 200 and j and isinstance(j.get("data"), list) and j.get("length", 0) * 2 == len(j["data"]),
       "peaks.json gives length min/max pairs", (st, str(j)[:200]))
    ok(st == 200 and j.get("sample_rate") and j.get("samples_per_pixel"),
       "peaks.json names its sample rate and samples per pixel")
    st2, h2, j2 = get_json("/api/recordings/%d/peaks.json?level=2" % pub_id)
    ok(st2 == 200 and j2["samples_per_pixel"] > j["samples_per_pixel"], "a coarser peaks level")
    etag = h.get("etag")
    st3, h3, b3 = request("GET", "/api/recordings/%d/peaks.json" % pub_id, {"If-None-Match": etag or '"x"'})
    ok(etag and st3 == 304 and b3 == b"", "peaks.json revalidates with its ETag (304)")
    st, h, body = request("GET", "/api/recordings/%d/peaks.json?level=9" % pub_id)
    ok(is_json_error(st, h, body, 404), "a peaks level that does not exist is a JSON 404")
    st, h, body = request("GET", "/api/recordings/%d/peaks.json?level=x" % pub_id)
    ok(is_json_error(st, h, body, 400), "a peaks level that is not a number is a JSON 400")
    st, h, body = request("GET", "/api/recordings/%d/peaks.json" % priv_id)
    ok(is_json_error(st, h, body, 404), "a private recording's peaks are a JSON 404")


def check_search_memory(data):
    """The server reads the index's postings into memory in the background;
    its answers are those of a server searching with FTS5 alone."""
    deadline, ready = time.time() + 20, False
    while time.time() < deadline and not ready:
        st, h, j = get_json("/api/health")
        ready = bool(j and j.get("search_in_memory"))
        if not ready:
            time.sleep(0.1)
    ok(ready, "/api/health says when the postings are in memory")
    other = Server(data, extra=["--no-search-memory", "--quiet"])
    try:
        c = http.client.HTTPConnection("127.0.0.1", other.port, timeout=10)
        c.request("GET", "/api/health")
        j = json.loads(c.getresponse().read())
        ok(j.get("search_in_memory") is False, "serve --no-search-memory searches with FTS5 alone")
        queries = ["mezoun", "la", "ch'est", "\"la mézoun\"", "mai*", "maison -pere",
                   "byin OR caoud", "mezoun&sort=date", "la&offset=5&limit=3", "la&tier=translation",
                   "mezoun&exact=1", "pommiers&place=La%20Hague"]
        same = []
        for q in queries:
            q, _, extra = q.partition("&")
            path = "/api/search?q=" + urlq(q) + ("&" + extra if extra else "")
            st1, _, b1 = request("GET", path)
            c.request("GET", path)
            r = c.getresponse()
            b2 = r.read()
            same.append(st1 == r.status == 200 and b1 == b2)
        ok(all(same), "with and without the postings in memory, the same answers byte for byte",
           [q for q, s in zip(queries, same) if not s])
        c.close()
    finally:
        other.stop()


def check_search(public_ids, tiered):
    st, h, j = get_json("/api/recordings/%d" % tiered) if tiered else (0, {}, None)
    words = []
    if j:
        for t in j["tiers"]:
            for seg in t["segments"]:
                words += [w for w in re.findall(r"\w{5,}", seg["text"])]
    word = words[0] if words else "maison"
    st, h, j = get_json("/api/search?q=" + urlq(word))
    ok(st == 200 and j and j.get("total", 0) >= 1 and j.get("hits"),
       "/api/search finds a word of a public transcript (%s)" % word, (st, str(j)[:300]))
    if j and j.get("hits"):
        hit = j["hits"][0]
        ok(all(k in hit for k in ["recording_id", "segment_id", "start_ms", "end_ms", "text"]),
           "a search hit has recording_id, segment_id, start_ms, end_ms, text")
    # every segment of every recording, searched by its own words: only public ones come back
    seen = set()
    for w in set(words[:15]) | {"la", "et", "mézoun", "Jèrri", "couturière"}:
        st, h, j = get_json("/api/search?limit=200&q=" + urlq(w))
        if st == 200 and j:
            seen |= {x["recording_id"] for x in j["hits"]}
    ok(seen and seen <= set(public_ids), "search shows anonymous visitors public recordings only",
       sorted(seen - set(public_ids)))
    st, h, body = request("GET", "/api/search")
    ok(is_json_error(st, h, body, 400), "/api/search without q: JSON 400")
    st, h, body = request("GET", "/api/search?q=-nothing")
    ok(is_json_error(st, h, body, 400), "a query of exclusions only: JSON 400 with a sentence", body[:200])
    st, h, body = request("GET", "/api/search?q=x&sort=sideways")
    ok(is_json_error(st, h, body, 400), "an unknown sort: JSON 400")


def urlq(s):
    from urllib.parse import quote
    return quote(s or "", safe="")


def check_media(pub_id, res_id, priv_id):
    path = "/media/%d.opus" % pub_id
    st, h, full = request("GET", path)
    size = len(full)
    ok(st == 200 and size > 1000 and int(h.get("content-length", -1)) == size,
       "GET %s: 200 with the whole file" % path, (st, h))
    ok(full[:4] == b"OggS", "the Opus copy is an Ogg stream")
    ok(h.get("content-type", "").startswith("audio/ogg"), "the Opus copy is audio/ogg", h.get("content-type"))
    ok(h.get("accept-ranges") == "bytes", "Accept-Ranges: bytes")
    etag = h.get("etag", "")
    ok(re.fullmatch(r'"[0-9a-f]{64}"', etag) is not None, "a strong ETag from the SHA-256", etag)
    ok(h.get("cache-control") == "no-cache" and "Cookie" in h.get("vary", ""),
       "the plain URL of public media is revalidated (its bytes change with withheld spans)",
       h.get("cache-control"))
    ok(re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT", h.get("last-modified", "")),
       "Last-Modified is an IMF-fixdate", h.get("last-modified"))
    ok(h.get("x-content-type-options") == "nosniff", "nosniff")

    st, h, body = request("HEAD", path)
    ok(st == 200 and body == b"" and int(h.get("content-length", -1)) == size and h.get("etag") == etag,
       "HEAD: the same headers, no body")
    st, h, body = request("HEAD", path, {"Range": "bytes=0-9"})
    ok(st == 200 and body == b"", "HEAD ignores Range (range handling is for GET)")

    st, h, mp3 = request("GET", "/media/%d.mp3" % pub_id)
    ok(st == 200 and h.get("content-type") == "audio/mpeg" and len(mp3) > 1000,
       "the MP3 copy is audio/mpeg")

    def rng(spec, want_status, want_first=None, want_last=None, what=None):
        st, h, body = request("GET", path, {"Range": spec})
        what = what or "Range: %s" % spec
        if want_status == 206:
            cr = "bytes %d-%d/%d" % (want_first, want_last, size)
            ok(st == 206 and h.get("content-range") == cr and body == full[want_first:want_last + 1]
               and int(h.get("content-length", -1)) == want_last - want_first + 1,
               "%s: 206 %s" % (what, cr), (st, h.get("content-range"), len(body)))
        elif want_status == 416:
            ok(st == 416 and h.get("content-range") == "bytes */%d" % size,
               "%s: 416 with Content-Range bytes */%d" % (what, size), (st, h.get("content-range")))
        else:
            ok(st == 200 and body == full and "content-range" not in h,
               "%s: ignored, 200 with the whole file" % what, (st, h.get("content-range"), len(body)))

    rng("bytes=0-99", 206, 0, 99)
    rng("bytes=100-", 206, 100, size - 1)
    rng("bytes=-100", 206, size - 100, size - 1)
    rng("bytes=%d-" % (size - 1), 206, size - 1, size - 1, "the last byte")
    rng("bytes=0-%d" % (size + 5000), 206, 0, size - 1, "a range past the end is cut to the end")
    rng("bytes=-%d" % (size * 4), 206, 0, size - 1, "a suffix longer than the file")
    rng("bytes=0-99999999999999999999999999", 206, 0, size - 1, "a huge last-pos")
    rng("bytes=1000-66535", 206, 1000, min(66535, size - 1))
    rng("bytes=%d-" % size, 416)
    rng("bytes=%d-%d" % (size + 10, size + 20), 416)
    rng("bytes=-0", 416)
    rng("bytes=99999999999999999999999999-", 416, what="a huge first-pos")
    for bad in ["bytes=5-1", "bytes=-5-10", "bytes=abc", "bytes=", "bytes=-", "bytes=--5",
                "bytes=1-2-3", "items=0-5", "bytes 0-5", "bytes=0x10-0x20", "bytes=+1-5",
                "bytes=0-1,4-5", "bytes=0-1," + ",".join("%d-%d" % (i, i) for i in range(2, 1500)),
                "bytes=\x7f"]:
        rng(bad, 200, what="Range: %r" % (bad[:40] + ("..." if len(bad) > 40 else "")))

    for p, want in [("/media/%d.opus" % res_id, 403), ("/media/%d.mp3" % res_id, 403),
                    ("/media/%d.orig" % res_id, 403), ("/media/%d.orig" % pub_id, 403),
                    ("/media/%d.opus" % priv_id, 404), ("/media/%d.mp3" % priv_id, 404),
                    ("/media/%d.orig" % priv_id, 404), ("/media/999999.opus", 404),
                    ("/media/abc.opus", 404), ("/media/%d.wav" % pub_id, 404),
                    ("/media/%d" % pub_id, 404), ("/media/%d.opus.opus" % pub_id, 404),
                    ("/media/0.opus", 404), ("/media/-1.opus", 404)]:
        st, h, body = request("GET", p)
        ok(is_json_error(st, h, body, want), "GET %s: JSON %d" % (p, want), (st, body[:120]))
        ok(not body.startswith(b"OggS") and b"ID3" not in body[:3], "GET %s sends no audio" % p)
    st, h, body = request("GET", "/media/%d.opus" % res_id, {"Range": "bytes=0-9"})
    ok(st == 403, "a restricted recording's media with a Range is still 403")


def check_conditionals(pub_id):
    path = "/media/%d.opus" % pub_id
    st, h, full = request("GET", path)
    etag, lm = h["etag"], h["last-modified"]

    def cond(headers, want, what, want_len=None):
        st, h, body = request("GET", path, headers)
        good = st == want
        if want == 304:
            good = good and body == b"" and h.get("etag") == etag and \
                h.get("cache-control") == "no-cache"
        if want_len is not None:
            good = good and len(body) == want_len
        ok(good, what, (st, h.get("etag"), len(body)))
        return st, h, body

    cond({"If-None-Match": etag}, 304, "If-None-Match with the ETag: 304 with validators, no body")
    cond({"If-None-Match": "W/" + etag}, 304, "If-None-Match with the weak form: 304")
    cond({"If-None-Match": '"other", ' + etag}, 304, "If-None-Match with a list holding it: 304")
    cond({"If-None-Match": "*"}, 304, "If-None-Match: * on an existing file: 304")
    cond({"If-None-Match": '"other"'}, 200, "If-None-Match with another tag: 200", len(full))
    cond({"If-None-Match": "garbage"}, 200, "If-None-Match that is no tag: 200", len(full))
    cond({"If-Modified-Since": lm}, 304, "If-Modified-Since = Last-Modified: 304")
    cond({"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}, 200,
         "If-Modified-Since long ago: 200", len(full))
    cond({"If-Modified-Since": "not a date"}, 200, "an unreadable If-Modified-Since is ignored", len(full))
    cond({"If-None-Match": '"other"', "If-Modified-Since": lm}, 200,
         "If-None-Match wins over If-Modified-Since", len(full))
    st, h, body = cond({"If-Range": etag, "Range": "bytes=10-19"}, 206, "If-Range with the ETag: 206", 10)
    ok(body == full[10:20], "If-Range 206 carries the right bytes")
    cond({"If-Range": '"stale"', "Range": "bytes=10-19"}, 200,
         "If-Range with another ETag: the whole file (200)", len(full))
    cond({"If-Range": "W/" + etag, "Range": "bytes=10-19"}, 200,
         "If-Range with a weak tag never matches: 200", len(full))
    cond({"If-Range": lm, "Range": "bytes=10-19"}, 206, "If-Range with the Last-Modified date: 206", 10)
    cond({"If-Range": "Thu, 01 Jan 1970 00:00:00 GMT", "Range": "bytes=10-19"}, 200,
         "If-Range with another date: 200", len(full))
    cond({"If-Match": '"other"'}, 412, "If-Match with another tag: 412")
    cond({"If-Match": etag}, 200, "If-Match with the ETag: 200", len(full))
    cond({"If-Unmodified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}, 412,
         "If-Unmodified-Since before the file: 412")
    cond({"If-None-Match": etag, "Range": "bytes=0-9"}, 304, "304 wins over a Range")


def check_annotations(tiered, res_id, priv_id):
    types = {"eaf": "application/xml", "TextGrid": "text/plain", "vtt": "text/vtt",
             "srt": "application/x-subrip", "csv": "text/csv", "json": "application/json",
             "tei": "application/tei+xml"}
    for ext, mime in types.items():
        st, h, body = request("GET", "/api/recordings/%d/annotations.%s" % (tiered, ext))
        ok(st == 200 and h.get("content-type", "").startswith(mime) and len(body) > 20,
           "annotations.%s: 200 %s" % (ext, mime), (st, h.get("content-type"), body[:200]))
    st, h, body = request("GET", "/api/recordings/%d/annotations.vtt" % tiered)
    ok(body.startswith(b"WEBVTT"), "the WebVTT export starts with WEBVTT")
    st, h, body = request("GET", "/api/recordings/%d/annotations.eaf" % tiered)
    ok(b"<ANNOTATION_DOCUMENT" in body and "attachment" in h.get("content-disposition", ""),
       "the EAF export is an ELAN document, offered as a download")
    for ext in types:
        st, h, body = request("GET", "/api/recordings/%d/annotations.%s" % (res_id, ext))
        ok(is_json_error(st, h, body, 403), "a restricted recording's annotations.%s: JSON 403" % ext)
        st, h, body = request("GET", "/api/recordings/%d/annotations.%s" % (priv_id, ext))
        ok(is_json_error(st, h, body, 404), "a private recording's annotations.%s: JSON 404" % ext)
    for p in ["/api/recordings/%d/annotations.doc" % tiered, "/api/recordings/%d/annotations." % tiered,
              "/api/recordings/999999/annotations.eaf", "/api/recordings/x/annotations.eaf",
              "/api/recordings/%d/annotations.eaf/x" % tiered]:
        st, h, body = request("GET", p)
        ok(is_json_error(st, h, body, 404), "GET %s: JSON 404" % p, (st, body[:100]))
    st, h, body = request("GET", "/api/recordings/%d/annotations.vtt?tier=no-such-tier" % tiered)
    ok(st in (400, 404) and is_json_error(st, h, body, st), "a WebVTT export of a tier that does not exist is a JSON 4xx", (st, body[:100]))


def check_pages(pub_id, res_id, priv_id):
    st, h, body = request("GET", "/")
    html = body.decode("utf-8", "replace")
    ok(st == 200 and h.get("content-type") == "text/html; charset=utf-8", "GET /: an HTML page")
    ok('<html lang="fr">' in html, "the interface is in French by default")
    ok("default-src 'self'" in h.get("content-security-policy", ""), "pages carry a Content-Security-Policy")
    ok('id="list-data"' in html and '"recordings"' in html, "the home page comes with its first listing")
    ok("{{" not in html, "no template token is left in the home page")
    st, h, body = request("GET", "/", {"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    ok('<html lang="en">' in body.decode(), "Accept-Language: en gives English")
    st, h, body = request("GET", "/?lang=en")
    ok('<html lang="en">' in body.decode() and "lang=en" in h.get("set-cookie", ""),
       "?lang=en gives English and remembers it in a cookie")
    st, h, body = request("GET", "/", {"Cookie": "lang=en", "Accept-Language": "fr"})
    ok('<html lang="en">' in body.decode(), "the lang cookie wins over Accept-Language")
    st, h, body = request("GET", "/?lang=fr", {"Cookie": "lang=en"})
    ok('<html lang="fr">' in body.decode(), "?lang=fr wins over the cookie")

    st, h, body = request("GET", "/recordings/%d" % pub_id)
    html = body.decode("utf-8", "replace")
    ok(st == 200 and 'id="rec-data"' in html and '"can_listen":true' in html,
       "a public recording's page carries its data")
    ok("{{" not in html, "no template token is left in a recording page")
    st, h, body = request("GET", "/recordings/%d" % res_id)
    html = body.decode("utf-8", "replace")
    ok(st == 200 and '"can_listen":false' in html and '"segments"' not in html,
       "a restricted recording's page: metadata, no transcript")
    for p in ["/recordings/%d" % priv_id, "/recordings/999999", "/recordings/abc",
              "/recordings/", "/recordings/%d/x" % pub_id, "/nothing", "/index.html",
              "/static/", "/static/index.html", "/static/nothing.js", "/static/../index.html"]:
        st, h, body = request("GET", p)
        ok(st == 404 and h.get("content-type", "").startswith("text/html"), "GET %s: an HTML 404" % p, st)
    st, h, body = request("GET", "/search?q=%3Cscript%3Ealert(1)%3C/script%3E%22")
    html = body.decode("utf-8", "replace")
    ok(st == 200 and "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html,
       "the search page escapes the query it shows")

    st, h, body = request("GET", "/login?lang=en&next=%2Frecordings%2F1")
    html = body.decode("utf-8", "replace")
    ok(st == 200 and 'id="login-form"' in html and 'autocomplete="current-password"' in html
       and "{{" not in html and "default-src 'self'" in h.get("content-security-policy", ""),
       "GET /login: the sign-in page, under the same policy")
    ok('id="nav-account"' in request("GET", "/")[2].decode(), "every page's header has the account item")
    st, h, body = request("POST", "/login", {"Content-Type": "application/x-www-form-urlencoded"},
                          b"login=a&password=b")
    ok(st == 405, "the sign-in page itself takes no POST (its script posts JSON to /api/login)", st)

    st, h, css = request("GET", "/static/app.css")
    ok(st == 200 and h.get("content-type") == "text/css; charset=utf-8" and h.get("cache-control") == "no-cache",
       "/static/app.css without a version is revalidated")
    m = re.search(r'/static/app\.css\?v=([0-9a-f]+)', request("GET", "/")[2].decode())
    st, h2, _ = request("GET", "/static/app.css?v=" + (m.group(1) if m else "x"))
    ok(st == 200 and "immutable" in h2.get("cache-control", ""), "versioned static files are immutable")
    st, h3, body = request("GET", "/static/app.css", {"If-None-Match": h.get("etag", '"x"')})
    ok(st == 304 and body == b"", "static files revalidate with their ETag (304)")
    for f, mime in [("common.js", "text/javascript"), ("recording.js", "text/javascript"),
                    ("home.js", "text/javascript"), ("login.js", "text/javascript"),
                    ("favicon.svg", "image/svg+xml")]:
        st, h, body = request("GET", "/static/" + f)
        ok(st == 200 and h.get("content-type", "").startswith(mime), "/static/%s is %s" % (f, mime))


def check_bad_input(pub_id):
    secret = b"SQLite format 3"
    paths = ["/media/../archive.db", "/media/%2e%2e/archive.db", "/media/%2e%2e%2farchive.db",
             "/media/%2E%2E%2Farchive.db", "/media/..%2farchive.db", "/media/%d.opus/../../archive.db" % pub_id,
             "/media/..%2f..%2farchive.db", "/media/%252e%252e%252farchive.db", "/static/../archive.db",
             "/static/%2e%2e%2farchive.db", "/static/..%2f..%2f..%2fetc%2fpasswd", "/../archive.db",
             "/%2e%2e/archive.db", "//archive.db", "/archive.db", "/media/archive.db",
             "/media/%d.opus%%00.txt" % pub_id, "/media/%d.opus%%00" % pub_id, "/media//%d.opus" % pub_id,
             "/api/recordings/%d/annotations.eaf%%2f..%%2f..%%2farchive.db" % pub_id,
             "/media/%d.orig/../../../etc/passwd" % pub_id, "/recordings/%d%%2f..%%2f..%%2farchive.db" % pub_id]
    for p in paths:
        st, out = raw(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % p).encode())
        ok(st is not None and 400 <= st < 500 and secret not in out and b"root:" not in out,
           "GET %s: a 4xx, nothing from outside the media" % p, (st, out[:200]))
    st, out = raw(b"GET /media/%d.opus HTTP/1.1\r\nHost: x\r\nRange: bytes=-1-\r\nConnection: close\r\n\r\n" % pub_id)
    ok(st == 200, "a negative Range start is ignored", st)
    st, out = raw(b"GET /media/%d.opus HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\nRange: bytes=5-6\r\nConnection: close\r\n\r\n" % pub_id)
    ok(st in (200, 206, 400), "two Range headers: an answer, not a crash", st)
    st, out = raw(b"GET /api/health HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\nConnection: close\r\n\r\n")
    ok(st == 200, "a Range on JSON is ignored", st)
    st, out = raw(b"GARBAGE\r\n\r\n")
    ok(st is None or 400 <= st < 500, "a request line that is no HTTP: 4xx or closed", st)
    st, out = raw(b"GET /api/health HTTP/1.1\r\nHost: x\r\nBad header line\r\nConnection: close\r\n\r\n")
    ok(st is None or st == 200 or 400 <= st < 500, "a malformed header: no 5xx", st)
    st, h, body = request("GET", "/api/health")
    ok(st == 200, "the server still answers after the bad requests")


def check_limits():
    st, out = raw(("GET /" + "a" * 8000 + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode())
    ok(st == 404, "a URL under 8 KiB is served (404 for an unknown path)", st)
    st, out = raw(("GET /api/" + "a" * 9000 + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode())
    ok(st == 414 and b'"error"' in out, "a URL over 8 KiB: JSON 414 on the API", (st, out[:200]))
    st, out = raw(("GET /?q=" + "a" * 9000 + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode())
    ok(st == 414, "a query string over 8 KiB: 414", st)
    st, out = raw(("GET /" + "a" * 200000 + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode())
    ok(st == 414, "a URL of 200 KB: 414, not a dropped connection", (st, out[:200]))
    hdr = "X-Big: " + "b" * 17000 + "\r\n"
    st, out = raw(("GET /api/health HTTP/1.1\r\nHost: x\r\n" + hdr + "Connection: close\r\n\r\n").encode())
    ok(st == 431, "headers over 16 KiB: 431", (st, out[:200]))
    many = "".join("X-H%d: %s\r\n" % (i, "v" * 90) for i in range(200))
    st, out = raw(("GET /api/health HTTP/1.1\r\nHost: x\r\n" + many + "Connection: close\r\n\r\n").encode())
    ok(st == 431, "many headers adding up to over 16 KiB: 431", (st, out[:200]))
    hdr = "X-Big: " + "b" * 300000 + "\r\n"
    st, out = raw(("GET /api/health HTTP/1.1\r\nHost: x\r\n" + hdr + "Connection: close\r\n\r\n").encode())
    ok(st == 431, "headers of 300 KB: 431, not a dropped connection", (st, out[:200]))
    hdr = "X-Ok: " + "b" * 15000 + "\r\n"
    st, out = raw(("GET /api/health HTTP/1.1\r\nHost: x\r\n" + hdr + "Connection: close\r\n\r\n").encode())
    ok(st == 200, "headers under 16 KiB are served", st)
    hdr = "X-Ok: " + "b" * 16300 + "\r\n"
    st, out = raw(("GET /api/health HTTP/1.1\r\nHost: x\r\n" + hdr + "Connection: close\r\n\r\n").encode())
    ok(st == 200, "headers just under 16 KiB are served", st)
    st, out = raw(("GET /" + "a" * 8100 + " HTTP/1.1\r\nHost: x\r\nX-K: " + "k" * 7000 +
                   "\r\nConnection: close\r\n\r\n").encode())
    ok(st == 404, "a URL just under 8 KiB with 7 KiB of headers is served (404)", st)


def check_methods(pub_id):
    for m, p in [("POST", "/api/recordings"), ("PUT", "/api/recordings/%d" % pub_id),
                 ("PUT", "/media/%d.opus" % pub_id), ("POST", "/api/health"),
                 ("PATCH", "/api/recordings/%d/peaks.json" % pub_id)]:
        st, h, body = request(m, p, body=b"{}")
        ok(is_json_error(st, h, body, 405) and "GET" in h.get("allow", ""),
           "%s %s: JSON 405 with Allow" % (m, p), (st, h.get("allow")))
    for m, p in [("POST", "/"), ("PUT", "/recordings/%d" % pub_id), ("DELETE", "/static/app.css")]:
        st, h, body = request(m, p, body=b"x")
        ok(st == 405 and "GET" in h.get("allow", ""), "%s %s: 405 with Allow" % (m, p), st)
    st, h, body = request("POST", "/api/nothing", body=b"{}")
    ok(is_json_error(st, h, body, 404), "POST to an unknown API route: JSON 404", st)
    st, h, body = request("OPTIONS", "/nothing")
    ok(st == 404, "OPTIONS on an unknown path: 404", st)


def check_clients(pub_id):
    path = "/media/%d.opus" % pub_id
    # a client that connects and says nothing, one that stops mid-line,
    # one that asks for a file and never reads it, one that vanishes
    silent = socket.create_connection(("127.0.0.1", srv.port))
    half = socket.create_connection(("127.0.0.1", srv.port))
    half.sendall(b"GET /api/heal")
    stuck = socket.create_connection(("127.0.0.1", srv.port))
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode() * 20)
    gone = socket.create_connection(("127.0.0.1", srv.port))
    gone.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
    gone.recv(1000)
    gone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    gone.close()  # a reset in the middle of the download
    t0 = time.time()
    results = []

    def fetch():
        try:
            st, h, body = request("GET", path, {"Range": "bytes=0-65535"}, timeout=5)
            results.append(st == 206 and len(body) == 65536)
        except Exception as e:  # noqa: BLE001 - any failure is the test's answer
            results.append(False)
            diag("fetch failed: %r" % e)
    threads = [threading.Thread(target=fetch) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok(all(results) and len(results) == 16,
       "16 clients are served while others are silent, stuck or gone", results)
    ok(time.time() - t0 < 5, "and quickly (%.2f s)" % (time.time() - t0))
    for s in (silent, half, stuck):
        s.close()
    st, h, body = request("GET", "/api/health")
    ok(st == 200, "the server still answers afterwards")


def check_tools(pub_id):
    url = "http://127.0.0.1:%d/media/%d.opus" % (srv.port, pub_id)
    if shutil.which("ffprobe"):
        r = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate",
                            "-of", "json", url], capture_output=True, text=True, timeout=60)
        try:
            streams = json.loads(r.stdout).get("streams", [])
        except ValueError:
            streams = []
        ok(r.returncode == 0 and streams and streams[0].get("codec_name") == "opus"
           and streams[0].get("sample_rate") == "48000",
           "ffprobe reads the Opus copy over HTTP (opus, 48 kHz)", r.stderr[-500:])
    else:
        ok(True, "# SKIP ffprobe is not installed")
    if shutil.which("curl"):
        r = subprocess.run(["curl", "-s", "-r", "100-199", "-o", "-", "-w", "\n%{http_code}", url],
                           capture_output=True, timeout=30)
        body, _, code = r.stdout.rpartition(b"\n")
        full = request("GET", "/media/%d.opus" % pub_id)[2]
        ok(code == b"206" and body == full[100:200], "curl -r 100-199 gets those 100 bytes")
    else:
        ok(True, "# SKIP curl is not installed")


# The server keeps media answers only once the archive's files have been
# still for 2.5 s (web/cache.c, SETTLE_MS): waiting that long first makes
# the answers before each change come from that cache, so these checks
# prove that a change empties it for the very next request, and for the
# requests after the files settle again.
SETTLE_S = 2.8


def check_access_changes(data, pub_id):
    r = subprocess.run([PARLERS, "-d", data, "user", "add", "boss", "--role", "admin"],
                       input="boss-pass-1\n", capture_output=True, text=True)
    ok(r.returncode == 0, "an admin account for the access checks", r.stderr)
    st, h, body = request("POST", "/api/login", {"Content-Type": "application/json"},
                          json.dumps({"login": "boss", "password": "boss-pass-1"}).encode())
    m = re.match(r"parlers_session=([^;]*)", h.get("set-cookie", ""))
    ok(st == 200 and m, "the admin signs in", body)
    if not m:
        return
    staff = {"Cookie": "parlers_session=" + m.group(1)}
    write = dict(staff, **{"X-CSRF-Token": json.loads(body)["csrf_token"],
                           "Content-Type": "application/json"})
    rec = "/api/recordings/%d" % pub_id
    path = "/media/%d.opus" % pub_id
    rng = {"Range": "bytes=0-99"}

    def patch(level):
        return request("PATCH", rec, write, json.dumps({"access": level}).encode())[0]

    def by_sql(level):
        # another process commits, as the command line does
        con = sqlite3.connect(os.path.join(data, "archive.db"), timeout=10)
        con.execute("UPDATE recordings SET access = ? WHERE id = ?", (level, pub_id))
        con.commit()
        con.close()

    time.sleep(SETTLE_S)
    sts = [request("GET", path, rng)[0] for _ in range(3)]
    ok(sts == [206] * 3, "a public recording is heard, from the media cache", sts)
    st = patch("private")
    st2 = request("GET", path, rng)[0]
    st3 = request("GET", path, dict(rng, **staff))[0]
    ok(st == 200 and st2 == 404, "made private through the API: the very next anonymous "
       "media request is 404", (st, st2))
    ok(st3 == 206, "staff still hear it", st3)
    time.sleep(SETTLE_S)
    st4 = request("GET", path, rng)[0]
    ok(st4 == 404, "and the anonymous request is still 404 once the archive has settled", st4)
    sts = [request("GET", path, dict(rng, **staff))[0] for _ in range(2)]
    st = patch("restricted")
    st2 = request("GET", path, rng)[0]
    ok(sts == [206] * 2 and st == 200 and st2 == 403,
       "made restricted through the API: the very next anonymous media request is 403",
       (sts, st, st2))
    st = patch("public")
    time.sleep(SETTLE_S)
    sts = [request("GET", path, rng)[0] for _ in range(2)]
    by_sql(1)
    st2 = request("GET", path, rng)[0]
    time.sleep(SETTLE_S)
    st2b = request("GET", path, rng)[0]
    by_sql(0)
    st3 = request("GET", path, rng)[0]
    ok(st == 200 and sts == [206] * 2 and st2 == 403 and st2b == 403 and st3 == 206,
       "a level changed by another process takes effect on the very next request both ways",
       (st, sts, st2, st2b, st3))

    time.sleep(SETTLE_S)
    st, h, plain = request("GET", path)
    request("GET", path)
    etag = h.get("etag")
    st, _, body = request("POST", rec + "/withheld", write,
                          json.dumps({"start_ms": 1000, "end_ms": 3000}).encode())
    span = (json.loads(body) or {}).get("id") if st == 201 else None
    st2, h2, muted = request("GET", path)
    st3, h3, _ = request("GET", path, staff)
    ok(st == 201 and st2 == 200 and h2.get("etag") != etag and muted != plain,
       "a span withheld through the API: the very next anonymous request gets the copy "
       "with it silent", (st, st2, etag, h2.get("etag")))
    ok(st3 == 200 and h3.get("etag") == etag, "staff still get the original copy")
    time.sleep(SETTLE_S)
    request("GET", path)
    st, _, _ = request("DELETE", "%s/withheld/%s" % (rec, span), write)
    st2, h2, again = request("GET", path)
    ok(st == 200 and st2 == 200 and h2.get("etag") == etag and again == plain,
       "the span removed: the very next request gets the whole copy again", (st, st2))


def check_log():
    text = srv.log_text()
    ok(re.search(r"^\S+ GET /api/health 200 \d+ [\d.]+ms$", text, re.M) is not None,
       "one log line per request: method, path, status, bytes, time", text[-500:])
    ok(re.search(r" GET /media/\d+\.opus 206 100 ", text) is not None, "the log counts the bytes of a range")
    long_lines = [line for line in text.splitlines() if "/api/aaaa" in line]
    ok(long_lines and all(len(line) < 400 for line in long_lines),
       "a very long URL is cut short in the log", [len(x) for x in long_lines])


def check_shutdown(pub_id):
    # a download in flight when SIGTERM arrives still completes
    path = "/media/%d.opus" % pub_id
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    first = r.read(1000)
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    rest = r.read()
    c.close()
    full = len(first) + len(rest)
    ok(full == int(r.getheader("Content-Length", "-1")), "SIGTERM lets a download in flight finish")
    try:
        code = srv.proc.wait(15)
    except subprocess.TimeoutExpired:
        code = None
    ok(code == 0, "the server exits 0 after SIGTERM", code)
    try:
        socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()
        refused = False
    except OSError:
        refused = True
    ok(refused, "and no longer takes connections")
    ok("stopped" in srv.log_text(), "it says it stopped")


if __name__ == "__main__":
    sys.exit(main())
