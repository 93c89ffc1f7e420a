#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of what researchers take away: export bundles, clips, OAI-PMH, IIIF.

Builds a fresh archive from $PARLERS_CORPUS with the real binary ($PARLERS),
then checks, as the tools on the other side would:

- bundles (CLI and HTTP): unzipped and checked as a BagIt validator does
  (every checksum recomputed, every payload file listed and nothing extra,
  Payload-Oxum, the tag manifest), audio stored and byte-identical to the
  originals, access levels (restricted: a metadata row; private: nothing),
  the EAF and TextGrid re-imported into a fresh archive with the CLI and
  compared with the source, a query's concordance and clips;
- clips: duration to the sample (soxi), the samples themselves against the
  original, loudness of the lossy ones (ffmpeg ebur128) against the WAV,
  and every bad time;
- OAI-PMH: every verb and every error well-formed (xmllint --noout) and
  carrying what the protocol and OLAC require; resumption tokens walked,
  forged and expired;
- IIIF: manifests and the collection parsed and checked for the
  properties Presentation 3 requires;
- bad input: unknown ids, a query matching nothing, clients that stop
  reading halfway (the server keeps serving and leaves no temporary file).

Python standard library plus xmllint, soxi, ffprobe, ffmpeg; TAP output.
"""
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import wave
import xml.etree.ElementTree as ET
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from harness import CORPUS, PARLERS, Server, diag, done, ok  # noqa: E402


def run(*args, data=None, stdin=None, env=None):
    cmd = [PARLERS] + (["-d", data] if data else []) + list(args)
    return subprocess.run(cmd, input=stdin, capture_output=True, env=env, timeout=600)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---- BagIt, as a validator sees it ----

def check_bag(zpath, root, what):
    """Unzips zpath into root and validates it; returns the file list."""
    if os.path.exists(root):
        shutil.rmtree(root)
    os.makedirs(root)
    with zipfile.ZipFile(zpath) as z:
        ok(z.testzip() is None, what + ": every zip entry's CRC holds")
        stored = [i.filename for i in z.infolist()
                  if re.search(r"\.(wav|mp3|ogg|opus|flac|m4a)$", i.filename)
                  and i.compress_type != zipfile.ZIP_STORED]
        ok(not stored, what + ": audio entries are stored, not deflated", stored)
        z.extractall(root)
    files = []
    for d, _, names in os.walk(root):
        for n in names:
            files.append(os.path.relpath(os.path.join(d, n), root))
    with open(os.path.join(root, "bagit.txt"), encoding="utf-8") as f:
        bagit = f.read()
    ok(bagit == "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
       what + ": bagit.txt declares version 1.0 and UTF-8", bagit)
    man = {}
    with open(os.path.join(root, "manifest-sha256.txt"), encoding="utf-8") as f:
        for line in f:
            digest, name = line.rstrip("\n").split("  ", 1)
            man[name] = digest
    payload = sorted(p for p in files if p.startswith("data/"))
    ok(sorted(man) == payload, what + ": the manifest lists every payload file and no other",
       set(man) ^ set(payload))
    bad = [n for n, d in man.items()
           if not os.path.exists(os.path.join(root, n)) or sha256_file(os.path.join(root, n)) != d]
    ok(not bad, what + ": every payload checksum recomputes", bad)
    tag = {}
    with open(os.path.join(root, "tagmanifest-sha256.txt"), encoding="utf-8") as f:
        for line in f:
            digest, name = line.rstrip("\n").split("  ", 1)
            tag[name] = digest
    ok(set(tag) == {"bagit.txt", "bag-info.txt", "manifest-sha256.txt"},
       what + ": the tag manifest lists the tag files", tag)
    ok(all(sha256_file(os.path.join(root, n)) == d for n, d in tag.items()),
       what + ": every tag checksum recomputes")
    extra = [p for p in files if not p.startswith("data/") and p not in tag
             and p != "tagmanifest-sha256.txt"]
    ok(not extra, what + ": nothing outside data/ but the tag files", extra)
    info = {}
    with open(os.path.join(root, "bag-info.txt"), encoding="utf-8") as f:
        for line in f:
            k, v = line.rstrip("\n").split(": ", 1)
            info[k] = v
    size = sum(os.path.getsize(os.path.join(root, p)) for p in payload)
    ok(info.get("Payload-Oxum") == "%d.%d" % (size, len(payload)),
       what + ": Payload-Oxum is the payload's octets and file count",
       "%s vs %d.%d" % (info.get("Payload-Oxum"), size, len(payload)))
    ok(re.fullmatch(r"\d{4}-\d\d-\d\d", info.get("Bagging-Date", "")) is not None,
       what + ": Bagging-Date is a date")
    return files


def check_bag_bytes(body, tmp, name, what):
    """Writes a bag received whole into tmp/name.zip and validates it (check_bag)."""
    path = os.path.join(tmp, name + ".zip")
    with open(path, "wb") as f:
        f.write(body)
    return check_bag(path, os.path.join(tmp, name), what)


def read_csv(path):
    import csv
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# ---- the archive ----

def setup(tmp):
    data = os.path.join(tmp, "data")
    r = run("init", data=data)
    ok(r.returncode == 0, "init", r.stderr)
    r = run("ingest", "--json", CORPUS, data=data)
    ok(r.returncode == 0, "the sample corpus goes in", r.stderr)
    recs = json.loads(run("list", "--json", data=data).stdout)["recordings"]
    by = {}
    for rec in recs:
        by.setdefault(rec["access"], []).append(rec)
    return data, recs, by


def corpus_file(rec):
    return os.path.join(CORPUS, rec["original_name"])


def tiers_of(data, rid):
    r = run("annotations", "export", str(rid), "--format", "json", data=data)
    doc = json.loads(r.stdout)
    out = {}
    for t in doc.get("tiers", []):
        out[t["name"]] = [(s["start_ms"], s["end_ms"], s["text"]) for s in t.get("segments", [])]
    return out


def check_cli_bundles(tmp, data, recs, by):
    out = os.path.join(tmp, "all.zip")
    r = run("export", "-o", out, data=data)
    ok(r.returncode == 0, "export of everything (staff) succeeds", r.stderr)
    root = os.path.join(tmp, "all")
    files = check_bag(out, root, "staff bag")
    rows = read_csv(os.path.join(root, "data/metadata/recordings.csv"))
    ok(sorted(int(x["id"]) for x in rows) == sorted(x["id"] for x in recs),
       "staff bag: every recording has its row, private ones included")
    same = True
    for rec in recs:
        folder = [x["folder"] for x in rows if int(x["id"]) == rec["id"]][0]
        audio = [f for f in files if f.startswith(folder + "/")
                 and not re.search(r"\.(eaf|TextGrid|tei\.xml|csv)$", f)]
        if len(audio) != 1 or sha256_file(os.path.join(root, audio[0])) != rec["sha256"]:
            same = False
    ok(same, "staff bag: each original is there byte for byte")
    for name in ("recordings", "speakers", "places", "tiers"):
        with open(os.path.join(root, "data/metadata/%s.json" % name), encoding="utf-8") as f:
            arr = json.load(f)
        rows_n = len(read_csv(os.path.join(root, "data/metadata/%s.csv" % name)))
        ok(isinstance(arr, list) and len(arr) == rows_n,
           "staff bag: %s.json and %s.csv hold the same rows" % (name, name))
    with open(os.path.join(root, "data/README.txt"), encoding="utf-8") as f:
        readme = f.read()
    cols = set()
    for name in ("recordings", "speakers", "places", "tiers"):
        with open(os.path.join(root, "data/metadata/%s.csv" % name), encoding="utf-8") as f:
            cols |= set(f.readline().strip().split(","))
    missing = [c for c in cols if not re.search(r"\b%s\b" % re.escape(c), readme)]
    ok(not missing, "the README describes every column", missing)

    # the EAF and TextGrid come back the same in a fresh archive
    fresh = os.path.join(tmp, "fresh")
    plain = os.path.join(tmp, "plain")
    os.makedirs(plain)
    for rec in recs:
        shutil.copy(corpus_file(rec), plain)  # the audio alone, no sidecars
    run("init", data=fresh)
    r = run("ingest", "--access", "public", plain, data=fresh)
    ok(r.returncode == 0, "the audio alone goes into a fresh archive", r.stderr)
    fresh_ids = {x["sha256"]: x["id"]
                 for x in json.loads(run("list", "--json", "--limit", "500", data=fresh).stdout
                                     or run("list", "--json", data=fresh).stdout)["recordings"]}
    for fmt in ("eaf", "TextGrid"):
        good = True
        detail = []
        for rec in recs:
            folder = [x["folder"] for x in rows if int(x["id"]) == rec["id"]][0]
            path = [f for f in files if f.startswith(folder + "/") and f.endswith("." + fmt)]
            src = tiers_of(data, rec["id"])
            if not src:
                continue
            if len(path) != 1:
                good = False
                detail.append("no %s for %d" % (fmt, rec["id"]))
                continue
            fid = fresh_ids[rec["sha256"]]
            r = run("annotations", "import", str(fid), os.path.join(root, path[0]), "--replace",
                    data=fresh)
            if r.returncode != 0:
                good = False
                detail.append(r.stderr.decode())
                continue
            back = tiers_of(fresh, fid)
            if fmt == "TextGrid":
                # an interval tier covers its whole domain: the gaps between
                # segments come back as empty intervals, which Praat needs
                back = {k: [s for s in v if s[2]] for k, v in back.items()}
                src = {k: [s for s in v if s[2]] for k, v in src.items()}
            if back != src:
                good = False
                detail.append("recording %d differs: %s" % (rec["id"], sorted(set(back) ^ set(src))))
        ok(good, "every %s re-imported with the CLI gives the source's tiers back" % fmt,
           "\n".join(detail))

    # an anonymous visitor's bag
    out = os.path.join(tmp, "public.zip")
    r = run("export", "--public", "--audio", "opus", "-o", out, data=data)
    ok(r.returncode == 0, "export --public --audio opus succeeds", r.stderr)
    root = os.path.join(tmp, "public")
    files = check_bag(out, root, "public bag")
    rows = read_csv(os.path.join(root, "data/metadata/recordings.csv"))
    ids = {int(x["id"]): x for x in rows}
    priv = [x["id"] for x in by.get("private", [])]
    res = [x["id"] for x in by.get("restricted", [])]
    ok(priv and not any(p in ids for p in priv), "public bag: private recordings are not there")
    ok(all(not any("%06d-" % p in f for f in files) for p in priv),
       "public bag: no file of a private recording")
    blob = b""
    for f in files:
        if f.endswith((".csv", ".json", ".txt")):
            with open(os.path.join(root, f), "rb") as fh:
                blob += fh.read()
    ok(not any(x["title"].encode() in blob for x in by.get("private", [])),
       "public bag: no private title in any table")
    ok(res and all(r_ in ids and ids[r_]["folder"] == "" for r_ in res),
       "public bag: restricted recordings are metadata rows only")
    ok(all(not any("%06d-" % r_ in f for f in files) for r_ in res),
       "public bag: no audio or transcript of a restricted recording")
    ok(all(f.endswith(".opus") for f in files
           if f.startswith("data/recordings/") and re.search(r"\.(wav|mp3|ogg|flac|m4a|opus)$", f)),
       "public bag: the audio is the Opus copy")
    r = run("export", "--public", "-o", os.path.join(tmp, "x.zip"), data=data)
    ok(r.returncode == 1 and not os.path.exists(os.path.join(tmp, "x.zip")),
       "export --public of originals is refused and leaves no file", r.stderr)

    # a query: concordance and clips
    q = "pommiers"
    total = json.loads(run("search", "--json", "--limit", "200", q, data=data).stdout)["total"]
    out = os.path.join(tmp, "query.zip")
    r = run("export", "--query", q, "-o", out, data=data)
    ok(r.returncode == 0, "export --query succeeds", r.stderr)
    root = os.path.join(tmp, "query")
    files = check_bag(out, root, "query bag")
    conc = read_csv(os.path.join(root, "data/concordance.csv"))
    ok(len(conc) == total and total > 0, "the concordance has one row per match (%d)" % total)
    need = ["recording_id", "speaker", "place", "start_ms", "end_ms", "left", "match", "right",
            "translation"]
    ok(all(all(k in row for k in need) for row in conc) and all(row["match"] for row in conc),
       "concordance rows carry recording, speaker, place, times, context, match, translation")
    good = True
    detail = []
    for row in conc:
        clip = os.path.join(root, "data", row["clip"])
        rec = [x for x in recs if x["id"] == int(row["recording_id"])][0]
        rate = int(subprocess.run(["soxi", "-r", clip], capture_output=True).stdout or 0)
        n = int(subprocess.run(["soxi", "-s", clip], capture_output=True).stdout or -1)
        want = round(int(row["end_ms"]) * rate / 1000) - round(int(row["start_ms"]) * rate / 1000)
        if rate != rec["sample_rate"] and rec["original_format"] in ("wav", "flac"):
            good = False
        if n != want:
            good = False
            detail.append("%s: %d samples, want %d" % (row["clip"], n, want))
    ok(good, "every clip of the query holds its span to the sample", "\n".join(detail))
    r = run("export", "--query", "zzzqqqxxx", "-o", os.path.join(tmp, "none.zip"), data=data)
    ok(r.returncode == 1 and b"nothing matches" in r.stderr
       and not os.path.exists(os.path.join(tmp, "none.zip")),
       "a query matching nothing: exit 1, a clear line, no file", r.stderr)
    r = run("export", "--ids", "1,99999", "-o", os.path.join(tmp, "none.zip"), data=data)
    ok(r.returncode == 1 and b"99999" in r.stderr and not os.path.exists(
        os.path.join(tmp, "none.zip")), "an unknown id: exit 1 naming it, no file", r.stderr)
    r = run("export", "--ids", "1,x", "-o", os.path.join(tmp, "none.zip"), data=data)
    ok(r.returncode == 2, "a malformed id list is a usage error")
    r = run("export", "--audio", "mp4", "-o", os.path.join(tmp, "none.zip"), data=data)
    ok(r.returncode == 2, "an unknown audio choice is a usage error")
    ids = [x["id"] for x in recs if x["original_format"] != "flac"][:2]
    out = os.path.join(tmp, "flac.zip")
    r = run("export", "--audio", "flac", "--ids", ",".join(map(str, ids)), "-o", out, data=data)
    ok(r.returncode == 0, "export --audio flac succeeds", r.stderr)
    files = check_bag(out, os.path.join(tmp, "flac"), "FLAC bag")
    flacs = [f for f in files if f.endswith(".flac")]
    ok(len(flacs) == len(ids), "FLAC bag: one FLAC per recording")
    good = True
    for f in flacs:
        p = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name",
                            "-of", "csv=p=0", os.path.join(tmp, "flac", f)], capture_output=True)
        good &= p.stdout.strip() == b"flac"
    ok(good, "FLAC bag: the files decode as FLAC")


# ---- the server ----

SRV = None


def get(path, headers=None, timeout=60):
    return harness.request(SRV.port, "GET", path, headers, None, timeout)


def check_http_bundles(tmp, recs, by, tmpdir):
    pub = [x["id"] for x in by["public"]]
    st, h, body = get("/api/export?ids=%d,%d" % (pub[0], pub[1]))
    ok(st == 200 and h.get("content-type") == "application/zip"
       and "attachment" in h.get("content-disposition", ""),
       "GET /api/export answers a zip as an attachment", (st, h))
    ok(h.get("transfer-encoding") == "chunked", "the bundle is streamed (chunked, no length)")
    files = check_bag_bytes(body, tmp, "http", "HTTP bag")
    ok(any(f.endswith(".opus") for f in files), "HTTP bag: anonymous visitors get Opus by default")
    priv = by["private"][0]["id"]
    res = by["restricted"][0]["id"]
    st, h, body = get("/api/export?ids=%d" % priv)
    ok(st == 404 and b"error" in body, "a private id is a 404", (st, body))
    st, h, body = get("/api/export?ids=999999")
    ok(st == 404, "an unknown id is a 404", (st, body))
    st, h, body = get("/api/export?ids=%d" % res)
    ok(st == 200, "a restricted id gives a bag to anonymous visitors", st)
    files = check_bag_bytes(body, tmp, "res", "restricted bag")
    ok(not any(f.startswith("data/recordings/") for f in files),
       "restricted bag: metadata only for those who may not hear it")
    st, h, body = get("/api/export?q=zzzqqqxxx")
    ok(st == 404 and b"nothing matches" in body, "a query matching nothing is a 404", body)
    st, h, body = get("/api/export?audio=original")
    ok(st == 403, "originals are refused to anonymous visitors", st)
    for bad in ("ids=1,,2", "ids=abc", "audio=wav"):
        st, h, body = get("/api/export?" + bad)
        ok(st == 400, "bad input %s is a 400" % bad, (st, body))
    st, h, body = get("/api/export?q=pommiers")
    files = check_bag_bytes(body, tmp, "httpq", "HTTP query bag")
    ok(any(f.startswith("data/clips/") for f in files) and "data/concordance.csv" in files,
       "HTTP query bag: clips and concordance")

    # clients that stop reading halfway, more of them than exports may run
    for i in range(6):
        s = socket.create_connection(("127.0.0.1", SRV.port), timeout=10)
        s.sendall(b"GET /api/export?q=pommiers HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(2000)
        s.close()
    time.sleep(1.5)
    st, h, body = get("/api/health")
    ok(st == 200, "the server still answers after six clients walked away", st)
    deadline = time.time() + 40
    while time.time() < deadline:
        st, h, body = get("/api/export?ids=%d" % pub[0])
        if st == 200:
            break
        time.sleep(1)
    ok(st == 200 and zipfile.ZipFile(__import__("io").BytesIO(body)).testzip() is None,
       "and builds whole bundles again (the abandoned ones were freed)", st)
    ok(os.listdir(tmpdir) == [], "no temporary file is left behind", os.listdir(tmpdir))


def check_clips(recs, by, tmp):
    pcm = [x for x in by["public"] if x["original_format"] == "wav"][0]
    s0, s1 = 1.234, 4.567
    st, h, body = get("/api/recordings/%d/clip.wav?start=%s&end=%s" % (pcm["id"], s0, s1))
    ok(st == 200 and h.get("content-type") == "audio/wav", "a WAV clip", (st, h))
    disp = h.get("content-disposition", "")
    ok(re.fullmatch(r'attachment; filename="[a-z0-9-]+_1\.234-4\.567\.wav"', disp) is not None,
       "its file name is title-slug_start-end.wav", disp)
    clip = os.path.join(tmp, "c.wav")
    with open(clip, "wb") as f:
        f.write(body)
    with wave.open(clip) as w, wave.open(corpus_file(pcm)) as o:
        rate = o.getframerate()
        first = round(s0 * rate)
        want = round(s1 * rate) - first
        ok((w.getframerate(), w.getnchannels(), w.getsampwidth())
           == (rate, o.getnchannels(), o.getsampwidth()),
           "the WAV clip keeps the original's rate, channels and bit depth")
        n = int(subprocess.run(["soxi", "-s", clip], capture_output=True).stdout)
        ok(n == want == w.getnframes(), "the WAV clip holds its span to the sample (%d)" % want,
           (n, want))
        o.setpos(first)
        ok(w.readframes(want) == o.readframes(want), "its samples are the original's")
    # loudness: the lossy clip carries the recording's stored gain
    gain = pcm["gain_db"] if "gain_db" in pcm else json.loads(get("/api/recordings/%d" % pcm["id"])[2])["gain_db"]
    dur = pcm["duration_ms"] / 1000.0
    st, h, body = get("/api/recordings/%d/clip.wav?start=0&end=%.3f" % (pcm["id"], dur))
    whole = os.path.join(tmp, "whole.wav")
    with open(whole, "wb") as f:
        f.write(body)
    for ext in ("opus", "mp3"):
        st, h, body = get("/api/recordings/%d/clip.%s?start=0&end=%.3f" % (pcm["id"], ext, dur))
        path = os.path.join(tmp, "c." + ext)
        with open(path, "wb") as f:
            f.write(body)
        li = loudness(path)
        lw = loudness(whole)
        ok(st == 200 and li is not None and lw is not None and abs((li - lw) - gain) < 1.0,
           "the %s clip is the WAV's loudness plus the stored gain (%s vs %s + %.2f)"
           % (ext, li, lw, gain))
        p = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                            "-of", "csv=p=0", path], capture_output=True)
        d = float(p.stdout or 0)
        ok(abs(d - dur) < 0.08, "the %s clip lasts its span (%.3f s)" % (ext, d))
    pid = pcm["id"]
    for q, what in (("start=5&end=2", "inverted"), ("start=2&end=2", "empty"),
                    ("start=x&end=2", "not a number"), ("end=2", "missing start"),
                    ("start=1", "missing end"), ("start=-1&end=2", "negative"),
                    ("start=1e1&end=20", "an exponent"), ("start=nan&end=2", "nan"),
                    ("start=0&end=%d" % (pcm["duration_ms"] // 1000 + 5), "past the end")):
        st, h, body = get("/api/recordings/%d/clip.wav?%s" % (pid, q))
        ok(st == 400 and b"error" in body, "a clip with %s times is a 400" % what, (st, body))
    long_rec = [x for x in recs if x["access"] == "public"]
    st, h, body = get("/api/recordings/%d/clip.wav?start=0&end=601" % pid)
    ok(st == 400, "a clip over ten minutes is a 400", st)
    res = by["restricted"][0]["id"]
    priv = by["private"][0]["id"]
    ok(get("/api/recordings/%d/clip.wav?start=0&end=1" % res)[0] == 403,
       "a clip of a restricted recording is a 403")
    ok(get("/api/recordings/%d/clip.wav?start=0&end=1" % priv)[0] == 404,
       "a clip of a private recording is a 404")
    ok(get("/api/recordings/999999/clip.wav?start=0&end=1")[0] == 404,
       "a clip of an unknown recording is a 404")
    ok(get("/api/recordings/%d/clip.aiff?start=0&end=1" % pid)[0] == 404,
       "a clip in a format we do not cut is a 404")
    del long_rec


def loudness(path):
    p = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", path, "-af", "ebur128",
                        "-f", "null", "-"], capture_output=True)
    m = re.findall(rb"I:\s+(-?[\d.]+) LUFS", p.stderr)
    return float(m[-1]) if m else None


# ---- OAI-PMH ----

NS = {"o": "http://www.openarchives.org/OAI/2.0/", "dc": "http://purl.org/dc/elements/1.1/",
      "olac": "http://www.language-archives.org/OLAC/1.1/",
      "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
OLAC_CODE = "{http://www.language-archives.org/OLAC/1.1/}code"


def oai(query, tmp):
    st, h, body = get("/oai?" + query)
    path = os.path.join(tmp, "oai.xml")
    with open(path, "wb") as f:
        f.write(body)
    lint = subprocess.run(["xmllint", "--noout", path], capture_output=True)
    return st, h, body, lint.returncode == 0, ET.fromstring(body) if lint.returncode == 0 else None


def oai_error(query, code, tmp, what):
    st, h, body, wf, root = oai(query, tmp)
    err = root.find("o:error", NS) if root is not None else None
    ok(st == 200 and wf and err is not None and err.get("code") == code,
       "OAI %s: %s, well-formed" % (what, code), body[:400])
    if root is not None and code in ("badVerb", "badArgument"):
        ok(not root.find("o:request", NS).attrib,
           "OAI %s: the request element carries no attributes" % what)


def check_oai(tmp, recs, by):
    visible = sorted(x["id"] for x in recs if x["access"] != "private")
    st, h, body, wf, root = oai("verb=Identify", tmp)
    ok(st == 200 and wf and "xml" in h.get("content-type", ""), "OAI Identify: well-formed XML")
    ident = root.find("o:Identify", NS)
    need = ["repositoryName", "baseURL", "protocolVersion", "adminEmail", "earliestDatestamp",
            "deletedRecord", "granularity"]
    ok(ident is not None and all(ident.find("o:" + n, NS) is not None for n in need)
       and ident.find("o:protocolVersion", NS).text == "2.0",
       "Identify carries every element the protocol requires")
    arch = root.find(".//{http://www.language-archives.org/OLAC/1.1/olac-archive}olac-archive")
    ok(arch is not None and all(arch.find("{http://www.language-archives.org/OLAC/1.1/olac-archive}"
                                          + n) is not None
                                for n in ("archiveURL", "participant", "institution",
                                          "shortLocation", "synopsis", "access")),
       "Identify describes the archive for OLAC (olac-archive)")
    ok(root.find("o:responseDate", NS) is not None
       and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", root.find("o:responseDate", NS).text),
       "responseDate is UTC with seconds")
    st, h, body, wf, root = oai("verb=ListMetadataFormats", tmp)
    prefixes = [e.text for e in root.iter("{%s}metadataPrefix" % NS["o"])] if wf else []
    ok(wf and set(prefixes) == {"oai_dc", "olac"}, "ListMetadataFormats: oai_dc and olac", body)
    st, h, body, wf, root = oai("verb=ListSets", tmp)
    sets = [e.text for e in root.iter("{%s}setSpec" % NS["o"])] if wf else []
    ok(wf and len([s for s in sets if s.startswith("collection:")]) >= 2
       and all(s.startswith(("collection:", "institution:")) for s in sets)
       and "institution:archive" in sets,
       "ListSets: one set per collection, and one per institution", sets)
    for prefix in ("oai_dc", "olac"):
        ids = []
        q = "verb=ListRecords&metadataPrefix=" + prefix
        recs_el = []
        while True:
            st, h, body, wf, root = oai(q, tmp)
            if not wf:
                break
            ids += [int(e.text.rsplit("/", 1)[1]) for e in root.iter("{%s}identifier" % NS["o"])]
            recs_el += root.findall(".//o:record", NS)
            tok = root.find(".//o:resumptionToken", NS)
            if tok is None or not (tok.text or "").strip():
                break
            q = "verb=ListRecords&resumptionToken=" + urllib.parse.quote(tok.text)
        ok(wf and sorted(ids) == visible,
           "ListRecords %s: public and restricted recordings, never a private one" % prefix,
           (ids, visible))
    good = True
    for rec in recs_el:
        md = rec.find("o:metadata/olac:olac", NS)
        lang = [e for e in md.findall("dc:language", NS) if e.get(XSI_TYPE) == "olac:language"]
        roles = [e for e in md.findall("dc:contributor", NS) if e.get(XSI_TYPE) == "olac:role"]
        disc = [e for e in md.findall("dc:type", NS) if e.get(XSI_TYPE) == "olac:discourse-type"]
        if not (lang and re.fullmatch(r"[a-z]{3}", lang[0].get(OLAC_CODE, ""))
                and any(e.get(OLAC_CODE) == "speaker" for e in roles)
                and any(e.get(OLAC_CODE) == "recorder" for e in roles) and disc
                and md.find("dc:title", NS) is not None):
            good = False
    ok(good and recs_el, "every OLAC record: ISO 639-3 olac:language, speaker and recorder"
       " roles, discourse type, title")
    pub = by["public"][0]["id"]
    st, h, body, wf, root = oai("verb=GetRecord&metadataPrefix=oai_dc&identifier="
                                "oai:parlers.local:recording/%d" % pub, tmp)
    ok(wf and root.find(".//o:metadata/{http://www.openarchives.org/OAI/2.0/oai_dc/}dc", NS)
       is not None, "GetRecord oai_dc: a Dublin Core record")
    st, h, body, wf, root = oai("verb=ListIdentifiers&metadataPrefix=oai_dc&set=" + sets[0], tmp)
    hs = root.findall(".//o:header", NS) if wf else []
    ok(wf and hs and all(h_.find("o:setSpec", NS).text == sets[0] for h_ in hs),
       "ListIdentifiers with a set: only that collection")

    # resumption: the server pages by 3
    seen = []
    q = "verb=ListIdentifiers&metadataPrefix=olac"
    pages = 0
    sizes = set()
    while True:
        st, h, body, wf, root = oai(q, tmp)
        if not wf:
            break
        pages += 1
        seen += [int(e.text.rsplit("/", 1)[1]) for e in root.iter("{%s}identifier" % NS["o"])]
        tok = root.find(".//o:resumptionToken", NS)
        if tok is None or not (tok.text or "").strip():
            if tok is not None:
                sizes.add(tok.get("completeListSize"))
            break
        sizes.add(tok.get("completeListSize"))
        ok(tok.get("expirationDate") is not None and tok.get("cursor") is not None,
           "page %d: the token has an expiry date and a cursor" % pages)
        q = "verb=ListIdentifiers&resumptionToken=" + urllib.parse.quote(tok.text)
        last_token = tok.text
        last_expiry = tok.get("expirationDate")
    ok(pages > 1 and sorted(seen) == visible and sizes == {str(len(visible))},
       "a long list walked with resumption tokens gives every record once (%d pages)" % pages,
       (seen, sizes))
    forged = last_token[:-3] + ("AAA" if not last_token.endswith("AAA") else "BBB")
    oai_error("verb=ListIdentifiers&resumptionToken=" + urllib.parse.quote(forged),
              "badResumptionToken", tmp, "a forged token")
    oai_error("verb=ListRecords&resumptionToken=garbage", "badResumptionToken", tmp,
              "a token that is no token")
    # wait by the wall clock the server stamps tokens with, past the expiry it announced
    until = time.mktime(time.strptime(last_expiry, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    while time.time() <= until + 1.5:
        time.sleep(0.25)
    oai_error("verb=ListIdentifiers&resumptionToken=" + urllib.parse.quote(last_token),
              "badResumptionToken", tmp, "an expired token")

    oai_error("verb=Bogus", "badVerb", tmp, "an unknown verb")
    oai_error("", "badVerb", tmp, "no verb")
    oai_error("verb=Identify&verb=Identify", "badArgument", tmp, "a repeated argument")
    oai_error("verb=Identify&foo=bar", "badArgument", tmp, "an argument Identify does not take")
    oai_error("verb=ListRecords", "badArgument", tmp, "ListRecords without metadataPrefix")
    oai_error("verb=ListRecords&metadataPrefix=olac&from=2020-13-45", "badArgument", tmp,
              "a bad from date")
    oai_error("verb=ListRecords&metadataPrefix=olac&until=yesterday", "badArgument", tmp,
              "a bad until date")
    oai_error("verb=ListRecords&metadataPrefix=olac&from=2020-01-01&until=2021-01-01T00:00:00Z",
              "badArgument", tmp, "dates of two granularities")
    oai_error("verb=ListRecords&metadataPrefix=olac&from=2021-01-01&until=2020-01-01",
              "badArgument", tmp, "from after until")
    oai_error("verb=ListRecords&metadataPrefix=olac&resumptionToken=x", "badArgument", tmp,
              "a token with other arguments")
    oai_error("verb=ListRecords&metadataPrefix=marc21", "cannotDisseminateFormat", tmp,
              "an unknown format")
    oai_error("verb=GetRecord&metadataPrefix=olac&identifier=oai:parlers.local:recording/%d"
              % by["private"][0]["id"], "idDoesNotExist", tmp, "a private recording")
    oai_error("verb=GetRecord&metadataPrefix=olac&identifier=nothing", "idDoesNotExist", tmp,
              "a malformed identifier")
    oai_error("verb=GetRecord&metadataPrefix=olac", "badArgument", tmp, "GetRecord without id")
    oai_error("verb=ListMetadataFormats&identifier=oai:parlers.local:recording/999999",
              "idDoesNotExist", tmp, "formats of an unknown record")
    oai_error("verb=ListRecords&metadataPrefix=olac&from=2099-01-01", "noRecordsMatch", tmp,
              "a range with nothing in it")
    oai_error("verb=ListRecords&metadataPrefix=olac&set=collection:999999", "noRecordsMatch",
              tmp, "an unknown set")
    oai_error("verb=ListSets&resumptionToken=x", "badResumptionToken", tmp,
              "a token ListSets never gave")
    # the protocol's other way in: a POSTed form
    c = http.client.HTTPConnection("127.0.0.1", SRV.port, timeout=30)
    c.request("POST", "/oai", body="verb=GetRecord&metadataPrefix=olac&identifier="
              + urllib.parse.quote("oai:parlers.local:recording/%d" % pub),
              headers={"Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse()
    body = r.read()
    c.close()
    ok(r.status == 200 and b"<GetRecord>" in body and b"olac:olac" in body,
       "OAI by POST: a form body is read as the query string would be", body[:300])
    st, h, body, wf, root = oai("verb=ListRecords&metadataPrefix=oai_dc&from=2000-01-01"
                                "&until=2099-12-31", tmp)
    ok(wf and root.find("o:ListRecords", NS) is not None, "a day-granularity range that holds all")


# ---- IIIF ----

def check_iiif(recs, by):
    pub = [x for x in by["public"]]
    tiered = None
    for x in pub:
        st, h, body = get("/iiif/%d/manifest.json" % x["id"])
        m = json.loads(body)
        c = m["items"][0]
        if c.get("annotations"):
            tiered = (x, m)
            break
    ok(tiered is not None, "a public recording's manifest has transcript annotations")
    x, m = tiered
    ok(m["@context"] == "http://iiif.io/api/presentation/3/context.json" and m["type"] == "Manifest"
       and m["id"].endswith("/iiif/%d/manifest.json" % x["id"]) and m["id"].startswith("http"),
       "manifest: @context, type, absolute id")
    ok(set(m["label"]) == {"fr", "en"} and all(isinstance(v, list) for v in m["label"].values()),
       "manifest: labels in French and English")
    c = m["items"][0]
    ok(c["type"] == "Canvas" and abs(c["duration"] - x["duration_ms"] / 1000) < 0.001
       and "height" not in c, "canvas: an audio canvas with the duration in seconds")
    page = c["items"][0]
    ann = page["items"][0]
    body = ann["body"]
    ok(page["type"] == "AnnotationPage" and ann["motivation"] == "painting"
       and ann["target"] == c["id"] and body["type"] == "Choice"
       and [i["format"].split(";")[0] for i in body["items"]] == ["audio/ogg", "audio/mpeg"]
       and all(i["type"] == "Sound" for i in body["items"]),
       "painting: the Opus copy with the MP3 as the other choice")
    st, h, b = get(urllib.parse.urlparse(body["items"][0]["id"]).path)
    ok(st == 200, "the painting's Opus URL answers")
    anns = [a for p in c["annotations"] for a in p["items"]]
    ok(all(a["motivation"] == "supplementing" for a in anns), "transcript: supplementing")
    frag = [a for a in anns if "#t=" in a["target"]]
    ok(frag and all(re.fullmatch(re.escape(c["id"]) + r"#t=\d+(\.\d+)?,\d+(\.\d+)?", a["target"])
                    for a in frag), "transcript: targets are media fragments #t=a,b")
    vtt = [a for a in anns if a["body"].get("type") == "Text"
           and a["body"].get("format") == "text/vtt"]
    ok(len(vtt) == 1 and vtt[0]["body"]["id"].endswith("/api/recordings/%d/annotations.vtt"
                                                       % x["id"]),
       "transcript: the WebVTT as a Text body")
    ids = [a["id"] for p in c["annotations"] for a in p["items"]] + [p["id"] for p in c["annotations"]]
    ok(len(ids) == len(set(ids)), "every annotation and page id is unique")
    res = by["restricted"][0]
    st, h, body = get("/iiif/%d/manifest.json" % res["id"])
    mr = json.loads(body)
    cr = mr["items"][0]
    ok(st == 200 and mr.get("metadata") and not cr["items"] and "annotations" not in cr,
       "restricted: metadata, no audio, no transcript for those who may not hear it")
    ok(get("/iiif/%d/manifest.json" % by["private"][0]["id"])[0] == 404, "private: 404")
    ok(get("/iiif/999999/manifest.json")[0] == 404, "unknown: 404")
    st, h, body = get("/iiif/collection.json")
    col = json.loads(body)
    got = sorted(int(re.search(r"/iiif/(\d+)/", i["id"]).group(1)) for i in col["items"])
    ok(col["type"] == "Collection" and got == sorted(r["id"] for r in recs
                                                    if r["access"] != "private")
       and all(i["type"] == "Manifest" and set(i["label"]) == {"fr", "en"} for i in col["items"]),
       "collection: every manifest an anonymous visitor may see, none other")


# ---- signed in: researchers, and passages withheld from them ----

def login(user, password):
    c = http.client.HTTPConnection("127.0.0.1", SRV.port, timeout=30)
    c.request("POST", "/api/login", body=json.dumps({"login": user, "password": password}),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    body = r.read()
    cookie = r.getheader("Set-Cookie", "").split(";", 1)[0]
    c.close()
    if r.status != 200:
        return None
    return {"Cookie": cookie, "X-CSRF-Token": json.loads(body)["csrf_token"]}


def post(path, obj, headers):
    c = http.client.HTTPConnection("127.0.0.1", SRV.port, timeout=120)
    h = dict(headers)
    h["Content-Type"] = "application/json"
    c.request("POST", path, body=json.dumps(obj), headers=h)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def check_signed_in(tmp, data, recs, by):
    for user, role in (("rita", "researcher"), ("sam", "admin")):
        r = run("user", "add", user, "--role", role, data=data, stdin=b"a-long-passphrase-9\n")
        if r.returncode != 0:
            diag("no accounts in this build: skipping the signed-in checks")
            return
    rita = login("rita", "a-long-passphrase-9")
    sam = login("sam", "a-long-passphrase-9")
    if not ok(rita and sam, "a researcher and a staff member sign in"):
        return
    res = by["restricted"][0]
    st, h, body = get("/api/export?ids=%d" % res["id"], headers=rita)
    files = check_bag_bytes(body, tmp, "rita", "researcher bag")
    audio = [f for f in files if f.startswith("data/recordings/")
             and re.search(r"\.(wav|mp3|ogg|flac|m4a)$", f)]
    ok(len(audio) == 1 and sha256_file(os.path.join(tmp, "rita", audio[0])) == res["sha256"],
       "a researcher gets a restricted recording's original by default")
    ok(any(f.endswith(".eaf") for f in files), "and its transcript")
    ok(get("/api/recordings/%d/clip.wav?start=0&end=1" % res["id"], headers=rita)[0] == 200,
       "and may cut clips of it")
    st, h, body = get("/iiif/%d/manifest.json" % res["id"], headers=rita)
    ok(json.loads(body)["items"][0]["items"], "and its manifest paints the audio")

    # a passage withheld: out of the researcher's bag, silent in clips
    pub = [x for x in by["public"] if x["original_format"] == "wav"][0]
    segs = tiers_of(data, pub["id"])
    first = sorted(s for v in segs.values() for s in v if s[2])[0]
    span = (first[0], first[1])
    st, body = post("/api/recordings/%d/withheld" % pub["id"],
                    {"start_ms": span[0], "end_ms": span[1], "reason": "test"}, sam)
    if not ok(st == 201, "staff withhold a passage", (st, body)):
        return
    st, h, body = get("/api/export?ids=%d" % pub["id"], headers=rita)
    files = check_bag_bytes(body, tmp, "withheld", "bag with a withheld passage")
    audio = [f for f in files if f.startswith("data/recordings/")
             and re.search(r"\.(wav|mp3|ogg|opus|flac|m4a)$", f)]
    ok(len(audio) == 1 and audio[0].endswith(".opus"),
       "the researcher gets the copy with the passage silent, not the original", audio)
    csv_ = [f for f in files if f.endswith(".csv") and f.startswith("data/recordings/")]
    text = open(os.path.join(tmp, "withheld", csv_[0]), encoding="utf-8").read() if csv_ else ""
    ok(csv_ and first[2] not in text, "the withheld segment is not in its transcript")
    st, h, body = get("/api/recordings/%d/clip.wav?start=%.3f&end=%.3f"
                      % (pub["id"], span[0] / 1000 + 0.2, span[1] / 1000 - 0.2), headers=rita)
    cpath = os.path.join(tmp, "muted.wav")
    with open(cpath, "wb") as f:
        f.write(body)
    p = subprocess.run(["ffmpeg", "-hide_banner", "-i", cpath, "-af", "volumedetect", "-f",
                        "null", "-"], capture_output=True)
    m = re.search(rb"max_volume: (-?[\d.]+|-inf) dB", p.stderr)
    ok(st == 200 and m and (m.group(1) == b"-inf" or float(m.group(1)) < -60),
       "a clip of the withheld passage is silent for the researcher", m and m.group(1))
    r = run("export", "--ids", str(pub["id"]), "-o", os.path.join(tmp, "staff.zip"), data=data)
    with zipfile.ZipFile(os.path.join(tmp, "staff.zip")) as z:
        names = z.namelist()
    ok(r.returncode == 0 and any(n.endswith(".wav") for n in names),
       "staff still export the original")


def check_off_thread(tmp):
    """A bag is built on a thread of its own: with one server thread, a
    FLAC export of a long recording leaves the server answering others."""
    global SRV
    data = os.path.join(tmp, "long-data")
    wav = os.path.join(tmp, "long.wav")
    r = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                        "sine=frequency=220:duration=480", "-ar", "48000", "-ac", "1", wav],
                       capture_output=True)
    with open(os.path.join(tmp, "long.json"), "w") as f:
        f.write('{"title": "Longue veillée", "access": "public"}')
    ok(r.returncode == 0 and run("init", data=data).returncode == 0 and
       run("ingest", wav, data=data).returncode == 0,
       "an eight-minute recording of its own", r.stderr)
    run("user", "add", "rosalie", "--role", "researcher", data=data, stdin=b"long-pass-1976\n")
    saved = SRV
    SRV = Server(data, extra=["--threads", "1", "--quiet"])
    try:
        rosalie = login("rosalie", "long-pass-1976") or {}
        got = {}

        def export():
            t = time.time()
            st, h, body = get("/api/export?ids=1&audio=flac", rosalie, timeout=300)
            got.update(st=st, body=body, secs=time.time() - t)

        th = threading.Thread(target=export)
        th.start()
        waits = []
        time.sleep(0.1)
        while th.is_alive():
            t = time.time()
            st, _, _ = get("/api/health", timeout=300)
            waits.append(time.time() - t)
            time.sleep(0.02)
        th.join()
        files = (check_bag_bytes(got["body"], tmp, "long", "long FLAC bag")
                 if got.get("st") == 200 else [])
        ok(any(x.endswith(".flac") for x in files), "the bag holds the FLAC", files)
        ok(len(waits) >= 2 and max(waits) < max(0.5, got.get("secs", 0) / 2),
           "while it was built (%.2f s) the one server thread answered others (%d answers,"
           " the slowest in %.3f s)" % (got.get("secs", 0), len(waits), max(waits or [0])))
    finally:
        SRV.stop()
        SRV = saved


def main():
    global SRV
    tmp = tempfile.mkdtemp(prefix="parlers-export-test-")
    try:
        data, recs, by = setup(tmp)
        if not ok(by.get("public") and by.get("restricted") and by.get("private"),
                  "the corpus has every access level"):
            return
        check_cli_bundles(tmp, data, recs, by)
        tmpdir = os.path.join(tmp, "server-tmp")
        os.makedirs(tmpdir)
        env = dict(os.environ, TMPDIR=tmpdir, PARLERS_OAI_PAGE="3", PARLERS_OAI_TOKEN_TTL="3")
        SRV = Server(data, env=env)
        try:
            check_http_bundles(tmp, recs, by, tmpdir)
            check_clips(recs, by, tmp)
            check_oai(tmp, recs, by)
            check_iiif(recs, by)
            check_signed_in(tmp, data, recs, by)
            ok(os.listdir(tmpdir) == [], "the server's temporary folder is empty at the end")
            check_off_thread(tmp)
        finally:
            rc = SRV.stop()
            for line in SRV.log_text().splitlines():
                if "export failed" in line or " 5" in line[20:40]:
                    diag("server: " + line)
            ok(rc == 0, "the server stops cleanly",
               "\n".join([str(rc)] + [l for l in SRV.log_text().splitlines()
                                       if not l.startswith("20")][-15:]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        status = done()
    sys.exit(status)


if __name__ == "__main__":
    main()
