#!/usr/bin/env bash
# The cross-target check (`make cross`): the workspace compiles for FreeBSD, macOS, Windows
# and OpenBSD, checked on a Linux machine that has no standard library for them.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: matrix/cross.sh [OPTIONS]      (or: make cross)

Runs `cargo check --workspace --all-targets` for other operating systems. No prebuilt
standard library for them is needed: it is compiled from its sources (-Zbuild-std) by a
nightly toolchain.

  1. finds the nightly toolchain (rustup's `nightly`, or --nightly NAME) and its release
  2. finds the standard library's sources of that release: the toolchain's own rust-src
     component when it is installed (`rustup component add rust-src --toolchain nightly`),
     else Debian's rust-src package of the same release (major.minor), looked up in the
     suites (sid, then experimental) through a private apt configuration under the cache
     (the host's apt sources stay as they are), downloaded once and unpacked with dpkg -x
  3. with Debian's sources: copies the nightly toolchain into the cache (hard links where
     the cache shares a file system with rustup's toolchains), places the sources as its
     lib/rustlib/src/rust/library and links the copy as a rustup toolchain named
     sockerr-cross-<hash of the cache's path>; rustup's own toolchains are not changed
  4. per target: cargo +TOOLCHAIN check --workspace --all-targets
     -Zbuild-std=std,panic_abort --target TARGET, into target/cross/; the whole output goes
     to CACHE/logs/TARGET.log, and a line per target says whether it passed, with its errors

Options (each also read from the environment variable shown):
  --target T        a target to check, repeat for several [CROSS_TARGETS, space-separated;
                    default: x86_64-unknown-freebsd aarch64-apple-darwin
                    x86_64-pc-windows-msvc x86_64-unknown-openbsd]
  --nightly NAME    the rustup toolchain that compiles [CROSS_NIGHTLY; default nightly]
  --std-source S    auto, rustup or debian: where the standard library's sources come from
                    [CROSS_STD_SOURCE; default auto: the toolchain's rust-src component when
                    installed, else Debian's package]
  --suites "S ..."  Debian suites searched for rust-src, in order [CROSS_SUITES; default
                    "sid experimental"]
  --rust-src VER    take this Debian rust-src version even when its release differs from
                    the nightly's [CROSS_RUST_SRC; default: the newest of the nightly's release]
  --cache DIR       packages, the toolchain copy and logs [CROSS_CACHE; default
                    matrix/cache/cross, not committed]
  -h, --help        this text

Exit status: 0 when every target passed its check; 1 when a target's check failed (its
errors are printed); 2 when the check could not start or the standard library itself did
not compile (no nightly toolchain, no standard library sources of its release or sources
that do not go with it, a download failed, a usage error).
EOF
}

die() {
  echo "cross: $*" >&2
  exit 2
}

