#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Recognition from the editor, against a real `parlers serve`: GET
/api/recognizers lists the recognizers the operator declared (names and
languages, never their command lines; staff only); POST
/api/recordings/{id}/recognize {"with": NAME} answers 202 with a job that
the server's worker runs as `parlers recognize` does (a real recognizer,
PocketSphinx behind scripts/recognizers/pocketsphinx-vtt, on real English
speech); its result is a machine-made tier.  A name not declared is 400
with a sentence, a server without a recognizers file lists none and
refuses with a sentence; a cancelled recognizer is killed at once and
leaves no tier, no process and no temporary file; one that fails leaves a
sentence and no tier.  Real SQLite file; Python standard library; TAP."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from harness import PARLERS, Client, Server, done, ok  # noqa: E402

TESTS = os.environ.get("PARLERS_TESTS", "tests")
DATA = os.path.join(TESTS, "speech", "data")
WRAPPER = os.path.abspath(os.path.join(TESTS, "..", "scripts", "recognizers",
                                       "pocketsphinx-vtt"))
PASSWORD = "recognize-pass-1"


def run(data, *args, stdin=None):
    p = subprocess.run([PARLERS, "-d", data] + list(args), capture_output=True, text=True,
                       input=stdin, timeout=300)
    return p.returncode, p.stdout, p.stderr


def tier_names(data, rid):
    code, out, _ = run(data, "show", str(rid), "--json")
    return [t["name"] for t in json.loads(out)["tiers"]] if code == 0 else None


def follow(client, jid, timeout=600):
    """The job's last state once it ends (or the timeout passes)."""
    end = time.time() + timeout
    state = {}
    while time.time() < end:
        st, _, body = client.get("/api/jobs/%d" % jid)
        state = harness.jbody(body) or {}
        if st != 200 or state.get("status") in ("done", "failed", "cancelled"):
            return state
        time.sleep(0.1)
    return state


def processes_with(marker):
    """The processes whose command line holds marker."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def post(client, rid, body):
    st, _, b = client.send("POST", "/api/recordings/%d/recognize" % rid, body)
    return st, harness.jbody(b) or {}


def main():
    tmp = tempfile.mkdtemp(prefix="parlers-recognize-jobs-")
    data = os.path.join(tmp, "data")
    scratch = os.path.join(tmp, "scratch")
    os.mkdir(scratch)
    env = dict(os.environ, TMPDIR=scratch)
    run(data, "init")
    code, out, _ = run(data, "ingest", "--json", "--access", "public",
                       os.path.join(DATA, "en-librivox.flac"))
    rid = json.loads(out.splitlines()[0])["id"]
    for login, role in (("ann", "annotator"), ("res", "researcher")):
        run(data, "user", "add", login, "--role", role, stdin=PASSWORD + "\n")

    # a server started without a recognizers file offers none
    srv = Server(data, env=env)
    try:
        ann = Client(srv.port, "ann", PASSWORD)
        st, _, b = ann.get("/api/recognizers")
        ok(st == 200 and harness.jbody(b) == {"recognizers": []},
           "without a recognizers file the list is empty (%d)" % st, b)
        st, res = post(ann, rid, {"with": "pocketsphinx"})
        ok(st == 400 and "no recognizer is declared" in res.get("error", ""),
           "and a recognition is refused with a sentence: %s" % res.get("error"))
    finally:
        srv.stop()

    # a broken recognizers file: the server says which line and does not start
    with open(os.path.join(data, "recognizers"), "w") as f:
        f.write("[x]\ncommand = x {wav}\ntimeout = soon\n")
    p = subprocess.run([PARLERS, "-d", data, "serve", "--listen",
                        "127.0.0.1:%d" % harness.free_port()], capture_output=True, text=True,
                       timeout=60)
    ok(p.returncode == 1 and p.stderr.count("\n") == 1 and "line 3" in p.stderr,
       "a broken recognizers file: the server does not start, and says where: " +
       p.stderr.strip())

    # a unique word in the hanging command finds its processes
    marker = "parlers-hangs-%d" % os.getpid()
    with open(os.path.join(data, "recognizers"), "w") as f:
        f.write(f"""[pocketsphinx]
command = {WRAPPER} {{wav}} -fwdflat no -bestpath no
language = en

[hangs]
command = sleep 120; echo {marker} # {{wav}}

