#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Upload benchmark (not a test): a WAV of SIZE_MB (default 1024) sent to
a real `parlers serve` over loopback in tus chunks (PATCH requests of
CHUNK_MB, the file's bytes handed to the socket with sendfile, as a
browser's network stack would), against `cp` of the same file on the same
disk, in the same folder.  The server hashes the bytes and writes them
once; cp only writes them.  Prints both throughputs and their ratio (the
goal is at least 0.5), checks the SHA-256 the server reports, and the
server's resident memory before the upload and at its peak during it
(sampled every 20 ms; the goal is growth under 16 MB).  The page cache is warm for both: the file
was just written.  Each side runs three times, cp and upload in turn,
every run starting with no dirty pages waiting (a sync before it, so that
one run's writeback does not slow the next): the medians are compared.
The server syncs an upload's file before it answers each PATCH (the
offset it records is on the disk), so its peer is `cp; sync`, the same
durability; cp alone, into the page cache, is printed beside it.

    tests/bench/bench-upload.py [SIZE_MB] [CHUNK_MB]    (default 1024 64)
    PARLERS=path/to/parlers  (default build/cli/parlers)
"""
import base64
import hashlib
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
os.environ.setdefault("PARLERS", os.path.join(ROOT, "build", "cli", "parlers"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import harness  # noqa: E402
from harness import PARLERS, Server  # noqa: E402

PASSWORD = "bench-upload-pass-1"


def make_wav(path, size):
    """A 48 kHz stereo 16-bit WAV of about size bytes (noise)."""
    data = size - 44
    data -= data % 4
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt " +
                struct.pack("<IHHIIHH", 16, 1, 2, 48000, 48000 * 4, 4, 16) +
                b"data" + struct.pack("<I", data))
        block = os.urandom(1 << 20)
        left = data
        while left:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n
    return 44 + data


def kib(pid, key):
    for line in open("/proc/%d/status" % pid):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def patch(port, cookie, csrf, loc, offset, fd, count):
    """One PATCH of count bytes of fd from offset; the answer's status."""
    s = socket.create_connection(("127.0.0.1", port))
    try:
        head = ("PATCH %s HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\n"
                "Cookie: parlers_session=%s\r\nX-CSRF-Token: %s\r\nUpload-Offset: %d\r\n"
                "Content-Type: application/offset+octet-stream\r\nContent-Length: %d\r\n\r\n"
                % (loc, cookie, csrf, offset, count))
        s.sendall(head.encode())
        sent = 0
        while sent < count:
            sent += os.sendfile(s.fileno(), fd, offset + sent, count - sent)
        answer = b""
        while b"\r\n\r\n" not in answer:
            b = s.recv(4096)
            if not b:
                break
            answer += b
        m = re.match(rb"HTTP/1\.1 (\d+)", answer)
        return int(m.group(1)) if m else 0
    finally:
        s.close()


def main():
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    chunk = (int(sys.argv[2]) if len(sys.argv) > 2 else 64) << 20
    tmp = tempfile.mkdtemp(prefix="parlers-bench-upload-", dir=os.environ.get("BENCH_DIR"))
    data = os.path.join(tmp, "data")
    srv = None
    try:
        subprocess.run([PARLERS, "-d", data, "init"], check=True, capture_output=True)
        subprocess.run([PARLERS, "-d", data, "user", "add", "bench", "--role", "annotator"],
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        src = os.path.join(tmp, "master.wav")
        size = make_wav(src, size_mb << 20)
        want = hashlib.sha256(open(src, "rb").read()).hexdigest()

        srv = Server(data, extra=["--quiet", "--upload-max", "16G"])
        # the login's Argon2id takes 64 MiB and gives it back: measured after it
        c = harness.Client(srv.port, "bench", PASSWORD)
        time.sleep(0.2)
        rss0 = kib(srv.proc.pid, "VmRSS")
        peak = [rss0]
        meta = "filename " + base64.b64encode(b"master.wav").decode()

        def run_cp():
            os.sync()
            t0 = time.perf_counter()
            subprocess.run(["cp", src, os.path.join(data, "copy.wav")], check=True)
            t = time.perf_counter() - t0
            os.sync()
            t_sync = time.perf_counter() - t0
            os.unlink(os.path.join(data, "copy.wav"))
            return t, t_sync

        def run_upload():
            stop = threading.Event()

            def watch():
                while not stop.is_set():
                    peak[0] = max(peak[0], kib(srv.proc.pid, "VmRSS"))
                    time.sleep(0.02)
            st, h, _ = harness.request(srv.port, "POST", "/api/uploads",
                                       c.headers({"Tus-Resumable": "1.0.0",
                                                  "Upload-Length": str(size),
                                                  "Upload-Metadata": meta}))
            loc = h.get("location")
            os.sync()
            watcher = threading.Thread(target=watch)
            watcher.start()
            fd = os.open(src, os.O_RDONLY)
            t0 = time.perf_counter()
            off = 0
            while off < size:
                n = min(chunk, size - off)
                st = patch(srv.port, c.cookie, c.csrf, loc, off, fd, n)
                if st != 204:
                    raise RuntimeError("PATCH at %d: %d" % (off, st))
                off += n
            t = time.perf_counter() - t0
            os.close(fd)
            stop.set()
            watcher.join()
            st, _, body = c.get(loc)
            sha = json.loads(body).get("sha256")
            # the upload goes (tus termination): the disk holds one at a time
            harness.request(srv.port, "DELETE", loc, c.headers({"Tus-Resumable": "1.0.0"}))
            return t, sha

        cps, syncs, ups, shas = [], [], [], []
        for _ in range(3):
            t, t_sync = run_cp()
            cps.append(t)
            syncs.append(t_sync)
            t, sha = run_upload()
            ups.append(t)
            shas.append(sha)
        t_cp, t_sync, t_up = sorted(cps)[1], sorted(syncs)[1], sorted(ups)[1]
        hwm = peak[0]
        got = shas[0] if len(set(shas)) == 1 else None
        mb = size / 1e6
        print("file: %d MB WAV, tus chunks of %d MiB over loopback" % (size >> 20, chunk >> 20))
        print("cp:        %.2f s  %.0f MB/s (into the page cache; median of %s s)"
              % (t_cp, mb / t_cp, ", ".join("%.2f" % t for t in cps)))
        print("cp; sync:  %.2f s  %.0f MB/s (on the disk; median of %s s)"
              % (t_sync, mb / t_sync, ", ".join("%.2f" % t for t in syncs)))
        print("upload:    %.2f s  %.0f MB/s (received, hashed, written once, on the disk"
              " when each PATCH is answered; median of %s s)"
              % (t_up, mb / t_up, ", ".join("%.2f" % t for t in ups)))
        print("ratio upload / (cp; sync): %.2fx (goal >= 0.5x); upload / cp: %.2fx"
              % (t_sync / t_up, t_cp / t_up))
        print("server RSS: %.1f MB before, peak %.1f MB: growth %.1f MB (goal < 16 MB)"
              % (rss0 / 1024, hwm / 1024, (hwm - rss0) / 1024))
        print("SHA-256 reported by the server %s the file's"
              % ("equals" if got == want else "DIFFERS FROM"))
        return 0 if got == want else 1
    finally:
        if srv:
            srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
