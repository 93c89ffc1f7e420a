#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Schema migrations from every earlier version, with data: each archive
in tests/data/schema/schema-N.db (made by the parlers of that version,
see the README there; a new schema-N.db is picked up as it is added) is
opened by this binary and must come out at the newest version with every
row it held, a copy of it as it was kept as archive.db.before-vN, its
search finding the same segments, and its accounts logging in with their
old passwords.  A migration that fails half-way leaves the archive as it
was.  Real binary, real SQLite files, a real server.  Prints TAP."""
import glob
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import PARLERS, Server, done, ok, request  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(os.environ.get("PARLERS_TESTS", os.path.join(HERE, "..")), "data", "schema")
PASSWORD = "correct horse battery"  # the accounts' password in every fixture (make-fixture.sh)
# what the archive holds, table by table, compared row by row
TABLES = ("collections", "places", "speakers", "recordings", "recording_speakers",
          "recording_tags", "media_files", "tiers", "segments", "spelling_variants", "users",
          "withheld_spans", "institutions")


def run(*args, data=None):
    cmd = [PARLERS] + (["-d", data] if data else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def snapshot(db):
    """{table: {rowid: {column: value}}} of the tables in TABLES that db has,
    and its user_version."""
    con = sqlite3.connect(db)
    try:
        have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        out = {}
        for t in TABLES:
            if t not in have:
                continue
            cur = con.execute("SELECT rowid AS _rowid, * FROM %s" % t)
            cols = [c[0] for c in cur.description]
            out[t] = {r[0]: dict(zip(cols[1:], r[1:])) for r in cur}
        return out, con.execute("PRAGMA user_version").fetchone()[0]
    finally:
        con.close()


def lost(old, new):
    """What of old is not in new, as a few lines: a table, a row, or a
    column's value (columns a migration added are not looked at)."""
    why = []
    for t, rows in old.items():
        if t not in new:
            why.append("table %s is gone" % t)
            continue
        for rid, row in rows.items():
            got = new[t].get(rid)
            if got is None:
                why.append("%s row %d is gone" % (t, rid))
                continue
            for c, v in row.items():
                if c in got and got[c] != v:
                    why.append("%s row %d: %s was %r, is %r" % (t, rid, c, v, got[c]))
                elif c not in got:
                    why.append("%s: column %s is gone" % (t, c))
    return why


def latest_version(tmp):
    rc, out, err = run("init", data=os.path.join(tmp, "fresh"))
    m = re.search(r"schema version (\d+)", out + err)
    return int(m.group(1)) if rc == 0 and m else None


def search_ids(data, q):
    rc, out, err = run("search", "--json", "--limit", "100", q, data=data)
    if rc != 0:
        return None
    return sorted(h["segment_id"] for h in json.loads(out)["hits"])


def can_log_in(data, login):
    srv = Server(data)
    try:
        st, _, body = request(srv.port, "POST", "/api/login", {"Content-Type": "application/json"},
                              json.dumps({"login": login, "password": PASSWORD}))
        return st, body
    finally:
        srv.stop()


def check_fixture(tmp, path, version, latest):
    name = os.path.basename(path)
    data = os.path.join(tmp, name + ".d")
    os.mkdir(data)
    db = os.path.join(data, "archive.db")
    shutil.copyfile(path, db)
    old, v = snapshot(path)
    ok(v == version, "%s is at schema version %d" % (name, version), v)
    rc, out, err = run("list", "--json", data=data)
    ok(rc == 0, "%s: opened by this parlers (list)" % name, err)
    new, nv = snapshot(db)
    ok(nv == latest, "%s: now at schema version %d" % (name, latest), nv)
    why = lost(old, new)
    ok(not why, "%s: every row it held is there (%s)" % (
        name, ", ".join("%d %s" % (len(old[t]), t) for t in old if old[t])), "\n".join(why))
    before = db + ".before-v%d" % version
    if version < latest:
        ok(os.path.exists(before), "%s: archive.db.before-v%d kept" % (name, version))
        kept, kv = snapshot(before) if os.path.exists(before) else ({}, None)
        ok(kv == version and kept == old, "%s: the kept copy is the archive as it was" % name)
        ok(not os.path.exists(before + ".tmp"), "%s: no temporary copy left" % name)
        st = os.stat(before)
        rc, _, err = run("list", data=data)
        ok(rc == 0 and os.stat(before).st_mtime_ns == st.st_mtime_ns and
           not glob.glob(db + ".before-v%d" % latest),
           "%s: opened again, nothing more is copied" % name, err)
    else:
        ok(not glob.glob(db + ".before-*"), "%s: at the newest version, no copy is made" % name)
    expected = path[:-len(".db")] + ".search.json"
    if os.path.exists(expected):
        with open(expected) as f:
            queries = json.load(f)
        got = {q: search_ids(data, q) for q in queries}
        ok(got == queries, "%s: search finds the same segments for %s" % (name, ", ".join(queries)),
           json.dumps({"expected": queries, "found": got}))
    elif "segments" in old and old["segments"]:
        # a version without search: each segment is found by a word of its own
        words = {}
        for sid, row in old["segments"].items():
            w = max(re.findall(r"\w{5,}", row["text"] or ""), key=len, default=None)
            if w and len(words) < 5:
                words[w] = sid
        missed = [w for w, sid in words.items() if sid not in (search_ids(data, w) or [])]
        ok(words and not missed, "%s: its segments are in the search index (%s)" %
           (name, ", ".join(words)), missed)
    if "users" in old and old["users"]:
        login = sorted(r["login"] for r in old["users"].values())[0]
        st, body = can_log_in(data, login)
        ok(st == 200, "%s: %s logs in with the password set before the upgrade" % (name, login),
           body)
    rc, out, err = run("fsck", data=data)
    ok("leftover" not in out, "%s: nothing of the upgrade is left over" % name, out)


