#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The command line as its users meet it: the real binary on the sample
corpus and on broken files, in a fresh data folder.  Prints TAP.

Loudness is checked against an independent meter (ffmpeg's ebur128
filter) and the access copies are checked with ffprobe."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

PARLERS = os.environ.get("PARLERS", "build/cli/parlers")
CORPUS = os.environ.get("PARLERS_CORPUS", "corpus")
n = 0
failed = 0


def ok(cond, what):
    """One TAP line.  A description that carries a command's output may
    hold several lines: the first stays on the TAP line, the others follow
    as comments, so that none reaches the TAP reader as a stray line."""
    global n, failed
    n += 1
    if not cond:
        failed += 1
    first, _, rest = str(what).partition("\n")
    print(("ok" if cond else "not ok") + f" {n} - {first}", flush=True)
    if rest:
        diag(rest)
    return cond


def diag(msg):
    for line in str(msg).splitlines():
        print("# " + line, flush=True)


def run(*args, data=None, stdin=None):
    cmd = [PARLERS] + (["-d", data] if data else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, input=stdin, timeout=600)
    return p.returncode, p.stdout, p.stderr


def ebur128(path):
    """Integrated loudness and true peak as ffmpeg measures them."""
    p = subprocess.run(["ffmpeg", "-nostats", "-hide_banner", "-i", path, "-af",
                        "ebur128=peak=true", "-f", "null", "-"],
                       capture_output=True, text=True, timeout=300)
    i = re.findall(r"I:\s+(-?[\d.]+|-inf) LUFS", p.stderr)
    tp = re.findall(r"Peak:\s+(-?[\d.]+|-inf) dBFS", p.stderr)
    return (float(i[-1]) if i else None, float(tp[-1]) if tp else None)


def probe(path):
    p = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format",
                        "-of", "json", path], capture_output=True, text=True)
    return json.loads(p.stdout) if p.returncode == 0 else None


