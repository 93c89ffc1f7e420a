#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kill -9 matrix: `parlers` killed with SIGKILL at stepped delays
(with a seeded jitter) during the ingest of a folder, a burst of edits
through the editor's HTTP API, an annotation import with --replace, a
backup and a rebuild.  After each kill: every acknowledged ingest and
edit is there, nothing is half-written (a recording without one of its
files, a tier without its segments, an import half done), the database
is whole, fsck exits 0 (what the killed run left is a leftover, never
damage), and the same command run again finishes the work and leaves no
staging folder behind.  The kill points tried are counted and printed.

A rebuild is also killed at each of its renames and writes to the
database (strace's syscall injection), where a file has been renamed
over the old one and its row is not written yet.

CRASH_POINTS=N sets the timed kill points per case (default 5; the run
takes about a minute and a half on two shared cores), CRASH_SEED the
jitter's seed, CRASH_CASES (or the first argument) some of ingest,
edits,import,backup,rebuild,syscalls: meson runs the timed cases as
`crash` and the kills at system calls as `crash-syscalls`, each about a
minute and a half.  Real binary, real files, a real server.  Prints TAP."""
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import CORPUS, PARLERS, Server, diag, done, ok, request  # noqa: E402

POINTS = int(os.environ.get("CRASH_POINTS", "5"))
SEED = int(os.environ.get("CRASH_SEED", str(int(time.time()) % 100000)))
STEMS = ("caux-1981-le-temps-des-foins", "caux-1982-terre-neuve", "cotentin-1976-le-vraic")
PASSWORD = "crash-test-pass"
KINDS = {"original", "opus", "mp3", "peaks"}
tried = {}  # case -> [(delay, what the run had done)]


def run(*args, data=None, timeout=300):
    cmd = [PARLERS] + (["-d", data] if data else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def run_killed(args, data, delay):
    """Runs parlers with args and kills it (SIGKILL) after delay seconds.
    Returns (killed: it was still running, the lines of its standard
    output read before it died)."""
    p = subprocess.Popen([PARLERS, "-d", data] + list(args), stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(p.stdout))
    reader.start()
    time.sleep(delay)
    killed = p.poll() is None
    if killed:
        p.send_signal(signal.SIGKILL)
    p.wait()
    reader.join()
    return killed and p.returncode == -signal.SIGKILL, [l.rstrip("\n") for l in lines]


def delays(total, n, rng):
    """n points spread over total seconds, each moved by up to a third of
    its step."""
    step = total / n
    return [max(0.005, step * (i + 0.5) + rng.uniform(-step / 3, step / 3)) for i in range(n)]


def copy_archive(src, dst):
    shutil.copytree(src, dst, symlinks=True)


def staging_left(data):
    media = os.path.join(data, "media")
    return [f for f in os.listdir(media) if f.startswith(".staging-")] if os.path.isdir(media) \
        else []


def state(data):
    """What the database holds, by recording title: its kinds of files, its
    tiers (name -> segment count)."""
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    try:
        out = {}
        for rid, title in con.execute("SELECT id, title FROM recordings"):
            kinds = {r[0] for r in con.execute(
                "SELECT kind FROM media_files WHERE recording_id = ?", (rid,))}
            tiers = {r[0]: r[1] for r in con.execute(
                "SELECT t.name, count(s.id) FROM tiers t LEFT JOIN segments s ON s.tier_id = t.id"
                " WHERE t.recording_id = ? GROUP BY t.id", (rid,))}
            out[title] = (frozenset(kinds), tiers)
        return out
    finally:
        con.close()


def db_whole(data):
    """'' when SQLite finds the database whole and its references kept,
    else what it says."""
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    try:
        ic = con.execute("PRAGMA integrity_check").fetchall()
        fk = con.execute("PRAGMA foreign_key_check").fetchall()
        return "" if ic == [("ok",)] and not fk else "%r %r" % (ic, fk)
    finally:
        con.close()


def fsck_clean(data, leftovers_allowed=True):
    """(fsck exits 0 and reports nothing but leftovers, its output)."""
    rc, out, err = run("fsck", data=data)
    other = [l for l in out.splitlines() if not l.startswith("leftover\t")]
    good = rc == 0 and not other and (leftovers_allowed or not out.strip())
    return good, out + err


def after_kill(case, data, label):
    """The checks every kill is followed by; returns a list of what failed."""
    why = []
    w = db_whole(data)
    if w:
        why.append("database: " + w)
    good, out = fsck_clean(data)
    if not good:
        why.append("fsck: " + out)
    for title, (kinds, tiers) in state(data).items():
        if kinds != KINDS:
            why.append("%s has files %s" % (title, sorted(kinds)))
        for name, n in tiers.items():
            if n == 0:
                why.append("%s: tier %s without segments" % (title, name))
    return why


# ---- ingest of a folder ----

def case_ingest(tmp, base_empty, reference, rng):
    src = os.path.join(tmp, "in")
    t0 = time.time()
    d = os.path.join(tmp, "ingest-ref")
    copy_archive(base_empty, d)
    rc, _, err = run("ingest", src, data=d)
    total = time.time() - t0
    shutil.rmtree(d)
    ok(rc == 0, "ingest case: a run without a kill takes %.1f s" % total, err)
    failures = []
    for i, delay in enumerate(delays(total, POINTS, rng)):
        data = os.path.join(tmp, "ingest-%d" % i)
        copy_archive(base_empty, data)
        killed, lines = run_killed(["ingest", src], data, delay)
        acked = [l.split("\t") for l in lines if l.endswith("\tingested")]
        tried.setdefault("ingest", []).append((delay, killed, "%d acknowledged" % len(acked)))
        why = after_kill("ingest", data, delay)
        have = state(data)
        titles = {int(r[0]) for r in acked}
        con = sqlite3.connect(os.path.join(data, "archive.db"))
        ids = {r[0]: r[1] for r in con.execute("SELECT id, title FROM recordings")}
        con.close()
        for rid in titles:
            if rid not in ids:
                why.append("acknowledged recording %d is gone" % rid)
        for title, st in have.items():
            if st != reference.get(title):
                why.append("%s is not whole: %r" % (title, st))
        rc, out, err = run("ingest", src, data=data)
        if rc != 0 or state(data) != reference:
            why.append("ingest again did not finish the work: %s" % err)
        good, out = fsck_clean(data, leftovers_allowed=False)
        if not good or staging_left(data):
            why.append("after ingest again: %s %s" % (out, staging_left(data)))
        if why:
            failures.append("ingest killed at %.2f s: %s" % (delay, "; ".join(why)))
        shutil.rmtree(data)
    ok(not failures, "ingest killed at %d points: acknowledged recordings there and whole,"
       " fsck 0, ingest again finishes" % POINTS, "\n".join(failures))


# ---- a burst of edits through the HTTP API ----

class Editor:
    """An annotator's session."""

    def __init__(self, port):
        self.port = port
        st, hd, body = request(port, "POST", "/api/login", {"Content-Type": "application/json"},
                               json.dumps({"login": "ann", "password": PASSWORD}))
        if st != 200:
            raise RuntimeError("login: %d %r" % (st, body))
        self.cookie = re.match(r"parlers_session=([^;]*)", hd["set-cookie"]).group(1)
        self.csrf = json.loads(body)["csrf_token"]

    def send(self, method, path, obj=None):
        h = {"Cookie": "parlers_session=" + self.cookie, "X-CSRF-Token": self.csrf,
             "Content-Type": "application/json"}
        return request(self.port, method, path, h, json.dumps(obj) if obj is not None else None,
                       timeout=30)


def segments_of(data, rid):
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    try:
        return {r[0]: (r[1], r[2]) for r in con.execute(
            "SELECT s.id, s.text, s.version FROM segments s JOIN tiers t ON t.id = s.tier_id"
            " WHERE t.recording_id = ?", (rid,))}
    finally:
        con.close()


def withheld_of(data, rid):
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    try:
        return {r[0] for r in con.execute(
            "SELECT id FROM withheld_spans WHERE recording_id = ?", (rid,))}
    finally:
        con.close()


def audits(data):
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    try:
        return con.execute("SELECT count(*) FROM audit").fetchone()[0]
    finally:
        con.close()


def edit_burst(port, segs, acked, inflight, stop, ready, spans_too):
    """Edits segments one after another until the server is gone; with
    spans_too, every fourth edit withholds a passage or releases it."""
    try:
        ed = Editor(port)
    except Exception:
        return
    finally:
        ready.set()
    ids = sorted(segs)
    versions = {sid: segs[sid][1] for sid in ids}
    span = None
    i = 0
    while not stop.is_set():
        if spans_too and i % 4 == 3:
            # the muted copies are made before the answer
            try:
                if span is None:
                    inflight[:] = [("span+", None)]
                    st, _, body = ed.send("POST", "/api/recordings/1/withheld",
                                          {"start_ms": 1000 + i, "end_ms": 3000 + i})
                    if st == 201:
                        span = json.loads(body)["id"]
                        acked.append(("span+", span))
                else:
                    inflight[:] = [("span-", span)]
                    st, _, body = ed.send("DELETE", "/api/recordings/1/withheld/%d" % span)
                    if st == 200:
                        acked.append(("span-", span))
                        span = None
            except Exception:
                return
            inflight[:] = []
            i += 1
            continue
        sid = ids[i % len(ids)]
        text = "édition %d du segment %d" % (i, sid)
        inflight[:] = [(sid, text)]
        try:
            st, _, body = ed.send("PATCH", "/api/segments/%d" % sid,
                                  {"version": versions[sid], "text": text})
        except Exception:
            return
        if st == 200:
            versions[sid] = json.loads(body)["version"]
            acked.append((sid, text))
        inflight[:] = []
        i += 1


def case_edits(tmp, base_full, rng):
    failures = []
    burst = 1.5
    for i, delay in enumerate(delays(burst, POINTS, rng)):
        data = os.path.join(tmp, "edits-%d" % i)
        copy_archive(base_full, data)
        segs = segments_of(data, 1)
        before = audits(data)
        srv = Server(data)
        acked, inflight, stop, ready = [], [], threading.Event(), threading.Event()
        th = threading.Thread(target=edit_burst,
                              args=(srv.port, segs, acked, inflight, stop, ready, i % 2 == 1))
        th.start()
        ready.wait(30)  # the delay counts from the login
        time.sleep(delay)
        srv.kill()
        stop.set()
        th.join()
        tried.setdefault("edits", []).append(
            (delay, True, "%d acknowledged%s" % (len(acked), ", spans too" if i % 2 else "")))
        why = after_kill("edits", data, delay)
        now = segments_of(data, 1)
        last, spans = {}, set()
        for sid, text in acked:
            if sid == "span+":
                spans.add(text)
            elif sid == "span-":
                spans.discard(text)
            else:
                last[sid] = text
        for sid, text in last.items():
            maybe = {text} | {t for s, t in inflight if s == sid}
            if now[sid][0] not in maybe:
                why.append("segment %d is %r, acknowledged as %r" % (sid, now[sid][0], text))
        held = withheld_of(data, 1)
        maybe = [spans]
        for what, sid in inflight:
            if what == "span-":
                maybe.append(spans - {sid})
            elif what == "span+":
                maybe += [spans | {x} for x in held - spans]
        if held not in maybe:
            why.append("withheld spans %r, acknowledged %r" % (sorted(held), sorted(spans)))
        n = audits(data) - before
        if not len(acked) <= n <= len(acked) + 1:
            why.append("%d history rows for %d acknowledged edits" % (n, len(acked)))
        # restarted, the server takes edits again
        srv = Server(data)
        try:
            ed = Editor(srv.port)
            sid = min(now)
            st, _, body = ed.send("PATCH", "/api/segments/%d" % sid,
                                  {"version": now[sid][1], "text": "après le redémarrage"})
            if st != 200:
                why.append("an edit after the restart: %d %r" % (st, body))
        finally:
            srv.stop()
        good, out = fsck_clean(data, leftovers_allowed=False)
        if not good:
            why.append("fsck after the restart: " + out)
        if why:
            failures.append("server killed at %.2f s: %s" % (delay, "; ".join(why)))
        shutil.rmtree(data)
    ok(not failures, "edit bursts killed at %d points: every acknowledged edit and withheld span"
       " there with its history row, fsck 0, the restarted server takes edits" % POINTS,
       "\n".join(failures))


# ---- an annotation import with --replace ----

def big_textgrid(path, duration_s, tiers=3, per_tier=2500):
    """A TextGrid of many short intervals, long enough to import that a
    kill lands in the middle."""
    step = duration_s / per_tier
    out = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "",
           "xmin = 0", "xmax = %.4f" % duration_s, "tiers? <exists>", "size = %d" % tiers,
           "item []:"]
    for t in range(tiers):
        out += ["    item [%d]:" % (t + 1), '        class = "IntervalTier"',
                '        name = "grand-%d"' % t, "        xmin = 0",
                "        xmax = %.4f" % duration_s, "        intervals: size = %d" % per_tier]
        for k in range(per_tier):
            out += ["        intervals [%d]:" % (k + 1),
                    "            xmin = %.4f" % (k * step),
                    "            xmax = %.4f" % ((k + 1) * step),
                    '            text = "mot%d de la couche %d"' % (k, t)]
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def tiers_of(data, rid):
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    try:
        return {r[0]: r[1] for r in con.execute(
            "SELECT t.name, count(s.id) FROM tiers t LEFT JOIN segments s ON s.tier_id = t.id"
            " WHERE t.recording_id = ? GROUP BY t.id", (rid,))}
    finally:
        con.close()


