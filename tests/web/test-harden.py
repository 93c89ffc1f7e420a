#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a hostile visitor or a hostile world does to `parlers serve` (issue 17).

A real server on two recordings of the sample corpus, with an admin and a
researcher made by the real CLI.  Then, each against the real server:

- HTTP strictness: HTTP/1.1 without Host is 400, a transfer coding other
  than chunked is 501 at once (raw sockets);
- cache headers of media before and after a withheld span and a change of
  access level, with and without a session; the versioned URLs the API
  hands out;
- the waveform of a withheld passage: flat for visitors, whole for staff;
- the `next` of the sign-in page: only a page of this site;
- another process holding the database's write lock (Python's sqlite3,
  BEGIN EXCLUSIVE): writes get 503 with Retry-After, reads go on;
- a full disk (a small tmpfs, when the test runs as root): 507, nothing
  half-written;
- slow clients from many loopback addresses: /api/health keeps answering.

Python standard library only; TAP.
"""
import json
import os
import re
import shutil
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

PASSWORDS = {"admin": "admin-pass-1", "res": "researcher-pass-1"}
STEMS = ["cotentin-1976-la-mezoun", "caux-1981-le-temps-des-foins"]


def request(method, path, headers=None, body=None, timeout=30):
    return harness.request(srv.port, method, path, headers, body, timeout)


jbody = harness.jbody


def raw(data, timeout=10):
    """Raw bytes to this test's server: (status or None, bytes, seconds)."""
    return harness.raw(srv.port, data, timeout)


def Client(login=None):
    """A browser on this test's server, signed in as login."""
    return harness.Client(srv.port, login, PASSWORDS.get(login))


def main():
    global srv
    tmp = tempfile.mkdtemp(prefix="parlers-test-harden-")
    data = os.path.join(tmp, "data")
    try:
        run_all(tmp, data)
    except Exception:  # a crash is a failed test, not a lost plan
        import traceback
        ok(False, "the tests ran to the end", traceback.format_exc())
    finally:
        if srv:
            srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


def make_archive(tmp, data):
    """Two recordings (public) and two accounts; {stem: id}."""
    src = os.path.join(tmp, "in")
    os.makedirs(src, exist_ok=True)
    for stem in STEMS:
        for f in os.listdir(CORPUS):
            if f.startswith(stem + "."):
                shutil.copy(os.path.join(CORPUS, f), src)
    r = subprocess.run([PARLERS, "-d", data, "ingest", "--access", "public", "--json", src],
                       capture_output=True, text=True)
    recs = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    ids = {os.path.basename(x["path"]).split(".")[0]: x["id"] for x in recs
           if x.get("status") == "ingested"}
    for login, role in [("admin", "admin"), ("res", "researcher")]:
        subprocess.run([PARLERS, "-d", data, "user", "add", login, "--role", role],
                       input=PASSWORDS[login] + "\n", capture_output=True, text=True)
    return ids


def run_all(tmp, data):
    global srv
    ids = make_archive(tmp, data)
    ok(len(ids) == len(STEMS), "two recordings are ingested", ids)
    srv = Server(data)
    admin = Client("admin")
    ok(admin.cookie is not None, "the admin signs in")
    rid = ids[STEMS[0]]
    for i in ids.values():
        st, _, body = admin.send("PATCH", "/api/recordings/%d" % i, {"access": "public"})
        ok(st == 200, "recording %d is made public" % i, body)

    check_strictness(rid)
    check_next()
    check_cache_and_peaks(admin, rid)
    check_write_lock(data, admin, rid)
    check_full_disk(tmp)
    check_slow_clients()


# ---- HTTP strictness ----

