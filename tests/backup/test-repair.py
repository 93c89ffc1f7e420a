#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""`parlers fsck --repair` on the sample corpus: lost, truncated and
altered derivatives (access copies, peaks, muted copies, a whole media/xx
folder of them) made again from their originals; a damaged original
never written, reported with the backup folders that hold a good copy
and not with those that do not.  Real binary, real files.  Prints TAP."""
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


def flip(path, at=100):
    """One bit of the file changed in place, its size kept."""
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(at)
        c = f.read(1)
        f.seek(at)
        f.write(bytes([c[0] ^ 1]))


def lines_of(out, word):
    return [l for l in out.splitlines() if l.startswith(word + "\t")]


def tests(tmp):
    data = os.path.join(tmp, "data")
    rc, out, _ = run("fsck", "--help")
    ok(rc == 0 and "--backups" in out and "original-damaged" in out,
       "fsck --help tells of --backups")
    rc, _, err = run("fsck", "--backups", data=data)
    ok(rc == 2 and "--backups" in err, "--backups without a folder is a usage error", err)
    rc, _, err = run("ingest", "--access", "public", CORPUS, data=data)
    ok(rc == 0, "the sample corpus is ingested", err)
    db = os.path.join(data, "archive.db")
    con = sqlite3.connect(db)
    rows = {(r[0], r[1]): (r[2], r[3], r[4]) for r in con.execute(
        "SELECT recording_id, kind, path, bytes, sha256 FROM media_files")}
    ids = sorted({k[0] for k in rows})
    rid, other = ids[0], ids[1]
    con.execute("INSERT INTO withheld_spans(recording_id, start_ms, end_ms, reason)"
                " VALUES (?, 1000, 2000, 'test')", (other,))
    con.commit()
    con.close()
    rc, out, err = run("rebuild", "--ids", str(other), "--what", "muted", data=data)
    ok(rc == 0, "muted copies made for a withheld span", out + err)
    con = sqlite3.connect(db)
    muted = con.execute("SELECT path, sha256 FROM withheld_media WHERE recording_id = ?",
                        (other,)).fetchall()
    con.close()
    ok(len(muted) == 2, "two muted copies")
    rc, out, err = run("fsck", "--repair", data=data)
    ok(rc == 0 and out == "", "fsck --repair of a clean archive does nothing", out + err)

    # two backups: a copy made now (good) and one whose originals are then damaged
    good, bad = os.path.join(tmp, "good"), os.path.join(tmp, "bad")
    for d in (good, bad):
        rc, _, err = run("backup", "--copy", d, data=data)
        ok(rc == 0, "a copied backup in %s" % os.path.basename(d), err)
    originals = {k[0]: v for k, v in rows.items() if k[1] == "original"}
    flip(os.path.join(bad, originals[rid][0]))

    # derivatives: lost, truncated, altered, a muted copy lost
    p = lambda kind: os.path.join(data, rows[(rid, kind)][0])
    os.unlink(p("opus"))
    os.truncate(p("mp3"), 1000)
    flip(p("peaks"), 20)
    os.unlink(os.path.join(data, muted[0][0]))
    before = {k: sha(os.path.join(data, v[0])) for k, v in originals.items()}
    rc, out, err = run("fsck", data=data)
    ok(rc == 1 and len(out.splitlines()) == 4, "fsck finds the four damaged files", out + err)
    rc, out, err = run("fsck", "--repair", data=data)
    rebuilt = lines_of(out, "rebuilt")
    ok(rc == 0 and len(rebuilt) == 4 and not lines_of(out, "not-rebuilt"),
       "fsck --repair makes the four again and exits 0", out + err)
    ok({l.split("\t")[1] for l in rebuilt} ==
       {rows[(rid, k)][0] for k in ("opus", "mp3", "peaks")} | {muted[0][0]},
       "one rebuilt line for each, naming the file")
    ok(all(sha(p(k)) == rows[(rid, k)][2] for k in ("opus", "mp3", "peaks")) and
       sha(os.path.join(data, muted[0][0])) == muted[0][1],
       "each is the file ingest made, byte for byte")
    ok({k: sha(os.path.join(data, v[0])) for k, v in originals.items()} == before,
       "no original was written")
    rc, out, err = run("fsck", data=data)
    ok(rc == 0 and out == "", "fsck is clean afterwards", out + err)

    # a whole media/xx folder of derivatives lost (its originals kept aside)
    folder = os.path.dirname(p("opus"))
    keep = {}
    for f in os.listdir(folder):
        full = os.path.join(folder, f)
        if full in [os.path.join(data, v[0]) for v in originals.values()]:
            with open(full, "rb") as fh:
                keep[f] = fh.read()
    shutil.rmtree(folder)
    os.mkdir(folder)
    for f, b in keep.items():
        with open(os.path.join(folder, f), "wb") as fh:
            fh.write(b)
    rc, out, err = run("fsck", "--repair", "--json", data=data)
    j = [json.loads(l) for l in out.splitlines()]
    ok(rc == 0 and j and all(x.get("repair") == "rebuilt" for x in j),
       "a folder's lost derivatives are all made again (--json)", out + err)
    rc, out, err = run("fsck", data=data)
    ok(rc == 0, "fsck is clean afterwards", out + err)

    # a damaged original: never written, its good copies named
    orig = os.path.join(data, originals[rid][0])
    flip(orig)
    damaged = sha(orig)
    os.unlink(p("opus"))
    rc, out, err = run("fsck", "--repair", "--backups", bad, "--backups", good,
                       "--backups", os.path.join(tmp, "nowhere"), data=data)
    od = lines_of(out, "original-damaged")
    ok(rc == 1 and len(od) == 1 and od[0].split("\t")[1] == originals[rid][0],
       "a damaged original is reported as such, exit 1", out + err)
    ok(od and od[0].endswith("a good copy in " + good),
       "with the one backup that holds a good copy, not the damaged one", od)
    nr = lines_of(out, "not-rebuilt")
    ok(len(nr) == 1 and "does not match its SHA-256" in nr[0],
       "its lost derivative is not made from it", out)
    ok(sha(orig) == damaged, "the damaged original is left as it is")
    rc, out, err = run("fsck", "--backups", bad, data=data)
    ok(rc == 1 and "no backup named holds a good copy" in out,
       "fsck --backups without --repair: none of those named holds it", out + err)
    ok(not lines_of(out, "rebuilt") and not lines_of(out, "not-rebuilt"),
       "and nothing is rebuilt without --repair")
    rc, out, err = run("fsck", "--repair", data=data)
    ok(rc == 1 and "--backups DIR" in out, "without --backups the line says how to find one", out)

    # restored from the good backup, a repair finishes the work
    shutil.copyfile(os.path.join(good, originals[rid][0]), orig)
    rc, out, err = run("fsck", "--repair", data=data)
    ok(rc == 0 and len(lines_of(out, "rebuilt")) == 1,
       "once the original is back, the copy is made", out + err)
    rc, out, err = run("fsck", data=data)
    ok(rc == 0, "and fsck is clean", out + err)
    ok(not [f for f in os.listdir(os.path.join(data, "media")) if f.startswith(".staging")],
       "no staging folder is left")


def main():
    tmp = tempfile.mkdtemp(prefix="parlers-repair-")
    try:
        tests(tmp)
    finally:
        if not os.environ.get("KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
