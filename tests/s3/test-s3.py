#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Media in an S3-compatible object store (s3rver on loopback, started by
with-s3.sh, which exports PARLERS_S3_ENDPOINT and the credentials): an
archive made with --media keeps its files there, serves them with the
same ranges and validators through the media/ cache, and fsck, backup
and restore read them back; a store that answers 500, hangs, or refuses
the credentials leaves the archive as it was, with a one-line message.
Prints TAP."""
import hashlib
import http.server
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import CORPUS, PARLERS, Server, done, ok, request  # noqa: E402

ENDPOINT = os.environ.get("PARLERS_S3_ENDPOINT")
WAV = os.path.join(CORPUS, "caux-1981-le-temps-des-foins.wav")
FLAC = os.path.join(CORPUS, "caux-1982-terre-neuve.flac")


def env(**over):
    e = dict(os.environ)
    e.pop("PARLERS_MEDIA", None)
    for k, v in over.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return e


def run(data, *args, e=None, timeout=300):
    p = subprocess.run([PARLERS, "-d", data] + list(args), capture_output=True, text=True,
                       env=e or env(), timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def s3(method, key):
    """A request to the store itself, signed by curl: (status, body)."""
    p = subprocess.run(["curl", "-s", "-X", method, "-o", "-", "-w", "\n%{http_code}",
                        "--aws-sigv4", "aws:amz:us-east-1:s3", "-u",
                        "%s:%s" % (os.environ["AWS_ACCESS_KEY_ID"],
                                   os.environ["AWS_SECRET_ACCESS_KEY"]),
                        "-H", "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4"
                        "649b934ca495991b7852b855",
                        "%s/parlers/%s" % (ENDPOINT, key)], capture_output=True, timeout=60)
    body, _, code = p.stdout.rpartition(b"\n")
    return int(code or 0), body


def media_files(data):
    out = []
    for root, _, files in os.walk(os.path.join(data, "media")):
        out += [os.path.relpath(os.path.join(root, f), data) for f in files]
    return sorted(out)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Answer500(http.server.BaseHTTPRequestHandler):
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PUT = do_HEAD = do_DELETE = answer

    def log_message(self, *a):
        pass


def bad_stores():
    """An endpoint answering 500 to everything, one that accepts and never
    answers: their addresses, and a function that stops both."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer500)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(16)

    def stop():
        srv.shutdown()
        mute.close()
    return ("http://127.0.0.1:%d" % srv.server_address[1],
            "http://127.0.0.1:%d" % mute.getsockname()[1], stop)


