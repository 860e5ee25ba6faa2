#!/usr/bin/env bash
# Starts what the tests need from Debian's packages: Chromium for the browser tests and a local
# PostgreSQL cluster for the Postgres store. Sourced by .ci/run; exports the variables the tests
# read (FEDVEIL_CHROMIUM, FEDVEIL_TEST_POSTGRES). Safe to source twice.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pg_createcluster >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
export FEDVEIL_CHROMIUM=/usr/bin/chromium

pg_version="$(ls /usr/lib/postgresql | sort -n | tail -1)"
if ! pg_lsclusters -h | awk '{print $2}' | grep -qx fedveil; then
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  pg_createcluster "$pg_version" fedveil --port "$port" -- --auth-local=trust --auth-host=scram-sha-256 >/dev/null
fi
pg_ctlcluster "$pg_version" fedveil start 2>/dev/null || true
port="$(pg_lsclusters -h | awk '$2 == "fedveil" {print $3}')"
su postgres -c "psql -q -p $port -tc \"SELECT 1 FROM pg_roles WHERE rolname = 'fedveil'\" | grep -q 1 || psql -q -p $port -c \"CREATE ROLE fedveil LOGIN SUPERUSER PASSWORD 'fedveil'\""
su postgres -c "psql -q -p $port -tc \"SELECT 1 FROM pg_database WHERE datname = 'fedveil'\" | grep -q 1 || createdb -p $port -O fedveil fedveil"
export FEDVEIL_TEST_POSTGRES="postgres://fedveil:fedveil@127.0.0.1:$port/fedveil"