def case_import(tmp, base_full, rng):
    con = sqlite3.connect(os.path.join(base_full, "archive.db"))
    dur = con.execute("SELECT duration_ms FROM recordings WHERE id = 1").fetchone()[0] / 1000.0
    con.close()
    tg = os.path.join(tmp, "big.TextGrid")
    big_textgrid(tg, dur)
    old = tiers_of(base_full, 1)
    d = os.path.join(tmp, "import-ref")
    copy_archive(base_full, d)
    t0 = time.time()
    rc, _, err = run("annotations", "import", "1", tg, "--replace", data=d)
    total = time.time() - t0
    new = tiers_of(d, 1)
    shutil.rmtree(d)
    ok(rc == 0 and new != old, "import case: a run without a kill takes %.2f s (%d segments)" %
       (total, sum(new.values())), err)
    failures = []
    for i, delay in enumerate(delays(total, POINTS, rng)):
        data = os.path.join(tmp, "import-%d" % i)
        copy_archive(base_full, data)
        killed, lines = run_killed(["annotations", "import", "1", tg, "--replace"], data, delay)
        now = tiers_of(data, 1)
        tried.setdefault("import", []).append(
            (delay, killed, "old tiers" if now == old else "new tiers" if now == new else "MIXED"))
        why = after_kill("import", data, delay)
        if now not in (old, new):
            why.append("the tiers are neither the old nor the new ones: %r" % now)
        if lines and now != new:
            why.append("acknowledged (%r) but not there" % lines)
        rc, out, err = run("annotations", "import", "1", tg, "--replace", data=data)
        if rc != 0 or tiers_of(data, 1) != new:
            why.append("import again did not finish: %s" % err)
        if why:
            failures.append("import killed at %.3f s: %s" % (delay, "; ".join(why)))
        shutil.rmtree(data)
    ok(not failures, "imports with --replace killed at %d points: the old tiers or the new,"
       " never a mix; import again finishes" % POINTS, "\n".join(failures))


