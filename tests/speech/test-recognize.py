#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""parlers recognize as an operator meets it: the real binary, a fresh data
folder with a "recognizers" file, a real recognizer Debian packages
(PocketSphinx with its US English model, behind scripts/recognizers/
pocketsphinx-vtt) on real English speech (tests/speech/data/en-librivox),
its plain text aligned, and the recognizers that go wrong: one that hangs
(killed at its timeout), one that fails, one that writes garbage, one that
writes nothing, a broken recognizers file.  Each failure is a one-line
message, no tier and no file left behind.  Prints TAP."""
import json
import os
import shutil
import subprocess
import tempfile

PARLERS = os.environ.get("PARLERS", "build/cli/parlers")
TESTS = os.environ.get("PARLERS_TESTS", "tests")
DATA = os.path.join(TESTS, "speech", "data")
WRAPPER = os.path.abspath(os.path.join(TESTS, "..", "scripts", "recognizers",
                                       "pocketsphinx-vtt"))
n = 0
failed = 0


def ok(cond, what):
    global n, failed
    n += 1
    if not cond:
        failed += 1
    print(("ok" if cond else "not ok") + f" {n} - {what}", flush=True)
    return cond


def skip(what, why):
    global n
    n += 1
    print(f"ok {n} - {what} # SKIP {why}", flush=True)


def diag(msg):
    for line in str(msg).splitlines():
        print("# " + line, flush=True)


def run(data, *args, env=None, timeout=900):
    p = subprocess.run([PARLERS, "-d", data] + list(args), capture_output=True, text=True,
                       timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


def one_line_error(err):
    return err.count("\n") == 1 and err.startswith("parlers: ")


def tiers(data, rid):
    code, out, _ = run(data, "show", str(rid), "--json")
    return {t["name"]: t for t in json.loads(out)["tiers"]} if code == 0 else {}


def words(s):
    return [w for w in s.lower().replace("'", " ").split() if w]


def main():
    tmp = tempfile.mkdtemp(prefix="parlers-recognize-test-")
    data = os.path.join(tmp, "data")
    scratch = os.path.join(tmp, "scratch")
    os.mkdir(scratch)
    env = dict(os.environ, TMPDIR=scratch)
    run(data, "init")
    code, out, err = run(data, "ingest", "--json", os.path.join(DATA, "en-librivox.flac"))
    rid = json.loads(out.splitlines()[0])["id"]
    ok(code == 0, "the English recording is ingested")

    code, out, err = run(data, "recognize", str(rid), "--with", "ps")
    ok(code == 1 and one_line_error(err) and "no recognizer 'ps'" in err,
       "without a recognizers file no recognizer is declared: " + err.strip())

    fixed = os.path.join(tmp, "fixed.json")
    with open(fixed, "w") as f:
        json.dump({"segments": [{"start": 1.0, "end": 2.5, "text": " hello "},
                                {"start": 2.4, "end": 4, "text": "world"},
                                {"start": 5, "end": 6, "text": ""},
                                {"start": 30.5, "end": 99, "text": "past the end"}]}, f)
    whisper = os.path.join(tmp, "whisper.json")
    with open(whisper, "w") as f:
        json.dump({"transcription": [{"offsets": {"from": 800, "to": 7200},
                                      "text": " and mister john dashwood"}]}, f)
    with open(os.path.join(data, "recognizers"), "w") as f:
        f.write(f"""# recognizers of the test archive
[pocketsphinx]
command = {WRAPPER} {{wav}} -fwdflat no -bestpath no
language = en

[pocketsphinx-text]
; plain text, one utterance a line: parlers aligns it
command = pocketsphinx_continuous -infile {{wav}} -logfn /dev/null -fwdflat no -bestpath no
format = text
language = en

[fixed]
command = test -s {{wav}} && cat '{fixed}'

[whisper]
command = cat '{whisper}' # {{wav}}
format = json

[hangs]
command = sleep 60; echo never # {{wav}}
timeout = 2

[fails]
command = echo 'model not found: /opt/models/x.bin' >&2; exit 3 # {{wav}}

[garbage]
command = head -c 4000 /dev/urandom # {{wav}}

[broken-vtt]
command = printf 'WEBVTT\\n\\n00:00:01.000 --> 00:00:0x\\nhello\\n' # {{wav}}
format = vtt

[silent]
command = true {{wav}}