def main():
    tmp = tempfile.mkdtemp(prefix="parlers-cli-")
    data = os.path.join(tmp, "data")
    try:
        tests(tmp, data)
    finally:
        if not os.environ.get("KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"1..{n}")
    return 1 if failed else 0


def tests(tmp, data):
    # help and usage
    rc, out, _ = run("--help")
    ok(rc == 0 and "ingest" in out, "parlers --help lists the commands")
    for cmd in ["init", "ingest", "list", "show", "fsck", "annotations", "serve"]:
        rc, out, _ = run(cmd, "--help")
        ok(rc == 0 and "usage:" in out, f"parlers {cmd} --help")
    rc, _, err = run("frobnicate")
    ok(rc == 2, "an unknown command is a usage error (2)")
    rc, _, err = run("show", "abc", data=data)
    ok(rc == 2, "a non-numeric id is a usage error")
    rc, _, err = run("list", data=data)
    ok(rc == 1 and "parlers init" in err, "list before init fails and says what to do")

    rc, out, err = run("init", data=data)
    ok(rc == 0 and os.path.exists(os.path.join(data, "archive.db")), "init creates archive.db")
    rc, out, err = run("init", data=data)
    ok(rc == 0, "init on an existing archive is harmless")

    # the sample corpus
    audio = sorted(f for f in os.listdir(CORPUS)
                   if f.rsplit(".", 1)[-1].lower() in ("wav", "flac", "mp3", "ogg", "m4a", "opus", "aif", "aiff"))
    ok(len(audio) >= 8, f"the sample corpus has at least 8 recordings ({len(audio)})")
    rc, out, err = run("ingest", "--json", CORPUS, data=data)
    lines = [json.loads(l) for l in out.splitlines() if l.strip()]
    ok(rc == 0, "ingest of the sample corpus succeeds")
    if rc:
        diag(err)
    ok(len(lines) == len(audio), "one JSON line per audio file")
    ok(all(set(("path", "id", "status", "error")) <= set(l) for l in lines),
       "each line has path, id, status, error")
    ok(all(l["status"] == "ingested" for l in lines), "every file was ingested")
    ids = {os.path.basename(l["path"]): l["id"] for l in lines}

    rc, out, err = run("ingest", CORPUS, data=data)
    ok(rc == 0 and out.count("\tduplicate") == len(audio),
       "ingesting again reports duplicates and succeeds")
    ok("duplicates" in err and "0 failed" in err, "and ends with a summary")

    rc, out, _ = run("list", "--json", data=data)
    lst = json.loads(out)
    ok(lst["total"] == len(audio) and lst["offset"] == 0 and len(lst["recordings"]) == len(audio),
       "list --json: {total, offset, recordings}")
    rc, out, _ = run("list", "--public", "--json", data=data)
    pub = json.loads(out)
    ok(all(r["access"] != "private" for r in pub["recordings"]),
       "list --public hides private recordings")
    rc, out, _ = run("list", data=data)
    ok(rc == 0 and f"{len(audio)} recordings" in out, "list prints a table")

    fields = ["id", "title", "date", "collection", "place", "variety", "language", "access",
              "duration_ms", "sample_rate", "channels", "sha256", "original_name",
              "original_format", "loudness_lufs", "true_peak_dbtp", "speakers", "tiers"]
    media = os.path.join(data, "media")
    checked_copies = 0
    for name in audio:
        rid = ids.get(name)
        rc, out, _ = run("show", str(rid), "--json", data=data)
        if not ok(rc == 0, f"show {rid} --json ({name})"):
            continue
        r = json.loads(out)
        ok(all(f in r for f in fields), f"{name}: every field DESIGN.md names")
        src = os.path.join(CORPUS, name)
        pr = probe(src)
        st = pr["streams"][0]
        ok(r["sample_rate"] == int(st["sample_rate"]) and r["channels"] == int(st["channels"]),
           f"{name}: rate {r['sample_rate']} and channels {r['channels']} as ffprobe says")
        ok(abs(r["duration_ms"] / 1000 - float(pr["format"]["duration"])) < 0.1,
           f"{name}: duration {r['duration_ms']} ms")
        orig = os.path.join(media, r["sha256"][:2])
        stored = [f for f in os.listdir(orig) if f.startswith(r["sha256"])]
        ok(len(stored) == 4, f"{name}: four stored files")
        derived = {r["sha256"] + e for e in (".opus", ".mp3", ".peaks")}
        origf = [f for f in stored if f not in derived]
        ok(len(origf) == 1 and open(os.path.join(orig, origf[0]), "rb").read() == open(src, "rb").read(),
           f"{name}: the original is kept byte for byte")
        i_ref, tp_ref = ebur128(src)
        ok(i_ref is not None and abs(r["loudness_lufs"] - i_ref) <= 0.5,
           f"{name}: loudness {r['loudness_lufs']} LUFS, ffmpeg says {i_ref}")
        ok(len(r["tiers"]) >= 2 and all(len(t["segments"]) > 0 for t in r["tiers"]),
           f"{name}: its annotation tiers were imported")
        if checked_copies < 4 or name.endswith((".m4a", ".ogg")):
            checked_copies += 1
            opus = os.path.join(orig, r["sha256"] + ".opus")
            mp3 = os.path.join(orig, r["sha256"] + ".mp3")
            po, pm = probe(opus), probe(mp3)
            want_ch = min(r["channels"], 2)
            ok(po and po["streams"][0]["codec_name"] == "opus" and po["streams"][0]["sample_rate"] == "48000"
               and po["streams"][0]["channels"] == want_ch, f"{name}: Opus copy, 48 kHz, {want_ch} ch")
            ok(pm and pm["streams"][0]["codec_name"] == "mp3" and pm["streams"][0]["sample_rate"] in ("44100", "48000")
               and pm["streams"][0]["channels"] == want_ch, f"{name}: MP3 copy, {want_ch} ch")
            for copy in (opus, mp3):
                i_c, tp_c = ebur128(copy)
                capped = r["true_peak_dbtp"] + (-18 - r["loudness_lufs"]) > -1
                if capped:
                    ok(tp_c is not None and tp_c <= -0.5,
                       f"{name}: {copy[-4:]} held back by the true-peak cap (tp {tp_c})")
                else:
                    ok(i_c is not None and abs(i_c + 18) <= 1.0,
                       f"{name}: {copy[-4:]} copy at {i_c} LUFS (target -18)")

    # bad input: each fails with one line, the good file of the same run goes in
    bad = os.path.join(tmp, "bad")
    os.makedirs(bad)
    open(os.path.join(bad, "empty.wav"), "wb").close()
    open(os.path.join(bad, "text.wav"), "w").write("Ceci n'est pas un son.\n" * 20)
    open(os.path.join(bad, "random.mp3"), "wb").write(os.urandom(40000))
    good = os.path.join(CORPUS, [a for a in audio if a.endswith(".wav")][0])
    raw = open(good, "rb").read()
    open(os.path.join(bad, "truncated.wav"), "wb").write(raw[:60])
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=330:d=2",
                    "-ac", "1", os.path.join(bad, "zgood.wav")], check=True)
    open(os.path.join(bad, "zbadside.json"), "w").write('{"speakers": "Jean"}')
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=550:d=2",
                    os.path.join(bad, "zbadside.wav")], check=True)
    before = sorted(os.listdir(media))
    nfiles = sum(len(fs) for _, _, fs in os.walk(media))
    rc, out, err = run("ingest", "--json", bad, os.path.join(tmp, "nowhere.wav"), data=data)
    res = {os.path.basename(json.loads(l)["path"]): json.loads(l) for l in out.splitlines()}
    ok(rc == 1, "a run with bad files ends with exit status 1")
    for name in ["empty.wav", "text.wav", "random.mp3", "truncated.wav", "zbadside.wav", "nowhere.wav"]:
        r = res.get(name, {})
        ok(r.get("status") == "failed" and r.get("id") is None and r.get("error"),
           f"{name}: failed: {r.get('error')}")
        errlines = [l for l in err.splitlines() if name in l]
        ok(len(errlines) == 1, f"{name}: one line on stderr naming it")
    ok(res.get("zgood.wav", {}).get("status") == "ingested", "the good file of the same run went in")
    after = sum(len(fs) for _, _, fs in os.walk(media))
    ok(after == nfiles + 4, "the bad files left nothing in media/")
    ok(not [d for d in os.listdir(media) if d.startswith(".staging")], "no staging folder left")

    full_disk(tmp, good)
    institutions(tmp)
    killed_ingest(tmp)
    long_word_typos(tmp)
    file_metadata(tmp)
    search(data, lines)

    # fsck
    rc, out, err = run("fsck", data=data)
    ok(rc == 0 and out == "", "fsck on a sound archive: exit 0, nothing reported")
    any_id = lines[0]["id"]
    r = json.loads(run("show", str(any_id), "--json", data=data)[1])
    victim = os.path.join(media, r["sha256"][:2], r["sha256"] + ".mp3")
    with open(victim, "r+b") as f:
        f.seek(100)
        f.write(b"\0\1\2\3")
    open(os.path.join(media, "stray.txt"), "w").write("x")
    rc, out, err = run("fsck", "--json", data=data)
    probs = [json.loads(l) for l in out.splitlines()]
    ok(rc == 1, "fsck on a damaged archive: exit 1")
    ok(any(p["problem"] == "checksum-mismatch" and p["path"].endswith(".mp3") for p in probs),
       "a changed file is named")
    ok(any(p["problem"] == "stray" for p in probs), "a stray file is named")

    # annotations out and back
    eaf_rec = [l for l in lines if l["path"].endswith(tuple(
        a for a in audio if os.path.exists(os.path.join(CORPUS, a.rsplit(".", 1)[0] + ".eaf"))))]
    rid = (eaf_rec or lines)[0]["id"]
    for fmt, ext in [("eaf", "eaf"), ("textgrid", "TextGrid"), ("vtt", "vtt"), ("srt", "srt"),
                     ("csv", "csv"), ("json", "json"), ("tei", "xml")]:
        outp = os.path.join(tmp, f"out.{ext}")
        rc, _, err = run("annotations", "export", str(rid), "--format", fmt, "-o", outp, data=data)
        ok(rc == 0 and os.path.getsize(outp) > 0, f"annotations export --format {fmt}")
    rc, out, err = run("annotations", "import", str(rid), os.path.join(tmp, "out.eaf"), data=data)
    ok(rc == 1 and "already" in err, "import over existing tiers needs --replace")
    before = json.loads(run("show", str(rid), "--json", data=data)[1])["tiers"]
    rc, out, err = run("annotations", "import", str(rid), os.path.join(tmp, "out.eaf"),
                       "--replace", data=data)
    ok(rc == 0, "import --replace of the exported EAF")
    after = json.loads(run("show", str(rid), "--json", data=data)[1])["tiers"]
    strip = lambda ts: [(t["name"], [(s["start_ms"], s["end_ms"], s["text"]) for s in t["segments"]]) for t in ts]
    ok(strip(before) == strip(after), "the EAF round trip gives the same tiers and segments")
    open(os.path.join(tmp, "broken.eaf"), "w").write("<ANNOTATION_DOCUMENT><TIER")
    rc, out, err = run("annotations", "import", str(rid), os.path.join(tmp, "broken.eaf"),
                       "--replace", data=data)
    ok(rc == 1 and len(err.strip().splitlines()) == 1, f"a malformed EAF: one line: {err.strip()}")
    again = json.loads(run("show", str(rid), "--json", data=data)[1])["tiers"]
    ok(strip(again) == strip(after), "and the tiers are untouched")
    rc, _, err = run("annotations", "export", "999", "--format", "eaf", data=data)
    ok(rc == 1, "export of an unknown recording fails")


