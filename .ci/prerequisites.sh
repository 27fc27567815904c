#!/bin/sh
# Makes sure the programs the suite needs are installed: `make report`, `make test` and
# .ci/run call it with the programs they need, each as PROGRAM:PACKAGE (nft:nftables).
#
# Nothing missing: says nothing. Missing, as root on a machine with apt-get (Debian): says so
# in one line and installs the packages. Otherwise: one line naming what is missing and how
# to install it, and exit status 1. A program still not found after apt-get installed its
# package (one outside PATH) is named likewise.
set -eu

programs=""
packages=""
for pair in "$@"; do
  program=${pair%%:*}
  package=${pair#*:}
  if ! command -v "$program" >/dev/null 2>&1; then
    programs="$programs $program"
    packages="$packages $package"
  fi
done
[ -n "$programs" ] || exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing:$programs (packages:$packages): install them (apt-get install$packages), or run this as root on Debian to have them installed" >&2
  exit 1
fi

echo "installing$packages with apt-get (missing:$programs)"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# shellcheck disable=SC2086 # one word per package
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $packages; } >"$log" 2>&1; then
  echo "apt-get could not install$packages: $(grep -v '^[[:space:]]*$' "$log" | tail -n 1)" >&2
  exit 1
fi
for program in $programs; do
  if ! command -v "$program" >/dev/null 2>&1; then
    echo "$program is still not found after installing its package: it is not in PATH ($PATH)" >&2
    exit 1
  fi
done