# ---- backup ----

def case_backup(tmp, base_full, rng):
    d = os.path.join(tmp, "backup-ref")
    copy_archive(base_full, d)
    for _ in range(2):  # the second run, with the files in the page cache as later ones
        shutil.rmtree(os.path.join(tmp, "backup-ref-dest"), ignore_errors=True)
        t0 = time.time()
        rc, _, err = run("backup", "--copy", os.path.join(tmp, "backup-ref-dest"), data=d)
        total = time.time() - t0
    shutil.rmtree(d)
    shutil.rmtree(os.path.join(tmp, "backup-ref-dest"), ignore_errors=True)
    ok(rc == 0, "backup case: a run without a kill takes %.2f s" % total, err)
    failures = []
    for i, delay in enumerate(delays(total, POINTS, rng)):
        data = os.path.join(tmp, "backup-%d" % i)
        dest = os.path.join(tmp, "backup-%d-dest" % i)
        copy_archive(base_full, data)
        previous = i % 2 == 1  # every other point: over a backup already there
        if previous:
            run("backup", "--copy", dest, data=data)
            con = sqlite3.connect(os.path.join(data, "archive.db"))
            con.execute("UPDATE recordings SET title = title || ' (revu)' WHERE id = 1")
            con.commit()
            con.close()
        killed, _ = run_killed(["backup", "--copy", dest], data, delay)
        has_manifest = os.path.exists(os.path.join(dest, "MANIFEST"))
        tried.setdefault("backup", []).append(
            (delay, killed, ("over a backup, " if previous else "") +
             ("a MANIFEST" if has_manifest else "no MANIFEST")))
        why = after_kill("backup", data, delay)
        if has_manifest:
            rc, out, err = run("verify-backup", dest)
            if rc != 0:
                why.append("the backup left by the killed run is not whole: " + out + err)
        elif previous:
            why.append("the previous backup lost its MANIFEST")
        rc, out, err = run("backup", "--copy", dest, data=data)
        rc2, out2, err2 = run("verify-backup", dest)
        if rc != 0 or rc2 != 0:
            why.append("backup again: %s %s" % (err, out2 + err2))
        if why:
            failures.append("backup killed at %.3f s: %s" % (delay, "; ".join(why)))
        shutil.rmtree(data)
        shutil.rmtree(dest, ignore_errors=True)
    ok(not failures, "backups killed at %d points: the archive untouched, what is in DEST whole"
       " or without MANIFEST; backup again finishes and verifies" % POINTS, "\n".join(failures))