[fails]
command = echo 'model not found: /opt/models/x.bin' >&2; exit 3 # {{wav}}
""")
    srv = Server(data, env=env)
    try:
        anon = Client(srv.port)
        st, _, _ = anon.get("/api/recognizers")
        ok(st == 401, "a visitor may not list the recognizers (%d)" % st)
        st, _ = post(anon, rid, {"with": "pocketsphinx"})
        ok(st == 401, "nor start one (%d)" % st)
        res_ = Client(srv.port, "res", PASSWORD)
        st, _, _ = res_.get("/api/recognizers")
        ok(st == 403, "nor a researcher list them (%d)" % st)
        st, _ = post(res_, rid, {"with": "pocketsphinx"})
        ok(st == 403, "nor start one (%d)" % st)
        ann = Client(srv.port, "ann", PASSWORD)
        st, _, b = ann.get("/api/recognizers")
        listed = harness.jbody(b) or {}
        ok(st == 200 and listed.get("recognizers") == [
            {"name": "pocketsphinx", "language": "en"}, {"name": "hangs", "language": None},
            {"name": "fails", "language": None}],
           "an annotator gets their names and languages, in the file's order", b)
        ok(b"command" not in b and WRAPPER.encode() not in b and marker.encode() not in b,
           "never their command lines")

        # bad requests: 400 with a sentence, no job
        for body, says in [({}, "with"), ({"with": 3}, "with"),
                           ({"with": "whisper"}, "no recognizer of that name"),
                           ({"with": "pocketsphinx", "tier": ""}, "tier"),
                           ({"with": "pocketsphinx", "replace": "yes"}, "replace")]:
            st, res = post(ann, rid, body)
            ok(st == 400 and says in res.get("error", ""),
               "%s: 400 %s" % (json.dumps(body), res.get("error")))
        st, _, b = ann.send("POST", "/api/recordings/999/recognize", {"with": "pocketsphinx"})
        ok(st == 404, "an unknown recording: 404 (%d)" % st)
        st, _, b = ann.get("/api/jobs?recording=%d" % rid)
        ok(st == 200 and (harness.jbody(b) or {}).get("jobs") == [], "none of them queued a job")

        # cancel: the recognizer's processes are killed at once, nothing is left
        st, res = post(ann, rid, {"with": "hangs", "tier": "never"})
        jid = res.get("job")
        ok(st == 202 and jid, "an annotator starts a recognition: 202 with the job", res)
        end = time.time() + 30
        while time.time() < end and not processes_with(marker):
            time.sleep(0.05)
        ok(processes_with(marker), "the recognizer runs")
        st, _, b = ann.get("/api/jobs/%d" % jid)
        state = harness.jbody(b) or {}
        ok(state.get("kind") == "recognize" and state.get("status") == "running",
           "the job is a running recognize (%s)" % state.get("message"))
        st, res = post(ann, rid, {"with": "pocketsphinx"})
        ok(st == 409 and "already has a job" in res.get("error", ""),
           "a second job on the recording: 409")
        t0 = time.time()
        st, _, b = ann.send("POST", "/api/jobs/%d/cancel" % jid)
        ok(st == 200, "POST /api/jobs/{jid}/cancel (%d)" % st)
        state = follow(ann, jid, timeout=60)
        harness.diag("cancelled after %.2f s" % (time.time() - t0))
        ok(state.get("status") == "cancelled", "the job ends cancelled (%s)" % state.get("status"))
        end = time.time() + 10
        while time.time() < end and processes_with(marker):
            time.sleep(0.05)
        ok(not processes_with(marker), "no process of the recognizer is left")
        ok(os.listdir(scratch) == [], "nor its temporary folder")
        ok("never" not in tier_names(data, rid), "nor a tier")

        # a recognizer that fails: the job fails with its sentence, no tier
        st, res = post(ann, rid, {"with": "fails", "tier": "nope"})
        state = follow(ann, res.get("job", 0), timeout=120)
        ok(state.get("status") == "failed" and "model not found" in (state.get("error") or "")
           and "nope" not in tier_names(data, rid),
           "a recognizer that fails: the job fails, said: %s" % state.get("error"))

        # PocketSphinx, a real recognizer, on real English speech
        if not shutil.which("pocketsphinx_continuous") or \
                not os.path.isdir("/usr/share/pocketsphinx/model/en-us"):
            for what in ("pocketsphinx's job", "its tier"):
                harness.ok(True, what + " # SKIP pocketsphinx is not installed")
        else:
            st, res = post(ann, rid, {"with": "pocketsphinx"})
            jid = res.get("job")
            ok(st == 202 and jid, "POST .../recognize {with: pocketsphinx}: 202")
            seen = set()
            end = time.time() + 600
            while time.time() < end:
                s = harness.jbody(ann.get("/api/jobs/%d" % jid)[2]) or {}
                if s.get("status") == "running":
                    seen.add(s.get("progress"))
                if s.get("status") in ("done", "failed", "cancelled"):
                    break
                time.sleep(0.2)
            result = s.get("result") or {}
            harness.diag("progress seen: %s" % sorted(x for x in seen if x is not None)[:6])
            ok(s.get("status") == "done" and result.get("tier") == "pocketsphinx" and
               len(result.get("segments", [])) >= 3 and
               result.get("settings", {}).get("recognizer") == "pocketsphinx",
               "the job ends done, its result the recognizer's tier", s.get("error"))
            ok(len([x for x in seen if x]) >= 2, "its progress is seen rising while it runs")
            st, _, b = ann.get("/api/recordings/%d" % rid)
            t = {x["name"]: x for x in json.loads(b)["tiers"]}.get("pocketsphinx")
            ok(t and t["origin"] == "machine" and t.get("origin_tool") == "pocketsphinx" and
               len(t["segments"]) == len(result.get("segments", [])),
               "the recording has the tier, machine-made, by the recognizer's name")
            code, out, err = run(data, "recognize", str(rid), "--with", "pocketsphinx")
            ok(code == 1 and "--replace" in err,
               "the command line finds the same tier there: " + err.strip())
        ok(os.listdir(scratch) == [], "no temporary file is left behind")
    finally:
        srv.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(done())


if __name__ == "__main__":
    main()