def check_failure(tmp, path, version):
    """A migration made to fail half-way (a table it creates is there
    already) leaves the archive as it was, at its version."""
    name = os.path.basename(path)
    data = os.path.join(tmp, name + ".fail")
    os.mkdir(data)
    db = os.path.join(data, "archive.db")
    shutil.copyfile(path, db)
    con = sqlite3.connect(db)
    have = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    # the newest of the tables this test knows that the old version lacks
    missing = [t for t in TABLES if t not in have]
    if not missing:
        con.close()
        return False
    con.execute("CREATE TABLE %s (x)" % missing[-1])
    con.commit()
    con.close()
    old, _ = snapshot(db)
    schema_before = sorted(sqlite3.connect(db).execute("SELECT type, name, sql FROM sqlite_master"))
    rc, out, err = run("list", data=data)
    new, nv = snapshot(db)
    schema_after = sorted(sqlite3.connect(db).execute("SELECT type, name, sql FROM sqlite_master"))
    ok(rc != 0 and err.count("\n") == 1 and "upgrading the schema" in err,
       "%s with a %s table in the way: the upgrade fails in one line" % (name, missing[-1]), err)
    ok(nv == version and new == old and schema_after == schema_before,
       "%s: the failed upgrade left the archive as it was (version %d)" % (name, version), nv)
    return True


def check_no_copy(tmp, path, version):
    """When the copy of the old database cannot be written, nothing is
    upgraded."""
    name = os.path.basename(path)
    data = os.path.join(tmp, name + ".nocopy")
    os.mkdir(data)
    db = os.path.join(data, "archive.db")
    shutil.copyfile(path, db)
    os.mkdir(db + ".before-v%d.tmp" % version)  # where the copy is written first
    old, _ = snapshot(db)
    rc, out, err = run("list", data=data)
    new, nv = snapshot(db)
    ok(rc != 0 and err.count("\n") == 1 and "before the upgrade" in err,
       "%s: a copy that cannot be written stops the upgrade, in one line" % name, err)
    ok(nv == version and new == old and not os.path.exists(db + ".before-v%d" % version),
       "%s: and the archive is left as it was" % name, nv)


def main():
    tmp = tempfile.mkdtemp(prefix="parlers-migrate-")
    try:
        latest = latest_version(tmp)
        ok(latest is not None, "this parlers tells its schema version (%s)" % latest)
        fixtures = []
        for p in glob.glob(os.path.join(FIXTURES, "schema-*.db")):
            m = re.match(r"schema-(\d+)\.db$", os.path.basename(p))
            if m:
                fixtures.append((int(m.group(1)), p))
        fixtures.sort()
        ok(len(fixtures) >= 8 and [v for v, _ in fixtures] == list(range(1, len(fixtures) + 1)),
           "a fixture for every version from 1 (%d found)" % len(fixtures),
           [v for v, _ in fixtures])
        ok(fixtures and fixtures[-1][0] <= latest,
           "no fixture is newer than this parlers (%d)" % latest)
        for v, p in fixtures:
            if v <= latest:
                check_fixture(tmp, p, v, latest)
        failed = 0
        for v, p in fixtures:
            if v < latest and check_failure(tmp, p, v):
                failed += 1
        ok(failed >= 1, "a failed upgrade was tried (%d versions)" % failed)
        older = [(v, p) for v, p in fixtures if v < latest]
        if older:
            check_no_copy(tmp, older[-1][1], older[-1][0])
    finally:
        if not os.environ.get("KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
