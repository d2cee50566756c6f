#!/usr/bin/env bash
# scripts/setup.sh - installs every Debian package that building sluice, its tests,
# its benchmarks (`make bench`) and its demo need.  Idempotent and quick when all is
# present: it asks dpkg first and only runs apt-get update + install (non-interactive)
# for what is missing.  A package name this system's apt does not know is reported
# and skipped rather than failing the whole install.  Runs as root, or through sudo
# when it is not root and sudo exists.  On a system without dpkg/apt it only warns.
set -euo pipefail

packages=(
  # build
  build-essential autoconf automake libtool pkg-config lemon
  librdkafka-dev libcjson-dev libopenblas-dev libsqlite3-dev libedit-dev
  libmicrohttpd-dev libcurl4-openssl-dev
  # formats and sinks: Protobuf, Avro, PostgreSQL
  libprotobuf-c-dev libavro-dev libpq-dev
  # the fuzz targets (tests/fuzz.sh): clang and its libFuzzer runtime
  clang libclang-rt-dev
  # tests (the sqlite3 oracle, script(1) for the shell test, a Prometheus text parser), benchmarks (sqlite3 and
  # Python peers, hyperfine) and formatting
  sqlite3 bsdutils curl python3-prometheus-client python3-numpy python3-sklearn python3-xgboost hyperfine clang-format
  # the other side of the format and sink tests: protoc and Python's protobuf, Python's avro,
  # a PostgreSQL server and psql; the console's browser test: Debian's chromium
  protobuf-compiler python3-protobuf python3-avro postgresql postgresql-client chromium
  # ... and Node.js, whose npm installs puppeteer-core for it (tests/console.sh)
  nodejs
  # demo: Kafka clients on the other side of the pipeline
  python3-kafka kcat
)

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup.sh: not a Debian system (no dpkg/apt-get); install these by hand:" >&2
  echo "  ${packages[*]}" >&2
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != installed ]; then
    missing+=("$p")
  fi
done
# npm comes with some Node.js builds (not Debian's): asked for only when missing
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "setup.sh: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "setup.sh: installing ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
available=()
for p in "${missing[@]}"; do
  candidate=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ { print $2 }')
  if [ -n "$candidate" ] && [ "$candidate" != "(none)" ]; then
    available+=("$p")
  else
    echo "setup.sh: no Debian package named $p here; skipped" >&2
  fi
done
if [ ${#available[@]} -gt 0 ]; then
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends -o Dpkg::Use-Pty=0 "${available[@]}" >/dev/null
fi
echo "setup.sh: done"