say() {
  echo "cross: $*" >&2
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=matrix/apt.sh
. "$ROOT/matrix/apt.sh"

TARGETS=${CROSS_TARGETS:-"x86_64-unknown-freebsd aarch64-apple-darwin x86_64-pc-windows-msvc x86_64-unknown-openbsd"}
NIGHTLY=${CROSS_NIGHTLY:-nightly}
STD_SOURCE=${CROSS_STD_SOURCE:-auto}
SUITES=${CROSS_SUITES:-"sid experimental"}
RUST_SRC=${CROSS_RUST_SRC:-}
CACHE=${CROSS_CACHE:-$ROOT/matrix/cache/cross}
CARGO_TARGET=$ROOT/target/cross

targets_given=()
while [ $# -gt 0 ]; do
  case "$1" in
    --target) [ $# -ge 2 ] || die "--target needs a target triple"; targets_given+=("$2"); shift 2 ;;
    --nightly) [ $# -ge 2 ] || die "--nightly needs a toolchain name"; NIGHTLY=$2; shift 2 ;;
    --std-source) [ $# -ge 2 ] || die "--std-source needs auto, rustup or debian"; STD_SOURCE=$2; shift 2 ;;
    --suites) [ $# -ge 2 ] || die "--suites needs Debian suite names"; SUITES=$2; shift 2 ;;
    --rust-src) [ $# -ge 2 ] || die "--rust-src needs a Debian version"; RUST_SRC=$2; shift 2 ;;
    --cache) [ $# -ge 2 ] || die "--cache needs a directory"; CACHE=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
if [ ${#targets_given[@]} -gt 0 ]; then
  TARGETS="${targets_given[*]}"
fi
[ -n "${TARGETS// /}" ] || die "no target to check"
case "$STD_SOURCE" in auto | rustup | debian) ;; *) die "--std-source takes auto, rustup or debian, not $STD_SOURCE" ;; esac
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
STARTED=$(date +%s)

# ---------------------------------------------------------------------------------------------
# The nightly toolchain

command -v rustup >/dev/null 2>&1 || die "rustup is missing: the check runs a nightly toolchain through rustup (https://rustup.rs)"
NIGHTLY_VV=$(rustc "+$NIGHTLY" -vV 2>/dev/null) ||
  die "no rustup toolchain $NIGHTLY (rustup toolchain install $NIGHTLY --profile minimal, or --nightly NAME for another)"
field() {
  sed -n "s/^$1: //p" <<<"$NIGHTLY_VV"
}
RELEASE=$(field release) # 1.97.0-nightly
COMMIT=$(field commit-hash)
HOST=$(field host)
DESCRIBED="$(head -n 1 <<<"$NIGHTLY_VV") (toolchain $NIGHTLY)"
case "$RELEASE" in
  *-nightly | *-dev) ;;
  *) die "$DESCRIBED is not a nightly: -Zbuild-std needs one (--nightly NAME)" ;;
esac
# The release the standard library's sources must come from: 1.97.0-nightly -> 1.97.
major_minor() {
  sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p' <<<"${1#*:}"
}
WANT=$(major_minor "$RELEASE")
SYSROOT=$(rustc "+$NIGHTLY" --print sysroot)

# ---------------------------------------------------------------------------------------------
# The standard library's sources

# The rust-src versions SUITE ($1) offers, one "VERSION SUITE" line each.
debian_versions() {
  private_apt "$CACHE" "$1"
  apt-cache "${APT_OPTS[@]}" madison rust-src 2>/dev/null | awk -F'|' -v s="$1" '{ gsub(/ /, "", $2); print $2, s }' | sort -u
}

# Says what is missing when no rust-src of the nightly's release is to be had, and stops.
no_matching_sources() {
  local offered=$1 line
  say "no standard library sources for $DESCRIBED."
  say "  -Zbuild-std compiles the standard library with this compiler, which needs the sources of"
  say "  its own release, $WANT; the toolchain has no rust-src component, and Debian offers:"
  if [ -n "$offered" ]; then
    while read -r line; do say "    rust-src ${line% *} in ${line##* } (release $(major_minor "${line% *}"))"; done <<<"$offered"
  else
    say "    no rust-src package in the suites $SUITES"
  fi
  say "  Any one of these mends it:"
  say "  - the toolchain's own sources, where the Rust distribution server is reachable:"
  say "      rustup component add rust-src --toolchain $NIGHTLY"
  say "  - a nightly of the release Debian offers (nightlies of 1.N are those of the six weeks"
  say "    before 1.N branched to beta):"
  say "      rustup toolchain install nightly-YYYY-MM-DD --profile minimal"
  say "      CROSS_NIGHTLY=nightly-YYYY-MM-DD make cross"
  say "  - another Debian suite that has rust-src $WANT: --suites \"SUITE ...\" (CROSS_SUITES)"
  say "  - Debian's sources of another release anyway (the standard library may then not"
  say "    compile): --rust-src VERSION (CROSS_RUST_SRC)"
  exit 2
}

