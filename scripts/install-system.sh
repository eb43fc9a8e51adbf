#!/usr/bin/env bash
# Installs the Debian packages listed in requirements/apt.txt, or says exactly what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t wanted < <(grep -v -E '^\s*(#|$)' requirements/apt.txt)
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# Node.js and npm install the pinned npm font packages (fonts/package.json). Only when the commands
# are missing: a Node.js from elsewhere (e.g. nodesource) already carries npm and conflicts with
# Debian's npm package.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all ${#wanted[@]} present, node and npm found"
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  echo "system packages: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Glyphgrid needs these Debian packages, which this machine lacks and cannot install (no apt-get or no root):" >&2
  printf '  %s\n' "${missing[@]}" >&2
  echo "Install them (or your distribution's equivalents: Arabic fonts and ArabicShaping.txt), then rerun." >&2
  exit 1
fi