# ---- rebuild ----

def media_rows(data):
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    try:
        return sorted(con.execute(
            "SELECT recording_id, kind, path, bytes, sha256 FROM media_files"))
    finally:
        con.close()


def case_rebuild(tmp, base_full, rng):
    ids = "1"
    d = os.path.join(tmp, "rebuild-ref")
    copy_archive(base_full, d)
    t0 = time.time()
    rc, _, err = run("rebuild", "--ids", ids, data=d)
    total = time.time() - t0
    shutil.rmtree(d)
    ok(rc == 0, "rebuild case: a run without a kill takes %.1f s" % total, err)
    rows = media_rows(base_full)
    failures = []
    for i, delay in enumerate(delays(total, POINTS, rng)):
        data = os.path.join(tmp, "rebuild-%d" % i)
        copy_archive(base_full, data)
        killed, lines = run_killed(["rebuild", "--ids", ids], data, delay)
        tried.setdefault("rebuild", []).append(
            (delay, killed, "%d recordings acknowledged" % len(lines)))
        why = after_kill("rebuild", data, delay)
        rc, out, err = run("rebuild", "--ids", ids, data=data)
        if rc != 0:
            why.append("rebuild again: " + out + err)
        if media_rows(data) != rows:
            why.append("the rows are not those of the files made again")
        good, out = fsck_clean(data, leftovers_allowed=False)
        if not good or staging_left(data):
            why.append("after rebuild again: %s %s" % (out, staging_left(data)))
        if why:
            failures.append("rebuild killed at %.2f s: %s" % (delay, "; ".join(why)))
        shutil.rmtree(data)
    ok(not failures, "rebuilds killed at %d points: fsck 0, rebuild again finishes and clears"
       " what the killed run left" % POINTS, "\n".join(failures))