def search(data, lines):
    """parlers search on the sample corpus, as staff and as a visitor."""
    rc, out, err = run("search", "--json", "mezoun", data=data)
    ok(rc == 0, "search --json mezoun")
    res = json.loads(out)
    fields = ["recording_id", "recording_title", "segment_id", "tier", "start_ms", "end_ms",
              "text", "snippet", "translation", "place", "speaker", "match"]
    ok(res["total"] >= res["total_exact"] >= 3, f"mezoun: {res['total_exact']} exact of {res['total']}")
    ok(all(all(f in h for f in fields) for h in res["hits"]), "every hit has the fields DESIGN.md names")
    ok(any(h["translation"] for h in res["hits"]), "hits carry the translation of their span")
    private = {l["id"] for l in lines if "couturiere" in l["path"]}
    rc, out, _ = run("search", "--json", "--limit", "200", "--public", "la", data=data)
    pub = json.loads(out)
    rc, out, _ = run("search", "--json", "--limit", "200", "la", data=data)
    staff = json.loads(out)
    ok(not any(h["recording_id"] in private for h in pub["hits"]) and
       any(h["recording_id"] in private for h in staff["hits"]),
       "--public never shows the private recording; staff see it")
    ok(pub["total"] < staff["total"], "and its segments are not counted for visitors")
    rc, out, _ = run("search", "--json", "--tier", "translation", "maison", data=data)
    ok(rc == 0 and json.loads(out)["total"] > 0 and
       all(h["tier_type"] == "translation" for h in json.loads(out)["hits"]), "--tier translation")
    for q in ['"', "*", "-mezoun", "NEAR(", "'; DROP TABLE segments; --"]:
        rc, out, err = run("search", "--", q, data=data)
        ok(rc in (0, 1) and "fts5" not in err.lower() and "syntax" not in err.lower()
           and len(err.strip().splitlines()) <= 1, f"search {q!r}: a sensible answer ({rc}: {err.strip()})")
    rc, out, err = run("search", "mezoun", data=data)
    ok(rc == 0 and "hit" in out, "search prints hits for people")
    csv = os.path.join(os.path.dirname(data), "variants.csv")
    open(csv, "w").write("# staff spellings\nmézoun,maisoun,mézon\n")
    rc, _, err = run("variants", "import", csv, data=data)
    ok(rc == 0, "variants import")
    rc, out, _ = run("variants", "export", data=data)
    ok(rc == 0 and out == "mézoun,maisoun,mézon\n", "variants export gives the table back")
    rc, out, _ = run("search", "--json", "mezoun", data=data)
    ok(json.loads(out)["total_exact"] > res["total_exact"], "equivalent spellings then count as exact")
    rc, _, err = run("reindex", data=data)
    ok(rc == 0, "reindex")
    rc, out, _ = run("search", "--json", "mezoun", data=data)
    ok(json.loads(out)["total"] >= res["total"], "and search answers as before")


