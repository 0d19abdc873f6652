#!/usr/bin/env bash
# Builds the peer's environment: django-helpdesk from PyPI in bench/.peer-venv (gitignored,
# never a Printdesk dependency), its own PostgreSQL database, migrated and ready for load_peer.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="$HERE/../.peer-venv"
PYTHON="${PYTHON:-python3.11}"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
fi
"$VENV/bin/pip" install --quiet -r "$HERE/requirements.txt"
