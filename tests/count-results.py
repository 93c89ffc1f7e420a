#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Counts every check meson ran, from one or more meson-logs/testlog.json.

A TAP test program counts each "ok"/"not ok" line; a program that is not
TAP counts as one check, passed when it exited as expected.  A TAP program
that crashed after its last line also counts one failure, so a crash is
never hidden behind the checks that passed before it.
Prints "N passed, N failed" and exits 1 when anything failed.
"""
import json
import re
import sys

passed = failed = 0
for path in sys.argv[1:]:
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    except OSError as e:
        print(f"count-results: {path}: {e}", file=sys.stderr)
        failed += 1
        continue
    for line in lines:
        if not line.strip():
            continue
        t = json.loads(line)
        out = t.get("stdout") or ""
        ok = len(re.findall(r"^ok\b", out, re.M))
        bad = len(re.findall(r"^not ok\b", out, re.M))
        result = t.get("result", "")
        if ok + bad == 0:
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                pass
            else:
                failed += 1
                print(f"FAILED: {t.get('name')} ({result})", file=sys.stderr)
            continue
        passed += ok
        failed += bad
        if bad:
            for m in re.findall(r"^not ok .*$", out, re.M):
                print(f"FAILED: {t.get('name')}: {m}", file=sys.stderr)
        if result not in ("OK", "EXPECTEDFAIL") and bad == 0:
            failed += 1
            print(f"FAILED: {t.get('name')} ended with {result}", file=sys.stderr)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
