#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""`parlers rebuild` on the sample corpus: each kind of derivative lost or
damaged and made again from the original, rows brought back in step, the
muted copies with them, a damaged original refused and left alone, and a
backup that hard-linked the old files left whole.  Real binary, real
files.  Prints TAP."""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import CORPUS, PARLERS, done, ok  # noqa: E402


def run(*args, data=None):
    cmd = [PARLERS] + (["-d", data] if data else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tests(tmp):
    data = os.path.join(tmp, "data")
    rc, out, _ = run("rebuild", "--help")
    ok(rc == 0 and "usage:" in out, "parlers rebuild --help")
    for bad in (["--ids", "x"], ["--ids", "1,,2"], ["--what", "flac"], ["--frob"]):
        rc, _, err = run("rebuild", *bad, data=data)
        ok(rc == 2, "rebuild %s is a usage error" % " ".join(bad), err)
    rc, _, err = run("ingest", "--access", "public", CORPUS, data=data)
    ok(rc == 0, "the sample corpus is ingested", err)
    db = os.path.join(data, "archive.db")
    con = sqlite3.connect(db)
    rows = {(r[0], r[1]): (r[2], r[3], r[4]) for r in con.execute(
        "SELECT recording_id, kind, path, bytes, sha256 FROM media_files")}
    con.close()
    ids = sorted({k[0] for k in rows})
    rid = ids[0]
    originals = {k: sha(os.path.join(data, v[0])) for k, v in rows.items() if k[1] == "original"}
    mtimes = {k: os.stat(os.path.join(data, v[0])).st_mtime_ns
              for k, v in rows.items() if k[1] == "original"}

    # a backup whose files are hard links to these
    bk = os.path.join(tmp, "bk")
    rc, _, err = run("backup", bk, data=data)
    ok(rc == 0, "a hard-linked backup first", err)

    # each kind lost, then damaged, then made again
    for kind in ("opus", "mp3", "peaks"):
        path = os.path.join(data, rows[(rid, kind)][0])
        os.unlink(path)
        rc, out, err = run("fsck", data=data)
        ok(rc == 1 and "missing" in out, "a lost %s file is missing for fsck" % kind)
        rc, out, err = run("rebuild", "--ids", str(rid), "--what", kind, data=data)
        ok(rc == 0 and out == "%d\trebuilt\t%s\n" % (rid, kind),
           "rebuild --what %s makes it again" % kind, out + err)
        ok(os.path.exists(path) and sha(path) == rows[(rid, kind)][2],
           "the %s copy is the one ingest made, byte for byte" % kind)
        rc, out, err = run("fsck", data=data)
        ok(rc == 0, "fsck is clean again after rebuilding the %s file" % kind, out + err)

    # a row that no longer matches its file is brought back in step
    con = sqlite3.connect(db)
    con.execute("UPDATE media_files SET sha256 = ?, bytes = 1 WHERE recording_id = ? AND kind = 'mp3'",
                ("0" * 64, rid))
    con.commit()
    con.close()
    rc, out, err = run("fsck", data=data)
    ok(rc == 1, "a wrong row is a problem for fsck")
    rc, out, err = run("rebuild", "--json", "--ids", str(rid), data=data)
    j = json.loads(out.splitlines()[0]) if out else {}
    ok(rc == 0 and j.get("status") == "rebuilt" and set(j.get("rebuilt", [])) >= {"opus", "mp3", "peaks"}
       and j.get("error") is None, "rebuild --json of one recording", out + err)
    con = sqlite3.connect(db)
    row = con.execute("SELECT bytes, sha256 FROM media_files WHERE recording_id = ? AND kind = 'mp3'",
                      (rid,)).fetchone()
    con.close()
    ok(row == (rows[(rid, "mp3")][1], rows[(rid, "mp3")][2]), "the row gets the file's size and SHA-256")
    rc, out, err = run("fsck", data=data)
    ok(rc == 0, "and fsck is clean", out + err)

    # muted copies: lost, then made again for the same spans
    con = sqlite3.connect(db)
    con.execute("INSERT INTO withheld_spans(recording_id, start_ms, end_ms, reason)"
                " VALUES (?, 1000, 2000, 'test')", (rid,))
    con.commit()
    con.close()
    rc, out, err = run("rebuild", "--ids", str(rid), "--what", "muted", data=data)
    con = sqlite3.connect(db)
    muted = con.execute("SELECT kind, path, bytes, sha256, spans FROM withheld_media WHERE recording_id = ?",
                        (rid,)).fetchall()
    con.close()
    ok(rc == 0 and len(muted) == 2 and all(m[4] == "1000-2000" for m in muted),
       "rebuild --what muted makes the copies for a span that has none yet", out + err)
    for m in muted:
        os.unlink(os.path.join(data, m[1]))
    rc, out, err = run("rebuild", "--ids", str(rid), "--what", "muted", data=data)
    ok(rc == 0 and all(os.path.exists(os.path.join(data, m[1])) and
                       sha(os.path.join(data, m[1])) == m[3] for m in muted),
       "lost muted copies are made again under their names", out + err)
    rc, out, err = run("fsck", data=data)
    ok(rc == 0, "fsck is clean with the muted copies", out + err)

    # every recording, every kind
    rc, out, err = run("rebuild", data=data)
    lines = out.splitlines()
    ok(rc == 0 and len(lines) == len(ids) and all("\trebuilt\t" in l for l in lines),
       "rebuild of every recording: one line each (%d)" % len(ids), out + err)
    ok({k: sha(os.path.join(data, v[0])) for k, v in rows.items() if k[1] == "original"} == originals
       and {k: os.stat(os.path.join(data, v[0])).st_mtime_ns for k, v in rows.items()
            if k[1] == "original"} == mtimes, "no original was written")
    rc, out, err = run("fsck", data=data)
    ok(rc == 0, "fsck is clean after rebuilding everything", out + err)
    rc, out, err = run("verify-backup", bk)
    ok(rc == 0, "the hard-linked backup is still whole: rebuilt files replaced, not rewritten",
       out + err)
    ok(not [f for f in os.listdir(os.path.join(data, "media")) if f.startswith(".staging")],
       "no staging folder is left")

    # a damaged original is refused and left as it is
    orig = os.path.join(data, rows[(ids[1], "original")][0])
    os.chmod(orig, 0o644)
    with open(orig, "r+b") as f:
        f.seek(200)
        c = f.read(1)
        f.seek(200)
        f.write(bytes([c[0] ^ 1]))
    damaged = sha(orig)
    opus = os.path.join(data, rows[(ids[1], "opus")][0])
    before = sha(opus)
    rc, out, err = run("rebuild", "--ids", "%d,%d" % (ids[1], ids[2]), data=data)
    lines = out.splitlines()
    ok(rc == 1 and len(lines) == 2 and lines[0].startswith("%d\tfailed\t" % ids[1]) and
       "does not match its SHA-256" in lines[0] and lines[1].startswith("%d\trebuilt" % ids[2]),
       "a damaged original is refused, the next recording goes on", out + err)
    ok(sha(orig) == damaged and sha(opus) == before,
       "the damaged original and its copies are left as they are")
    rc, out, err = run("rebuild", "--ids", "999999", data=data)
    ok(rc == 1 and "no recording 999999" in out, "an unknown id fails with its line", out + err)


def main():
    tmp = tempfile.mkdtemp(prefix="parlers-rebuild-")
    try:
        tests(tmp)
    finally:
        if not os.environ.get("KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