def long_word_typos(tmp):
    """The edit distance allowed to a close spelling grows with the word:
    three slips in a word of 25 letters still find it, two in a short word
    do not."""
    data = os.path.join(tmp, "long-words")
    wav = os.path.join(tmp, "long-words.wav")
    shutil.copy(os.path.join(CORPUS, sorted(f for f in os.listdir(CORPUS)
                                            if f.endswith(".wav"))[0]), wav)
    open(os.path.join(tmp, "long-words.vtt"), "w").write(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nch'est anticonstitutionnellement dit\n\n"
        "00:00:02.500 --> 00:00:03.000\nla vaque\n")
    rc, out, err = run("ingest", wav, data=data)
    ok(rc == 0, "a recording with a long word goes in")
    for q, want, what in [("antikonstitusionnelement", 1, "three slips in a word of 25 letters"),
                          ("anticonstitutionelement", 1, "two slips in it"),
                          ("baqe", 0, "two slips in a word of 5 letters")]:
        rc, out, err = run("search", "--json", q, data=data)
        got = json.loads(out)["total"] if rc == 0 else -1
        ok(got == want, f"{what}: {got} hit(s), {want} wanted")


def institutions(tmp):
    """Institutions: init names the archive's own, add/edit/list/show, the
    depositor of an ingest (--institution, a sidecar's winning), accounts."""
    import sqlite3
    data = os.path.join(tmp, "inst")
    src = os.path.join(tmp, "inst-src")
    os.makedirs(src)
    for i, name in enumerate(["a", "b", "c", "d", "e"]):
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"sine=f={300 + 50 * i}:d=1",
                        "-ac", "1", os.path.join(src, name + ".wav")], check=True)
    plain = os.path.join(tmp, "inst-plain")
    run("init", data=plain)
    rc, out, _ = run("institution", "list", "--json", data=plain)
    ok(rc == 0 and [i["short"] for i in json.loads(out)["institutions"]] == ["archive"],
       "a new archive has one institution, 'archive'")
    rc, out, err = run("init", "--institution", "musee-hague", "--name", "Musée de la Hague",
                       data=data)
    ok(rc == 0, "init --institution SHORT --name NAME")
    rc, out, _ = run("institution", "list", "--json", data=data)
    lst = json.loads(out)["institutions"]
    ok(rc == 0 and [(i["short"], i["name"]) for i in lst] == [("musee-hague", "Musée de la Hague")],
       "it names the archive's own institution")
    rc, _, err = run("init", "--institution", "other", "--name", "Other", data=data)
    ok(rc == 1 and "musee-hague" in err, f"init does not rename a named one: {err.strip()}")
    rc, _, err = run("institution", "add", "patois", "--name", "Les Patoisants", "--kind",
                     "association", "--commune", "Valognes", "--lat", "49.509", "--lon", "-1.47",
                     "--website", "https://patois.example", "--contact", "a@patois.example",
                     "--description-fr", "Veillées", "--description-en", "Evenings", data=data)
    ok(rc == 0, f"institution add with its fields {err.strip()}")
    rc, out, _ = run("institution", "show", "patois", "--json", data=data)
    o = json.loads(out) if rc == 0 else {}
    ok(o.get("short") == "patois" and o.get("name") == "Les Patoisants"
       and o.get("kind") == "association" and o.get("commune") == "Valognes"
       and abs(o.get("lat", 0) - 49.509) < 1e-6 and abs(o.get("lon", 0) + 1.47) < 1e-6
       and o.get("website") == "https://patois.example" and o.get("contact") == "a@patois.example"
       and o.get("description") == {"fr": "Veillées", "en": "Evenings"},
       "institution show --json gives every field")
    rc, out, _ = run("institution", "show", "patois", data=data)
    ok(rc == 0 and "Les Patoisants" in out and "Valognes" in out, "institution show for a reader")
    rc, out, _ = run("institution", "list", "--json", data=data)
    ok(rc == 0 and [(i["short"], i["name"], i["kind"]) for i in json.loads(out)["institutions"]]
       == [("musee-hague", "Musée de la Hague", None), ("patois", "Les Patoisants", "association")],
       "institution list --json: {institutions: [{short, name, kind, ...}]}")
    rc, _, err = run("institution", "add", "patois", "--name", "Again", data=data)
    ok(rc == 1 and len(err.strip().splitlines()) == 1 and "exists" in err,
       f"a short name taken: exit 1, one line: {err.strip()}")
    for args, what in [(["add", "Bad_Name", "--name", "x"], "a short name with capitals"),
                       (["add", "noname"], "add without --name"),
                       (["add", "x", "--name", "x", "--lat", "49"], "--lat without --lon"),
                       (["show"], "show without SHORT"),
                       (["frob"], "an unknown verb")]:
        rc, _, _ = run("institution", *args, data=data)
        ok(rc == 2, f"institution: {what} is a usage error")
    rc, _, err = run("institution", "add", "far", "--name", "Far", "--lat", "91", "--lon", "0",
                     data=data)
    ok(rc == 1 and "latitude" in err, "coordinates out of range are refused")
    rc, _, err = run("institution", "edit", "patois", "--name", "Les Patoisants du Cotentin",
                     "--rights", "CC BY-NC 4.0", "--kind", "", data=data)
    ok(rc == 0, "institution edit")
    o = json.loads(run("institution", "show", "patois", "--json", data=data)[1])
    ok(o["name"] == "Les Patoisants du Cotentin" and o["rights"] == "CC BY-NC 4.0"
       and o["kind"] is None and o["commune"] == "Valognes",
       "edit changes the fields given, clears an empty one, keeps the rest")
    rc, _, err = run("institution", "edit", "nowhere", "--name", "x", data=data)
    ok(rc == 1 and "nowhere" in err, "edit of an unknown institution: exit 1")

    # the depositor of an ingest
    rc, out, err = run("ingest", "--json", "--institution", "patois", os.path.join(src, "a.wav"),
                       data=data)
    a = json.loads(out.splitlines()[0]) if out else {}
    ok(rc == 0 and a.get("status") == "ingested", "ingest --institution SHORT")
    r = json.loads(run("show", str(a.get("id")), "--json", data=data)[1])
    ok(r.get("institution") == {"short": "patois", "name": "Les Patoisants du Cotentin"},
       "the recording's JSON names its institution {short, name}")
    ok(r.get("rights") == "CC BY-NC 4.0", "and carries the institution's default rights")
    open(os.path.join(src, "b.json"), "w").write(
        '{"institution": "musee-hague", "rights": "tous droits réservés", "collection": "Veillées"}')
    rc, out, err = run("ingest", "--json", "--institution", "patois", os.path.join(src, "b.wav"),
                       data=data)
    b = json.loads(out.splitlines()[0]) if out else {}
    r = json.loads(run("show", str(b.get("id")), "--json", data=data)[1])
    ok(rc == 0 and r.get("institution", {}).get("short") == "musee-hague"
       and r.get("rights") == "tous droits réservés",
       "a sidecar's institution wins over --institution, and its rights over the default")
    rc, out, err = run("ingest", "--json", os.path.join(src, "c.wav"), data=data)
    c = json.loads(out.splitlines()[0]) if out else {}
    r = json.loads(run("show", str(c.get("id")), "--json", data=data)[1])
    ok(r.get("institution", {}).get("short") == "musee-hague",
       "without either, the archive's own institution")
    media = os.path.join(data, "media")
    nfiles = sum(len(fs) for _, _, fs in os.walk(media))
    open(os.path.join(src, "d.json"), "w").write('{"institution": "nowhere"}')
    rc, out, err = run("ingest", "--json", os.path.join(src, "d.wav"), data=data)
    d = json.loads(out.splitlines()[0]) if out else {}
    ok(rc == 1 and d.get("status") == "failed" and "nowhere" in (d.get("error") or ""),
       f"a sidecar naming an unknown institution fails that file: {d.get('error')}")
    ok(len([l for l in err.splitlines() if "d.wav" in l]) == 1, "with one line on stderr")
    ok(sum(len(fs) for _, _, fs in os.walk(media)) == nfiles
       and not [x for x in os.listdir(media) if x.startswith(".staging")],
       "and leaves nothing in media/")
    open(os.path.join(src, "e.json"), "w").write('{"collection": "Veillées"}')
    rc, out, err = run("ingest", "--json", "--institution", "patois", os.path.join(src, "e.wav"),
                       data=data)
    e = json.loads(out.splitlines()[0]) if out else {}
    ok(rc == 1 and "musee-hague" in (e.get("error") or ""),
       f"a collection of another institution is refused: {e.get('error')}")
    rc, _, err = run("ingest", "--institution", "nowhere", os.path.join(src, "e.wav"), data=data)
    ok(rc == 1 and len(err.strip().splitlines()) == 1 and "nowhere" in err,
       f"ingest --institution of an unknown one: exit 1, one line: {err.strip()}")
    rc, out, _ = run("list", "--json", "--institution", "patois", data=data)
    ok(rc == 0 and [x["id"] for x in json.loads(out)["recordings"]] == [a.get("id")],
       "list --institution keeps that institution's recordings")
    o = json.loads(run("institution", "show", "musee-hague", "--json", data=data)[1])
    ok(o["recordings"] == 2 and o["collections"] == 1, "show counts its recordings and collections")

    # accounts
    rc, _, err = run("user", "add", "marie", "--role", "annotator", "--institution", "patois",
                     data=data, stdin="a long password\n")
    ok(rc == 0, f"user add --institution SHORT {err.strip()}")
    rc, _, _ = run("user", "add", "jean", "--role", "admin", data=data, stdin="a long password\n")
    rc2, _, err = run("user", "add", "paul", "--role", "annotator", "--institution", "nowhere",
                      data=data, stdin="a long password\n")
    ok(rc == 0 and rc2 == 1 and "nowhere" in err, "an unknown institution is refused")
    db = sqlite3.connect(os.path.join(data, "archive.db"))
    rows = dict(db.execute("SELECT u.login, i.short FROM users u"
                           " LEFT JOIN institutions i ON i.id = u.institution_id").fetchall())
    db.close()
    ok(rows == {"marie": "patois", "jean": None},
       "the account belongs to its institution, or to the network without one")


