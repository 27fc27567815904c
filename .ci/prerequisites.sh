#!/bin/sh
# Makes sure the programs the suite needs are installed: `make report`, `make test` and
# .ci/run call it with the programs they need, each as PROGRAM:PACKAGE (nft:nftables).
#
# Nothing missing: says nothing. A program installed outside PATH (/usr/sbin, where Debian
# keeps nft, is not in an ordinary user's PATH): one line saying so, exit status 1. Missing,
# as root on a machine with apt-get (Debian): says so in one line and installs the packages.
# Otherwise: one line naming what is missing and how to install it, and exit status 1.
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

# Installed, but where an ordinary user's PATH does not look (Debian keeps nft in /usr/sbin).
for program in $programs; do
  for dir in /usr/sbin /sbin; do
    if [ -x "$dir/$program" ]; then
      echo "$program is in $dir, which is not in PATH: add it (export PATH=\"\$PATH:$dir\")" >&2
      exit 1
    fi
  done
done

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
