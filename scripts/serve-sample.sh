#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what is missing, builds parlers, loads the sample corpus into
# ./parlers-data and serves it on http://127.0.0.1:8080 (Ctrl-C stops it).
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
[ -d build ] || meson setup build
ninja -C build
./build/cli/parlers -d parlers-data init
# a second run finds the recordings already there (duplicates, exit 0)
./build/cli/parlers -d parlers-data ingest corpus
exec ./build/cli/parlers -d parlers-data serve --listen "${PARLERS_LISTEN:-127.0.0.1:8080}"