def wav_with_icrd(path, icrd):
    """A second of quiet tone with a RIFF LIST/INFO ICRD (creation date)."""
    import math
    import struct
    import wave
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"".join(struct.pack("<h", int(2000 * math.sin(i / 5)))
                               for i in range(16000)))
    text = icrd.encode() + b"\0"
    if len(text) % 2:
        text += b"\0"
    info = b"INFO" + b"ICRD" + struct.pack("<I", len(text)) + text
    raw = open(path, "rb").read() + b"LIST" + struct.pack("<I", len(info)) + info
    open(path, "wb").write(raw[:4] + struct.pack("<I", len(raw) - 8) + raw[8:])


def file_metadata(tmp):
    """What a file's own tags say lands where it belongs: a BWF Originator
    (a recorder's model) is the device, not the collector; a creation date
    is stored as ISO 8601, and one that is no date is left out, said so."""
    data = os.path.join(tmp, "tags")
    interop = os.environ.get("PARLERS_INTEROP", "../shared/interop")
    h4n = os.path.join(interop, "audio/wavinfo/STE-000.wav")
    rc, out, err = run("ingest", "--json", h4n, data=data)
    rid = json.loads(out.splitlines()[0])["id"] if rc == 0 else None
    r = json.loads(run("show", "--json", str(rid), data=data)[1]) if rid else {}
    ok(r.get("device") == "ZOOM Handy Recorder H4n" and not r.get("collector"),
       "a BWF Originator is the device, not the collector (%r, %r)"
       % (r.get("device"), r.get("collector")))
    ok(r.get("date") == "2023-11-05", "the BWF origination date is the date")
    for icrd, want in [("14/07/1987", "1987-07-14"), ("1987:07:14 10:22:01", "1987-07-14"),
                       ("07/31/1987", "1987-07-31"), ("19870714", "1987-07-14"),
                       ("1987-07", "1987-07"), ("summer of '87", None)]:
        wav = os.path.join(tmp, "icrd.wav")
        wav_with_icrd(wav, icrd + " ")  # a different file each time
        # without --json, so that warnings reach stderr
        rc, out, err = run("ingest", wav, data=data)
        rid = out.split("\t")[0] if out.strip() else ""
        r = json.loads(run("show", "--json", rid, data=data)[1]) if rid.isdigit() else {}
        ok(rc == 0 and r.get("date") == want,
           f"ICRD {icrd!r}: date {r.get('date')!r}, {want!r} wanted")
        if want is None:
            # stderr also holds the ingest summary line: only the warning
            # goes on the TAP line
            warned = [x for x in err.splitlines() if "is not a date" in x]
            ok(len(warned) == 1 and wav in warned[0],
               "and one warning line names the file: " + (warned[0] if warned else err.strip()))
        os.unlink(wav)