def check_strictness(rid):
    st, out, secs = raw(b"GET /api/health HTTP/1.1\r\n\r\n")
    ok(st == 400 and b"Host" in out, "HTTP/1.1 without Host: 400 with a sentence", out[:200])
    st, out, secs = raw(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
    ok(st == 400, "HTTP/1.1 without Host, a page: 400", out[:120])
    st, out, secs = raw(b"GET /media/%d.opus HTTP/1.1\r\n\r\n" % rid)
    ok(st == 400 and b"OggS" not in out, "HTTP/1.1 without Host, media: 400 and no audio",
       out[:120])
    st, out, secs = raw(b"GET /api/health HTTP/1.0\r\n\r\n")
    ok(st == 200, "HTTP/1.0 needs no Host", out[:120])
    st, out, secs = raw(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    ok(st == 200, "HTTP/1.1 with Host: 200", out[:120])
    for te in [b"gzip, chunked", b"gzip", b"identity", b"x-unknown", b"chunked, gzip",
               b"deflate,chunked"]:
        st, out, secs = raw(b"POST /api/login HTTP/1.1\r\nHost: localhost\r\n"
                            b"Content-Type: application/json\r\nTransfer-Encoding: " + te +
                            b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n", timeout=10)
        ok(st == 501 and secs < 3,
           "Transfer-Encoding: %s: 501 at once (%.1f s)" % (te.decode(), secs), out[:200])
    st, out, secs = raw(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n"
                        b"Transfer-Encoding: x-unknown\r\n\r\n", timeout=10)
    ok(st == 501 and secs < 3, "an unknown coding on a GET: 501 at once", out[:200])
    body = b'{"login":"nobody","password":"wrong-password"}'
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    st, out, secs = raw(b"POST /api/login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
                        chunked)
    ok(st == 401, "a chunked body is still read (a wrong password: 401)", out[:200])


# ---- cache headers of media, and the waveform, across access changes ----

YEAR = "max-age=31536000, immutable"


def versioned(c, rid, ext="opus"):
    """The URL of the access copy the recording JSON hands c, or None."""
    st, _, body = c.get("/api/recordings/%d" % rid)
    return ((jbody(body) or {}).get("media") or {}).get(ext)


def media_headers(c, path, extra=None):
    st, h, body = c.get(path, extra)
    return st, h.get("cache-control"), h.get("vary", ""), h.get("etag"), body


def peaks_in(c, rid, span):
    """(status, headers, values inside span, values outside it) at level 0."""
    st, h, body = c.get("/api/recordings/%d/peaks.json?level=0" % rid)
    j = jbody(body) or {}
    if st != 200 or "data" not in j:
        return st, h, None, None
    ms = j["samples_per_pixel"] * 1000.0 / j["sample_rate"]
    inside, outside = [], []
    for k in range(j["length"]):
        t0, t1 = k * ms, (k + 1) * ms
        pair = j["data"][2 * k:2 * k + 2]
        if t0 >= span[0] and t1 <= span[1]:
            inside += pair
        elif t1 < span[0] - 50 or t0 > span[1] + 50:
            outside += pair
    return st, h, inside, outside


def check_cache_and_peaks(admin, rid):
    anon, res = Client(), Client("res")
    ok(res.cookie is not None, "the researcher signs in")
    plain = "/media/%d.opus" % rid
    url = versioned(anon, rid)
    ok(url is not None and re.fullmatch(r"/media/%d\.opus\?v=[0-9a-f]{16}" % rid, url),
       "the recording JSON names the Opus copy by its hash", url)
    url = url or plain + "?v=none"
    url3 = versioned(anon, rid, "mp3")
    ok(url3 is not None and url3.startswith("/media/%d.mp3?v=" % rid), "and the MP3 copy", url3)
    st, cc, vary, etag, full = media_headers(anon, url)
    ok(st == 200 and cc == "public, " + YEAR and "Cookie" in vary,
       "anonymous, the versioned URL: public, a year, immutable, Vary: Cookie", (st, cc, vary))
    ok(etag and etag.strip('"').startswith(url.split("v=")[1]), "its version is its ETag's start",
       (etag, url))
    st, cc, vary, etag_plain, body = media_headers(anon, plain)
    ok(st == 200 and cc == "no-cache" and "Cookie" in vary and etag_plain == etag and body == full,
       "anonymous, the plain URL: the same bytes, revalidated (no-cache, ETag, Vary: Cookie)",
       (st, cc, vary))
    for hdrs, what in [({"If-None-Match": etag}, "304"), ({"Range": "bytes=0-9"}, "206"),
                       ({"Range": "bytes=999999999-"}, "416")]:
        st, cc, vary, _, _ = media_headers(anon, plain, hdrs)
        ok(cc == "no-cache" and "Cookie" in vary, "the plain URL's %s: no-cache too (%s)"
           % (what, st), cc)
        st, cc, vary, _, _ = media_headers(anon, url, hdrs)
        ok(cc == "public, " + YEAR, "the versioned URL's %s: immutable too (%s)" % (what, st), cc)
    st, h, _ = request("HEAD", url)
    ok(st == 200 and h.get("cache-control") == "public, " + YEAR, "HEAD of the versioned URL")
    st, cc, vary, _, _ = media_headers(anon, "/media/%d.opus?v=0123456789abcdef" % rid)
    ok(st == 200 and cc == "no-cache", "a version that is not the bytes' is not kept", cc)
    st, cc, vary, etag_staff, staff_full = media_headers(admin, plain)
    ok(st == 200 and cc == "private, no-cache" and "Cookie" in vary,
       "signed in, the plain URL: private, no-cache, Vary: Cookie", (st, cc, vary))
    staff_url = versioned(admin, rid) or plain
    st, cc, vary, _, _ = media_headers(admin, staff_url)
    ok(st == 200 and cc == "private, " + YEAR and "Cookie" in vary,
       "signed in, the versioned URL: private, a year, immutable", (st, cc, vary))

    # a withheld span: the bytes of the plain URL change, and the versions
    rec = jbody(admin.get("/api/recordings/%d" % rid)[2])
    seg = max(rec["tiers"][0]["segments"], key=lambda x: x["end_ms"] - x["start_ms"])
    span = (seg["start_ms"], seg["end_ms"])
    st, pk_h, pk_in, pk_out = peaks_in(anon, rid, span)
    ok(st == 200 and pk_in and any(pk_in), "before: visitors see the passage's waveform")
    st, _, body = admin.send("POST", "/api/recordings/%d/withheld" % rid,
                             {"start_ms": span[0], "end_ms": span[1]})
    w = jbody(body) or {}
    ok(st == 201, "staff withhold %d-%d ms" % span, body)
    url_w = versioned(anon, rid)
    ok(url_w and url_w != url, "the visitors' versioned URL changes with the span", url_w)
    st, cc, vary, etag_w, muted = media_headers(anon, plain, {"If-None-Match": etag})
    ok(st == 200 and etag_w != etag and muted != full and cc == "no-cache",
       "the plain URL revalidated with the old ETag: 200 with the muted copy, not 304",
       (st, etag_w, cc))
    st, cc, vary, _, body = media_headers(anon, url)
    ok(st == 200 and body == muted and cc == "no-cache",
       "the old versioned URL now sends the muted bytes, revalidated, never immutable", (st, cc))
    st, cc, vary, _, body = media_headers(anon, url_w)
    ok(st == 200 and body == muted and cc == "public, " + YEAR,
       "the new versioned URL: the muted bytes, immutable", (st, cc))
    st, cc, vary, etag_s2, body = media_headers(admin, plain)
    ok(st == 200 and body == staff_full and etag_s2 != etag_w and cc == "private, no-cache",
       "staff still get the whole copy at the plain URL, with another ETag", (st, cc))
    ok(versioned(admin, rid) == staff_url, "and their versioned URL is unchanged")

    # the waveform of the passage
    st, h, a_in, a_out = peaks_in(anon, rid, span)
    ok(st == 200 and a_in and not any(a_in), "visitors: the waveform is flat inside the span",
       a_in and a_in[:20])
    ok(a_out and any(a_out) and a_out == pk_out, "and unchanged outside it")
    ok(h.get("cache-control") == "no-cache" and "Cookie" in h.get("vary", ""),
       "visitors' peaks: no-cache, Vary: Cookie", h)
    st, h2, r_in, _ = peaks_in(res, rid, span)
    ok(st == 200 and r_in and not any(r_in), "a researcher too: flat inside the span")
    st, h3, s_in, s_out = peaks_in(admin, rid, span)
    ok(st == 200 and s_in and any(s_in) and s_in == pk_in, "staff: the waveform whole")
    ok(h3.get("etag") != h.get("etag") and h3.get("cache-control") == "private, no-cache",
       "staff's peaks have another ETag and stay private", (h.get("etag"), h3.get("etag")))
    st, hh, _ = request("GET", "/api/recordings/%d/peaks.json?level=0" % rid,
                        {"If-None-Match": h3.get("etag", "")})
    ok(st == 200, "a visitor with the staff's peaks ETag gets the flat ones (200, not 304)", st)
    st, hh, _ = request("GET", "/api/recordings/%d/peaks.json?level=0" % rid,
                        {"If-None-Match": h.get("etag", "")})
    ok(st == 304 and hh.get("cache-control") == "no-cache", "and with their own: 304", st)

    # a change of access level
    st, _, body = admin.send("PATCH", "/api/recordings/%d" % rid, {"access": "restricted"})
    ok(st == 200, "the recording is made restricted", body)
    for path in [plain, url_w, url]:
        st, cc, vary, _, body = media_headers(anon, path)
        ok(st == 403 and not body.startswith(b"OggS") and cc == "no-store",
           "restricted, anonymous %s: 403, no-store" % path, (st, cc))
    ok(versioned(anon, rid) is None, "and no versioned URL is handed to visitors")
    st, h, a_in, _ = peaks_in(anon, rid, span)
    ok(st == 200 and a_in and not any(a_in), "the listing's waveform stays flat in the span")
    st, cc, vary, _, body = media_headers(res, plain)
    ok(st == 200 and body == muted and cc == "private, no-cache" and "Cookie" in vary,
       "restricted, a researcher: the muted copy, private, revalidated", (st, cc))
    st, cc, _, _, _ = media_headers(res, versioned(res, rid) or plain)
    ok(st == 200 and cc == "private, " + YEAR, "and their versioned URL, private", cc)
    st, _, body = admin.send("PATCH", "/api/recordings/%d" % rid, {"access": "public"})
    st, _, body = admin.send("DELETE", "/api/recordings/%d/withheld/%d" % (rid, w.get("id", 0)))
    ok(st == 200, "public again, the span released", body)
    ok(versioned(anon, rid) == url, "the visitors' versioned URL is the first one again")
    st, cc, _, etag2, body = media_headers(anon, plain)
    ok(st == 200 and etag2 == etag and body == full, "and the plain URL sends the whole copy")


# ---- another program holding the database's write lock ----

def first_segment(c, rid):
    rec = jbody(c.get("/api/recordings/%d" % rid)[2])
    return rec["tiers"][0]["segments"][0]


def timed(fn):
    t0 = time.time()
    out = fn()
    return out, time.time() - t0


def check_write_lock(data, admin, rid):
    seg = first_segment(admin, rid)
    holder = sqlite3.connect(os.path.join(data, "archive.db"), isolation_level=None, timeout=5)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        (st, h, body), secs = timed(lambda: admin.send(
            "PATCH", "/api/segments/%d" % seg["id"],
            {"version": seg["version"], "text": seg["text"] + " verrou"}))
        j = jbody(body) or {}
        ok(st == 503 and h.get("retry-after", "").isdigit() and isinstance(j.get("error"), str)
           and "another program" in j.get("error", ""),
           "a write under another program's lock: 503, Retry-After and a sentence (%.1f s)" % secs,
           (st, h.get("retry-after"), body[:200]))
        ok(secs < 3, "answered within the short wait, not the 10 s busy timeout (%.1f s)" % secs)
        results, health = [], []

        def writer(k):
            results.append(timed(lambda: admin.send(
                "POST", "/api/recordings/%d/segments" % rid,
                {"tier_id": seg.get("tier_id"), "start_ms": 10 * k, "end_ms": 10 * k + 5,
                 "text": "x"})))

        def reader():
            for _ in range(5):
                (st, _, _), secs = timed(lambda: request("GET", "/api/health", timeout=10))
                health.append((st, secs))
                time.sleep(0.1)

        threads = [threading.Thread(target=writer, args=(k,)) for k in range(12)]
        threads.append(threading.Thread(target=reader))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = [r[0][0] for r in results]
        ok(statuses and all(x == 503 for x in statuses),
           "12 writes at once under the lock: all 503", statuses)
        slowest = max(r[1] for r in results)
        ok(slowest < 3, "none waits past the short wait (slowest %.1f s)" % slowest)
        ok(all(st == 200 and secs < 2.5 for st, secs in health),
           "meanwhile /api/health answers (slowest %.1f s)" % max(x[1] for x in health), health)
        st, _, body = request("GET", "/api/recordings/%d" % rid)
        ok(st == 200, "and reading a recording too", st)
        st, h, body = request("POST", "/api/login", {"Content-Type": "application/json"},
                              json.dumps({"login": "res", "password": PASSWORDS["res"]}))
        ok(st == 503 and h.get("retry-after"), "a sign-in, which writes a session: 503", (st, body))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    time.sleep(1.2)
    st, _, body = admin.send("PATCH", "/api/segments/%d" % seg["id"],
                             {"version": seg["version"], "text": seg["text"] + " libre"})
    ok(st == 200 and (jbody(body) or {}).get("text", "").endswith("libre"),
       "once the lock is let go, the same write goes through", body[:200])
    ok(first_segment(admin, rid)["version"] == seg["version"] + 1,
       "and it is the only change made (one version more)")


# ---- a full disk ----

def fill(mnt, leave=0):
    """Fills the file system at mnt, leaving about leave bytes; the filler's path."""
    filler = os.path.join(mnt, "filler")
    with open(filler, "wb") as f:
        try:
            while True:
                free = os.statvfs(mnt).f_bavail * os.statvfs(mnt).f_frsize
                if free <= leave:
                    break
                f.write(b"\0" * min(free - leave, 1 << 20))
                f.flush()
        except OSError:
            pass
    return filler


def check_full_disk(tmp):
    global srv
    mnt = os.path.join(tmp, "small")
    os.makedirs(mnt)
    if os.getuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mnt],
                                          capture_output=True).returncode != 0:
        ok(True, "# SKIP full disk: cannot mount a tmpfs here (needs root)")
        return
    main_srv = srv
    try:
        data = os.path.join(mnt, "data")
        ids = make_archive(os.path.join(mnt, "src"), data)
        shutil.rmtree(os.path.join(mnt, "src"))
        srv = Server(data)
        rid = ids[STEMS[0]]
        admin = Client("admin")
        ok(admin.cookie is not None, "on a small file system: the admin signs in")
        seg = first_segment(admin, rid)
        db = os.path.join(data, "archive.db")
        con = sqlite3.connect(db)
        before = con.execute("SELECT count(*), sum(version), group_concat(text) FROM segments"
                             ).fetchone(), con.execute("SELECT count(*) FROM sessions").fetchone()
        con.close()
        filler = fill(mnt)
        long_text = seg["text"] + " " + "plein " * 2000
        st, h, body = admin.send("PATCH", "/api/segments/%d" % seg["id"],
                                 {"version": seg["version"], "text": long_text[:16000]})
        j = jbody(body) or {}
        ok(st == 507 and isinstance(j.get("error"), str) and "full" in j.get("error", ""),
           "an edit on a full disk: 507 with a sentence", (st, body[:200]))
        st, h, body = admin.send("POST", "/api/recordings/%d/tiers" % rid, {"name": "plein"})
        ok(st == 507, "a new tier on a full disk: 507", (st, body[:200]))
        st, h, body = request("POST", "/api/login", {"Content-Type": "application/json"},
                              json.dumps({"login": "res", "password": PASSWORDS["res"]}))
        ok(st == 507 and "full" in ((jbody(body) or {}).get("error") or ""),
           "a sign-in on a full disk: 507 with a sentence", (st, body[:200]))
        st, _, _ = request("GET", "/api/recordings/%d" % rid)
        ok(st == 200, "reading goes on", st)
        os.unlink(filler)
        con = sqlite3.connect(db)
        after = con.execute("SELECT count(*), sum(version), group_concat(text) FROM segments"
                            ).fetchone(), con.execute("SELECT count(*) FROM sessions").fetchone()
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
        con.close()
        ok(after == before and integrity == "ok", "nothing half-written (integrity %s)" % integrity)
        st, _, body = admin.send("PATCH", "/api/segments/%d" % seg["id"],
                                 {"version": seg["version"], "text": seg["text"] + " place"})
        ok(st == 200, "with room again, the edit goes through", body[:200])
    finally:
        if srv is not main_srv:
            srv.stop()
        srv = main_srv
        subprocess.run(["umount", "-l", mnt], capture_output=True)


# ---- slow clients ----

def raise_fd_limit(want):
    """As many descriptors as allowed, up to want (the server inherits them)."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for target in [want, hard]:
        try:
            if target > soft:
                resource.setrlimit(resource.RLIMIT_NOFILE, (min(target, hard if hard > 0 else target),
                                                            hard))
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def slow_socket(addr, port):
    s = socket.socket()
    s.setblocking(True)
    s.settimeout(2)
    s.bind((addr, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n")
    return s


def health_times(n, pause=0.2):
    out = []
    for _ in range(n):
        t0 = time.time()
        try:
            st, _, _ = request("GET", "/api/health", timeout=5)
        except OSError:
            st = None
        out.append((st, round(time.time() - t0, 2)))
        time.sleep(pause)
    return out


def check_slow_clients():
    global srv
    limit = raise_fd_limit(4096)
    want = 1100 if limit >= 1400 else max(100, limit - 300)
    diag("descriptors: %d; slow connections: %d" % (limit, want))
    # a server of its own, started after the limit was raised (it inherits it)
    data = srv.data
    main_srv = srv
    srv = Server(data)
    socks, stop = [], threading.Event()
    try:
        # one client dribbling its head: cut at the head deadline (10 s)
        lone = slow_socket("127.0.0.1", srv.port)
        t0 = time.time()
        cut = None

        def dribble():
            nonlocal cut
            for i in range(40):
                if stop.is_set():
                    return
                try:
                    lone.sendall(b"X-Slow-%d: %s\r\n" % (i, b"a" * 10))
                    lone.settimeout(0.01)
                    try:
                        if lone.recv(1) == b"":
                            cut = time.time() - t0
                            return
                    except socket.timeout:
                        pass
                except OSError:
                    cut = time.time() - t0
                    return
                time.sleep(1)

        dribbler = threading.Thread(target=dribble)
        dribbler.start()
        # one address may not hold every place
        same = []
        for _ in range(200):
            try:
                same.append(slow_socket("127.250.250.250", srv.port))
            except OSError:
                break
        time.sleep(0.5)
        dropped = 0
        for s in same:
            s.settimeout(0.05)
            try:
                if s.recv(1) == b"":
                    dropped += 1
            except socket.timeout:
                pass
            except OSError:
                dropped += 1
        ok(dropped >= 200 - 128, "one address holds at most 128 connections (%d of 200 dropped)"
           % dropped)
        for s in same:
            s.close()
        times = health_times(3)
        ok(all(st == 200 for st, _ in times), "and /api/health still answers", times)
        dribbler.join(20)
        ok(cut is not None and 9 <= cut < 16,
           "a head dribbled a line a second is cut at its deadline (after %s s)"
           % (cut and round(cut, 1)))
        # the crowd: many loopback addresses, each sending a header line now and then
        refused = 0
        for i in range(want):
            addr = "127.%d.%d.%d" % (1 + i // 60000, (i // 250) % 250 + 1, i % 250 + 1)
            try:
                socks.append(slow_socket(addr, srv.port))
            except OSError:
                refused += 1
        diag("%d slow connections open, %d refused at once" % (len(socks), refused))

        def trickle():
            k = 0
            while not stop.is_set():
                for s in list(socks):
                    try:
                        s.sendall(b"X-Trickle-%d: 1\r\n" % k)
                    except OSError:
                        pass
                k += 1
                stop.wait(3)

        trickler = threading.Thread(target=trickle)
        trickler.start()
        times = health_times(12)
        answered = [t for st, t in times if st == 200]
        ok(len(answered) == 12 and max(answered) < 2,
           "with %d slow connections, /api/health answers 12 of 12 (slowest %.2f s)"
           % (len(socks), max(answered) if answered else -1), times)
    finally:
        stop.set()
        for s in socks:
            s.close()
        srv.stop()
        srv = main_srv


# ---- where the sign-in page goes back to ----

def check_next():
    from urllib.parse import quote

    def data_next(value):
        path = "/login" if value is None else "/login?next=" + quote(value, safe="")
        st, h, body = request("GET", path)
        m = re.search(rb'id="login-form"[^>]*data-next="([^"]*)"', body)
        return st, (m.group(1).decode() if m else None)

    for good in ["/recordings/3", "/search?q=mezoun&lang=en", "/recordings/3#t=1,2", "/"]:
        st, got = data_next(good)
        want = good.replace("&", "&amp;")
        ok(st == 200 and got == want, "next=%s: the page goes back there" % good, got)
    for bad in ["/\t/evil.example/x", "/\n/evil.example/x", "/\r/evil.example/x",
                "/\\evil.example/x", "\\/evil.example/x", "//evil.example/x",
                "/\t\t/evil.example", " //evil.example", "\t//evil.example",
                "https://evil.example/", "http:evil.example", "javascript:alert(1)",
                "evil.example", "/\x0b/evil.example", ""]:
        st, got = data_next(bad)
        ok(st == 200 and got == "/", "next=%r: back to / only" % bad, got)
    # the encoded form a visitor is sent: %2F%09%2Fevil... (decoded once by the server)
    st, h, body = request("GET", "/login?next=/%09/evil.example/x")
    m = re.search(rb'data-next="([^"]*)"', body)
    ok(st == 200 and m and m.group(1) == b"/", "/login?next=/%09/evil.example/x: back to /",
       m and m.group(1))
    st, got = data_next(None)
    ok(st == 200 and got == "/", "no next: back to /", got)


if __name__ == "__main__":
    sys.exit(main())