[leaves-files]
command = touch {{wav}}.json && echo 'one line of text' # {{wav}}
language = en
""")

    code, out, err = run(data, "recognize", "--list")
    ok(code == 0 and [l.split("\t")[0] for l in out.splitlines()][:3] ==
       ["pocketsphinx", "pocketsphinx-text", "fixed"], "--list names the declared recognizers")

    # timed JSON: kept as it came, overlaps cut, empty texts dropped, the end clipped
    code, out, err = run(data, "recognize", str(rid), "--with", "fixed", "--json", env=env)
    ok(code == 0, "a recognizer writing JSON segments: " + err.strip())
    res = json.loads(out) if code == 0 else {"segments": []}
    ok([(s["start_ms"], s["end_ms"], s["text"]) for s in res["segments"]] ==
       [(1000, 2500, "hello"), (2500, 4000, "world"), (30500, 31060, "past the end")]
       or [(s["start_ms"], s["text"]) for s in res["segments"]] ==
       [(1000, "hello"), (2500, "world"), (30500, "past the end")],
       "its times are kept, an overlap cut, an empty cue dropped, the end kept within the "
       "recording")
    t = tiers(data, rid).get("fixed")
    ok(t and t["origin"] == "machine" and t["origin_tool"] == "fixed" and
       t["origin_settings"]["format"] == "json" and not t["origin_settings"]["aligned"],
       "the tier is machine-made, by the recognizer's name, with how its output was read")
    ok(t and all(s["origin"] == "machine" for s in t["segments"]), "each segment is marked")
    code, out, err = run(data, "recognize", str(rid), "--with", "fixed", env=env)
    ok(code == 1 and one_line_error(err) and "--replace" in err,
       "a second run without --replace is refused")
    code, out, err = run(data, "recognize", str(rid), "--with", "fixed", "--replace",
                         "--tier", "fixed", env=env)
    ok(code == 0 and len(out.splitlines()) == 3, "--replace replaces it")
    code, out, err = run(data, "recognize", str(rid), "--with", "whisper", "--tier", "w",
                         "--json", env=env)
    ok(code == 0 and json.loads(out)["segments"][0]["start_ms"] == 800,
       "whisper.cpp's JSON (transcription, offsets in ms) is read")

    # the ones that go wrong
    before = set(tiers(data, rid))
    cases = [("hangs", "did not finish within 2 s"),
             ("fails", "failed (exit status 3): model not found"),
             ("garbage", "not text"),
             ("broken-vtt", "WebVTT"),
             ("silent", "wrote no text")]
    for name, says in cases:
        code, out, err = run(data, "recognize", str(rid), "--with", name, env=env)
        ok(code == 1 and one_line_error(err) and says in err and "no tier made" in err,
           f"recognizer '{name}': " + err.strip())
    code, out, err = run(data, "recognize", str(rid), "--with", "hangs", "--timeout", "1",
                         env=env)
    ok(code == 1 and "within 1 s" in err, "--timeout overrides the declared one")
    ok(set(tiers(data, rid)) == before, "no tier is left by any of them")
    code, out, err = run(data, "recognize", str(rid), "--with", "leaves-files", "--tier", "l",
                         env=env)
    ok(code == 0, "plain text is aligned: " + err.strip())
    ok(os.listdir(scratch) == [], "no temporary file is left behind, whatever the recognizer "
       "wrote beside its audio")
    code, out, err = run(data, "recognize", "999", "--with", "fixed", env=env)
    ok(code == 1 and one_line_error(err), "an unknown recording: " + err.strip())
    code, out, err = run(data, "recognize", str(rid))
    ok(code == 2, "--with is needed")

    # a broken recognizers file
    good = open(os.path.join(data, "recognizers")).read()
    for text, says in [("[x]\ncommand = run it\n", "{wav}"),
                       ("command = x {wav}\n", "line 1"),
                       ("[x]\ncommand = x {wav}\ntimeout = soon\n", "line 3"),
                       ("[x]\ncommand = x {wav}\nmodel = big\n", "unknown key"),
                       ("[x]\nformat = vtt\n", "no command"),
                       ("[x y]\ncommand = x {wav}\n", "not a name")]:
        with open(os.path.join(data, "recognizers"), "w") as f:
            f.write(text)
        code, out, err = run(data, "recognize", str(rid), "--with", "x")
        ok(code == 1 and one_line_error(err) and says in err,
           "a broken recognizers file is named with its line: " + err.strip())
    with open(os.path.join(data, "recognizers"), "w") as f:
        f.write(good)

    # PocketSphinx, a real recognizer, on real English speech
    if not shutil.which("pocketsphinx_continuous") or \
            not os.path.isdir("/usr/share/pocketsphinx/model/en-us"):
        for what in ("pocketsphinx as WebVTT", "pocketsphinx's words", "pocketsphinx's times",
                     "pocketsphinx's text aligned"):
            skip(what, "pocketsphinx and pocketsphinx-en-us are not installed")
    else:
        ref = [l.rstrip("\n").split("\t") for l in
               open(os.path.join(DATA, "en-librivox.ref.tsv"), encoding="utf-8")]
        code, out, err = run(data, "recognize", str(rid), "--with", "pocketsphinx", "--json",
                             env=env)
        ok(code == 0, "pocketsphinx through its WebVTT wrapper: " + err.strip())
        segs = json.loads(out)["segments"] if code == 0 else []
        said = set(w for r in ref for w in words(r[2]))
        heard = [w for s in segs for w in words(s["text"])]
        share = sum(w in said for w in heard) / max(1, len(heard))
        diag(f"{len(segs)} cues; {share:.0%} of the words heard are in the reference")
        ok(len(segs) == len(ref) and share >= 0.6,
           "one cue per utterance, most of its words the reader's")
        starts = [abs(s["start_ms"] - int(r[0])) for s, r in zip(segs, ref)]
        diag(f"cue starts off by {starts} ms")
        ok(len(starts) == len(ref) and max(starts) <= 1000,
           "each cue starts within a second of its utterance")
        code, out, err = run(data, "recognize", str(rid), "--with", "pocketsphinx-text",
                             "--json", env=env)
        res = json.loads(out) if code == 0 else {"segments": [], "settings": {}}
        ok(code == 0 and len(res["segments"]) == len(ref) and
           res["settings"].get("aligned") is True and
           all("confidence" in s for s in res["segments"]) and
           res["settings"]["alignment"]["language"] == "en",
           "pocketsphinx's plain text is aligned with the English voice, each line with a "
           "confidence: " + err.strip())
    ok(os.listdir(scratch) == [], "still no temporary file left")
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
