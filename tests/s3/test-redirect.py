#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""`parlers serve --media-redirect` against s3rver on loopback (started by
with-s3.sh): a media request the access rule lets through is answered 307
to a presigned URL of the object, which a client follows to the exact
bytes, ranges included, and which the store refuses once it has expired;
a recording the visitor may not hear is the same 404 or 403 as without
the option, never a redirect; a recording heard with withheld passages
silent is streamed as before; nothing is fetched into media/; an archive
whose media are in media/ refuses the option at start.  s3rver checks a
presigned URL's expiry but not its signature: each signature is also
computed again here from AWS's rules (SigV4, query-string signing) and
must be the one the server made.  Prints TAP."""
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import CORPUS, PARLERS, Client, Server, done, free_port, jbody, ok, request  # noqa: E402,E501

ENDPOINT = os.environ.get("PARLERS_S3_ENDPOINT")
WAV = os.path.join(CORPUS, "caux-1981-le-temps-des-foins.wav")
FLAC = os.path.join(CORPUS, "caux-1982-terre-neuve.flac")
OGG = os.path.join(CORPUS, "cotentin-1976-le-vraic.ogg")
PASSWORD = "redirect-pass-1"


def env(**over):
    e = dict(os.environ)
    e.pop("PARLERS_MEDIA", None)
    for k, v in over.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return e


def run(data, *args, e=None, timeout=300, stdin=None):
    p = subprocess.run([PARLERS, "-d", data] + list(args), capture_output=True, text=True,
                       env=e or env(), timeout=timeout, input=stdin)
    return p.returncode, p.stdout, p.stderr


def follow(url, *curl_args):
    """curl -L on url: (status of the last answer, body, its headers)."""
    fd, hdr = tempfile.mkstemp()
    os.close(fd)
    try:
        p = subprocess.run(["curl", "-s", "-L", "-D", hdr, "-o", "-", "-w", "\n%{http_code}"] +
                           list(curl_args) + [url], capture_output=True, timeout=60)
        with open(hdr, "rb") as f:
            blocks = f.read().decode("latin-1").strip().split("\r\n\r\n")
    finally:
        os.unlink(hdr)
    body, _, code = p.stdout.rpartition(b"\n")
    last = {}
    for line in blocks[-1].split("\r\n")[1:]:
        k, _, v = line.partition(":")
        last[k.strip().lower()] = v.strip()
    return int(code or 0), body, last


def aws_encode(s, slash):
    return urllib.parse.quote(s, safe="-_.~" + ("/" if slash else ""))


def signature_ok(url, method, secret, region="us-east-1"):
    """Recomputes url's X-Amz-Signature from AWS's rules for method."""
    u = urllib.parse.urlsplit(url)
    params = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
    given = dict(params).get("X-Amz-Signature")
    query = "&".join("%s=%s" % (aws_encode(k, False), aws_encode(v, False))
                     for k, v in sorted(params) if k != "X-Amz-Signature")
    host = u.hostname + (":%d" % u.port if u.port and u.port != {"http": 80,
                                                                  "https": 443}[u.scheme] else "")
    canon = "\n".join([method, aws_encode(urllib.parse.unquote(u.path), True), query,
                       "host:" + host, "", "host", "UNSIGNED-PAYLOAD"])
    stamp = dict(params)["X-Amz-Date"]
    scope = "%s/%s/s3/aws4_request" % (stamp[:8], region)
    sts = "\n".join(["AWS4-HMAC-SHA256", stamp, scope,
                     hashlib.sha256(canon.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (stamp[:8], region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return given == hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


def media_files(data):
    out = []
    for root, _, files in os.walk(os.path.join(data, "media")):
        out += [os.path.join(root, f) for f in files]
    return out


def stored_sha(data, rid, kind):
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    try:
        row = con.execute("SELECT sha256, bytes FROM media_files WHERE recording_id = ? AND "
                          "kind = ?", (rid, kind)).fetchone()
    finally:
        con.close()
    return row


def ingest(tmp, data, path, access):
    """One recording from a copy of path without its sidecar: its id."""
    d = tempfile.mkdtemp(dir=tmp)
    shutil.copy(path, d)
    code, out, err = run(data, "ingest", "--json", "--access", access,
                         os.path.join(d, os.path.basename(path)))
    recs = [json.loads(x) for x in out.splitlines() if x.strip()]
    ok(code == 0 and recs and recs[0].get("status") == "ingested",
       "ingest of a %s recording" % access, err)
    return recs[0]["id"] if recs else 0


def main():
    if not ENDPOINT:
        print("1..0 # SKIP run through tests/s3/with-s3.sh")
        return 0
    tmp = tempfile.mkdtemp(prefix="parlers-redirect-")
    data = os.path.join(tmp, "data")
    url = "s3://parlers/r%d" % os.getpid()
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]

    code, _, err = run(data, "--media", url, "init")
    ok(code == 0, "init --media s3://bucket/prefix", err)
    pub = ingest(tmp, data, WAV, "public")
    priv = ingest(tmp, data, FLAC, "private")
    restr = ingest(tmp, data, OGG, "restricted")
    for login, role in (("admin", "admin"), ("res", "researcher")):
        code, _, err = run(data, "user", "add", login, "--role", role, stdin=PASSWORD + "\n")
        ok(code == 0, "user add %s --role %s" % (login, role), err)
    # an empty cache: whatever a redirect fetched would show here
    shutil.rmtree(os.path.join(data, "media"))
    os.mkdir(os.path.join(data, "media"))

    srv = Server(data, extra=["--media-redirect"], env=env())
    try:
        anon = Client(srv.port)
        admin = Client(srv.port, "admin", PASSWORD)
        res = Client(srv.port, "res", PASSWORD)
        ok(admin.cookie and res.cookie, "staff and a researcher sign in")

        # -- a public access copy: 307 to a presigned URL
        st, h, body = anon.get("/media/%d.opus" % pub)
        loc = h.get("location", "")
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
        ok(st == 307 and loc.startswith(ENDPOINT + "/parlers/r%d/media/" % os.getpid()),
           "a visitor's request for a public copy: 307 to the object, path-style", (st, h))
        ok(q.get("X-Amz-Algorithm") == "AWS4-HMAC-SHA256" and
           q.get("X-Amz-SignedHeaders") == "host" and q.get("X-Amz-Expires") == "300" and
           q.get("X-Amz-Credential", "").startswith(os.environ["AWS_ACCESS_KEY_ID"] + "/") and
           len(q.get("X-Amz-Signature", "")) == 64,
           "signed in the query string, for 300 s by default", q)
        ok(h.get("cache-control") == "private, no-store" and len(body) < 100,
           "the redirect is never kept by a cache, and its body is one short line", (h, body))
        ok(signature_ok(loc, "GET", secret), "its signature is AWS's for a GET", loc)
        sha, size = stored_sha(data, pub, "opus")
        st, full, fh = follow("http://127.0.0.1:%d/media/%d.opus" % (srv.port, pub))
        ok(st == 200 and hashlib.sha256(full).hexdigest() == sha and len(full) == size,
           "followed (curl -L): the exact bytes of the stored copy", (st, fh))
        ok(fh.get("content-type") == "audio/ogg; codecs=opus",
           "... with the copy's own type, asked of the store in the signed URL", fh)
        st, part, fh = follow("http://127.0.0.1:%d/media/%d.opus" % (srv.port, pub),
                              "-H", "Range: bytes=100-1099")
        ok(st == 206 and part == full[100:1100] and
           fh.get("content-range") == "bytes 100-1099/%d" % size,
           "a range request through the redirect: 206 and the right bytes", (st, fh))
        p = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                            "format=format_name,duration", "-of", "json",
                            "http://127.0.0.1:%d/media/%d.opus" % (srv.port, pub)],
                           capture_output=True, text=True, timeout=60)
        fmt = (jbody(p.stdout.encode()) or {}).get("format", {})
        ok(p.returncode == 0 and fmt.get("format_name") == "ogg" and
           float(fmt.get("duration", 0)) > 30,
           "ffprobe follows the redirect and reads an Ogg stream of 36 s", p.stdout + p.stderr)

        # -- HEAD stays HEAD, and is signed as one
        st, h, body = request(srv.port, "HEAD", "/media/%d.mp3" % pub)
        loc = h.get("location", "")
        ok(st == 307 and body == b"" and signature_ok(loc, "HEAD", secret) and
           not signature_ok(loc, "GET", secret),
           "HEAD: 307 to a URL signed for HEAD", (st, h))
        st, _, fh = follow("http://127.0.0.1:%d/media/%d.mp3" % (srv.port, pub), "-I")
        ok(st == 200 and fh.get("content-length") == str(stored_sha(data, pub, "mp3")[1]),
           "... which the store answers with the copy's length", fh)

        # -- access: refusals as without the option
        for who, c, path, want in (
                ("a visitor", anon, "/media/%d.opus" % priv, 404),
                ("a researcher", res, "/media/%d.opus" % priv, 404),
                ("a visitor", anon, "/media/%d.opus" % restr, 403),
                ("a visitor", anon, "/media/%d.orig" % pub, 403),
                ("a visitor", anon, "/media/%d.opus" % 9999, 404)):
            st, h, body = c.get(path)
            ok(st == want and "location" not in h and b"X-Amz" not in body,
               "%s asking %s: %d, no redirect" % (who, path, want), (st, h, body))
        st, h, _ = admin.get("/media/%d.opus" % priv)
        sha, _ = stored_sha(data, priv, "opus")
        ok(st == 307 and signature_ok(h.get("location", ""), "GET", secret),
           "staff asking a private recording: redirected", (st, h))
        st, body, _ = follow(h.get("location", ""))
        ok(st == 200 and hashlib.sha256(body).hexdigest() == sha, "... to its bytes")
        st, h, _ = res.get("/media/%d.orig" % pub)
        loc = h.get("location", "")
        ok(st == 307 and "response-content-type=audio%2Fwav" in loc,
           "a researcher asking an original: redirected, answered as audio/wav", (st, h))
        st, body, fh = follow(loc)
        ok(st == 200 and hashlib.sha256(body).hexdigest() == stored_sha(data, pub,
                                                                          "original")[0],
           "... to the original's bytes")
        ok(fh.get("content-disposition") == 'attachment; filename="recording-%d.wav"' % pub,
           "... as a download named as when it is streamed", fh)
        st, _, body = anon.get("/api/recordings/%d" % pub)
        urls = (jbody(body) or {}).get("media", {})
        ok(st == 200 and urls.get("opus", "").startswith("/media/%d.opus?v=" % pub),
           "the recording's JSON names its copies by their hash", urls)
        st, h, _ = anon.get(urls.get("opus", "/"))
        ok(st == 307 and h.get("cache-control") == "private, no-store",
           "... and that URL, kept for good when streamed, is a redirect never kept", (st, h))
        st, _, _ = anon.get("/recordings/%d" % pub)
        ok(st == 200, "the recording's page")
        ok(media_files(data) == [], "nothing was fetched into media/ for any of it",
           media_files(data))

        # -- withheld passages: streamed for who hears them silent
        rec = jbody(admin.get("/api/recordings/%d" % pub)[2]) or {}
        dur = int(rec.get("duration_ms") or 30000)
        st, _, body = admin.send("POST", "/api/recordings/%d/withheld" % pub,
                                 {"start_ms": 2000, "end_ms": min(6000, dur - 1000),
                                  "reason": "asked"})
        ok(st == 201, "staff withhold a passage of the public recording", body)
        st, h, muted = anon.get("/media/%d.opus" % pub)
        ok(st == 200 and "location" not in h and
           hashlib.sha256(muted).hexdigest() != stored_sha(data, pub, "opus")[0],
           "a visitor now gets the muted copy streamed, not a redirect", (st, h))
        st, h, _ = res.get("/media/%d.orig" % pub)
        ok(st in (403, 404) and "location" not in h,
           "a researcher asking the original, which holds the passage: refused, no redirect",
           (st, h))
        st, h, _ = anon.get("/media/%d.opus" % pub, {"Range": "bytes=0-99"})
        ok(st == 206 and "location" not in h, "... ranges of it too", (st, h))
        st, h, _ = admin.get("/media/%d.opus" % pub)
        ok(st == 307 and signature_ok(h.get("location", ""), "GET", secret),
           "staff, who hear the passage, are still redirected to the whole copy", (st, h))
    finally:
        srv.stop()

    # -- expiry: the store refuses a URL past its time
    srv = Server(data, extra=["--media-redirect=1"], env=env())
    try:
        admin = Client(srv.port, "admin", PASSWORD)
        st, h, _ = admin.get("/media/%d.mp3" % priv)
        loc = h.get("location", "")
        ok(st == 307 and "X-Amz-Expires=1&" in loc, "--media-redirect=1: signed for 1 s", h)
        time.sleep(2.5)
        st, body, _ = follow(loc)
        ok(st == 403 and b"expired" in body, "2.5 s later the store refuses it (403)",
           (st, body[:300]))
        st, h, _ = admin.get("/media/%d.mp3" % priv)
        st, _, fh = follow(h.get("location", ""))
        ok(st == 200, "asking the server again gives a fresh one", (st, fh))
    finally:
        srv.stop()

    # -- bad values, and an archive whose media are in media/
    code, _, err = run(data, "serve", "--media-redirect=0")
    ok(code == 2 and "--media-redirect" in err.splitlines()[0],
       "--media-redirect=0: a usage error saying so on its first line", err)
    code, _, err = run(data, "serve", "--media-redirect=soon")
    ok(code == 2 and "--media-redirect" in err, "--media-redirect=soon: a usage error", err)
    local = os.path.join(tmp, "local")
    run(local, "init")
    t0 = time.time()
    code, out, err = run(local, "serve", "--listen", "127.0.0.1:%d" % free_port(), "--media-redirect",
                         timeout=60)
    ok(code == 1 and "media/ folder" in err and "object store" in err and
       err.strip().count("\n") == 0 and time.time() - t0 < 30,
       "with media in media/: refused at start, in one line", err)
    shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
