#!/usr/bin/env bash
# The cross-kernel matrix (`make matrix`): the whole catalogue on the host's kernel, on
# Debian kernel packages booted under QEMU and on gVisor's netstack (runsc), compared step by
# step.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: matrix/matrix.sh [OPTIONS]      (or: make matrix)

Runs the whole sockerr catalogue on this machine's kernel, inside QEMU guests booted with
Debian kernel packages, and inside gVisor (runsc), then compares the reports step by step.

  1. builds a statically linked sockerr (target/matrix/, apart from the normal build)
  2. installs what is missing with apt-get: qemu-system-x86, busybox-static, cpio, kmod,
     xz-utils, zstd, nftables, binutils, and the runtimes the clients need (openjdk-17-jdk-headless,
     python3, golang-go, nodejs)
  3. runs the catalogue on the host (origin host), without the runtime clients' trials
  4. per kernel: resolves the package (a meta-package such as linux-image-cloud-amd64 names
     the versioned image it depends on), fetches it with `apt-get download` into the cache,
     extracts vmlinuz and the modules the suite needs (veth, nf_tables and its expressions,
     the reject modules, sch_netem, and their dependencies), builds an initramfs with
     busybox, sockerr, nft and its libraries, and boots it under qemu-system-x86_64 (two guests at a time); the
     guest runs the catalogue (origin guest, with the package, its version and the
     accelerator) and sends its report back on a second serial port. A guest that panics
     or hangs before the catalogue starts is booted once more
  5. gVisor: fetches runsc from Debian (a private apt configuration naming the suite, then
     `apt-get download` and `dpkg -x` into the cache, never through the host's apt sources),
     and iptables-legacy with its libraries from the host's suite the same way (gVisor has
     no nftables but takes iptables rules); builds an OCI bundle (the host's / read-only as
     root, tmpfs on /tmp and /run, the output directory writable, the capabilities NET_ADMIN,
     NET_RAW and SYS_ADMIN) and runs `runsc --network=none --net-raw --platform=PLATFORM
     run` on it: the catalogue runs on gVisor's netstack, in namespaces of the sandbox
     (origin sandbox, with runsc's version, its platform and the host's kernel), without
     the runtime clients' trials (`sockerr run --no-runtime-clients`, as in every column:
     the guests have no runtimes, and each column holds the same trials)
  6. writes OUT/<column>.json and .md per column that ran (linux-<version>, and
     gvisor-<version>-<platform>), OUT/runtimes-linux-<version>.json and .md (the host's run
     with the runtime clients' trials, from which README's runtime table is regenerated when
     OUT is reports/reference), and OUT/matrix.md and OUT/matrix.html (`sockerr
     compare`), with a section saying how each column was obtained and which failed, and why
  7. checks that the host's links, addresses, routes, nftables ruleset and net.* sysctls are
     as they were before it started (exit status 2 and the difference when not)

A machine without QEMU (or without KVM) and without runsc still gets every other column:
a column that cannot be obtained is listed with the reason.

Options (each also read from the environment variable shown):
  --kernel SPEC      a kernel to boot, repeat for several [MATRIX_KERNELS, space-separated;
                     default: bullseye:linux-image-cloud-amd64 linux-image-cloud-amd64
                     linux-image-6.12-cloud-amd64 trixie-backports:linux-image-cloud-amd64].
                     SPEC is a package name (meta-packages are followed to the image they
                     depend on) from the host's apt sources, or SUITE:PACKAGE to take it from
                     another Debian suite of the same mirror through a private apt
                     configuration under the cache (e.g. trixie-backports:linux-image-cloud-amd64)
  --gvisor SPEC      where runsc comes from, SUITE:PACKAGE, or `none` for no gVisor column
                     [MATRIX_GVISOR; default trixie:runsc (bookworm's runsc lacks the netlink
                     operations the sandbox needs)]
  --gvisor-platform NAME
                     runsc's --platform [MATRIX_GVISOR_PLATFORM; default systrap]
  --gvisor-trial-deadline SECONDS
                     `sockerr run --trial-deadline` inside gVisor, which ignores TCP_SYNCNT
                     and SO_SNDTIMEO on connect, so a trial that waits for a shortened SYN
                     timeout would run to the default 60 s [MATRIX_GVISOR_TRIAL_DEADLINE;
                     default 8]
  --timeout SECONDS  bound on each guest (and the gVisor run), boot to power-off
                     [MATRIX_TIMEOUT; default 600]
  --accel MODE       auto, kvm or tcg [MATRIX_ACCEL; default auto: KVM only when /dev/kvm
                     opens and a trivial guest boots under it within MATRIX_KVM_PROBE_TIMEOUT
                     seconds (default 30), else TCG]
  --memory MIB       guest memory [MATRIX_MEMORY; default 1024]
  --parallel N       guests booted at once [MATRIX_PARALLEL; default 2: under TCG each
                     guest keeps one host CPU busy]
  --cpus N           guest CPUs [MATRIX_CPUS; default 2]
  --out DIR          where the reports and the matrix go [MATRIX_OUT; default reports/reference]
  --cache DIR        downloads, extracted kernels, initramfs and guest logs
                     [MATRIX_CACHE; default matrix/cache, not committed]
  --no-install       do not apt-get install missing tools; fail naming them instead
  -h, --help         this text

Exit status: 0 when the host and at least one guest or sandbox produced a report and the
matrix was written (a column that failed is listed in OUT/matrix.md, not fatal); 1 when
none did; 2 on a usage error, when a step outside the guests and the sandbox failed (build,
host run, compare), or when the host's network state changed.
EOF
}

die() {
  echo "matrix: $*" >&2
  exit 2
}

say() {
  echo "matrix: $*" >&2
}