# ---- kills at chosen system calls ----

def count_syscalls(args, data, names):
    """How many times a run of parlers with args makes each system call of
    names (None when strace is not there)."""
    log = os.path.join(os.path.dirname(data), "strace.log")
    try:
        subprocess.run(["strace", "-f", "-qq", "-o", log, "-e", "trace=" + ",".join(names),
                        PARLERS, "-d", data] + list(args), capture_output=True, timeout=300)
    except FileNotFoundError:
        return None
    counts = dict.fromkeys(names, 0)
    with open(log) as f:
        for line in f:
            m = re.match(r"\d+\s+(\w+)\(", line)
            if m and m.group(1) in counts:
                counts[m.group(1)] += 1
    os.unlink(log)
    return counts


def kill_at_syscall(args, data, name, k):
    """Runs parlers with args under strace, which kills it (SIGKILL) as it
    enters its k-th system call name (per thread).  True when it was
    killed."""
    p = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + name,
                        "-e", "inject=%s:signal=SIGKILL:when=%d" % (name, k), PARLERS, "-d",
                        data] + list(args), capture_output=True, timeout=300)
    return p.returncode != 0


def spread(n, most):
    """Up to most of 1..n, evenly spread, the last one included."""
    if n <= most:
        return list(range(1, n + 1))
    return sorted({1 + round(i * (n - 1) / (most - 1)) for i in range(most)})


