#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what parlers needs to build, test and serve on Debian 12 or newer.
# Run as root (or with sudo available).  Does nothing for packages already there.
set -eu

PACKAGES="meson ninja-build pkg-config gcc clang libclang-rt-14-dev
libsndfile1-dev libavformat-dev libavcodec-dev libavutil-dev libswresample-dev
libsqlite3-dev libmicrohttpd-dev libcurl4-openssl-dev libebur128-dev libxml2-dev libxml2-utils
libjansson-dev libsodium-dev libutf8proc-dev libarchive-dev zlib1g-dev libssl-dev
libfftw3-dev libespeak-ng-dev espeak-ng-data pocketsphinx pocketsphinx-en-us
ffmpeg sox espeak-ng praat time curl unzip zip python3 chromium clang-format
strace
libjs-leaflet libjs-leaflet.markercluster libjs-sortable
libcurl4-openssl-dev"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
# Node.js and npm (browser tests) may come from Debian or from another
# packaging of Node that bundles npm: only ask Debian for what is absent.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

# The browser code parlers serves itself (web/vendor: the upload page's tus
# client), pinned by its lock file and embedded in the binary at build time.
vendor_js() {
	here=$(dirname "$0")
	if [ ! -f "$here/../web/vendor/node_modules/tus-js-client/dist/tus.min.js" ]; then
		(cd "$here/../web/vendor" && npm ci --no-audit --no-fund --loglevel=error)
	fi
}

if [ -z "$missing" ]; then
	vendor_js
	exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
		echo "install-deps: missing packages:$missing (run as root to install them)" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
vendor_js