def main():
    if not ENDPOINT:
        print("1..0 # SKIP run through tests/s3/with-s3.sh")
        return 0
    tmp = tempfile.mkdtemp(prefix="parlers-s3-")
    data = os.path.join(tmp, "data")
    url = "s3://parlers/t%d" % os.getpid()

    # -- made with its store: the address is checked, then kept
    code, _, err = run(data, "--media", url, "init", e=env(AWS_ACCESS_KEY_ID="nobody"))
    ok(code == 1 and "AWS_ACCESS_KEY_ID" in err and err.count("\n") == 1,
       "init with credentials the store refuses: one line naming them", err)
    ok(not os.path.exists(os.path.join(data, "media.conf")),
       "... and the archive does not name that store")
    code, out, err = run(data, "--media", url, "init")
    ok(code == 0, "init --media s3://bucket/prefix", err)
    with open(os.path.join(data, "media.conf")) as f:
        ok(f.read().strip() == url, "the archive names its store in media.conf")
    code, _, err = run(data, "--media", "s3://parlers/elsewhere", "list")
    ok(code == 1 and "keeps its media in " + url in err,
       "a command given another store is refused", err)

    # -- ingest: the objects are in the store before the rows
    code, out, err = run(data, "ingest", "--access", "public", WAV, FLAC)
    ok(code == 0, "ingest of two recordings", err)
    files = media_files(data)
    ok(len(files) == 8, "eight files (originals, opus, mp3, peaks)", files)
    stored = [s3("HEAD", url[len("s3://parlers/"):] + "/" + rel)[0] for rel in files]
    ok(stored == [200] * 8, "every one of them is an object in the store", stored)
    code, body = s3("GET", url[len("s3://parlers/"):] + "/" + files[0])
    ok(code == 200 and hashlib.sha256(body).hexdigest() == sha256(os.path.join(data, files[0])),
       "the object's bytes are the file's")
    hashes = {rel: sha256(os.path.join(data, rel)) for rel in files}

    # -- served from the store through the cache
    shutil.rmtree(os.path.join(data, "media"))
    os.mkdir(os.path.join(data, "media"))
    srv = Server(data)
    try:
        st, h, full = request(srv.port, "GET", "/media/1.opus")
        opus = [r for r in files if r.endswith(".opus") and hashes[r] ==
                hashlib.sha256(full).hexdigest()]
        ok(st == 200 and len(opus) == 1, "an access copy not in the cache is fetched and served",
           (st, h))
        etag = h.get("etag")
        ok(etag == '"%s"' % hashlib.sha256(full).hexdigest() and "cache-control" in h and
           h.get("accept-ranges") == "bytes", "with its ETag (its SHA-256) and cache headers", h)
        st, h, part = request(srv.port, "GET", "/media/1.opus", {"Range": "bytes=100-1099"})
        ok(st == 206 and part == full[100:1100] and
           h.get("content-range") == "bytes 100-1099/%d" % len(full) and h.get("etag") == etag,
           "a range request: 206, the right bytes, the same ETag", (st, h))
        st, h, _ = request(srv.port, "GET", "/media/1.opus", {"If-None-Match": etag})
        ok(st == 304, "a revalidation: 304", st)
        ok(os.path.exists(os.path.join(data, opus[0])), "the fetched copy is in the cache")
    finally:
        srv.stop()

    # -- the cache keeps to its cap, and still serves what it just fetched
    shutil.rmtree(os.path.join(data, "media"))
    os.mkdir(os.path.join(data, "media"))
    srv = Server(data, env=env(PARLERS_MEDIA_CACHE_MB="1"))
    try:
        got = []
        for path in ("/media/1.opus", "/media/2.opus", "/media/1.mp3", "/media/2.mp3"):
            st, h, body = request(srv.port, "GET", path)
            got.append(st == 200 and h.get("etag") == '"%s"' % hashlib.sha256(body).hexdigest())
        ok(all(got), "with a 1 MiB cache, four copies fetched in turn are each served whole",
           got)
        sizes = [os.path.getsize(os.path.join(data, r)) for r in media_files(data)]
        ok(sum(sizes) <= 1024 * 1024 * 9 // 10 + max(sizes),
           "... and the cache holds no more than its cap allows", sizes)
    finally:
        srv.stop()

    # -- fsck reads the store back
    code, out, err = run(data, "fsck")
    ok(code == 0 and "8 files checked, 0 problems" in out + err, "fsck checks every object", out + err)
    mp3 = [r for r in files if r.endswith(".mp3")][0]
    code, _ = s3("DELETE", url[len("s3://parlers/"):] + "/" + mp3)
    if os.path.exists(os.path.join(data, mp3)):
        os.unlink(os.path.join(data, mp3))
    code, out, err = run(data, "fsck")
    ok(code == 1 and "missing" in out and mp3 in out, "an object gone from the store: missing",
       out + err)
    code, out, err = run(data, "fsck", "--repair")
    code, out, err = run(data, "fsck")
    ok(code == 0, "fsck --repair makes it again, into the store", out + err)

    # -- backup and restore
    dest = os.path.join(tmp, "backup")
    code, out, err = run(data, "backup", dest)
    ok(code == 0, "backup of an archive whose media are in the store", err)
    code, out, err = run(data, "verify-backup", dest)
    ok(code == 0, "the backup verifies", out + err)
    copied = media_files(dest)
    ok(len(copied) == 8 and all(sha256(os.path.join(dest, r)) == sha256(os.path.join(dest, r))
                                for r in copied), "the backup holds the eight files", copied)
    code, out, err = run(data, "backup", dest)
    ok(code == 0, "a second backup copies nothing again", out + err)
    fresh = os.path.join(tmp, "restored")
    code, out, err = run(fresh, "restore", dest)
    ok(code == 0, "restore into a fresh folder", err)
    code, out, err = run(fresh, "fsck")
    ok(code == 0 and "8 files checked, 0 problems" in out + err,
       "the restored archive holds its media in media/", out + err)

    # -- a store that fails: nothing changes
    e500, mute, stop = bad_stores()
    try:
        before = media_files(data)
        _, listed, _ = run(data, "list")
        mono = os.path.join(CORPUS, "caux-1981-le-bere-et-les-pommiers.mp3")
        for name, e in (("answers 500", env(PARLERS_S3_ENDPOINT=e500)),
                        ("never answers", env(PARLERS_S3_ENDPOINT=mute, PARLERS_S3_TIMEOUT="2")),
                        ("refuses the credentials", env(AWS_ACCESS_KEY_ID="nobody"))):
            t0 = time.time()
            code, out, err = run(data, "ingest", mono, e=e)
            lines = [x for x in err.splitlines() if "object store" in x]
            ok(code == 1 and len(lines) == 1 and mono in lines[0],
               "ingest while the store %s: one line saying so" % name, err)
            ok(time.time() - t0 < 120, "... given up in time")
            ok(run(data, "list")[1] == listed and media_files(data) == before,
               "... and the archive is as it was")
        # no credentials at all: the client is never made, and the store's
        # own sentence reaches the user
        code, out, err = run(data, "ingest", mono,
                             e=env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None,
                                   PARLERS_S3_CREDENTIALS=None))
        lines = [x for x in err.splitlines() if "no credentials" in x]
        ok(code == 1 and len(lines) == 1 and mono in lines[0],
           "ingest with no credentials: one line saying which are missing", err)
        ok(run(data, "list")[1] == listed and media_files(data) == before,
           "... and the archive is as it was")
        code, out, err = run(data, "show", "1", e=env(AWS_ACCESS_KEY_ID=None,
                                                     AWS_SECRET_ACCESS_KEY=None,
                                                     PARLERS_S3_CREDENTIALS=None))
        ok(code == 0, "show needs no credentials (the client is made on first use)", err)
        code, out, err = run(data, "fsck", e=env(PARLERS_S3_ENDPOINT=e500))
        ok(code == 1 and "HTTP 500" in err, "fsck while the store answers 500: an error, no "
           "verdict", out + err)
    finally:
        stop()
    shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
