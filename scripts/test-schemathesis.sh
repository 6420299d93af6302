#!/usr/bin/env bash
# Installs schemathesis (PyPI) in a virtual environment of the build directory, once, and
# prints the export line for ROSTER_TEST_SCHEMATHESIS, the `st` program the generated-input
# test runs (crates/cli/tests/schemathesis.rs). Usage:
#   eval "$(bash scripts/test-schemathesis.sh)"
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.32.5
VENV=${ROSTER_SCHEMATHESIS_VENV:-${CARGO_TARGET_DIR:-target}/schemathesis-venv}
ST="$VENV/bin/st"

if ! "$ST" --version 2>/dev/null | grep -q "$VERSION"; then
  echo "installing schemathesis $VERSION in $VENV" >&2
  if ! python3 -m venv "$VENV" >&2; then
    # Debian's own python3 keeps venv in a package of its own.
    rm -rf "$VENV"
    echo "installing python3-venv from Debian's packages" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
    python3 -m venv "$VENV" >&2
  fi
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION" >&2
fi
"$ST" --version >&2
echo "export ROSTER_TEST_SCHEMATHESIS=$(cd "$(dirname "$ST")" && pwd)/st"
