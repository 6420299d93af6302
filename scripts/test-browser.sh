#!/usr/bin/env bash
# Installs Debian's headless Chromium and its ChromeDriver for the portal's browser tests
# (crates/cli/tests/portal), when they are missing. Needs root (CI runs as root). The tests
# say SKIPPED without them locally, and fail when CI is set.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  /usr/bin/chromium --version
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
/usr/bin/chromedriver --version