def syscall_matrix(tmp, label, prep, args, names, most, check):
    """Runs args on copies of the archive prep, killed at each of the
    system calls names (up to most of each, spread); check(data, where)
    returns what is wrong after the kill and after the command run again.
    Returns False when strace is not there."""
    probe = os.path.join(tmp, "sys-probe")
    copy_archive(prep, probe)
    counts = count_syscalls(args, probe, names)
    shutil.rmtree(probe)
    if os.path.exists(probe + "-dest"):
        shutil.rmtree(probe + "-dest")
    if counts is None:
        diag("strace is not installed: no kills at system calls")
        return False
    failures = []
    for name in names:
        for k in spread(counts[name], most):
            data = os.path.join(tmp, "sys-probe")  # the same path: args may name it
            copy_archive(prep, data)
            killed = kill_at_syscall(args, data, name, k)
            tried.setdefault(label + " at system calls", []).append(
                (k, killed, "%s #%d of %d" % (name, k, counts[name])))
            why = check(data, "%s #%d" % (name, k))
            if why:
                failures.append("killed at %s #%d: %s" % (name, k, "; ".join(why)))
            shutil.rmtree(data)
            if os.path.exists(data + "-dest"):
                shutil.rmtree(data + "-dest")
    ok(not failures, "%s killed at %s: %s" % (
        label, ", ".join("%d of %d %s" % (min(most, counts[n]), counts[n], n) for n in names),
        "nothing lost or half-written, fsck 0, the command again finishes"), "\n".join(failures))
    return True


def case_syscalls(tmp, base_empty, base_full, reference):
    """Kills at chosen system calls: each rename (a file put in place) and
    writes to the database, where timed kills rarely land: a rebuild after
    a change of gain (new bytes for every copy, renamed over the old ones
    before their rows), the ingest of one file, an import with --replace
    and a backup."""
    # a rebuild
    prep = os.path.join(tmp, "sys-prep")
    copy_archive(base_full, prep)
    con = sqlite3.connect(os.path.join(prep, "archive.db"))
    con.execute("UPDATE recordings SET gain_db = ifnull(gain_db, 0) - 3 WHERE id = 1")
    con.commit()
    con.close()
    args = ["rebuild", "--ids", "1", "--what", "opus,mp3"]
    probe = os.path.join(tmp, "sys-want")
    copy_archive(prep, probe)
    run(*args, data=probe)
    want = media_rows(probe)
    shutil.rmtree(probe)

    def rebuilt(data, where):
        why = after_kill("rebuild", data, where)
        rc, out, err = run(*args, data=data)
        if rc != 0:
            why.append("rebuild again: " + out + err)
        if media_rows(data) != want:
            why.append("the rows are not those of the new files")
        good, out = fsck_clean(data, leftovers_allowed=False)
        if not good or staging_left(data):
            why.append("after rebuild again: %s %s" % (out, staging_left(data)))
        return why

    if not syscall_matrix(tmp, "a rebuild after a change of gain", prep, args,
                          ("rename", "pwrite64"), 10, rebuilt):
        shutil.rmtree(prep)
        return
    shutil.rmtree(prep)

    # the ingest of one file
    one = os.path.join(tmp, "in-one")
    os.mkdir(one)
    for f in os.listdir(os.path.join(tmp, "in")):
        if f.startswith(STEMS[0] + "."):
            shutil.copy(os.path.join(tmp, "in", f), one)
    title = [t for t in reference if "foins" in t][0]

    def ingested(data, where):
        why = after_kill("ingest", data, where)
        have = state(data)
        if have and have != {title: reference[title]}:
            why.append("half an ingest: %r" % have)
        rc, out, err = run("ingest", one, data=data)
        if rc != 0 or state(data) != {title: reference[title]}:
            why.append("ingest again: " + err)
        good, out = fsck_clean(data, leftovers_allowed=False)
        if not good or staging_left(data):
            why.append("after ingest again: %s %s" % (out, staging_left(data)))
        return why

    syscall_matrix(tmp, "the ingest of one file", base_empty, ["ingest", one],
                   ("rename", "pwrite64"), 6, ingested)

    # an import with --replace
    old = tiers_of(base_full, 1)
    probe = os.path.join(tmp, "sys-want")
    copy_archive(base_full, probe)
    tg = os.path.join(tmp, "small.TextGrid")
    big_textgrid(tg, 20.0, tiers=2, per_tier=40)
    run("annotations", "import", "1", tg, "--replace", data=probe)
    new = tiers_of(probe, 1)
    shutil.rmtree(probe)

    def imported(data, where):
        why = after_kill("import", data, where)
        now = tiers_of(data, 1)
        if now not in (old, new):
            why.append("the tiers are neither the old nor the new ones: %r" % now)
        rc, out, err = run("annotations", "import", "1", tg, "--replace", data=data)
        if rc != 0 or tiers_of(data, 1) != new:
            why.append("import again: " + err)
        return why

    syscall_matrix(tmp, "an import with --replace", base_full,
                   ["annotations", "import", "1", tg, "--replace"], ("pwrite64",), 6, imported)

    # a backup
    def backed_up(data, where):
        why = after_kill("backup", data, where)
        dest = data + "-dest"
        if os.path.exists(os.path.join(dest, "MANIFEST")):
            rc, out, err = run("verify-backup", dest)
            if rc != 0:
                why.append("what the killed backup left is not whole: " + out + err)
        rc, out, err = run("backup", "--copy", dest, data=data)
        rc2, out2, err2 = run("verify-backup", dest)
        if rc != 0 or rc2 != 0:
            why.append("backup again: %s %s" % (err, out2 + err2))
        return why

    syscall_matrix(tmp, "a backup", base_full,
                   ["backup", "--copy", os.path.join(tmp, "sys-probe-dest")],
                   ("rename", "pwrite64"), 6, backed_up)


