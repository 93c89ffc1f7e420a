#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Backups as an operator meets them: `parlers backup` while `parlers serve`
takes edits over HTTP and an ingest runs, `restore` into a fresh folder
compared row by row and file by file, incremental backups that copy only
what is new, backups that were tampered with, and destinations that are
full, read-only or hold another archive.  Real binary, real SQLite, real
files.  Prints TAP."""
import hashlib
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import math
import wave

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import CORPUS, PARLERS, Server, diag, done, ok, request  # noqa: E402


def run(*args, data=None, stdin=None):
    cmd = [PARLERS] + (["-d", data] if data else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, input=stdin, timeout=600)
    return p.returncode, p.stdout, p.stderr


def one_line(err):
    return len(err.strip().splitlines()) == 1


def make_wav(path, freq, seconds=2.0, rate=16000):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        n = int(seconds * rate)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i / rate)))
                               for i in range(n)))


def dump(data, tables=None):
    """Every row of every table but the search index's own (rebuilt from
    the segments, compared through them), in a stable order."""
    con = sqlite3.connect("file:%s?mode=ro" % os.path.join(data, "archive.db"), uri=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE 'segment_index%' ORDER BY name")]
        out = {}
        for t in names:
            if tables and t not in tables:
                continue
            out[t] = sorted(repr(r) for r in con.execute('SELECT * FROM "%s"' % t))
        return out
    finally:
        con.close()


def files_of(root):
    """{relative path: sha256} of every file under root/media."""
    out = {}
    for d, _, fs in os.walk(os.path.join(root, "media")):
        for f in fs:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def rewrite_manifest(dest, edit):
    """Applies edit to MANIFEST's file lines and recomputes its end line:
    a manifest that lies consistently."""
    path = os.path.join(dest, "MANIFEST")
    lines = open(path).read().splitlines()
    body = edit(lines[:-1])
    text = "".join(l + "\n" for l in body)
    count = sum(1 for l in body if len(l.split(" ")) == 3 and len(l.split(" ")[0]) == 64)
    text += "end %d %s\n" % (count, hashlib.sha256(text.encode()).hexdigest())
    open(path, "w").write(text)


class Admin:
    def __init__(self, port, login, password):
        self.port = port
        st, hd, body = request(port, "POST", "/api/login", {"Content-Type": "application/json"},
                               json.dumps({"login": login, "password": password}))
        j = json.loads(body)
        self.cookie = hd.get("set-cookie", "").split(";")[0]
        self.csrf = j.get("csrf_token")

    def send(self, method, path, obj=None):
        h = {"Cookie": self.cookie, "X-CSRF-Token": self.csrf,
             "Content-Type": "application/json"}
        st, _, body = request(self.port, method, path, h,
                              json.dumps(obj) if obj is not None else None)
        return st, body


def tests(tmp):
    data = os.path.join(tmp, "data")

    # the interface every subcommand keeps
    for cmd in ["backup", "restore", "verify-backup"]:
        rc, out, _ = run(cmd, "--help")
        ok(rc == 0 and "usage:" in out, "parlers %s --help" % cmd)
        rc, _, err = run(cmd, data=data)
        ok(rc == 2 and "which folder" in err, "parlers %s without a folder is a usage error" % cmd)
        rc, _, err = run(cmd, "--frob", "x", data=data)
        ok(rc == 2, "parlers %s with an unknown option is a usage error" % cmd)
    rc, _, err = run("backup", "a", "b", data=data)
    ok(rc == 2, "backup takes one folder")
    rc, _, err = run("backup", os.path.join(tmp, "nowhere"), data=data)
    ok(rc == 1 and one_line(err) and "no archive" in err, "backup of a missing archive: one line, 1", err)

    rc, out, err = run("ingest", "--access", "public", CORPUS, data=data)
    ok(rc == 0, "the sample corpus is ingested", err)
    rc, _, err = run("user", "add", "root", "--role", "admin", data=data, stdin="backup-password\n")
    ok(rc == 0, "an admin account", err)

    # ---- backup while the server takes edits and an ingest runs ----
    srv = Server(data)
    try:
        admin = Admin(srv.port, "root", "backup-password")
        st, body = admin.send("GET", "/api/recordings?limit=100")
        recs = json.loads(body)["recordings"]
        rid = recs[0]["id"]
        st, body = admin.send("GET", "/api/recordings/%d" % rid)
        rec = json.loads(body)
        segs = [s for t in rec["tiers"] for s in t["segments"]][:5]
        ok(len(segs) >= 2, "segments to edit")
        st, body = admin.send("POST", "/api/recordings/%d/withheld" % rid,
                              {"start_ms": 1000, "end_ms": 2500, "reason": "backup test"})
        ok(st in (200, 201), "a withheld span: muted copies are made", body)

        stop = threading.Event()
        edits = [0]
        errors = []

        def writer():
            versions = {s["id"]: s.get("version", 1) for s in segs}
            i = 0
            while not stop.is_set():
                s = segs[i % len(segs)]
                i += 1
                st2, b2 = admin.send("PATCH", "/api/segments/%d" % s["id"],
                                     {"version": versions[s["id"]], "text": "edit %d" % i})
                if st2 == 200:
                    versions[s["id"]] = json.loads(b2)["version"]
                    edits[0] += 1
                else:
                    errors.append((st2, b2[:200]))

        th = threading.Thread(target=writer)
        th.start()
        wav = os.path.join(tmp, "live.wav")
        make_wav(wav, 440)
        ing = subprocess.Popen([PARLERS, "-d", data, "ingest", wav],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        live = os.path.join(tmp, "live-backup")
        results = []
        for _ in range(3):
            results.append(run("backup", "--json", live, data=data))
        ing.wait(120)
        stop.set()
        th.join()
        ok(all(r[0] == 0 for r in results), "three backups while the server writes all succeed",
           [r[2] for r in results])
        ok(edits[0] > 0 and not errors, "edits went on during the backups (%d)" % edits[0],
           errors[:3])
        ok(ing.returncode == 0, "the ingest beside them succeeded")
        rc, out, err = run("verify-backup", live)
        ok(rc == 0 and out == "", "the live backup verifies", out + err)
        live_restore = os.path.join(tmp, "live-restore")
        rc, out, err = run("restore", live, data=live_restore)
        ok(rc == 0, "the live backup restores", err)
        rc, out, err = run("fsck", data=live_restore)
        ok(rc == 0, "the restored archive passes fsck: its database names only media it holds",
           out + err)
        con = sqlite3.connect(os.path.join(live_restore, "archive.db"))
        ok(con.execute("PRAGMA integrity_check").fetchone()[0] == "ok",
           "the restored database is whole (integrity_check)")
        con.close()

        # quiet now: a backup must equal the archive row for row
        full = os.path.join(tmp, "full")
        rc, out, err = run("backup", "--json", full, data=data)
        ok(rc == 0, "a backup once the writes stopped", err)
        fresh = os.path.join(tmp, "fresh")
        rc, out, err = run("restore", "--json", full, data=fresh)
        j = json.loads(out) if rc == 0 else {}
        ok(rc == 0 and j.get("files", 0) > 1, "restore --json", err)
        src_dump, new_dump = dump(data), dump(fresh)
        ok(src_dump == new_dump,
           "every row of every table is restored (%d tables)" % len(src_dump),
           [t for t in src_dump if src_dump[t] != new_dump.get(t)])
        src_files, new_files = files_of(data), files_of(fresh)
        ok(src_files == new_files and len(src_files) > 10,
           "every media file is restored byte for byte (%d)" % len(src_files))
        ok(any(".w" in f for f in new_files), "the muted copies are in the backup")
        ok(open(os.path.join(data, "archive-id")).read() ==
           open(os.path.join(fresh, "archive-id")).read(), "the restored archive keeps its id")
        st, body = admin.send("GET", "/api/recordings/%d" % rid)
        ok(st == 200, "the server still answers after the backups")
    finally:
        srv.stop()

    # the same state through a server on the restored folder
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    listed = con.execute("SELECT count(*) FROM recordings WHERE access < 2").fetchone()[0]
    con.close()
    srv2 = Server(fresh)
    try:
        st, _, body = request(srv2.port, "GET", "/api/recordings?limit=100")
        ok(st == 200 and json.loads(body)["total"] == listed,
           "a server on the restored folder lists what the archive listed (%d)" % listed, body[:200])
    finally:
        srv2.stop()

    # ---- incremental: one new recording copies its own files only ----
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    rows_before = con.execute("SELECT count(*) FROM media_files").fetchone()[0] + \
        con.execute("SELECT count(*) FROM withheld_media").fetchone()[0]
    con.close()
    copydest = os.path.join(tmp, "copied")
    rc, out, err = run("backup", "--copy", "--json", copydest, data=data)
    j = json.loads(out) if rc == 0 else {}
    ok(rc == 0 and j["copied"] == rows_before and j["linked"] == 0,
       "backup --copy copies every media file (%s)" % j.get("copied"), err)
    a = os.stat(os.path.join(data, next(iter(src_files))))
    b = os.stat(os.path.join(copydest, next(iter(src_files))))
    ok(a.st_ino != b.st_ino, "--copy makes files of their own")
    b = os.stat(os.path.join(full, next(iter(src_files))))
    ok(a.st_ino == b.st_ino, "on the same filesystem the backup hard-links")
    new = os.path.join(tmp, "new.wav")
    make_wav(new, 660)
    rc, out, err = run("ingest", "--json", new, data=data)
    nid = json.loads(out.splitlines()[0])["id"] if rc == 0 else 0
    con = sqlite3.connect(os.path.join(data, "archive.db"))
    nfiles = con.execute("SELECT count(*) FROM media_files WHERE recording_id = ?",
                         (nid,)).fetchone()[0]
    nbytes = con.execute("SELECT sum(bytes) FROM media_files WHERE recording_id = ?",
                         (nid,)).fetchone()[0]
    con.close()
    rc, out, err = run("backup", "--copy", "--json", copydest, data=data)
    j = json.loads(out) if rc == 0 else {}
    dbsize = os.path.getsize(os.path.join(copydest, "archive.db"))
    ok(rc == 0 and j["copied"] == nfiles and j["kept"] == rows_before and
       j["bytes_copied"] == nbytes + dbsize,
       "after one new recording the backup copies its %d files and the database" % nfiles, out)
    rc, out, err = run("backup", "--json", full, data=data)
    j = json.loads(out) if rc == 0 else {}
    ok(rc == 0 and j["linked"] == nfiles and j["copied"] == 0 and j["kept"] == rows_before,
       "the same with hard links: %d linked, the rest kept" % nfiles, out)
    rc, out, err = run("backup", "--json", full, data=data)
    j = json.loads(out) if rc == 0 else {}
    ok(rc == 0 and j["linked"] == 0 and j["copied"] == 0, "nothing new: nothing copied", out)
    rc, out, err = run("verify-backup", "--json", copydest)
    last = json.loads(out.splitlines()[-1]) if out else {}
    ok(rc == 0 and last.get("ok") is True and last.get("problems") == 0 and
       last.get("files") == rows_before + nfiles + 1, "verify-backup --json of a good backup", out)

    # ---- a backup that was tampered with ----
    def case(name, damage, problem):
        dest = os.path.join(tmp, "bad-" + name)
        shutil.copytree(copydest, dest)  # files of its own: the archive is not touched
        damage(dest)
        rc, out, err = run("verify-backup", dest)
        ok(rc == 1 and out.startswith(problem + "\t"),
           "verify-backup reports %s: %s" % (name, problem), out + err)
        target = os.path.join(tmp, "restore-" + name)
        rc, out, err = run("restore", dest, data=target)
        ok(rc == 1 and one_line(err) and problem in err and not os.path.exists(target) and
           not [f for f in os.listdir(tmp) if f.startswith("restore-" + name)],
           "restore refuses %s in one line and leaves nothing" % name, err)
        rc, out, err = run("verify-backup", "--json", dest)
        ok(rc == 1 and json.loads(out.splitlines()[0])["problem"] == problem,
           "verify-backup --json names %s" % name)

    media = sorted(f for f in files_of(copydest))
    victim = media[len(media) // 2]

    def flip(dest):
        p = os.path.join(dest, victim)
        with open(p, "r+b") as f:
            f.seek(100)
            c = f.read(1)
            f.seek(100)
            f.write(bytes([c[0] ^ 1]))

    def truncate(dest):
        p = os.path.join(dest, victim)
        os.truncate(p, os.path.getsize(p) - 1)

    def remove(dest):
        os.unlink(os.path.join(dest, victim))

    def lie_sha(dest):
        rewrite_manifest(dest, lambda ls: [("0" * 64 + l[64:]) if l.endswith(victim) else l
                                           for l in ls])

    def lie_omit(dest):
        rewrite_manifest(dest, lambda ls: [l for l in ls if not l.endswith(victim)])
        os.unlink(os.path.join(dest, victim))

    def cut_manifest(dest):
        p = os.path.join(dest, "MANIFEST")
        text = open(p).read().splitlines()
        open(p, "w").write("".join(l + "\n" for l in text[:len(text) // 2]))

    def hand_edit(dest):
        p = os.path.join(dest, "MANIFEST")
        text = open(p).read().replace(victim, media[0], 1)
        open(p, "w").write(text)

    def no_manifest(dest):
        os.unlink(os.path.join(dest, "MANIFEST"))

    def db_changed(dest):
        con = sqlite3.connect(os.path.join(dest, "archive.db"))
        con.execute("PRAGMA journal_mode = DELETE")
        con.execute("UPDATE recordings SET title = 'changed' WHERE id = (SELECT min(id) FROM recordings)")
        con.commit()
        con.close()

    case("a changed byte", flip, "checksum-mismatch")
    case("a truncated file", truncate, "size-mismatch")
    case("a removed file", remove, "missing")
    case("a manifest giving a wrong checksum", lie_sha, "checksum-mismatch")
    case("a manifest leaving a file out", lie_omit, "unlisted")
    case("a manifest cut short", cut_manifest, "manifest")
    case("a manifest edited by hand", hand_edit, "manifest")
    case("no manifest", no_manifest, "manifest")
    case("a changed database", db_changed, "checksum-mismatch")

    rc, out, err = run("restore", copydest, data=fresh)
    ok(rc == 1 and one_line(err) and "not an empty folder" in err,
       "restore refuses a data folder that is not empty", err)
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    rc, out, err = run("restore", copydest, data=empty)
    ok(rc == 0 and dump(empty) == dump(data), "restore into an empty folder", err)
    rc, out, err = run("verify-backup", os.path.join(tmp, "nothing-here"))
    ok(rc == 1 and one_line(err), "verify-backup of a missing folder: one line, 1", err)

    # ---- destinations that hold something else ----
    other = os.path.join(tmp, "other")
    rc, _, _ = run("init", data=other)
    other_dest = os.path.join(tmp, "other-backup")
    rc, _, err = run("backup", other_dest, data=other)
    ok(rc == 0, "a backup of another archive", err)
    before = os.listdir(other_dest)
    rc, out, err = run("backup", other_dest, data=data)
    ok(rc == 1 and one_line(err) and "another archive" in err and
       os.listdir(other_dest) == before, "a DEST holding another archive's backup is refused", err)
    junk = os.path.join(tmp, "junk")
    os.mkdir(junk)
    open(os.path.join(junk, "notes.txt"), "w").write("mine\n")
    rc, out, err = run("backup", junk, data=data)
    ok(rc == 1 and one_line(err) and "holds no parlers backup" in err and
       os.listdir(junk) == ["notes.txt"], "a folder holding other files is refused", err)
    rc, out, err = run("backup", "--json", full, data=fresh)
    ok(rc == 0, "the restored archive is the same archive: it backs up into its backup", err)
    for inside, what in ((data, "the data folder itself"),
                         (os.path.join(data, "media", "bk"), "a folder in the data folder"),
                         (tmp, "a folder around the data folder")):
        rc, out, err = run("backup", inside, data=data)
        ok(rc == 1 and one_line(err) and "outside the data folder" in err and
           not os.path.exists(os.path.join(data, "MANIFEST")),
           "a backup into %s is refused" % what, err)
    ok(not os.path.exists(os.path.join(data, "media", "bk")), "and leaves no folder there")
    rc, out, err = run("backup", os.path.join(tmp, "notes.txt-parent", "x"), data=data)
    ok(rc == 1 and one_line(err), "a DEST whose parent is missing: one line", err)

    # ---- a DEST without room or permission ----
    before_dump, before_files = dump(data), files_of(data)
    if os.getuid() != 0:
        ok(True, "a DEST without room or permission # SKIP tmpfs mounts need root")
        return
    mnt = os.path.join(tmp, "mnt")
    os.mkdir(mnt)
    for opts, what, word in [("ro,size=1m", "read-only", "Read-only"),
                             ("size=200k", "full (no room for the database)", "no space"),
                             ("size=2m", "full (no room for the media)", "no space")]:
        if subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", mnt]).returncode != 0:
            ok(True, "# SKIP cannot mount a tmpfs")
            continue
        try:
            rc, out, err = run("backup", mnt, "--copy", data=data)
            ok(rc == 1 and one_line(err) and word in err and
               not os.path.exists(os.path.join(mnt, "MANIFEST")),
               "a %s DEST: exit 1, one line, no manifest" % what, err)
            diag(err.strip())
            rc, out, err = run("backup", os.path.join(mnt, "b"), "--copy", data=data)
            ok(rc == 1 and one_line(err) and (word in err or "another" in err),
               "a folder in a %s DEST: exit 1 and one line" % what, err)
            diag(err.strip())
        finally:
            subprocess.run(["umount", mnt])
    ok(dump(data) == before_dump and files_of(data) == before_files,
       "the archive is unchanged by the failed backups")
    rc, out, err = run("fsck", data=data)
    ok(rc == 0, "and passes fsck", out + err)


def main():
    tmp = tempfile.mkdtemp(prefix="parlers-backup-")
    try:
        tests(tmp)
    finally:
        if not os.environ.get("KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
