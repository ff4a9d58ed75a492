#!/usr/bin/env bash
# Installs every Debian package that Carebase's build, demo and tests need.
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
  libzstd-dev       # the record store compresses each record's items (zstd)
  libjansson-dev    # JSON parsing: DRG rule packages (rules.json, manifest.json)
  libsodium-dev     # SHA-256 of DRG package files; argon2id password hashing
  libxlsxwriter-dev # .xlsx output (indicators, cases): formatted workbooks for people
  libmicrohttpd-dev # `carebase serve`: the HTTP server (with TLS through GnuTLS)
  libcmocka-dev     # unit tests
  sqlite3           # end-to-end tests inspect the database with the CLI
  python3           # end-to-end tests: small helpers (kill -9, file checks)
)

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
