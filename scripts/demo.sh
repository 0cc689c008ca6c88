#!/usr/bin/env bash
# The demo: installs maildesk (into .venv when python3 is Debian's own, see python-env.sh)
# and the local mail stack, then runs scripts/demo.py.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh
maildesk_python ""
exec "$PYTHON" scripts/demo.py "$@"
