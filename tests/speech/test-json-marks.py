#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A machine-made tier through the project's own JSON: exported from one
archive and imported into a fresh one, it is still machine-made, with its
tool, its settings, and each segment's mark, confidence and doubt; it can
be reviewed there like any machine tier.  EAF has no such fields: the same
tier through EAF comes in as a person's.  A JSON file whose marks are
malformed is refused with one line, and nothing is imported.  The real
binary on real SQLite files.  Python standard library only; TAP."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import PARLERS, done, ok  # noqa: E402

DATA = os.path.join(os.environ.get("PARLERS_TESTS", "tests"), "speech", "data")
FLAC = os.path.join(DATA, "fr-prompts.flac")
TXT = os.path.join(DATA, "fr-prompts.txt")


def run(data, *args):
    p = subprocess.run([PARLERS, "-d", data] + list(args), capture_output=True, text=True,
                       timeout=600)
    return p.returncode, p.stdout, p.stderr


def fresh(tmp, name):
    """A new archive holding the test recording: (data folder, its id)."""
    data = os.path.join(tmp, name)
    run(data, "init")
    code, out, err = run(data, "ingest", "--json", FLAC)
    assert code == 0, err
    return data, json.loads(out.splitlines()[0])["id"]


def tier(data, rid, name):
    code, out, _ = run(data, "show", str(rid), "--json")
    if code != 0:
        return None
    return next((t for t in json.loads(out)["tiers"] if t["name"] == name), None)


def marks(t):
    """What a tier and its segments say of who made them."""
    return ({k: t.get(k) for k in ("origin", "origin_tool", "origin_settings")},
            [(s["start_ms"], s["end_ms"], s["text"], s.get("origin"), s.get("confidence"),
              s.get("doubtful")) for s in t["segments"]])


def main():
    tmp = tempfile.mkdtemp(prefix="parlers-json-marks-")
    src, rid = fresh(tmp, "src")
    code, out, err = run(src, "align", str(rid), TXT, "--tier", "aligned")
    ok(code == 0, "a tier made by forced alignment", err)
    made = tier(src, rid, "aligned")
    ok(made is not None and made.get("origin") == "machine" and made.get("origin_tool")
       and isinstance(made.get("origin_settings"), dict), "it carries the tool's marks",
       made and {k: made.get(k) for k in ("origin", "origin_tool", "origin_settings")})
    segs = made["segments"] if made else []
    ok(segs and all(s.get("origin") == "machine" for s in segs)
       and any(s.get("confidence") is not None for s in segs),
       "and each segment its mark and confidence")
    doubtful = sum(1 for s in segs if s.get("doubtful"))

    exported = os.path.join(tmp, "aligned.json")
    code, out, err = run(src, "annotations", "export", str(rid), "--format", "json",
                         "-o", exported)
    ok(code == 0, "exported as JSON", err)
    with open(exported, encoding="utf-8") as f:
        doc = json.load(f)
    jt = next((t for t in doc["tiers"] if t["name"] == "aligned"), {})
    ok(jt.get("origin") == "machine" and jt.get("origin_tool") == made["origin_tool"]
       and jt.get("origin_settings") == made["origin_settings"],
       "the JSON names the tier's tool and settings", jt.get("origin_settings"))

    dst, did = fresh(tmp, "dst")
    code, out, err = run(dst, "annotations", "import", str(did), exported)
    ok(code == 0, "imported into a fresh archive", err)
    back = tier(dst, did, "aligned")
    ok(back is not None and marks(back)[0] == marks(made)[0],
       "the tier is machine-made there, with its tool and settings",
       back and marks(back)[0])
    ok(back is not None and len(back["segments"]) == len(segs)
       and all(b[:4] == m[:4] and b[5] == m[5]
               and (b[4] is None) == (m[4] is None)
               and (m[4] is None or abs(b[4] - m[4]) <= 0.01)
               for b, m in zip(marks(back)[1], marks(made)[1])),
       "every segment keeps its mark, its confidence (%d doubtful)" % doubtful)
    code, out, err = run(dst, "accept", str(did), "--tier", "aligned")
    ok(code == 0, "the imported tier is reviewed like any machine tier", err)
    done_tier = tier(dst, did, "aligned")
    ok(done_tier is not None and done_tier.get("origin") is None
       and done_tier.get("origin_tool") == made["origin_tool"]
       and all(s.get("origin") is None for s in done_tier["segments"]),
       "after review: no mark, the tool kept as provenance")

    # EAF holds no such marks: the same tier comes in as a person's
    eaf = os.path.join(tmp, "aligned.eaf")
    code, out, err = run(src, "annotations", "export", str(rid), "--format", "eaf", "-o", eaf)
    other, oid = fresh(tmp, "eaf")
    code, out, err = run(other, "annotations", "import", str(oid), eaf)
    t = tier(other, oid, "aligned")
    ok(code == 0 and t is not None and t.get("origin") is None
       and all(s.get("origin") is None for s in t["segments"]),
       "through EAF the tier comes in unmarked", err)

    # malformed marks: one line, nothing imported
    for what, change in (
            ("an origin other than machine",
             lambda d: d["tiers"][0].__setitem__("origin", "person")),
            ("settings that are not an object",
             lambda d: d["tiers"][0].__setitem__("origin_settings", "fast")),
            ("a segment's origin that is a number",
             lambda d: d["tiers"][0]["segments"][0].__setitem__("origin", 1)),
            ("a confidence above 1",
             lambda d: d["tiers"][0]["segments"][0].__setitem__("confidence", 1.5)),
            ("a confidence that is text",
             lambda d: d["tiers"][0]["segments"][0].__setitem__("confidence", "high"))):
        bad = json.loads(json.dumps({**doc, "tiers": [dict(jt, segments=[dict(s) for s in
                                                                          jt["segments"]])]}))
        change(bad)
        path = os.path.join(tmp, "bad.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(bad, f)
        target, tid = fresh(tmp, "bad-" + str(abs(hash(what)) % 100000))
        code, out, err = run(target, "annotations", "import", str(tid), path)
        ok(code == 1 and len(err.strip().splitlines()) == 1
           and tier(target, tid, "aligned") is None,
           "%s: refused in one line, nothing imported" % what, err)

    shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
