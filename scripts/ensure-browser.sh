#!/usr/bin/env bash
# What the browser tests need from the system: Debian's chromium (driven by Playwright), its driver, and a CJK font
# (without fonts-noto-cjk, Chinese text in screenshots is drawn as boxes). The one place this is decided:
# `make test` and .ci/run both call it. As root it installs what is missing; otherwise it stops at once with the
# exact command to run.
set -euo pipefail

packages=(chromium chromium-driver fonts-noto-cjk)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

command="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "The browser tests need: ${missing[*]}. Run this as root, then make test again:" >&2
  echo "  sudo sh -c '$command'" >&2
  exit 1
fi
echo "Installing ${missing[*]} for the browser tests (about a minute)..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
