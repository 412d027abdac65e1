#!/usr/bin/env bash
# Install the service with its test dependencies and run the whole test suite.
# Runs against SQLite; set VOICES_TEST_DATABASE_URL=postgresql://user@host:port/db to use PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'
ruff check .
python3 -m pytest -n 2 -q "$@"