# Chooses the Debian rust-src version and its suite, the first suite that has one of the
# nightly's release (or the version --rust-src names): sets DEB_VERSION and DEB_SUITE.
choose_debian_sources() {
  local suite versions offered="" line version
  DEB_VERSION=""
  for suite in $SUITES; do
    versions=$(debian_versions "$suite")
    offered+=${versions:+$versions$'\n'}
    while read -r line; do
      [ -n "$line" ] || continue
      version=${line% *}
      if [ -n "$RUST_SRC" ]; then
        [ "$version" = "$RUST_SRC" ] || continue
      else
        [ "$(major_minor "$version")" = "$WANT" ] || continue
        # The newest of the release.
        [ -z "$DEB_VERSION" ] || dpkg --compare-versions "$version" gt "$DEB_VERSION" || continue
      fi
      DEB_VERSION=$version
      DEB_SUITE=$suite
    done <<<"$versions"
    [ -z "$DEB_VERSION" ] || break
  done
  offered=${offered%$'\n'}
  if [ -z "$DEB_VERSION" ] && [ -n "$RUST_SRC" ]; then
    offered=${offered//$'\n'/, }
    die "no rust-src $RUST_SRC in the suites $SUITES; they offer: ${offered:-nothing}"
  fi
  [ -n "$DEB_VERSION" ] || no_matching_sources "$offered"
  if [ "$(major_minor "$DEB_VERSION")" != "$WANT" ]; then
    say "rust-src $DEB_VERSION is of release $(major_minor "$DEB_VERSION") and the nightly of $WANT: taken because --rust-src names it"
  fi
}

# Downloads rust-src DEB_VERSION from DEB_SUITE into the cache once; sets DEB.
download_sources() {
  local pattern="rust-src_${DEB_VERSION#*:}_all.deb"
  mkdir -p "$CACHE/debs"
  DEB=$CACHE/debs/$pattern
  [ -f "$DEB" ] && return
  private_apt "$CACHE" "$DEB_SUITE"
  say "apt-get download rust-src=$DEB_VERSION ($DEB_SUITE)"
  (cd "$CACHE/debs" && apt-get "${APT_OPTS[@]}" download -qq "rust-src=$DEB_VERSION") ||
    die "apt-get download rust-src=$DEB_VERSION from $DEB_SUITE failed"
  [ -f "$DEB" ] || die "apt-get download left no $DEB"
  find "$CACHE/debs" -maxdepth 1 -name 'rust-src_*.deb' ! -name "$pattern" -delete
}

# Copies the nightly toolchain into CACHE/toolchain with the sources of DEB in place, unless
# the copy there is already of this nightly and these sources.
make_toolchain() {
  local tc=$CACHE/toolchain stamp="nightly $COMMIT, rust-src $DEB_VERSION" unpacked library
  if [ -f "$tc/.sockerr-cross" ] && [ "$(cat "$tc/.sockerr-cross")" = "$stamp" ]; then
    TOOLCHAIN_DIR=$tc
    return
  fi
  say "copying $NIGHTLY ($SYSROOT) into $tc with the sources of rust-src $DEB_VERSION"
  rm -rf "$tc" "$CACHE/unpacked"
  mkdir -p "$tc"
  # Hard links cost nothing and rustup replaces a toolchain's files rather than rewriting
  # them; across file systems the files are copied.
  cp -al "$SYSROOT/bin" "$SYSROOT/lib" "$tc/" 2>/dev/null || {
    rm -rf "$tc" && mkdir -p "$tc"
    cp -a "$SYSROOT/bin" "$SYSROOT/lib" "$tc/"
  } || die "cannot copy $SYSROOT into $tc"
  rm -rf "$tc/lib/rustlib/src"
  unpacked=$CACHE/unpacked
  dpkg -x "$DEB" "$unpacked" || die "dpkg -x $DEB failed"
  library=$(find "$unpacked/usr/src" -mindepth 2 -maxdepth 2 -type d -name library | head -n 1)
  if [ -z "$library" ] || [ ! -f "$library/Cargo.lock" ]; then
    die "$DEB holds no usr/src/rustc-*/library with a Cargo.lock: Debian changed the package's layout"
  fi
  mkdir -p "$tc/lib/rustlib/src/rust"
  mv "$library" "$tc/lib/rustlib/src/rust/library"
  rm -rf "$unpacked"
  echo "$stamp" >"$tc/.sockerr-cross"
  TOOLCHAIN_DIR=$tc
}

HAS_COMPONENT=0
[ -f "$SYSROOT/lib/rustlib/src/rust/library/Cargo.lock" ] && HAS_COMPONENT=1
if [ "$STD_SOURCE" = rustup ] || { [ "$STD_SOURCE" = auto ] && [ "$HAS_COMPONENT" = 1 ]; }; then
  [ "$HAS_COMPONENT" = 1 ] ||
    die "$DESCRIBED has no rust-src component (rustup component add rust-src --toolchain $NIGHTLY, or --std-source debian)"
  TOOLCHAIN=$NIGHTLY
  SOURCES="the toolchain's rust-src component"
else
  if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
    die "without the rust-src component of $NIGHTLY the sources come from Debian, which needs apt-get and dpkg (or: rustup component add rust-src --toolchain $NIGHTLY)"
  fi
  choose_debian_sources
  download_sources
  make_toolchain
  TOOLCHAIN=sockerr-cross-$(printf '%s' "$CACHE" | cksum | cut -c 1-8)
  rustup toolchain link "$TOOLCHAIN" "$TOOLCHAIN_DIR" >/dev/null ||
    die "rustup toolchain link $TOOLCHAIN $TOOLCHAIN_DIR failed"
  SOURCES="Debian's rust-src $DEB_VERSION ($DEB_SUITE), in the toolchain $TOOLCHAIN"
fi
say "$DESCRIBED on $HOST; standard library from $SOURCES"

# ---------------------------------------------------------------------------------------------
# The checks

# Crates of the standard library (not its dependencies from crates.io, which the workspace may
# share): a failure in one of them means its sources and the compiler do not go together,
# not that the workspace is wrong.
STD_CRATES='core|alloc|std|compiler_builtins|panic_abort|panic_unwind|unwind|std_detect|proc_macro|test|sysroot|rustc-std-workspace-[a-z]*'

# The first $2 errors of log $1, each with the place it points at, paths shortened.
first_errors() {
  awk -v max="$2" '/^error(\[E[0-9]+\])?: / && !/^error: (could not compile|aborting due to)/ { msg = $0; getline; print "  " msg ($0 ~ /-->/ ? "  " $0 : ""); if (++n == max) exit }' "$1" |
    sed -e 's/  *--> */  at /' -e "s#$ROOT/##" -e "s#$SYSROOT_USED/lib/rustlib/src/rust/#rust-src: #" \
      -e 's#[^ ]*/registry/src/[^/]*/#crates.io: #' >&2
}

SYSROOT_USED=$(rustc "+$TOOLCHAIN" --print sysroot)
mkdir -p "$CACHE/logs"
results=()
failed=0
std_failed=0
for target in $TARGETS; do
  log=$CACHE/logs/$target.log
  say "$target: cargo +$TOOLCHAIN check --workspace --all-targets -Zbuild-std=std,panic_abort (log: $log)"
  t0=$(date +%s)
  rc=0
  (cd "$ROOT" && CARGO_TARGET_DIR=$CARGO_TARGET cargo "+$TOOLCHAIN" check --workspace --all-targets \
    -Zbuild-std=std,panic_abort --target "$target" --keep-going --color never) >"$log" 2>&1 || rc=$?
  took=$(($(date +%s) - t0))
  # Diagnostics, not cargo's and rustc's closing counts.
  errors=$(grep -E '^error(\[E[0-9]+\])?: ' "$log" | grep -cvE '^error: (could not compile|aborting due to)' || true)
  warnings=$(grep -E '^warning(\[E[0-9]+\])?: ' "$log" | grep -cvE '^warning: .* generated [0-9]+ warnings?' || true)
  if [ "$rc" = 0 ]; then
    results+=("$target: passed, $warnings warnings, $took s")
    continue
  fi
  failed=$((failed + 1))
  if grep -qE "could not compile \`($STD_CRATES)\`" "$log"; then
    std_failed=$((std_failed + 1))
    results+=("$target: FAILED in the standard library, $took s (log: $log)")
    first_errors "$log" 3
    say "$target: the standard library itself did not compile: its sources ($SOURCES) do not"
    say "  go with $DESCRIBED; see --help for where else the sources can come from"
  else
    results+=("$target: FAILED, $errors errors, $warnings warnings, $took s (log: $log)")
    first_errors "$log" 20
  fi
done

echo
for line in "${results[@]}"; do
  echo "cross: $line"
done
echo "cross: $(wc -w <<<"$TARGETS") targets, $failed failed, $(($(date +%s) - STARTED)) s in all"
[ "$std_failed" = 0 ] || exit 2
[ "$failed" = 0 ] || exit 1
