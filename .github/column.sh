#!/bin/sh
# One column of the cross-platform matrix, run by .github/workflows/platforms.yml on each
# operating system's machine: runs the catalogue with the given `sockerr run` options into
# out/NAME (report.json, report.md, pcap/), labelled NAME-VERSION with the version of the
# operating system, for the job that compares the columns. Trials that disagree with the
# expectation file are the measurement, not a failure: the step fails only when the run could
# not start or wrote no report.
#
# Usage: .github/column.sh NAME [OPTIONS of sockerr run...]   (after cargo build --release)
set -eu

[ $# -ge 1 ] || { echo "usage: $0 NAME [OPTIONS of sockerr run...]" >&2; exit 2; }
name=$1
shift

case "$(uname -s)" in
  Darwin) version=$(sw_vers -productVersion) ;;
  FreeBSD) version=$(freebsd-version) ;;
  MINGW* | MSYS* | CYGWIN*) version=$(cmd //c ver | tr -d '\r' | sed -n 's/.*Version \([0-9.]*\).*/\1/p') ;;
  *) version=$(uname -r) ;;
esac
label=$name-${version:-unknown}
bin=target/release/sockerr
[ -x "$bin" ] || bin=$bin.exe
[ -x "$bin" ] || { echo "::error title=$name::no target/release/sockerr: run cargo build --release first"; exit 2; }
out=out/$name

status=0
"$bin" run --out "$out" --label "$label" "$@" || status=$?
if [ "$status" -gt 1 ] || [ ! -f "$out/report.json" ]; then
  echo "::error title=$label::sockerr run exited with status $status and wrote no report"
  exit 2
fi
if [ "$status" = 1 ]; then
  echo "::warning title=$label::some trials differ from the expectation file (report.md in the artifact column-$name)"
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  {
    echo "### $label"
    echo '```'
    "$bin" show "$out/report.json"
    echo '```'
  } >>"$GITHUB_STEP_SUMMARY"
fi