def main():
    rng = random.Random(SEED)
    diag("CRASH_SEED=%d CRASH_POINTS=%d" % (SEED, POINTS))
    tmp = tempfile.mkdtemp(prefix="parlers-crash-")
    started = time.time()
    try:
        src = os.path.join(tmp, "in")
        os.mkdir(src)
        for stem in STEMS:
            for f in os.listdir(CORPUS):
                if f.startswith(stem + "."):
                    shutil.copy(os.path.join(CORPUS, f), src)
        base_empty = os.path.join(tmp, "base-empty")
        rc, _, err = run("init", data=base_empty)
        ok(rc == 0, "an empty archive", err)
        base_full = os.path.join(tmp, "base-full")
        copy_archive(base_empty, base_full)
        rc, _, err = run("ingest", src, data=base_full)
        reference = state(base_full)
        ok(rc == 0 and len(reference) == len(STEMS) and
           all(k == KINDS for k, _ in reference.values()),
           "the reference archive: %d recordings ingested whole" % len(STEMS), err)
        pw = os.path.join(tmp, "pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        rc, _, err = run("user", "add", "ann", "--role", "annotator", "--password-file", pw,
                         data=base_full)
        ok(rc == 0, "an annotator", err)
        cases = (sys.argv[1] if len(sys.argv) > 1 else
                 os.environ.get("CRASH_CASES", "ingest,edits,import,backup,rebuild,syscalls"))
        cases = cases.split(",")
        if "ingest" in cases:
            case_ingest(tmp, base_empty, reference, rng)
        if "edits" in cases:
            case_edits(tmp, base_full, rng)
        if "import" in cases:
            case_import(tmp, base_full, rng)
        if "backup" in cases:
            case_backup(tmp, base_full, rng)
        if "rebuild" in cases:
            case_rebuild(tmp, base_full, rng)
        if "syscalls" in cases:
            case_syscalls(tmp, base_empty, base_full, reference)
        n = 0
        for case, points in tried.items():
            k = sum(1 for p in points if p[1])
            n += k
            diag("%s: %d kill points, %d while it ran: %s" % (case, len(points), k, ", ".join(
                ("%s" if isinstance(d, int) else "%.3fs") % d +
                ("" if killed else " after it ended") + " (%s)" % what
                for d, killed, what in points)))
        diag("%d kill points in all, %.0f s" % (n, time.time() - started))
        ok(n >= len(tried) * POINTS // 2, "most kill points landed while the command ran"
           " (%d of %d)" % (n, sum(len(p) for p in tried.values())))
    finally:
        if not os.environ.get("KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
