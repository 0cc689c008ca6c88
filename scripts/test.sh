#!/usr/bin/env bash
# All tests: installs maildesk with its test extras (into .venv when python3 is Debian's own,
# see python-env.sh); the tests themselves start (and stop) the local mail stack and
# PostgreSQL through scripts/mailstack.sh and scripts/postgres.sh, which install the Debian
# packages they need when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh
maildesk_python "[test]"
"$PYTHON" -m ruff check .
"$PYTHON" -m mypy
"$PYTHON" -m pytest "$@"
