#!/usr/bin/env bash
# The HTML report test drives Debian's Chromium through playwright-core (never a browser download). Install it
# when it is missing and this machine can (root with apt-get); otherwise say what the test will need.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q chromium
else
  echo "note: /usr/bin/chromium is missing; the HTML report test needs it (apt-get install -y chromium)" >&2
fi
