#!/usr/bin/env bash
# Installs every Debian package that Carebase's build, demo and tests need,
# then the npm packages of the web application (web/: ECharts), of the
# browser tests (tests/browser/: playwright-core) and of the MLLP
# interoperability test (tests/interop/: node-hl7-client), from their lock
# files.
# Idempotent: safe to run again. Runs apt-get update first.
#
# The benchmarks' npm packages (DuckDB, the comparison peer) are installed
# by bench/run.sh into bench/node_modules, from bench/package.json.
set -euo pipefail

packages=(
  build-essential   # gcc, make: the C11 toolchain
  cmake             # the build
  pkg-config        # finds the libraries below
  libsqlite3-dev    # the embedded store (SQLite, WAL)
  libzip-dev        # .xlsx import: the workbook is a zip archive
  libexpat1-dev     # .xlsx import: streaming XML parser for the sheets
  liblz4-dev        # reading the LZ4 frames of records stored by schema v8 to v10
  libzstd-dev       # the record store reads items of older databases (zstd frames)
  libjansson-dev    # JSON parsing: DRG rule packages (rules.json, manifest.json)
  libsodium-dev     # SHA-256 of DRG package files; argon2id password hashing
  libxlsxwriter-dev # .xlsx output (indicators, cases): formatted workbooks for people
  libmicrohttpd-dev # `carebase serve`: the HTTP server (with TLS through GnuTLS)
  libcmocka-dev     # unit tests
  sqlite3           # end-to-end tests inspect the database with the CLI
  python3           # end-to-end tests: small helpers (kill -9, file checks)
  python3-hl7       # MLLP interoperability test: mllp_send, a third-party HL7 sender
  chromium          # browser tests of the web application (headless, via playwright-core)
  fonts-noto-cjk    # Chinese glyphs in the browser tests' screenshots
)
# node and npm (Node >= 20) for the web application's packages: Debian's
# only when there is none already (a NodeSource install must not be
# replaced by Debian's nodejs).
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: run as root or install sudo" >&2; exit 1; fi
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

# npm packages, pinned by the committed lock files (npm install when a
# directory has no lock yet). `npm ci` starts from a clean node_modules, so
# it runs only when the lock changed since the last install.
root=$(cd "$(dirname "$0")/.." && pwd)
for dir in web tests/browser tests/interop; do
  d="$root/$dir"
  [ -f "$d/package.json" ] || continue
  if [ -f "$d/package-lock.json" ]; then
    if [ -f "$d/node_modules/.package-lock.json" ] &&
       [ "$d/node_modules/.package-lock.json" -nt "$d/package-lock.json" ]; then
      echo "install-deps: $dir: npm packages present"
      continue
    fi
    echo "install-deps: $dir: npm ci"
    (cd "$d" && npm ci --no-audit --no-fund --loglevel=error)
  else
    echo "install-deps: $dir: npm install (no package-lock.json)"
    (cd "$d" && npm install --no-audit --no-fund --loglevel=error)
  fi
done