def killed_ingest(tmp):
    """An ingest killed with SIGKILL while it works: what it left is told
    apart from damage (fsck exit 0, "leftover"), the next ingest clears it,
    fsck --repair too; a live ingest's folder is never touched."""
    import fcntl
    import signal
    import time
    import wave
    data = os.path.join(tmp, "killed")
    run("init", data=data)
    media = os.path.join(data, "media")
    wav = os.path.join(tmp, "long-noise.wav")
    with wave.open(wav, "wb") as w:  # 3 minutes of noise: time to kill it midway
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes(os.urandom(48000 * 4 * 180))
    p = subprocess.Popen([PARLERS, "-d", data, "ingest", wav], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    staged = []
    for _ in range(600):
        staged = [d for d in os.listdir(media) if d.startswith(".staging-")]
        if staged and os.listdir(os.path.join(media, staged[0])):
            break
        time.sleep(0.05)
    time.sleep(0.3)
    p.send_signal(signal.SIGKILL)
    p.wait()
    ok(len(staged) == 1 and os.path.isdir(os.path.join(media, staged[0])),
       "a killed ingest leaves its staging folder")
    # a kill between moving the files into media/ and the commit: the
    # journal names them, no row does
    ghost_dir = os.path.join(media, "ab")
    os.makedirs(ghost_dir, exist_ok=True)
    ghost = os.path.join(ghost_dir, "ab" + "0" * 62 + ".opus")
    open(ghost, "wb").write(b"OggS half an access copy")
    if staged:
        open(os.path.join(media, staged[0], "journal"), "w").write(
            "media/ab/%s\n" % os.path.basename(ghost))
    rc, out, err = run("fsck", "--json", data=data)
    probs = [json.loads(l) for l in out.splitlines()]
    ok(rc == 0, "fsck after a killed ingest: exit 0, no damage (%s)" % err.strip())
    ok(sorted(p["path"] for p in probs if p["problem"] == "leftover") ==
       sorted(["media/" + d for d in staged] + ["media/ab/" + os.path.basename(ghost)]),
       "its staging folder and the file it was moving are named as leftovers")
    ok(not [p for p in probs if p["problem"] != "leftover"], "and nothing else")
    # a live ingest's folder (its lock held) is left alone by everyone
    live = os.path.join(media, ".staging-live00")
    os.makedirs(live)
    open(os.path.join(live, "original.wav"), "wb").write(b"RIFF")
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        rc, out, err = run("ingest", os.path.join(CORPUS, sorted(
            f for f in os.listdir(CORPUS) if f.endswith(".wav"))[0]), data=data)
        ok(rc == 0, "the next ingest works")
        ok(not os.path.exists(os.path.join(media, staged[0] if staged else "x")) and
           not os.path.exists(ghost), "and clears what the killed one left")
        ok(os.path.exists(os.path.join(live, "original.wav")), "but not a live ingest's folder")
        rc, out, err = run("fsck", data=data)
        ok(rc == 0 and "stray" not in out, "fsck does not call a live ingest's folder stray")
    finally:
        os.close(fd)
    rc, out, err = run("fsck", "--repair", data=data)
    ok(rc == 0 and "removed\tmedia/.staging-live00" in out and not os.path.exists(live),
       "once its lock is gone, fsck --repair removes it")
    os.unlink(wav)


def full_disk(tmp, wav):
    """A data folder on a small tmpfs, nearly filled: the ingest fails with
    one line, leaves no file and no row, and works once there is room."""
    mnt = os.path.join(tmp, "small")
    os.makedirs(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt],
                      capture_output=True).returncode != 0:
        ok(True, "# SKIP full disk: cannot mount a tmpfs here (needs root)")
        return
    try:
        data = os.path.join(mnt, "data")
        run("init", data=data)
        filler = os.path.join(mnt, "filler")
        free = os.statvfs(mnt).f_bavail * os.statvfs(mnt).f_frsize
        with open(filler, "wb") as f:
            f.write(b"\0" * max(0, free - 300 * 1024))
        media = os.path.join(data, "media")
        before = sorted(os.listdir(media))
        rc, out, err = run("ingest", wav, data=data)
        lines = [l for l in err.splitlines() if wav in l]
        ok(rc == 1 and len(lines) == 1 and ("space" in lines[0] or "full" in lines[0]),
           f"a full disk: exit 1 and one line: {lines[0] if lines else err.strip()}")
        ok(sorted(os.listdir(media)) == before, "a full disk leaves nothing in media/")
        rc, out, _ = run("list", "--json", data=data)
        ok(rc == 0 and json.loads(out)["total"] == 0, "and no row")
        os.unlink(filler)
        rc, out, err = run("ingest", wav, data=data)
        ok(rc == 0 and "ingested" in out, "with room again, the same file goes in")
    finally:
        subprocess.run(["umount", "-l", mnt], capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
