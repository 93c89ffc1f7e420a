#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Uploads from the browser over tus 1.0 against a real `parlers serve`
(issue 18, part 1).

An archive with two institutions and accounts made with the real CLI.
Then:

- OPTIONS answers the protocol's versions, extensions and the size limit;
- who may upload: anonymous 401, researcher and contributor 403, an
  annotator into another institution's collection 403, no CSRF token 403;
- a WAV sent in several PATCH requests, one cut in the middle (the
  connection closed): HEAD gives the bytes kept, the upload resumes from
  there, and the SHA-256 the server reports is the file's;
- a wrong Upload-Offset 409, a wrong version 412, a wrong type 415,
  metadata without a file name 400, bytes past the length 413;
- a file over --upload-max: 413 before a byte, no row, no file;
- termination: 204, then chunks and HEAD 404, the file gone;
- ingest (POST /api/uploads/{uid}/ingest, a job): the resumed upload
  becomes a recording with the sidecar fields given, the stored
  original's SHA-256 is the file's, the upload is gone; the same file
  again is a duplicate; an audio file with its EAF gets its tiers; a
  non-audio file and an invalid date are failed jobs with their reason,
  leaving no recording and no stray file; a truncated upload is refused
  (409); another institution's collection 403; a researcher 403;
- expiry (--upload-expiry 2): an old upload is 404 and its file goes at
  the next sweep, and at the next start.

Python standard library only; TAP.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from harness import CORPUS, PARLERS, Server, done, ok  # noqa: E402

srv = None
PASSWORD = "upload-pass-1"
ACCOUNTS = [("ann-a", "annotator", "musee-a"), ("ann-b", "annotator", "assoc-b"),
            ("res", "researcher", None), ("admin", "admin", None)]
WAV = os.path.join(CORPUS, "cotentin-1976-la-mezoun.wav")
TUS = {"Tus-Resumable": "1.0.0"}


def request(method, path, headers=None, body=None):
    return harness.request(srv.port, method, path, headers, body, 60)


def jbody(data):
    try:
        return json.loads(data.decode("utf-8"))
    except ValueError:
        return None


def meta(**kv):
    return ",".join("%s %s" % (k, base64.b64encode(v.encode()).decode()) for k, v in kv.items())


