#!/usr/bin/env bash
# Installs the Debian packages the platform and its tests use, when missing: the PDF's embedded fonts, Chromium for
# the page tests, poppler-utils to read PDFs as a reader does, prometheus for promtool (the alert rules). Run by
# `make up` and `make test`.
set -euo pipefail
missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "Please install these Debian packages (or your system's equivalents): ${missing[*]}" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing Debian packages: ${missing[*]} (log: /tmp/trip-desk-apt.log)"
export DEBIAN_FRONTEND=noninteractive
{ $sudo apt-get install -y --no-install-recommends "${missing[@]}" \
  || { $sudo apt-get update && $sudo apt-get install -y --no-install-recommends "${missing[@]}"; }; } \
  > /tmp/trip-desk-apt.log 2>&1 || { tail -n 30 /tmp/trip-desk-apt.log; exit 1; }
