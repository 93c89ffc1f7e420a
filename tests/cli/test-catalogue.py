#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The catalogue's commands against the real binary (issue 18): edit,
delete, restore-deleted, trash, purge-trash, speaker and place, their
exit statuses (0, 1 with one line on stderr, 2 for usage) and --json.

Python standard library only; TAP.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import CORPUS, PARLERS, done, ok  # noqa: E402


def run(data, *args):
    return subprocess.run([PARLERS, "-d", data] + list(args), capture_output=True, text=True)


def one_line_error(r, status=1):
    return r.returncode == status and r.stderr.count("\n") >= 1 and r.stdout == ""


def main():
    tmp = tempfile.mkdtemp(prefix="parlers-test-cli-catalogue-")
    data = os.path.join(tmp, "data")
    try:
        run_all(data)
    except Exception:  # a crash is a failed test, not a lost plan
        import traceback
        ok(False, "the tests ran to the end", traceback.format_exc())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


def show(data, rid):
    r = run(data, "show", str(rid), "--json")
    return json.loads(r.stdout) if r.returncode == 0 else None


def run_all(data):
    ok(run(data, "init").returncode == 0, "init")
    r = run(data, "ingest", "--json", "--access", "public", CORPUS)
    ids = {os.path.basename(x["path"]).rsplit(".", 1)[0]: x["id"]
           for x in map(json.loads, r.stdout.splitlines())}
    rid = ids["cotentin-1977-les-hitres"]

    for cmd in ["edit", "delete", "restore-deleted", "trash", "purge-trash", "speaker", "place"]:
        r = run(data, cmd, "--help")
        ok(r.returncode == 0 and r.stdout.startswith("usage: parlers"), "%s --help" % cmd)

    # edit
    r = run(data, "edit", str(rid), "--set", "title=Les hîtres, corrigé",
            "--set", "keywords=huîtres, pêche", "--set", "date=1977-07")
    ok(r.returncode == 0 and r.stdout == "recording %d: version 2\n" % rid,
       "edit prints the new version", r.stdout + r.stderr)
    rec = show(data, rid)
    ok(rec["title"] == "Les hîtres, corrigé" and rec["keywords"] == ["huîtres", "pêche"]
       and rec["date"] == "1977-07", "show gives the corrected fields")
    r = run(data, "edit", str(rid), "--set", "description=", "--json")
    ok(r.returncode == 0 and json.loads(r.stdout)["description"] is None,
       "an empty VALUE clears a field; --json prints the recording", r.stdout[:200])
    r = run(data, "edit", str(rid), "--set", "date=juillet 1977")
    ok(one_line_error(r) and "field 'date' must be YYYY, YYYY-MM or YYYY-MM-DD" in r.stderr,
       "a malformed date: exit 1 with the sidecar's sentence", r.stderr)
    r = run(data, "edit", str(rid), "--version", "1", "--set", "title=x")
    ok(one_line_error(r) and "changed since version 1" in r.stderr,
       "an edit from an old version: exit 1", r.stderr)
    r = run(data, "edit", str(rid), "--set", "speakers=Marie-Louise Hamel, Marie Lecanu",
            "--set", "place={\"name\": \"Val de Saire\", \"commune\": \"Réville\"}")
    rec = show(data, rid)
    ok(r.returncode == 0 and [s["name"] for s in rec["speakers"]]
       == ["Marie-Louise Hamel", "Marie Lecanu"] and rec["place"]["commune"] == "Réville",
       "speakers as a list of names, place as JSON", r.stderr)
    for args, what in [([str(rid)], "no --set"), (["--set", "title=x"], "no id"),
                       (["x", "--set", "title=x"], "an id that is no number"),
                       ([str(rid), "--set", "title"], "--set without ="),
                       ([str(rid), "--bogus"], "an unknown option")]:
        r = run(data, "edit", *args)
        ok(r.returncode == 2, "edit with %s: exit 2" % what, r.stderr)
    r = run(data, "edit", "99999", "--set", "title=x")
    ok(one_line_error(r), "edit of an unknown recording: exit 1", r.stderr)

    # speakers and places
    r = run(data, "speaker", "list", "--json")
    sp = {s["name"]: s for s in json.loads(r.stdout)["speakers"]}
    ok(r.returncode == 0 and sp["Marie-Louise Hamel"]["recordings"] == 2, "speaker list --json")
    a, b = sp["Marie Lecanu"]["id"], sp["Marie-Louise Hamel"]["id"]
    r = run(data, "speaker", "merge", str(a), str(a))
    ok(one_line_error(r) and "itself" in r.stderr, "speaker merge with itself: exit 1", r.stderr)
    r = run(data, "speaker", "merge", str(a), str(b))
    ok(r.returncode == 0 and json.loads(r.stdout)["id"] == b, "speaker merge FROM INTO", r.stderr)
    ok([s["name"] for s in show(data, rid)["speakers"]] == ["Marie-Louise Hamel"],
       "the recording of both names the speaker kept once")
    r = run(data, "speaker", "edit", str(b), "--set", "pseudonym=Informatrice H",
            "--set", "birth_year=1911")
    ok(r.returncode == 0 and json.loads(r.stdout)["birth_year"] == 1911, "speaker edit", r.stderr)
    r = run(data, "list", "--json", "--public")
    names = [s["name"] for x in json.loads(r.stdout)["recordings"] for s in x["speakers"]]
    ok("Marie-Louise Hamel" not in names and "Informatrice H" in names,
       "list --public names the speaker by the pseudonym only", names)
    r = run(data, "speaker", "list")
    ok(r.returncode == 0 and "Marie-Louise Hamel\t(shown as Informatrice H)" in r.stdout,
       "speaker list names the pseudonym beside the name", r.stdout)
    r = run(data, "speaker", "frobnicate")
    ok(r.returncode == 2, "speaker with an unknown verb: exit 2")
    r = run(data, "place", "list", "--json")
    pl = json.loads(r.stdout)["places"]
    caux = [p["id"] for p in pl if p["name"] == "Pays de Caux"]
    ok(r.returncode == 0 and len(caux) == 2, "place list --json: two records of Pays de Caux")
    r = run(data, "place", "merge", str(caux[1]), str(caux[0]))
    ok(r.returncode == 0 and json.loads(r.stdout)["recordings"] == 3, "place merge", r.stderr)
    other = ids["caux-1981-le-bere-et-les-pommiers"]
    r = run(data, "edit", str(other), "--set", "place=Val de Saire")
    rec = show(data, other)
    ok(r.returncode == 0 and rec["place"]["name"] == "Val de Saire"
       and rec["place"]["commune"] == "Saint-Vaast-la-Hougue",
       "a place named alone is the known place of that name, not a new one", rec["place"])
    r = run(data, "place", "edit", str(caux[0]), "--set", "lat=91", "--set", "lon=0")
    ok(one_line_error(r), "place edit with a latitude out of range: exit 1", r.stderr)

    # delete, trash, restore-deleted, purge-trash
    r = run(data, "delete", str(rid))
    ok(r.returncode == 2, "delete without --reason: exit 2", r.stderr)
    r = run(data, "delete", str(rid), "--reason", "doublon")
    ok(r.returncode == 0, "delete ID --reason", r.stderr)
    ok(show(data, rid) is None, "show: the recording is gone")
    r = run(data, "trash", "--json")
    ok([t["id"] for t in json.loads(r.stdout)["trash"]] == [rid], "trash --json lists it")
    r = run(data, "trash")
    ok(r.returncode == 0 and r.stdout.startswith("%d\t" % rid) and r.stdout.rstrip().endswith("\tdoublon"),
       "trash: one line per recording", r.stdout)
    r = run(data, "delete", str(rid), "--reason", "again")
    ok(one_line_error(r), "deleting it again: exit 1", r.stderr)
    r = run(data, "restore-deleted", str(rid), "--json")
    ok(r.returncode == 0 and json.loads(r.stdout)["id"] == rid and show(data, rid),
       "restore-deleted brings it back", r.stderr)
    r = run(data, "restore-deleted", str(rid))
    ok(one_line_error(r) and "not in the trash" in r.stderr, "restoring it twice: exit 1", r.stderr)
    run(data, "delete", str(rid), "--reason", "fin")
    r = run(data, "purge-trash", "--days", "0", "--json")
    ok(r.returncode == 0 and json.loads(r.stdout) == {"id": rid, "title": "Les hîtres, corrigé",
                                                      "purged": True},
       "purge-trash --days 0 --json", r.stdout + r.stderr)
    r = run(data, "fsck")
    ok(r.returncode == 0, "fsck is clean after the purge", r.stdout + r.stderr)
    r = run(data, "purge-trash", "--days", "x")
    ok(r.returncode == 2, "purge-trash --days x: exit 2")


if __name__ == "__main__":
    sys.exit(main())