class Client:
    """A signed-in browser speaking tus: its cookie and CSRF token."""

    def __init__(self, login):
        st, hd, body = request("POST", "/api/login", {"Content-Type": "application/json"},
                               json.dumps({"login": login, "password": PASSWORD}))
        m = re.match(r"parlers_session=([^;]*)", hd.get("set-cookie", ""))
        self.status = st
        self.cookie = m.group(1) if m else ""
        self.csrf = (jbody(body) or {}).get("csrf_token", "")

    def h(self, extra=None, csrf=True):
        h = dict(TUS)
        h["Cookie"] = "parlers_session=" + self.cookie
        if csrf:
            h["X-CSRF-Token"] = self.csrf
        h.update(extra or {})
        return h

    def create(self, length, csrf=True, **kv):
        kv.setdefault("filename", "la-mezoun.wav")
        return request("POST", "/api/uploads",
                       self.h({"Upload-Length": str(length), "Upload-Metadata": meta(**kv)},
                              csrf))

    def patch(self, loc, offset, data, extra=None):
        h = {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
        h.update(extra or {})
        return request("PATCH", loc, self.h(h), data)

    def head(self, loc):
        return request("HEAD", loc, self.h(csrf=False))

    def get(self, path):
        return request("GET", path, self.h(csrf=False))

    def send(self, method, path, obj=None):
        return request(method, path, self.h({"Content-Type": "application/json"}),
                       json.dumps(obj) if obj is not None else None)


def cli(data, *args, stdin=None):
    return subprocess.run([PARLERS, "-d", data] + list(args), input=stdin,
                          capture_output=True, text=True)


def cut_patch(client, loc, offset, data, send):
    """A PATCH announcing len(data) bytes whose connection closes after the
    first send of them."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    head = ("PATCH %s HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\n"
            "Cookie: parlers_session=%s\r\nX-CSRF-Token: %s\r\nUpload-Offset: %d\r\n"
            "Content-Type: application/offset+octet-stream\r\nContent-Length: %d\r\n\r\n"
            % (loc, client.cookie, client.csrf, offset, len(data)))
    s.sendall(head.encode() + data[:send])
    time.sleep(0.3)
    s.close()


def wait_offset(client, loc, want_min, seconds=10):
    """HEAD until the cut request is over (its bytes recorded)."""
    deadline = time.time() + seconds
    while True:
        st, h, _ = client.head(loc)
        off = int(h.get("upload-offset", "-1"))
        if off >= want_min or time.time() > deadline:
            return st, h, off
        time.sleep(0.05)


def upload_rows(data):
    db = sqlite3.connect(os.path.join(data, "archive.db"))
    try:
        return db.execute("SELECT count(*) FROM uploads").fetchone()[0]
    finally:
        db.close()


def upload_files(data):
    d = os.path.join(data, "uploads")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def main():
    tmp = tempfile.mkdtemp(prefix="parlers-test-upload-")
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
    for login, role, inst in ACCOUNTS:
        r = cli(data, "user", "add", login, "--role", role,
                *(["--institution", inst] if inst else []), stdin=PASSWORD + "\n")
        ok(r.returncode == 0, "user add %s" % login, r.stderr)
    # a collection of B's, made by ingesting one file for B
    src = os.path.join(tmp, "b")
    os.makedirs(src)
    shutil.copy(os.path.join(CORPUS, "caux-1981-le-temps-des-foins.wav"), src)
    with open(os.path.join(src, "caux-1981-le-temps-des-foins.json"), "w") as f:
        json.dump({"title": "Le temps des foins", "collection": "Fonds B"}, f)
    r = cli(data, "ingest", "--institution", "assoc-b", src)
    ok(r.returncode == 0, "B's collection exists", r.stderr)

    srv = Server(data, extra=["--upload-max", "4M"])
    st, _, body = request("POST", "/api/accounts", {"Content-Type": "application/json"},
                          json.dumps({"login": "contrib", "password": PASSWORD,
                                      "display_name": "Contributrice",
                                      "accept_licence": True}))
    ok(st == 201, "a contributor signs up", (st, body))
    c = {login: Client(login) for login in [a[0] for a in ACCOUNTS] + ["contrib"]}
    ok(all(x.status == 200 for x in c.values()), "every account signs in",
       {k: x.status for k, x in c.items()})
    check_options()
    check_roles(c, data)
    loc = check_resume(c, data)
    check_ingest(c, data, loc)
    check_refusals(c, data)
    check_termination(c, data)
    srv.stop()
    check_expiry(data)


def check_options():
    st, h, _ = request("OPTIONS", "/api/uploads")
    ok(st == 204 and h.get("tus-version") == "1.0.0" and h.get("tus-resumable") == "1.0.0",
       "OPTIONS: 204 with Tus-Version 1.0.0", (st, h))
    ok(set(h.get("tus-extension", "").split(",")) == {"creation", "termination"},
       "OPTIONS: Tus-Extension creation,termination", h.get("tus-extension"))
    ok(h.get("tus-max-size") == str(4 * 1024 * 1024), "OPTIONS: Tus-Max-Size is --upload-max",
       h.get("tus-max-size"))


def check_roles(c, data):
    size = os.path.getsize(WAV)
    st, _, body = request("POST", "/api/uploads",
                          dict(TUS, **{"Upload-Length": str(size),
                                       "Upload-Metadata": meta(filename="x.wav")}))
    ok(st == 401, "an anonymous upload: 401", body)
    for who in ["res", "contrib"]:
        st, _, body = c[who].create(size)
        ok(st == 403 and "annotators" in (jbody(body) or {}).get("error", ""),
           "a %s's upload: 403 with a sentence" % who, (st, body))
    st, _, body = c["ann-a"].create(size, csrf=False)
    ok(st == 403 and "CSRF" in (jbody(body) or {}).get("error", ""),
       "an upload without its CSRF token: 403", (st, body))
    st, _, body = c["ann-a"].create(size, collection="Fonds B")
    ok(st == 403 and "another institution" in (jbody(body) or {}).get("error", ""),
       "A's annotator into B's collection: 403", (st, body))
    st, _, body = c["ann-b"].create(size, collection="Fonds B")
    ok(st == 201, "B's annotator into B's collection: 201", (st, body))
    loc = (jbody(body) or {}).get("location", "")
    st, _, body = c["ann-a"].head(loc)
    ok(st == 404, "another annotator's upload is not A's to see: 404", st)
    st, _, body = c["admin"].head(loc)
    ok(st == 200, "an admin sees every upload", st)
    c["ann-b"].send("DELETE", loc)
    ok(upload_rows(data) == 0 and upload_files(data) == [], "refused uploads left nothing",
       (upload_rows(data), upload_files(data)))


def check_resume(c, data):
    ann = c["ann-a"]
    blob = open(WAV, "rb").read()
    size = len(blob)
    st, h, body = ann.create(size)
    loc = h.get("location", "")
    ok(st == 201 and re.fullmatch(r"/api/uploads/\d+", loc) and h.get("tus-resumable") == "1.0.0",
       "creation: 201 with Location and Tus-Resumable", (st, h, body))
    st, h, _ = ann.head(loc)
    ok(st == 200 and h.get("upload-offset") == "0" and h.get("upload-length") == str(size),
       "HEAD of a new upload: Upload-Offset 0, Upload-Length", (st, h))
    ok(h.get("cache-control") == "no-store", "HEAD is never cached", h.get("cache-control"))
    third = size // 3
    st, h, body = ann.patch(loc, 0, blob[:third])
    ok(st == 204 and h.get("upload-offset") == str(third),
       "the first chunk: 204 with the new Upload-Offset", (st, h, body))
    # the second chunk's connection is cut after some of its bytes
    cut_patch(ann, loc, third, blob[third:2 * third], 100000)
    st, h, off = wait_offset(ann, loc, third + 1)
    ok(st == 200 and third < off <= third + 100000,
       "a cut chunk: HEAD gives the bytes that arrived (%d)" % (off - third), (st, off))
    st, h, body = ann.patch(loc, third, blob[third:])
    ok(st == 409 and "HEAD" in (jbody(body) or {}).get("error", ""),
       "a PATCH at a stale Upload-Offset: 409 saying to ask with HEAD", (st, body))
    st, h, body = ann.patch(loc, off, blob[off:2 * third])
    ok(st == 204 and h.get("upload-offset") == str(2 * third), "resumed from HEAD's offset",
       (st, h, body))
    st, h, body = ann.patch(loc, 2 * third, blob[2 * third:])
    ok(st == 204 and h.get("upload-offset") == str(size), "the last chunk completes it", (st, h))
    st, _, body = ann.get(loc)
    j = jbody(body) or {}
    ok(st == 200 and j.get("sha256") == hashlib.sha256(blob).hexdigest()
       and j.get("offset") == size and j.get("filename") == "la-mezoun.wav",
       "the SHA-256 hashed on the way (across the cut) is the file's", j)
    stored = open(os.path.join(data, "uploads", loc.rsplit("/", 1)[1]), "rb").read()
    ok(stored == blob, "the stored bytes are the file's")
    st, h, body = ann.patch(loc, size, b"x")
    ok(st == 413, "a byte past Upload-Length: 413", (st, body))
    return loc


def upload_whole(client, path, name, chunk=400000):
    blob = open(path, "rb").read() if isinstance(path, str) else path
    st, h, body = client.create(len(blob), filename=name)
    loc = h.get("location", "")
    off = 0
    while off < len(blob):
        st, h, body = client.patch(loc, off, blob[off:off + chunk])
        if st != 204:
            return loc, (st, body)
        off += chunk
    return loc, None


def job_end(client, jid, seconds=60):
    deadline = time.time() + seconds
    while True:
        st, _, body = client.get("/api/jobs/%d" % jid)
        j = jbody(body) or {}
        if j.get("status") not in ("queued", "running") or time.time() > deadline:
            return st, j
        time.sleep(0.1)


def ingest(client, loc, obj):
    st, _, body = client.send("POST", loc + "/ingest", obj)
    return st, jbody(body) or {}


def media_files(data):
    out = []
    for root, dirs, files in os.walk(os.path.join(data, "media")):
        out += [os.path.join(root, f) for f in files]
    return sorted(out)


def recordings(data):
    db = sqlite3.connect(os.path.join(data, "archive.db"))
    try:
        return db.execute("SELECT count(*) FROM recordings").fetchone()[0]
    finally:
        db.close()


def check_ingest(c, data, loc):
    ann = c["ann-a"]
    blob = open(WAV, "rb").read()
    st, j = ingest(c["res"], loc, {})
    ok(st == 403, "a researcher's ingest: 403", (st, j))
    st, j = ingest(ann, loc, {"title": "x", "collection": "Fonds B"})
    ok(st == 403 and "another institution" in j.get("error", ""),
       "an ingest into another institution's collection: 403", (st, j))
    st, j = ingest(ann, loc, {"access": "everyone"})
    ok(st == 400, "an unknown access level: 400", (st, j))
    st, j = ingest(ann, loc, {"title": "La mézoun (dépôt)", "date": "1976-06-14",
                              "place": "La Hague", "access": "public"})
    ok(st == 202 and isinstance(j.get("job"), int), "ingest: 202 with the job", (st, j))
    st, job = job_end(ann, j.get("job", 0))
    ok(st == 200 and job.get("status") == "done" and job.get("kind") == "ingest",
       "the job is done", job)
    rid = job.get("recording_id")
    ok(isinstance(rid, int) and (job.get("result") or {}).get("status") == "ingested",
       "the job names the recording it made", job)
    st, _, body = request("GET", "/api/recordings/%s" % rid)
    rec = jbody(body) or {}
    ok(st == 200 and rec.get("title") == "La mézoun (dépôt)" and rec.get("access") == "public"
       and (rec.get("place") or {}).get("name") == "La Hague",
       "the recording has the fields sent with it, public to anyone", (st, rec.get("title")))
    ok(rec.get("sha256") == hashlib.sha256(blob).hexdigest() and
       rec.get("original_name") == "la-mezoun.wav",
       "the stored original's SHA-256 is the file's, under its name",
       (rec.get("sha256"), rec.get("original_name")))
    stored = [f for f in media_files(data) if rec.get("sha256", "-") in os.path.basename(f)
              and ".orig" not in f]
    ok(any(hashlib.sha256(open(f, "rb").read()).hexdigest() == rec.get("sha256")
           for f in media_files(data)), "the original in media/ hashes to it", stored)
    st, _, _ = ann.head(loc)
    ok(st == 404 and loc.rsplit("/", 1)[1] not in upload_files(data),
       "an ingested upload is gone, its file too", upload_files(data))

    # the same file again: a duplicate, the same recording
    again, err = upload_whole(ann, WAV, "copie.wav")
    st, j = ingest(ann, again, {"title": "Copie"})
    st, job = job_end(ann, j.get("job", 0))
    ok(job.get("status") == "done" and (job.get("result") or {}).get("status") == "duplicate"
       and job.get("recording_id") == rid, "the same file again: a duplicate of it", job)

    # an audio file with its EAF
    wav2 = os.path.join(CORPUS, "cotentin-1977-le-temps-qu-il-fait.wav")
    eaf2 = os.path.join(CORPUS, "cotentin-1977-le-temps-qu-il-fait.eaf")
    aloc, err = upload_whole(ann, wav2, "temps.wav")
    eloc, err2 = upload_whole(ann, eaf2, "temps.eaf")
    ok(err is None and err2 is None, "an audio file and its EAF uploaded", (err, err2))
    st, j = ingest(ann, aloc, {"title": "Le temps", "annotations": int(eloc.rsplit("/", 1)[1])})
    st, job = job_end(ann, j.get("job", 0))
    ok(job.get("status") == "done", "ingested with its annotations", job)
    st, _, body = ann.get("/api/recordings/%s" % job.get("recording_id"))
    rec = jbody(body) or {}
    ok(len(rec.get("tiers") or []) > 0 and
       sum(len(t.get("segments") or []) for t in rec.get("tiers") or []) > 0,
       "the EAF's tiers came in with the recording", [t.get("name") for t in rec.get("tiers") or []])
    ok(eloc.rsplit("/", 1)[1] not in upload_files(data), "the EAF's upload is gone too",
       upload_files(data))

    # what fails: a job with its reason, nothing in the archive
    n, files = recordings(data), media_files(data)
    bad, err = upload_whole(ann, b"these are field notes, not sound\n" * 50, "notes.wav")
    st, j = ingest(ann, bad, {"title": "Notes"})
    st, job = job_end(ann, j.get("job", 0))
    ok(job.get("status") == "failed" and job.get("error") and "recording_id" not in job,
       "a non-audio file: a failed job with its reason (%s)" % job.get("error"), job)
    dloc, err = upload_whole(ann, open(os.path.join(CORPUS, "caux-1981-le-temps-des-foins.wav"),
                                       "rb").read()[:300000] + b"", "foins.wav")
    st, j = ingest(ann, dloc, {"date": "1976-13-45"})
    st, job = job_end(ann, j.get("job", 0))
    ok(job.get("status") == "failed" and "date" in (job.get("error") or ""),
       "an invalid date: a failed job naming the field (%s)" % job.get("error"), job)
    ok(recordings(data) == n and media_files(data) == files,
       "failed ingests left no recording and no file in media/")
    ok(not [f for f in upload_files(data) if f.endswith(".d")], "nor an ingest folder",
       upload_files(data))

    # a truncated upload is refused
    blob2 = open(wav2, "rb").read()
    st, h, _ = ann.create(len(blob2), filename="cut.wav")
    tloc = h.get("location", "")
    ann.patch(tloc, 0, blob2[:len(blob2) // 2])
    st, j = ingest(ann, tloc, {"title": "Cut"})
    ok(st == 409 and "not complete" in j.get("error", ""),
       "a truncated upload ingested anyway: 409, refused", (st, j))
    for loc_ in [bad, dloc, tloc]:
        ann.send("DELETE", loc_)


def check_refusals(c, data):
    ann = c["ann-a"]
    st, h, _ = ann.create(1000)
    loc = h.get("location", "")
    st, _, body = request("PATCH", loc, {"Cookie": "parlers_session=" + ann.cookie,
                                         "X-CSRF-Token": ann.csrf, "Upload-Offset": "0",
                                         "Content-Type": "application/offset+octet-stream"},
                          b"abc")
    ok(st == 412, "a PATCH without Tus-Resumable: 412", (st, body))
    st, _, body = ann.patch(loc, 0, b"abc", {"Content-Type": "application/octet-stream"})
    ok(st == 415, "a PATCH of another type: 415", (st, body))
    st, _, body = ann.patch(loc, 5, b"abc")
    ok(st == 409, "an Upload-Offset past the bytes stored: 409", (st, body))
    st, _, body = ann.patch(loc, 0, b"x" * 1001)
    ok(st == 413, "more bytes than the length: 413", (st, body))
    st, h, _ = ann.head(loc)
    ok(h.get("upload-offset") == "0", "refused chunks stored nothing", h.get("upload-offset"))
    st, _, body = request("POST", "/api/uploads",
                          ann.h({"Upload-Length": "10", "Upload-Metadata": "size MTA="}))
    ok(st == 400 and "filename" in (jbody(body) or {}).get("error", ""),
       "metadata without a file name: 400", (st, body))
    for bad in ["filename", "filename !!!", "filename ..", "file name Zm9v"]:
        st, _, body = request("POST", "/api/uploads",
                              ann.h({"Upload-Length": "10", "Upload-Metadata": bad}))
        ok(st == 400, "malformed Upload-Metadata %r: 400" % bad, (st, body))
    st, _, body = ann.create(10, filename="../../etc/passwd")
    ok(st == 400, "a file name with a '/': 400", (st, body))
    st, _, body = request("POST", "/api/uploads", ann.h({"Upload-Length": "-1",
                                                         "Upload-Metadata": meta(filename="a")}))
    ok(st == 400, "a negative Upload-Length: 400", (st, body))
    rows, files = upload_rows(data), upload_files(data)
    st, _, body = ann.create(4 * 1024 * 1024 + 1)
    ok(st == 413 and "larger" in (jbody(body) or {}).get("error", ""),
       "a file over --upload-max: 413 with a sentence", (st, body))
    ok(upload_rows(data) == rows and upload_files(data) == files,
       "the refused file left no row and no file")
    ann.send("DELETE", loc)


def check_termination(c, data):
    ann = c["ann-a"]
    st, h, _ = ann.create(100)
    loc = h.get("location", "")
    ann.patch(loc, 0, b"a" * 50)
    name = loc.rsplit("/", 1)[1]
    ok(name in upload_files(data), "an upload's bytes are in uploads/")
    st, _, body = request("DELETE", loc, {"Cookie": "parlers_session=" + c["ann-b"].cookie,
                                          "X-CSRF-Token": c["ann-b"].csrf, **TUS})
    ok(st == 404, "another annotator cannot end it: 404", st)
    st, h, _ = request("DELETE", loc, ann.h())
    ok(st == 204 and h.get("tus-resumable") == "1.0.0", "termination: 204", (st, h))
    st, _, body = ann.patch(loc, 50, b"a" * 50)
    ok(st == 404, "a chunk after termination: 404", (st, body))
    st, _, _ = ann.head(loc)
    ok(st == 404, "HEAD after termination: 404", st)
    ok(name not in upload_files(data), "termination removed the file", upload_files(data))


def check_expiry(data):
    global srv
    srv = Server(data, extra=["--upload-expiry", "2"])
    ann = Client("ann-a")
    st, h, _ = ann.create(100)
    old = h.get("location", "")
    ann.patch(old, 0, b"b" * 40)
    # a file no row names, as a crash would leave it
    open(os.path.join(data, "uploads", "999999"), "wb").write(b"stray")
    time.sleep(3.2)
    st, _, _ = ann.head(old)
    ok(st == 404, "an upload past its age: 404 before any sweep", st)
    st, _, _ = ann.patch(old, 40, b"b" * 60)
    ok(st == 404, "and its chunks 404", st)
    st, h, _ = ann.create(100)
    new = h.get("location", "")
    ok(upload_files(data) == [new.rsplit("/", 1)[1]],
       "the next sweep removed the old upload's file and the stray", upload_files(data))
    ok(upload_rows(data) == 1, "and its row", upload_rows(data))
    srv.stop()
    time.sleep(3.2)  # past the 2 s, whichever second the upload was made in
    srv = Server(data, extra=["--upload-expiry", "2"])
    ok(upload_files(data) == [] and upload_rows(data) == 0,
       "a start sweeps what expired while the server was down",
       (upload_files(data), upload_rows(data)))


if __name__ == "__main__":
    sys.exit(main())