# The last non-blank line of file $1 (other than lines matching $2), or "(none)".
last_line() {
  {
    if [ -n "${2:-}" ]; then grep -v -e "$2" "$1"; else cat "$1"; fi
  } 2>/dev/null | grep -v '^[[:space:]]*$' | tail -n 1 | tr -d '\r' | grep . || echo "(none)"
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=matrix/apt.sh
. "$ROOT/matrix/apt.sh"
KERNELS=${MATRIX_KERNELS:-"bullseye:linux-image-cloud-amd64 linux-image-cloud-amd64 linux-image-6.12-cloud-amd64 trixie-backports:linux-image-cloud-amd64"}
GVISOR=${MATRIX_GVISOR:-trixie:runsc}
GVISOR_PLATFORM=${MATRIX_GVISOR_PLATFORM:-systrap}
GVISOR_TRIAL_DEADLINE=${MATRIX_GVISOR_TRIAL_DEADLINE:-8}
TIMEOUT=${MATRIX_TIMEOUT:-600}
ACCEL=${MATRIX_ACCEL:-auto}
KVM_PROBE_TIMEOUT=${MATRIX_KVM_PROBE_TIMEOUT:-30}
MEMORY=${MATRIX_MEMORY:-1024}
PARALLEL=${MATRIX_PARALLEL:-2}
CPUS=${MATRIX_CPUS:-2}
OUT=${MATRIX_OUT:-$ROOT/reports/reference}
CACHE=${MATRIX_CACHE:-$ROOT/matrix/cache}
INSTALL=1
CARGO=${CARGO:-cargo}

kernels_given=()
while [ $# -gt 0 ]; do
  case "$1" in
    --kernel) [ $# -ge 2 ] || die "--kernel needs a package name"; kernels_given+=("$2"); shift 2 ;;
    --timeout) [ $# -ge 2 ] || die "--timeout needs seconds"; TIMEOUT=$2; shift 2 ;;
    --gvisor) [ $# -ge 2 ] || die "--gvisor needs SUITE:PACKAGE or none"; GVISOR=$2; shift 2 ;;
    --gvisor-platform) [ $# -ge 2 ] || die "--gvisor-platform needs a name"; GVISOR_PLATFORM=$2; shift 2 ;;
    --gvisor-trial-deadline) [ $# -ge 2 ] || die "--gvisor-trial-deadline needs seconds"; GVISOR_TRIAL_DEADLINE=$2; shift 2 ;;
    --accel) [ $# -ge 2 ] || die "--accel needs auto, kvm or tcg"; ACCEL=$2; shift 2 ;;
    --memory) [ $# -ge 2 ] || die "--memory needs MiB"; MEMORY=$2; shift 2 ;;
    --parallel) [ $# -ge 2 ] || die "--parallel needs a number"; PARALLEL=$2; shift 2 ;;
    --cpus) [ $# -ge 2 ] || die "--cpus needs a number"; CPUS=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a directory"; OUT=$2; shift 2 ;;
    --cache) [ $# -ge 2 ] || die "--cache needs a directory"; CACHE=$2; shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
if [ ${#kernels_given[@]} -gt 0 ]; then
  KERNELS="${kernels_given[*]}"
fi
# MATRIX_KERNELS=none: no guest at all.
[ "$KERNELS" != none ] || KERNELS=""
for n in "$TIMEOUT" "$KVM_PROBE_TIMEOUT" "$MEMORY" "$CPUS" "$GVISOR_TRIAL_DEADLINE" "$PARALLEL"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "not a positive whole number: $n"
done
case "$ACCEL" in auto | kvm | tcg) ;; *) die "--accel takes auto, kvm or tcg, not $ACCEL" ;; esac
case "$GVISOR" in none | *:*) ;; *) die "--gvisor takes SUITE:PACKAGE or none, not $GVISOR" ;; esac
[[ $GVISOR_PLATFORM =~ ^[a-z]+$ ]] || die "not a runsc platform name: $GVISOR_PLATFORM"
[ -n "${KERNELS// /}" ] || [ "$GVISOR" != none ] || die "no kernel to boot and no gVisor column"
[ "$(uname -m)" = x86_64 ] || die "the matrix boots x86_64 Debian kernels; this machine is $(uname -m)"
[ "$(id -u)" = 0 ] || die "run as root: apt-get and the host's catalogue run need it"

mkdir -p "$OUT" "$CACHE"
OUT=$(cd "$OUT" && pwd)
CACHE=$(cd "$CACHE" && pwd)
WORK=$CACHE/work
rm -rf "$WORK"
mkdir -p "$WORK" "$CACHE/debs" "$CACHE/kernels"
STARTED=$(date +%s)

# ---------------------------------------------------------------------------------------------
# Tools

APT_UPDATED=0
apt_update_once() {
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
    APT_UPDATED=1
  fi
}

