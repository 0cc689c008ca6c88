#!/usr/bin/env bash
# The demo: installs maildesk and the local mail stack, then runs scripts/demo.py.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e . 2>&1 | grep -v "Running pip as the 'root'" || true
exec python3 scripts/demo.py "$@"
