#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""parlers segment and parlers align as their users meet them: the real
binary, a fresh data folder, real speech (tests/speech/data), and the bad
inputs of issue 14 (an empty, binary or oversized transcript, an unknown
language, silence, music, more lines than the recording holds), each a
one-line message and no tier, or a whole tier.  Prints TAP."""
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import wave

PARLERS = os.environ.get("PARLERS", "build/cli/parlers")
DATA = os.path.join(os.environ.get("PARLERS_TESTS", "tests"), "speech", "data")
n = 0
failed = 0


def ok(cond, what):
    global n, failed
    n += 1
    if not cond:
        failed += 1
    print(("ok" if cond else "not ok") + f" {n} - {what}", flush=True)
    return cond


def diag(msg):
    for line in str(msg).splitlines():
        print("# " + line, flush=True)


def run(*args, data=None):
    cmd = [PARLERS] + (["-d", data] if data else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


def one_line_error(err):
    return err.count("\n") == 1 and err.startswith("parlers: ")


def tiers(data, rid):
    code, out, _ = run("show", str(rid), "--json", data=data)
    return {t["name"]: t for t in json.loads(out)["tiers"]} if code == 0 else {}


def write_wav(path, samples, rate=16000):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", max(-32767, min(32767, int(v * 32767))))
                               for v in samples))


def main():
    tmp = tempfile.mkdtemp(prefix="parlers-speech-cli-")
    data = os.path.join(tmp, "data")
    run("init", data=data)
    code, out, err = run("ingest", "--json", os.path.join(DATA, "fr-prompts.flac"), data=data)
    rid = json.loads(out.splitlines()[0])["id"]
    ok(code == 0, "the French recording is ingested")

    # segmentation
    code, out, err = run("segment", str(rid), "--json", data=data)
    ok(code == 0, "segment succeeds")
    res = json.loads(out)
    segs = res["segments"]
    ok(18 <= len(segs) <= 30, f"one segment per stretch of speech ({len(segs)} for 21)")
    ok(all(a["end_ms"] <= b["start_ms"] for a, b in zip(segs, segs[1:])), "in order, apart")
    ok(res["settings"] == {"min_pause_ms": 200, "min_speech_ms": 120, "threshold_db": 8.0},
       "the settings it used are said")
    t = tiers(data, rid).get("segments")
    ok(t and t["origin"] == "machine" and t["origin_tool"] == "parlers segment",
       "the tier is marked as made by a machine, with the tool")
    ok(t and all(s["text"] == "" and s["origin"] == "machine" for s in t["segments"]),
       "each segment has empty text and the mark")
    code, out, err = run("segment", str(rid), data=data)
    ok(code == 1 and one_line_error(err) and "--replace" in err,
       "a second run without --replace is refused: " + err.strip())
    code, out, err = run("segment", str(rid), "--replace", "--min-pause", "1000",
                         "--tier", "segments", data=data)
    ok(code == 0, "--replace with a longer --min-pause")
    t2 = tiers(data, rid)["segments"]
    ok(len(t2["segments"]) < len(segs), "longer pauses only: fewer segments "
       f"({len(t2['segments'])} < {len(segs)})")
    ok(t2["origin_settings"]["min_pause_ms"] == 1000, "the tier keeps the new settings")
    code, out, err = run("segment", str(rid), "--threshold", "0.1", data=data)
    ok(code == 2, "a threshold out of range is a usage error")
    code, out, err = run("segment", "999", data=data)
    ok(code == 1 and one_line_error(err), "an unknown recording: " + err.strip())

    # alignment
    txt = os.path.join(DATA, "fr-prompts.txt")
    code, out, err = run("align", str(rid), txt, "--json", data=data)
    ok(code == 0, "align succeeds")
    res = json.loads(out)
    lines = [l.strip() for l in open(txt, encoding="utf-8") if l.strip()]
    ok([s["text"] for s in res["segments"]] == lines, "exactly the file's lines, in order")
    ok(all(0 <= s["confidence"] <= 1 for s in res["segments"]), "each with a confidence")
    ref = [tuple(map(int, l.split("\t")[:2])) for l in open(os.path.join(DATA,
                                                                      "fr-prompts.ref.tsv"))]
    errs = sorted(abs(s["start_ms"] - r[0]) for s, r in zip(res["segments"], ref)) + \
        sorted(abs(s["end_ms"] - r[1]) for s, r in zip(res["segments"], ref))
    errs.sort()
    diag(f"boundary errors: median {errs[len(errs) // 2]} ms, worst {errs[-1]} ms")
    ok(errs[len(errs) // 2] <= 75 and errs[-1] <= 1000, "the boundaries are where the lines are said")
    t = tiers(data, rid).get("aligned")
    ok(t and t["origin"] == "machine" and t["origin_settings"]["language"] == "fr",
       "the aligned tier is marked, with its language")
    ok(t and all("confidence" in s and "doubtful" in s for s in t["segments"]),
       "the recording JSON keeps confidence and doubt per segment")
    code, out, err = run("annotations", "export", str(rid), "--format", "eaf", data=data)
    ok(code == 0 and 'ANNOTATOR="parlers align (machine, not reviewed)"' in out,
       "the EAF export names the machine as the tier's annotator")

    code, out, err = run("annotations", "export", str(rid), "--format", "json", data=data)
    exp = json.loads(out) if code == 0 else {}
    jt = [t for t in exp.get("tiers", []) if t["name"] == "aligned"]
    ok(jt and jt[0]["annotator"] == "parlers align (machine, not reviewed)" and
       all(s.get("origin") == "machine" and "confidence" in s for s in jt[0]["segments"]),
       "the JSON export keeps the mark on the tier and on each segment")

    # --retime: the texts of a tier placed again, in place
    code, out, err = run("align", str(rid), "--retime", "aligned", data=data)
    ok(code == 0 and len(out.splitlines()) == len(lines), "--retime re-places a tier's texts")
    ok(len(tiers(data, rid)["aligned"]["segments"]) == len(lines), "and replaces that tier")

    # a transcript with a BOM and CRLF
    crlf = os.path.join(tmp, "crlf.txt")
    with open(crlf, "wb") as f:
        f.write(b"\xef\xbb\xbf" + b"\r\n\r\n".join(l.encode() for l in lines) + b"\r\n")
    code, out, err = run("align", str(rid), crlf, "--tier", "crlf", "--json", data=data)
    ok(code == 0 and [s["text"] for s in json.loads(out)["segments"]] == lines,
       "BOM, CRLF and blank lines: the same lines")

    # bad input: a one-line message, no tier
    before = sorted(tiers(data, rid))
    empty = os.path.join(tmp, "empty.txt")
    open(empty, "w").close()
    binary = os.path.join(tmp, "binary.txt")
    with open(binary, "wb") as f:
        f.write(bytes(range(256)) * 4)
    many = os.path.join(tmp, "many.txt")
    with open(many, "w") as f:
        f.write("\n".join(["et puis il est venu nous voir à la maison"] * 3000))
    for what, args in [("an empty file", [empty]), ("a binary file", [binary]),
                       ("a missing file", [os.path.join(tmp, "none.txt")]),
                       ("more lines than the recording holds", [many]),
                       ("an unknown language", [txt, "--language", "qq-zz"])]:
        code, out, err = run("align", str(rid), *args, "--tier", "bad", data=data)
        ok(code == 1 and one_line_error(err), f"{what}: {err.strip()}")
    ok(sorted(tiers(data, rid)) == before, "and no tier was made by any of them")

    # silence and music
    silence = os.path.join(tmp, "silence.wav")
    write_wav(silence, [0.0] * 16000 * 5)
    music = os.path.join(tmp, "music.wav")
    notes = [261.6, 329.6, 392.0, 523.3, 440.0, 349.2]
    write_wav(music, [0.3 * math.sin(2 * math.pi * notes[(i // 4000) % 6] * i / 16000) *
                      (0.6 + 0.4 * math.sin(2 * math.pi * 3 * i / 16000))
                      for i in range(16000 * 12)])
    code, out, _ = run("ingest", "--json", silence, music, data=data)
    ids = [json.loads(l)["id"] for l in out.splitlines()]
    code, out, err = run("segment", str(ids[0]), data=data)
    ok(code == 1 and one_line_error(err) and "no speech" in err, "silence: " + err.strip())
    code, out, err = run("align", str(ids[0]), txt, data=data)
    ok(code == 1 and one_line_error(err), "silence: " + err.strip())
    ok(tiers(data, ids[0]) == {}, "no tier on the silent recording")
    short = os.path.join(tmp, "short.txt")
    with open(short, "w") as f:
        f.write("\n".join(lines[:4]) + "\n")
    code, out, err = run("align", str(ids[1]), short, "--json", data=data)
    diag("music: " + (out[:300] if code == 0 else err.strip()))
    if code == 0:
        segs = json.loads(out)["segments"]
        ok(len(segs) == 4 and sum(s["doubtful"] for s in segs) >= 3,
           "music: a whole tier, its lines doubtful")
    else:
        ok(one_line_error(err), "music: " + err.strip())
    t = tiers(data, ids[1])
    ok(not t or len(t["aligned"]["segments"]) == 4, "music: no tier or a whole one")

    subprocess.run(["rm", "-rf", tmp])
    print(f"1..{n}")
    return 1 if failed else 0


sys.exit(main())