static_busybox() {
  [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1
}

# Installs what is missing: the tools every column needs (a failure is fatal), then those only
# the guests need (a failure leaves QEMU_MISSING saying why, and the guests are listed as not
# run while the other columns go on).
QEMU_MISSING=""
ensure_tools() {
  local need=() guest=()
  command -v nft >/dev/null 2>&1 || need+=(nftables)
  command -v dpkg-deb >/dev/null 2>&1 || need+=(dpkg)
  command -v timeout >/dev/null 2>&1 || need+=(coreutils)
  # The host's run with the runtime clients (runtimes-linux-<version>.json) measures them all.
  command -v javac >/dev/null 2>&1 || need+=(openjdk-17-jdk-headless)
  command -v python3 >/dev/null 2>&1 || need+=(python3)
  command -v go >/dev/null 2>&1 || need+=(golang-go)
  command -v node >/dev/null 2>&1 || need+=(nodejs)
  command -v qemu-system-x86_64 >/dev/null 2>&1 || guest+=(qemu-system-x86)
  static_busybox || guest+=(busybox-static)
  command -v cpio >/dev/null 2>&1 || guest+=(cpio)
  command -v depmod >/dev/null 2>&1 || guest+=(kmod)
  command -v xz >/dev/null 2>&1 || guest+=(xz-utils)
  command -v zstd >/dev/null 2>&1 || guest+=(zstd)
  command -v strip >/dev/null 2>&1 || guest+=(binutils)
  if [ ${#need[@]} -gt 0 ]; then
    [ "$INSTALL" = 1 ] || die "missing packages: ${need[*]} (apt-get install ${need[*]})"
    apt_update_once
    say "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" \
      || die "apt-get install ${need[*]} failed"
  fi
  if [ ${#guest[@]} -gt 0 ] && [ -n "${KERNELS// /}" ]; then
    if [ "$INSTALL" = 0 ]; then
      QEMU_MISSING="missing packages: ${guest[*]} (apt-get install ${guest[*]})"
    else
      apt_update_once
      say "installing ${guest[*]}"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${guest[@]}" \
        || QEMU_MISSING="apt-get install ${guest[*]} failed"
    fi
  fi
  if [ -z "$QEMU_MISSING" ] && [ -n "${KERNELS// /}" ] && ! static_busybox; then
    QEMU_MISSING="/bin/busybox is not statically linked (apt-get install busybox-static)"
  fi
  if [ -n "$QEMU_MISSING" ]; then
    say "no guest can boot: $QEMU_MISSING"
  fi
}

# ---------------------------------------------------------------------------------------------
# The suite, statically linked so that it runs in a guest with no C library

BIN=""
build_static() {
  local target_dir=$ROOT/target/matrix
  say "building a static sockerr into $target_dir"
  (cd "$ROOT" && RUSTFLAGS='-C target-feature=+crt-static' "$CARGO" build --release -p sockerr \
    --target x86_64-unknown-linux-gnu --target-dir "$target_dir") || die "the static build failed"
  BIN=$target_dir/x86_64-unknown-linux-gnu/release/sockerr
  [ -x "$BIN" ] || die "the static build left no $BIN"
  if ldd "$BIN" 2>/dev/null | grep -q '=>'; then
    die "$BIN is dynamically linked: $(ldd "$BIN" | tr '\n' ' ')"
  fi
}

# ---------------------------------------------------------------------------------------------
# Versions and labels

# The upstream version of a Debian package version: 6.1.192-2 -> 6.1.192,
# 6.12.117-1~deb12u1 -> 6.12.117.
upstream_version() {
  local v=${1#*:}
  echo "${v%-*}"
}

# The host kernel's version: Debian kernels name their package version in `uname -v`
# (the release, 6.1.0-56-cloud-amd64, names the ABI); others give it as the release's first
# field (6.18.44-fc-v782 -> 6.18.44).
host_version() {
  local v
  v=$(uname -v | sed -n 's/.* Debian \([0-9][0-9.]*\)-.*/\1/p')
  [ -n "$v" ] || v=$(uname -r | sed 's/[^0-9.].*//')
  echo "$v"
}

# ---------------------------------------------------------------------------------------------
# Kernel packages

# The versioned image package a spec names (following meta-packages), and its candidate
# version: sets PKG and VERSION.
resolve_kernel() {
  local suite=$1 name=$2 next i
  private_apt "$CACHE" "$suite"
  if ! apt-cache "${APT_OPTS[@]}" show "$name" >/dev/null 2>&1; then
    [ -n "$suite" ] || apt_update_once
    apt-cache "${APT_OPTS[@]}" show "$name" >/dev/null 2>&1 || return 1
  fi
  for i in 1 2 3 4; do
    next=$(apt-cache "${APT_OPTS[@]}" depends --important "$name" 2>/dev/null |
      sed -n 's/^ *Depends: \(linux-image-[^ <>]*\)$/\1/p' | head -n 1)
    [ -n "$next" ] || break
    name=$next
    [ "$i" -lt 4 ] || return 1
  done
  PKG=$name
  VERSION=$(apt-cache "${APT_OPTS[@]}" policy "$name" | sed -n 's/^ *Candidate: //p')
  [ -n "$VERSION" ] && [ "$VERSION" != "(none)" ]
}

# Downloads package $2 at VERSION into the cache once (suite $1); prints the .deb's path.
download_deb() {
  local suite=$1 name=$2 deb pattern="${2}_${VERSION#*:}_*.deb"
  deb=$(find "$CACHE/debs" -maxdepth 1 -name "$pattern" | head -n 1)
  if [ -z "$deb" ]; then
    private_apt "$CACHE" "$suite"
    say "apt-get download $name=$VERSION"
    (cd "$CACHE/debs" && apt-get "${APT_OPTS[@]}" download -qq "$name=$VERSION") >&2 || return 1
    deb=$(find "$CACHE/debs" -maxdepth 1 -name "$pattern" | head -n 1)
    [ -n "$deb" ] || return 1
  fi
  echo "$deb"
}

# Downloads PKG=VERSION into the cache and extracts it, once; newer kernels split the image
# into linux-binary-*, linux-modules-* and linux-base-* packages of the same version, which
# the image depends on and which are fetched with it. Sets KDIR (the extracted tree), KREL
# (its module directory name) and VMLINUZ.
fetch_kernel() {
  local suite=$1 deb part parts=()
  deb=$(download_deb "$suite" "$PKG") || return 1
  mapfile -t parts < <(dpkg-deb -f "$deb" Depends | tr ',' '\n' |
    sed -n 's/^ *\(linux-\(binary\|modules\|base\)-[^ ]*\) (= .*/\1/p')
  local debs=("$deb")
  for part in "${parts[@]}"; do
    deb=$(download_deb "$suite" "$part") || return 1
    debs+=("$deb")
  done
  KDIR=$CACHE/kernels/${PKG}_${VERSION#*:}
  if [ ! -f "$KDIR/.extracted" ]; then
    rm -rf "$KDIR"
    mkdir -p "$KDIR"
    for deb in "${debs[@]}"; do
      dpkg-deb -x "$deb" "$KDIR" || return 1
    done
    # Packages for merged-/usr systems (trixie on) ship their modules in /usr/lib/modules.
    if [ ! -d "$KDIR/lib/modules" ] && [ -d "$KDIR/usr/lib/modules" ]; then
      mkdir -p "$KDIR/lib"
      ln -s ../usr/lib/modules "$KDIR/lib/modules"
    fi
    KREL=$(kernel_release "$KDIR") || return 1
    depmod -b "$KDIR" "$KREL" || return 1
    touch "$KDIR/.extracted"
  fi
  KREL=$(kernel_release "$KDIR") || return 1
  VMLINUZ=$KDIR/boot/vmlinuz-$KREL
  # Split packages put the image beside the modules.
  [ -f "$VMLINUZ" ] || VMLINUZ=$KDIR/lib/modules/$KREL/vmlinuz
  [ -f "$VMLINUZ" ]
}

# The one module directory name (the kernel release) in an extracted kernel package.
kernel_release() {
  local found
  found=$(find "$1/lib/modules/" -mindepth 1 -maxdepth 1 -type d 2>/dev/null)
  [ -n "$found" ] && [ "$(echo "$found" | wc -l)" = 1 ] || return 1
  basename "$found"
}

# ---------------------------------------------------------------------------------------------
# Initramfs

# Modules loaded at boot, dependencies first; one missing from a kernel is left out.
PRELOAD="veth nf_tables nft_reject nft_reject_inet nft_reject_ipv4 nft_reject_ipv6 nft_ct nft_limit nft_log sch_netem ipv6"
# Directories whose modules are also put in, for the kernel to load on demand.
ON_DEMAND="kernel/net/netfilter kernel/net/ipv4/netfilter kernel/net/ipv6/netfilter kernel/net/sched"

# Copies a file and the shared libraries it needs (ldd) into the tree $1.
copy_with_libraries() {
  local root=$1 file=$2 lib
  install -D -m 0755 "$file" "$root$file"
  for lib in $(ldd "$file" | grep -o '/[^ ]*'); do
    install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
  done
}

# The archive every guest shares: busybox and its applets, sockerr, nft with its libraries,
# /init and /probe.
build_base() {
  local root=$WORK/base applet
  say "building the shared initramfs"
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,lib/modules}
  install -m 0755 /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list-full); do
    [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
  done
  strip -o "$root/usr/bin/sockerr" "$BIN"
  rm -f "$root/usr/sbin/nft"
  copy_with_libraries "$root" "$(command -v nft)"
  if [ "$(command -v nft)" != /usr/sbin/nft ]; then
    ln -sf "$(command -v nft)" "$root/usr/sbin/nft"
  fi
  for f in /etc/protocols /etc/services; do
    [ -f "$f" ] && cp "$f" "$root$f"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  install -m 0755 "$ROOT/matrix/guest-init.sh" "$root/init"
  printf '#!/bin/sh\necho MATRIX-PROBE-BOOTED\n/bin/busybox poweroff -f\n' >"$root/probe"
  chmod 0755 "$root/probe"
  (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$WORK/base.cpio.gz"
}

# The per-kernel archive: modules (decompressed, with modules.dep for busybox modprobe), the
# boot-time load list, and the label and origin. Written to $WORK/$LABEL/initrd, the shared
# archive first.
build_kernel_archive() {
  local label=$1 origin=$2 dir=$WORK/$1 root=$WORK/$1/root moddir name rel lines=() order=() seen=" "
  local target f
  moddir=$KDIR/lib/modules/$KREL
  rm -rf "$root"
  mkdir -p "$root/etc/matrix" "$root/lib/modules/$KREL"
  for name in $PRELOAD; do
    mapfile -t lines < <(modprobe -d "$KDIR" -S "$KREL" --show-depends "$name" 2>/dev/null | sed -n 's/^insmod \([^ ]*\).*/\1/p')
    for f in "${lines[@]}"; do
      rel=${f#"$moddir"/}
      case "$seen" in *" $rel "*) ;; *) order+=("$rel"); seen="$seen$rel " ;; esac
    done
  done
  local names=()
  for d in $ON_DEMAND; do
    [ -d "$moddir/$d" ] || continue
    while IFS= read -r f; do
      f=$(basename "$f")
      names+=("${f%%.ko*}")
    done < <(find "$moddir/$d" -name '*.ko*')
  done
  local all=()
  if [ ${#names[@]} -gt 0 ]; then
    mapfile -t all < <(modprobe -d "$KDIR" -S "$KREL" --show-depends -a "${names[@]}" 2>/dev/null | sed -n 's/^insmod \([^ ]*\).*/\1/p' | sort -u)
  fi
  for f in "${order[@]}" "${all[@]/#$moddir\//}"; do
    target=$root/lib/modules/$KREL/${f%.ko*}.ko
    [ -f "$target" ] && continue
    mkdir -p "$(dirname "$target")"
    case "$f" in
      *.ko.xz) xz -dc "$moddir/$f" >"$target" ;;
      *.ko.zst) zstd -qdc "$moddir/$f" >"$target" ;;
      *.ko.gz) gzip -dc "$moddir/$f" >"$target" ;;
      *.ko) cp "$moddir/$f" "$target" ;;
      *) continue ;;
    esac
  done
  for f in modules.order modules.builtin modules.builtin.modinfo; do
    [ -f "$moddir/$f" ] && sed 's/\.ko\.\(xz\|zst\|gz\)$/.ko/' "$moddir/$f" >"$root/lib/modules/$KREL/$f"
  done
  depmod -b "$root" "$KREL"
  for f in "${order[@]}"; do
    echo "${f%.ko*}.ko"
  done >"$root/etc/matrix/modules"
  printf "LABEL='%s'\nORIGIN='%s'\n" "$label" "$origin" >"$root/etc/matrix/env"
  (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$dir/kernel.cpio.gz"
  cat "$WORK/base.cpio.gz" "$dir/kernel.cpio.gz" >"$dir/initrd"
  say "$label: initramfs with $(find "$root/lib/modules" -name '*.ko' | wc -l) modules, ${#order[@]} loaded at boot"
}

# ---------------------------------------------------------------------------------------------
# QEMU

QEMU_VERSION=""

# Boots $1 (vmlinuz) with $2 (initrd) under accelerator $3 for at most $4 seconds; the console
# goes to $5, the second serial port to $6. Extra kernel arguments in $7. Returns QEMU's exit
# status (124 on timeout).
boot() {
  local vmlinuz=$1 initrd=$2 accel=$3 seconds=$4 console=$5 serial2=$6 extra=${7:-} cpu
  if [ "$accel" = kvm ]; then cpu=host; else cpu=max; fi
  local accel_opt=$accel
  [ "$accel" = tcg ] && accel_opt="tcg,thread=single"
  # In a subshell whose own error output is discarded: the shell's note that QEMU died of a
  # signal stays out of the terminal; QEMU's messages go to $console.qemu.
  (
    timeout -k 10 "$seconds" qemu-system-x86_64 -accel "$accel_opt" -cpu "$cpu" -m "$MEMORY" -smp "$CPUS" \
      -nodefaults -no-reboot -display none -monitor none \
      -serial "file:$console" -serial "file:$serial2" \
      -kernel "$vmlinuz" -initrd "$initrd" \
      -append "console=ttyS0 panic=-1 loglevel=4 $extra" </dev/null >"$console.qemu" 2>&1
  ) 2>/dev/null
}

# Shows the guest's `matrix-guest:` console lines (its progress among them) as they come,
# prefixed with the kernel's label $2, until the file $3 exists; then the rest, and returns.
# Only whole lines of the console file $1 are read: the guest may be writing the last one.
follow_guest() {
  local console=$1 label=$2 ended=$3 shown=0 whole lines last=""
  while :; do
    [ -e "$ended" ] && last=1
    whole=$(wc -l 2>/dev/null <"$console") || whole=0
    lines=$(head -n "$whole" "$console" 2>/dev/null | grep -c '^matrix-guest:') || lines=0
    if [ "$lines" -gt "$shown" ]; then
      head -n "$whole" "$console" | grep '^matrix-guest:' | tail -n +"$((shown + 1))" |
        tr -d '\r' | sed "s/^matrix-guest:/  $label:/" >&2 || true
      shown=$lines
    fi
    [ -z "$last" ] || return 0
    sleep 1
  done
}

ACCEL_USED=""
ACCEL_WHY=""
choose_accelerator() {
  case "$ACCEL" in
    kvm) ACCEL_USED=kvm; ACCEL_WHY="--accel kvm was given"; return ;;
    tcg) ACCEL_USED=tcg; ACCEL_WHY="--accel tcg was given"; return ;;
  esac
  ACCEL_USED=tcg
  if [ ! -e /dev/kvm ]; then
    ACCEL_WHY="no /dev/kvm"
  elif ! { exec 3<>/dev/kvm; } 2>/dev/null; then
    ACCEL_WHY="/dev/kvm does not open for reading and writing"
  else
    exec 3>&-
    local t0 rc=0
    t0=$(date +%s)
    boot "$1" "$WORK/base.cpio.gz" kvm "$KVM_PROBE_TIMEOUT" "$WORK/kvm-probe.log" /dev/null "rdinit=/probe" || rc=$?
    if grep -q MATRIX-PROBE-BOOTED "$WORK/kvm-probe.log" 2>/dev/null; then
      ACCEL_USED=kvm
      ACCEL_WHY="a trivial guest booted under KVM in $(($(date +%s) - t0)) s"
    elif [ "$rc" = 124 ]; then
      ACCEL_WHY="/dev/kvm opens, but a trivial guest did not boot under KVM within $KVM_PROBE_TIMEOUT s"
    else
      ACCEL_WHY="a trivial guest under KVM failed: QEMU exit status $rc, $(last_line "$WORK/kvm-probe.log.qemu")"
    fi
    ACCEL_WHY=${ACCEL_WHY%.}
  fi
}

# ---------------------------------------------------------------------------------------------
# Runs

RUNS=()       # one line per column: label|file|how|result
PRODUCED=()   # labels of the columns that have a report, host first
GUESTS_OK=0

record_run() {
  RUNS+=("$1|$2|$3|$4")
}

counts_of() {
  "$BIN" show "$1" | grep -E '^[0-9]+ passed' | tail -n 1 || true
}

# Seconds since the epoch to the nanosecond, and the seconds since such a time (one decimal).
now() {
  date +%s.%N
}
since() {
  awk -v t0="$1" -v t1="$(now)" 'BEGIN { printf "%.1f", t1 - t0 }'
}

HOST_SECONDS=""

run_host() {
  local label=$1 dir=$WORK/host t0 rc=0
  mkdir -p "$dir"
  say "host: running the catalogue as $label"
  t0=$(now)
  "$BIN" run --out "$dir/run" --label "$label" --origin host --no-pcap --no-runtime-clients >"$dir/run.log" 2>&1 || rc=$?
  HOST_SECONDS=$(since "$t0")
  if [ "$rc" -gt 1 ] || [ ! -f "$dir/run/report.json" ]; then
    tail -n 20 "$dir/run.log" >&2
    die "the host run failed (exit status $rc); log: $dir/run.log"
  fi
  cp "$dir/run/report.json" "$WORK/$label.json"
  cp "$dir/run/report.md" "$WORK/$label.md"
  PRODUCED+=("$label")
  record_run "$label" "$label.json" "host, kernel $(uname -r)" "$(counts_of "$WORK/$label.json"), $HOST_SECONDS s"
}

# The catalogue once more on the host with the runtime clients' trials, kept beside the matrix
# as runtimes-<label>.json (README's table of what programs are told is generated from it): no
# column of the matrix holds them, as the guests have no runtimes.
RUNTIMES_REPORT=""
run_host_runtimes() {
  local label=$1 dir=$WORK/host t0 rc=0
  say "host: running the catalogue with the runtime clients' trials"
  t0=$(now)
  "$BIN" run --out "$dir/runtimes" --label "$label" --origin host --no-pcap >"$dir/runtimes.log" 2>&1 || rc=$?
  if [ "$rc" -gt 1 ] || [ ! -f "$dir/runtimes/report.json" ]; then
    tail -n 20 "$dir/runtimes.log" >&2
    die "the host run with runtime clients failed (exit status $rc); log: $dir/runtimes.log"
  fi
  cp "$dir/runtimes/report.json" "$WORK/runtimes-$label.json"
  cp "$dir/runtimes/report.md" "$WORK/runtimes-$label.md"
  RUNTIMES_REPORT="runtimes-$label"
  say "host with runtime clients: $(counts_of "$WORK/runtimes-$label.json"), $(since "$t0") s"
}

# Resolves, fetches and packs the guest of spec $2 as guest number $1, one after another (apt
# and the cache are not shared between guests at once). Leaves in $WORK/guests/$1 the files
# label, how, vmlinuz and krel, or `run`, the guest's line of the table when it cannot boot.
prepare_guest() {
  local n=$1 spec=$2 suite="" name label gdir=$WORK/guests/$1 taken
  mkdir -p "$gdir"
  if [ -n "$QEMU_MISSING" ]; then
    echo "$spec||—|NOT RUN: no guest can boot here: $QEMU_MISSING" >"$gdir/run"
    return
  fi
  name=${spec#*:}
  if [ "$name" != "$spec" ]; then suite=${spec%%:*}; fi
  if ! resolve_kernel "$suite" "$name"; then
    local where="the host's apt sources"
    [ -z "$suite" ] || where="the suite $suite"
    echo "$spec||—|FAILED: no package $name in $where" >"$gdir/run"
    return
  fi
  if ! fetch_kernel "$suite"; then
    echo "$spec||$PKG $VERSION|FAILED: could not download or extract $PKG=$VERSION" >"$gdir/run"
    return
  fi
  label=linux-$(upstream_version "$VERSION")
  taken=" ${PRODUCED[*]} $(cat "$WORK"/guests/*/label 2>/dev/null | tr '\n' ' ' || true) "
  while [[ $taken == *" $label "* ]]; do label=$label-$PKG; done
  build_kernel_archive "$label" "guest,kernel_package=$PKG,kernel_package_version=$VERSION,accelerator=$ACCEL_USED,vmm=$QEMU_VERSION"
  echo "$label" >"$gdir/label"
  echo "guest: $PKG $VERSION${suite:+ ($suite)}, $ACCEL_USED, $QEMU_VERSION" >"$gdir/how"
  echo "$VMLINUZ" >"$gdir/vmlinuz"
  echo "$KREL" >"$gdir/krel"
}

# Boots prepared guest number $1 (alone: it may run beside other guests) and leaves its line of
# the table in $WORK/guests/$1/run, and $WORK/guests/$1/produced when its report came back
# (copied to $WORK/<label>.json and .md).
boot_guest() {
  local gdir=$WORK/guests/$1 label how vmlinuz krel dir t0 rc status reason="" attempt first="" took
  label=$(cat "$gdir/label")
  how=$(cat "$gdir/how")
  vmlinuz=$(cat "$gdir/vmlinuz")
  krel=$(cat "$gdir/krel")
  dir=$WORK/$label
  for attempt in 1 2; do
    say "$label: booting $krel under $ACCEL_USED (at most $TIMEOUT s; console: $dir/console.log)"
    t0=$(date +%s)
    rc=0
    rm -f "$dir/result.tgz" "$dir/console.log" "$dir/ended"
    follow_guest "$dir/console.log" "$label" "$dir/ended" &
    local follower=$!
    boot "$vmlinuz" "$dir/initrd" "$ACCEL_USED" "$TIMEOUT" "$dir/console.log" "$dir/result.tgz" || rc=$?
    took=$(($(date +%s) - t0))
    touch "$dir/ended"
    wait "$follower" || true
    rm -rf "$dir/result"
    mkdir -p "$dir/result"
    if [ -s "$dir/result.tgz" ] && tar -xzf "$dir/result.tgz" -C "$dir/result" 2>/dev/null; then
      status=$(cat "$dir/result/status" 2>/dev/null || echo "?")
      if { [ "$status" = 0 ] || [ "$status" = 1 ]; } && [ -f "$dir/result/report.json" ] &&
        "$BIN" show "$dir/result/report.json" >/dev/null 2>&1; then
        cp "$dir/result/report.json" "$WORK/$label.json"
        cp "$dir/result/report.md" "$WORK/$label.md"
        touch "$gdir/produced"
        echo "$label|$label.json|$how|$(counts_of "$WORK/$label.json"), $took s${first:+; booted on the second attempt, the first failed: $first}" >"$gdir/run"
        return
      fi
      reason="sockerr run in the guest exited with $status: $(last_line "$dir/result/run.log" '^\[')"
    elif [ "$rc" = 124 ]; then
      reason="timed out after $TIMEOUT s; last console line: $(last_line "$dir/console.log")"
    else
      reason="no report came back (QEMU exit status $rc, $(last_line "$dir/console.log.qemu")); last console line: $(last_line "$dir/console.log")"
    fi
    reason=$(echo "$reason" | tr -d '\r|' | tr '`' "'")
    say "$label: FAILED: $reason"
    # A guest that never reached the catalogue (a panic or hang while booting, which
    # emulation can provoke) is booted once more; one that ran it is not.
    if [ "$attempt" = 1 ] && ! grep -q '^matrix-guest: running the catalogue' "$dir/console.log"; then
      first=$reason
      cp "$dir/console.log" "$dir/console.first.log"
      continue
    fi
    break
  done
  echo "$label||$how|FAILED: $reason${first:+ (second attempt; the first failed: $first)}" >"$gdir/run"
}

# Prepares every guest, boots up to PARALLEL of them at once, then adds their lines to the
# table in the order the kernels were given.
run_guests() {
  local n=0 i spec running=0 line label file how result
  rm -rf "$WORK/guests"
  mkdir -p "$WORK/guests"
  for spec in "$@"; do
    prepare_guest "$n" "$spec"
    n=$((n + 1))
  done
  for ((i = 0; i < n; i++)); do
    [ ! -f "$WORK/guests/$i/run" ] || continue
    if [ "$running" -ge "$PARALLEL" ]; then
      wait -n || true
      running=$((running - 1))
    fi
    boot_guest "$i" &
    running=$((running + 1))
  done
  wait || true
  for ((i = 0; i < n; i++)); do
    line=$(cat "$WORK/guests/$i/run" 2>/dev/null || echo "${*:i+1:1}||—|FAILED: the guest's boot left no result")
    IFS='|' read -r label file how result <<<"$line"
    record_run "$label" "$file" "$how" "$result"
    if [ -f "$WORK/guests/$i/produced" ]; then
      PRODUCED+=("$label")
      GUESTS_OK=$((GUESTS_OK + 1))
    fi
  done
}

# ---------------------------------------------------------------------------------------------
# gVisor

# Downloads package $2, the candidate of suite $1, into the cache once (through the private apt
# configuration of that suite) and extracts it into directory $3 once. Sets VERSION and DEB.
fetch_extract() {
  local suite=$1 name=$2 dir=$3
  private_apt "$CACHE" "$suite"
  VERSION=$(apt-cache "${APT_OPTS[@]}" policy "$name" 2>/dev/null | sed -n 's/^ *Candidate: //p')
  [ -n "$VERSION" ] && [ "$VERSION" != "(none)" ] || return 1
  DEB=$(download_deb "$suite" "$name") || return 1
  if [ ! -f "$dir/.extracted-${name}_${VERSION#*:}" ]; then
    mkdir -p "$dir"
    dpkg-deb -x "$DEB" "$dir" || return 1
    touch "$dir/.extracted-${name}_${VERSION#*:}"
  fi
}

# Fetches runsc and iptables-legacy (with the libraries it loads) into $CACHE/gvisor, and
# writes the iptables wrappers the sandbox finds on its PATH. Sets RUNSC, RUNSC_VERSION,
# RUNSC_PACKAGE and GVISOR_TOOLS, or GVISOR_WHY when it cannot.
RUNSC="" RUNSC_VERSION="" RUNSC_PACKAGE="" GVISOR_TOOLS="" GVISOR_WHY=""
fetch_gvisor() {
  local suite=${GVISOR%%:*} name=${GVISOR#*:} codename dir lib libs=() program
  codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
  [ -n "$codename" ] || { GVISOR_WHY="/etc/os-release names no Debian codename"; return 1; }
  if ! fetch_extract "$suite" "$name" "$CACHE/gvisor/runsc-$suite"; then
    GVISOR_WHY="could not download or extract $name from $suite"
    return 1
  fi
  RUNSC_PACKAGE="$name $VERSION from $suite"
  RUNSC=$CACHE/gvisor/runsc-$suite/usr/bin/runsc
  RUNSC_VERSION=$("$RUNSC" --version 2>/dev/null | sed -n 's/^runsc version //p' | head -n 1)
  [ -n "$RUNSC_VERSION" ] || { GVISOR_WHY="$RUNSC does not say its version"; return 1; }
  dir=$CACHE/gvisor/iptables-$codename
  if ! fetch_extract "$codename" iptables "$dir"; then
    GVISOR_WHY="could not download or extract iptables from $codename"
    return 1
  fi
  mapfile -t libs < <(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed -n 's/^ *\(lib\(ip4tc\|ip6tc\|xtables\)[0-9]*\) (= .*/\1/p')
  for lib in "${libs[@]}"; do
    if ! fetch_extract "$codename" "$lib" "$dir"; then
      GVISOR_WHY="could not download or extract $lib from $codename"
      return 1
    fi
  done
  # A lock file per command: each trial's namespace has tables of its own, and one shared
  # lock would make the trials' firewall changes wait for each other, a second at a time.
  GVISOR_TOOLS=$CACHE/gvisor/tools
  mkdir -p "$GVISOR_TOOLS"
  for program in iptables ip6tables; do
    cat >"$GVISOR_TOOLS/$program-legacy" <<EOF
#!/bin/sh
# $program-legacy of $codename's iptables, for the gVisor column of make matrix.
d=$dir
LD_LIBRARY_PATH=\$d/usr/lib/x86_64-linux-gnu XTABLES_LIBDIR=\$d/usr/lib/x86_64-linux-gnu/xtables \\
  XTABLES_LOCKFILE=/tmp/xtables.\$\$.lock exec \$d/usr/sbin/xtables-legacy-multi $program "\$@"
EOF
    chmod 0755 "$GVISOR_TOOLS/$program-legacy"
  done
}

# The OCI bundle of the gVisor run in directory $1: the host's / read-only as root, tmpfs on
# /tmp and /run, directory $2 writable (bound at its own path: every mount point exists on
# the host already, so runsc creates none there); the suite runs as root with NET_ADMIN,
# NET_RAW and SYS_ADMIN only. Arguments from $3 on are the command.
write_bundle() {
  local dir=$1 out=$2 arg args="" caps='"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_ADMIN"'
  shift 2
  for arg in "$@"; do
    args="$args${args:+, }\"$(printf '%s' "$arg" | sed 's/\\/\\\\/g; s/"/\\"/g')\""
  done
  mkdir -p "$dir"
  cat >"$dir/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": [$args],
    "env": ["PATH=$GVISOR_TOOLS:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/tmp"],
    "cwd": "/tmp",
    "capabilities": {"bounding": [$caps], "effective": [$caps], "permitted": [$caps]},
    "noNewPrivileges": true
  },
  "root": {"path": "/", "readonly": true},
  "hostname": "sockerr-gvisor",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["ro", "nosuid", "noexec", "nodev"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]},
    {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]},
    {"destination": "$out", "type": "bind", "source": "$out", "options": ["rbind", "rw"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network"}]
  }
}
EOF
}

GVISOR_SECONDS=""
SANDBOXES_OK=0
run_gvisor() {
  [ "$GVISOR" != none ] || return 0
  local dir=$WORK/gvisor label stem origin how t0 rc=0 id=sockerr-matrix-$$ reason
  if ! fetch_gvisor; then
    record_run "gVisor ($GVISOR)" "" "—" "FAILED: $GVISOR_WHY"
    return
  fi
  label="gVisor ${RUNSC_VERSION#0.0~} ($GVISOR_PLATFORM)"
  stem=gvisor-${RUNSC_VERSION#0.0~}-$GVISOR_PLATFORM
  origin="sandbox,runtime=gVisor,runtime_version=$RUNSC_VERSION,runtime_platform=$GVISOR_PLATFORM,host_kernel=$(uname -r)"
  how="sandbox: runsc $RUNSC_VERSION (Debian $RUNSC_PACKAGE), --platform=$GVISOR_PLATFORM --network=none, host kernel $(uname -r)"
  rm -rf "$dir"
  mkdir -p "$dir/out" "$dir/state"
  write_bundle "$dir/bundle" "$dir/out" "$BIN" run --out "$dir/out/run" --label "$label" --origin "$origin" \
    --no-pcap --no-runtime-clients --trial-deadline "$GVISOR_TRIAL_DEADLINE"
  say "$label: running the catalogue under runsc (at most $TIMEOUT s; log: $dir/run.log)"
  t0=$(now)
  timeout -k 10 "$TIMEOUT" "$RUNSC" --root "$dir/state" --network=none --net-raw --platform="$GVISOR_PLATFORM" \
    --ignore-cgroups run --bundle "$dir/bundle" "$id" >"$dir/run.log" 2>&1 || rc=$?
  GVISOR_SECONDS=$(since "$t0")
  # A sandbox that timed out is removed with what it left under the private --root.
  "$RUNSC" --root "$dir/state" delete --force "$id" >/dev/null 2>&1 || true
  if { [ "$rc" = 0 ] || [ "$rc" = 1 ]; } && [ -f "$dir/out/run/report.json" ] &&
    "$BIN" show "$dir/out/run/report.json" >/dev/null 2>&1; then
    cp "$dir/out/run/report.json" "$WORK/$stem.json"
    cp "$dir/out/run/report.md" "$WORK/$stem.md"
    PRODUCED+=("$stem")
    SANDBOXES_OK=$((SANDBOXES_OK + 1))
    record_run "$label" "$stem.json" "$how" "$(counts_of "$WORK/$stem.json"), $GVISOR_SECONDS s"
    return
  fi
  reason="runsc exited with $rc: $(last_line "$dir/run.log" '^\[')"
  [ "$rc" != 124 ] || reason="timed out after $TIMEOUT s; last line: $(last_line "$dir/run.log")"
  reason=$(echo "$reason" | tr -d '\r|' | tr '`' "'")
  say "$label: FAILED: $reason"
  GVISOR_SECONDS=""
  record_run "$label" "" "$how" "FAILED: $reason"
}

# ---------------------------------------------------------------------------------------------
# The host's network state, which the matrix must leave as it found it

# Links, addresses, routes of every table (IPv4 and IPv6), the nftables ruleset and every
# readable net.* sysctl but the live count of tracked connections, into file $1.
host_state() {
  {
    ip -d link show
    ip addr show
    ip route show table all
    ip -6 route show table all
    nft list ruleset 2>&1 || echo "nft list ruleset: exit status $?"
    find /proc/sys/net -type f -readable ! -name nf_conntrack_count 2>/dev/null | LC_ALL=C sort |
      while IFS= read -r f; do printf '%s = %s\n' "$f" "$(tr '\n' ' ' <"$f" 2>/dev/null)"; done
  } >"$1" 2>&1
}

# ---------------------------------------------------------------------------------------------
# Publication

html_escape() {
  sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g'
}

# Puts the contents of file $3 into file $2 before the first line matching the regular
# expression $1, or at its end when none does.
insert_before() {
  awk -v pattern="$1" -v extra="$3" '
    !done && $0 ~ pattern { while ((getline line < extra) > 0) print line; print ""; done = 1 }
    { print }
    END { if (!done) { print ""; while ((getline line < extra) > 0) print line } }
  ' "$2" >"$2.tmp" && mv "$2.tmp" "$2"
}

publish() {
  local rel label line file how result minutes
  rel=$(realpath --relative-to="$ROOT" "$OUT")
  rm -f "$OUT"/linux-*.json "$OUT"/linux-*.md "$OUT"/gvisor-*.json "$OUT"/gvisor-*.md "$OUT/matrix.md" "$OUT/matrix.html"
  if [ -n "$RUNTIMES_REPORT" ]; then
    rm -f "$OUT"/runtimes-*.json "$OUT"/runtimes-*.md
    cp "$WORK/$RUNTIMES_REPORT.json" "$WORK/$RUNTIMES_REPORT.md" "$OUT/"
  fi
  local inputs=()
  for label in "${PRODUCED[@]}"; do
    cp "$WORK/$label.json" "$OUT/$label.json"
    cp "$WORK/$label.md" "$OUT/$label.md"
    inputs+=("$rel/$label.json")
  done
  say "comparing ${#inputs[@]} reports"
  (cd "$ROOT" && "$BIN" compare "${inputs[@]}" --out "$rel") >"$WORK/compare.log" 2>&1 ||
    { cat "$WORK/compare.log" >&2; die "sockerr compare failed"; }
  minutes=$(( ($(date +%s) - STARTED + 59) / 60 ))
  {
    echo "## How each column was obtained"
    echo
    echo "Made by \`make matrix\` (matrix/matrix.sh) on $(date -u +%Y-%m-%d), about $minutes min in all."
    echo "Accelerator: ${ACCEL_USED:-none}, because $(echo "${ACCEL_WHY:-no kernel could be fetched}" | tr '`' "'"). Guest timeout: $TIMEOUT s; $CPUS CPUs, $MEMORY MiB."
    if [ -n "$GVISOR_SECONDS" ]; then
      echo "gVisor ran the catalogue in $GVISOR_SECONDS s, the host in $HOST_SECONDS s ($(awk -v g="$GVISOR_SECONDS" -v h="$HOST_SECONDS" 'BEGIN { printf "%.1f", g / h }') x); a trial inside gVisor was stopped after $GVISOR_TRIAL_DEADLINE s."
    fi
    echo
    echo "| column | origin | result |"
    echo "|---|---|---|"
    for line in "${RUNS[@]}"; do
      IFS='|' read -r label file how result <<<"$line"
      if [ -n "$file" ]; then label="[$label]($file)"; fi
      echo "| $label | $how | $result |"
    done
  } >"$WORK/runs.md"
  insert_before '^## Differences' "$OUT/matrix.md" "$WORK/runs.md"
  {
    echo "<section id=\"runs\"><h2>How each column was obtained</h2>"
    echo "<p>Made by <code>make matrix</code> (matrix/matrix.sh) on $(date -u +%Y-%m-%d), about $minutes min in all."
    echo "Accelerator: ${ACCEL_USED:-none}, because $(echo "${ACCEL_WHY:-no kernel could be fetched}" | html_escape). Guest timeout: $TIMEOUT s; $CPUS CPUs, $MEMORY MiB."
    if [ -n "$GVISOR_SECONDS" ]; then
      echo "gVisor ran the catalogue in $GVISOR_SECONDS s, the host in $HOST_SECONDS s; a trial inside gVisor was stopped after $GVISOR_TRIAL_DEADLINE s."
    fi
    echo "</p>"
    echo "<table><tr><th>column</th><th>origin</th><th>result</th></tr>"
    for line in "${RUNS[@]}"; do
      IFS='|' read -r label file how result <<<"$line"
      label=$(echo "$label" | html_escape)
      if [ -n "$file" ]; then label="<a href=\"$file\">$label</a>"; fi
      echo "<tr><td>$label</td><td>$(echo "$how" | html_escape)</td><td>$(echo "$result" | html_escape)</td></tr>"
    done
    echo "</table></section>"
  } >"$WORK/runs.html"
  insert_before '^<h2>Differences' "$OUT/matrix.html" "$WORK/runs.html"
}

# ---------------------------------------------------------------------------------------------

# After ensure_tools, which may install nft: the state is read with the same tools before
# and after.
ensure_tools
host_state "$CACHE/host-state.before"
if [ -z "$QEMU_MISSING" ] && [ -n "${KERNELS// /}" ]; then
  QEMU_VERSION=$(qemu-system-x86_64 --version | head -n 1 | sed 's/ (.*//; s/,//g')
fi
build_static
if [ -z "$QEMU_MISSING" ] && [ -n "${KERNELS// /}" ]; then
  build_base
fi

host_label=linux-$(host_version)
run_host "$host_label"
run_host_runtimes "$host_label"

run_gvisor

first_vmlinuz=""
specs=()
read -r -a specs <<<"$KERNELS"
# The accelerator is probed with the first kernel that can be fetched.
for spec in "${specs[@]}"; do
  [ -z "$QEMU_MISSING" ] || break
  s=""
  n=${spec#*:}
  if [ "$n" != "$spec" ]; then s=${spec%%:*}; fi
  if resolve_kernel "$s" "$n" && fetch_kernel "$s"; then first_vmlinuz=$VMLINUZ; break; fi
done
if [ -n "$first_vmlinuz" ]; then
  choose_accelerator "$first_vmlinuz"
  say "accelerator: $ACCEL_USED ($ACCEL_WHY)"
fi
run_guests "${specs[@]}"

publish
echo
cat "$WORK/runs.md"
echo
grep -E '^Differences|^[0-9]+ (differing|differences)' "$WORK/compare.log" || true
echo "matrix: wrote $(realpath --relative-to="$ROOT" "$OUT")/matrix.md and matrix.html in $(($(date +%s) - STARTED)) s"
if [ -n "$RUNTIMES_REPORT" ] && [ "$OUT" = "$ROOT/reports/reference" ]; then
  # README's table of what programs are told follows the reference report it is made from.
  (cd "$ROOT" && "$BIN" list --readme README.md --report "reports/reference/$RUNTIMES_REPORT.json")
fi
host_state "$CACHE/host-state.after"
if ! diff -u "$CACHE/host-state.before" "$CACHE/host-state.after" >"$WORK/host-state.diff"; then
  cat "$WORK/host-state.diff" >&2
  die "the host's network state changed during the matrix (above; $WORK/host-state.diff)"
fi
echo "matrix: the host's links, addresses, routes, nftables ruleset and net.* sysctls are as they were"
if [ "$GUESTS_OK" = 0 ] && [ "$SANDBOXES_OK" = 0 ]; then
  echo "matrix: no guest and no sandbox produced a report" >&2
  exit 1
fi
