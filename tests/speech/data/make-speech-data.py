#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Builds the real-speech fixtures of the speech tests from Debian packages.

fr-prompts: 20 French prompts read by June Wallack (asterisk-core-sounds-fr-wav,
CC-BY-SA-3.0), with an English passage not in the transcript (Parselmouth's
"north wind and the sun", GPL-3.0) as an interviewer's aside, pauses of 0.3 to
2.5 s, and what field tapes add: hiss, 50 Hz hum with harmonics, clicks, and a
level that drifts by several dB.  en-librivox: five LibriVox utterances (public
domain, from pocketsphinx-testdata, BSD-2 packaging) with pauses and hiss.

Each clip is clean before mixing, so its speech extent is measured there (10 ms
frames within 40 dB of the clip's loudest for the studio prompts, 20 dB for
the LibriVox clips, whose own background, breaths and codec noise sit 25 to 35
dB down) and written as the reference
(NAME.ref.tsv: start_ms, end_ms, text; NAME.speech.tsv: every stretch of
speech, the aside too); NAME.txt is the transcript, one line per
clip.  Usage: make-speech-data.py ROOT_OF_EXTRACTED_DEBS OUTDIR
"""
import array
import gzip
import math
import os
import random
import subprocess
import sys

root, out = sys.argv[1], sys.argv[2]
interop = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'shared', 'interop')


def load(path, rate):
    raw = subprocess.run(['sox', path, '-t', 'raw', '-r', str(rate), '-c', '1', '-e',
                          'floating-point', '-b', '32', '-'], check=True,
                         capture_output=True).stdout
    a = array.array('f')
    a.frombytes(raw)
    return list(a)


def extent(x, rate, below=40):
    hop = rate // 100
    e = [10 * math.log10(sum(v * v for v in x[i:i + hop]) / hop + 1e-12)
         for i in range(0, len(x) - hop + 1, hop)]
    top = max(e)
    on = [i for i, v in enumerate(e) if v > top - below]
    return on[0] * hop, (on[-1] + 1) * hop


def build(name, clips, rate, aside_after, snr_db, hum, clicks, drift, below):
    rnd = random.Random(14)
    sig, ref, spans = [], [], []
    sig.extend([0.0] * int(rate * 0.8))
    for k, (path, text) in enumerate(clips):
        x = load(path, rate)
        a, b = extent(x, rate, below)
        x = x[a:b]
        peak = max(abs(v) for v in x)
        x = [v * 0.5 / peak for v in x]
        ref.append((len(sig) * 1000 // rate, (len(sig) + len(x)) * 1000 // rate, text))
        sig.extend(x)
        sig.extend([0.0] * int(rate * rnd.uniform(0.3, 2.5)))
        if k == aside_after:
            y = load(os.path.join(interop, 'audio', 'parselmouth',
                                  'the_north_wind_and_the_sun.wav'), rate)
            py = max(abs(v) for v in y)
            a, b = extent(y, rate)
            spans.append(((len(sig) + a) * 1000 // rate, (len(sig) + b) * 1000 // rate))
            sig.extend(v * 0.25 / py for v in y)
            sig.extend([0.0] * int(rate * 0.9))
    sig.extend([0.0] * int(rate * 1.0))
    speech_rms = math.sqrt(sum(v * v for v in sig) / len(sig))
    noise = speech_rms * 10 ** (-snr_db / 20)
    n = len(sig)
    for i in range(n):
        t = i / rate
        v = sig[i] * 10 ** (drift * math.sin(2 * math.pi * t / 37.0) / 20)
        v += rnd.gauss(0, noise)
        if hum:
            v += hum * (math.sin(2 * math.pi * 50 * t) + 0.5 * math.sin(2 * math.pi * 150 * t))
        sig[i] = v
    for _ in range(clicks):
        at = rnd.randrange(n - rate // 100)
        for j in range(rate // 500):
            sig[at + j] += 0.6 * (1 if j % 2 else -1)
    peak = max(abs(v) for v in sig)
    a = array.array('f', (v * 0.9 / peak for v in sig))
    raw = os.path.join(out, name + '.raw')
    with open(raw, 'wb') as f:
        a.tofile(f)
    subprocess.run(['sox', '-t', 'raw', '-r', str(rate), '-c', '1', '-e', 'floating-point',
                    '-b', '32', raw, '-b', '16', os.path.join(out, name + '.flac')], check=True)
    os.unlink(raw)
    with open(os.path.join(out, name + '.txt'), 'w') as f:
        f.writelines(t + '\n' for _, _, t in ref)
    with open(os.path.join(out, name + '.ref.tsv'), 'w') as f:
        f.writelines('%d\t%d\t%s\n' % r for r in ref)
    spans.extend((a, b) for a, b, _ in ref)
    with open(os.path.join(out, name + '.speech.tsv'), 'w') as f:
        f.writelines('%d\t%d\n' % r for r in sorted(spans))


texts = {}
with gzip.open(os.path.join(root, 'usr/share/doc/asterisk-core-sounds-fr/core-sounds-fr.txt.gz'),
               'rt', encoding='utf-8') as f:
    for line in f:
        if ': ' in line and not line.startswith(';'):
            k, v = line.rstrip('\n').split(': ', 1)
            texts[k] = v
sounds = os.path.join(root, 'usr/share/asterisk/sounds/fr_CA_f_June')
fr = [(os.path.join(sounds, k + '.wav'), v) for k, v in sorted(texts.items())
      if 5 <= len(v.split()) <= 16 and v[0] not in '[(' and
      os.path.exists(os.path.join(sounds, k + '.wav'))]
fr = fr[::max(1, len(fr) // 20)][:20]
build('fr-prompts', fr, 8000, 9, 28, 0.01, 8, 4, 40)

libri = os.path.join(root, 'usr/share/pocketsphinx/test/data/librivox')
en = []
with open(os.path.join(libri, 'transcription')) as f:
    for line in f:
        words = line.split()
        en.append((os.path.join(libri, words[-1].strip('()') + '.wav'),
                   ' '.join(w for w in words[:-1] if w not in ('<s>', '</s>'))))
build('en-librivox', en, 16000, -1, 30, 0.0, 3, 2, 20)
