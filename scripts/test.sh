#!/usr/bin/env bash
# All tests: installs maildesk with its test extras; the tests themselves start (and stop)
# the local mail stack and PostgreSQL through scripts/mailstack.sh and scripts/postgres.sh,
# which install the Debian packages they need when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e '.[test]' 2>&1 \
  | grep -v "Running pip as the 'root'" || true
python3 -m ruff check .
python3 -m pytest "$@"
