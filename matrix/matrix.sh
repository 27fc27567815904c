#!/usr/bin/env bash
# The cross-kernel matrix (`make matrix`): the whole catalogue on the host's kernel and on
# Debian kernel packages booted under QEMU, compared step by step.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: matrix/matrix.sh [OPTIONS]      (or: make matrix)

Runs the whole sockerr catalogue on this machine's kernel and inside QEMU guests booted with
Debian kernel packages, then compares the reports step by step.

  1. builds a statically linked sockerr (target/matrix/, apart from the normal build)
  2. installs what is missing with apt-get: qemu-system-x86, busybox-static, cpio, kmod,
     xz-utils, zstd, nftables, binutils
  3. runs the catalogue on the host (origin host)
  4. per kernel: resolves the package (a meta-package such as linux-image-cloud-amd64 names
     the versioned image it depends on), fetches it with `apt-get download` into the cache,
     extracts vmlinuz and the modules the suite needs (veth, nf_tables and its expressions,
     the reject modules, sch_netem, and their dependencies), builds an initramfs with
     busybox, sockerr, nft and its libraries, and boots it under qemu-system-x86_64; the
     guest runs the catalogue (origin guest, with the package, its version and the
     accelerator) and sends its report back on a second serial port. A guest that panics
     or hangs before the catalogue starts is booted once more
  5. writes OUT/linux-<version>.json and .md per kernel that ran, and OUT/matrix.md and
     OUT/matrix.html (`sockerr compare`), with a section saying how each column was
     obtained and which kernels failed, and why

Options (each also read from the environment variable shown):
  --kernel SPEC      a kernel to boot, repeat for several [MATRIX_KERNELS, space-separated;
                     default: linux-image-cloud-amd64 linux-image-6.12-cloud-amd64
                     trixie-backports:linux-image-cloud-amd64].
                     SPEC is a package name (meta-packages are followed to the image they
                     depend on) from the host's apt sources, or SUITE:PACKAGE to take it from
                     another Debian suite of the same mirror through a private apt
                     configuration under the cache (e.g. trixie-backports:linux-image-cloud-amd64)
  --timeout SECONDS  bound on each guest, boot to power-off [MATRIX_TIMEOUT; default 600]
  --accel MODE       auto, kvm or tcg [MATRIX_ACCEL; default auto: KVM only when /dev/kvm
                     opens and a trivial guest boots under it within MATRIX_KVM_PROBE_TIMEOUT
                     seconds (default 30), else TCG]
  --memory MIB       guest memory [MATRIX_MEMORY; default 1024]
  --cpus N           guest CPUs [MATRIX_CPUS; default 2]
  --out DIR          where the reports and the matrix go [MATRIX_OUT; default reports/reference]
  --cache DIR        downloads, extracted kernels, initramfs and guest logs
                     [MATRIX_CACHE; default matrix/cache, not committed]
  --no-install       do not apt-get install missing tools; fail naming them instead
  -h, --help         this text

Exit status: 0 when the host and at least one guest produced a report and the matrix was
written (a kernel that failed to boot or run is listed in OUT/matrix.md, not fatal);
1 when no guest produced a report; 2 on a usage error or when a step outside the guests
failed (build, host run, download, compare).
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
KERNELS=${MATRIX_KERNELS:-"linux-image-cloud-amd64 linux-image-6.12-cloud-amd64 trixie-backports:linux-image-cloud-amd64"}
TIMEOUT=${MATRIX_TIMEOUT:-600}
ACCEL=${MATRIX_ACCEL:-auto}
KVM_PROBE_TIMEOUT=${MATRIX_KVM_PROBE_TIMEOUT:-30}
MEMORY=${MATRIX_MEMORY:-1024}
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
    --accel) [ $# -ge 2 ] || die "--accel needs auto, kvm or tcg"; ACCEL=$2; shift 2 ;;
    --memory) [ $# -ge 2 ] || die "--memory needs MiB"; MEMORY=$2; shift 2 ;;
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
for n in "$TIMEOUT" "$KVM_PROBE_TIMEOUT" "$MEMORY" "$CPUS"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "not a positive whole number: $n"
done
case "$ACCEL" in auto | kvm | tcg) ;; *) die "--accel takes auto, kvm or tcg, not $ACCEL" ;; esac
[ -n "${KERNELS// /}" ] || die "no kernel to boot"
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

ensure_tools() {
  local need=()
  command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
  static_busybox || need+=(busybox-static)
  command -v cpio >/dev/null 2>&1 || need+=(cpio)
  command -v depmod >/dev/null 2>&1 || need+=(kmod)
  command -v xz >/dev/null 2>&1 || need+=(xz-utils)
  command -v zstd >/dev/null 2>&1 || need+=(zstd)
  command -v nft >/dev/null 2>&1 || need+=(nftables)
  command -v strip >/dev/null 2>&1 || need+=(binutils)
  command -v dpkg-deb >/dev/null 2>&1 || need+=(dpkg)
  command -v timeout >/dev/null 2>&1 || need+=(coreutils)
  if [ ${#need[@]} -gt 0 ]; then
    [ "$INSTALL" = 1 ] || die "missing packages: ${need[*]} (apt-get install ${need[*]})"
    apt_update_once
    say "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" \
      || die "apt-get install ${need[*]} failed"
  fi
  static_busybox || die "/bin/busybox is not statically linked (apt-get install busybox-static)"
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
    whole=$(wc -l <"$console" 2>/dev/null) || whole=0
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

run_host() {
  local label=$1 dir=$WORK/host t0 rc=0
  mkdir -p "$dir"
  say "host: running the catalogue as $label"
  t0=$(date +%s)
  "$BIN" run --out "$dir/run" --label "$label" --origin host --no-pcap >"$dir/run.log" 2>&1 || rc=$?
  if [ "$rc" -gt 1 ] || [ ! -f "$dir/run/report.json" ]; then
    tail -n 20 "$dir/run.log" >&2
    die "the host run failed (exit status $rc); log: $dir/run.log"
  fi
  cp "$dir/run/report.json" "$WORK/$label.json"
  cp "$dir/run/report.md" "$WORK/$label.md"
  PRODUCED+=("$label")
  record_run "$label" "$label.json" "host, kernel $(uname -r)" "$(counts_of "$WORK/$label.json"), $(($(date +%s) - t0)) s"
}

run_guest() {
  local spec=$1 suite="" name label dir t0 rc=0 status reason
  name=${spec#*:}
  if [ "$name" != "$spec" ]; then suite=${spec%%:*}; fi
  if ! resolve_kernel "$suite" "$name"; then
    local where="the host's apt sources"
    [ -z "$suite" ] || where="the suite $suite"
    record_run "$spec" "" "—" "FAILED: no package $name in $where"
    return
  fi
  if ! fetch_kernel "$suite"; then
    record_run "$spec" "" "$PKG $VERSION" "FAILED: could not download or extract $PKG=$VERSION"
    return
  fi
  label=linux-$(upstream_version "$VERSION")
  while [[ " ${PRODUCED[*]} " == *" $label "* ]]; do label=$label-$PKG; done
  dir=$WORK/$label
  mkdir -p "$dir"
  local how="guest: $PKG $VERSION${suite:+ ($suite)}, $ACCEL_USED, $QEMU_VERSION"
  build_kernel_archive "$label" "guest,kernel_package=$PKG,kernel_package_version=$VERSION,accelerator=$ACCEL_USED,vmm=$QEMU_VERSION"
  local attempt first=""
  for attempt in 1 2; do
    say "$label: booting $KREL under $ACCEL_USED (at most $TIMEOUT s; console: $dir/console.log)"
    t0=$(date +%s)
    rc=0
    rm -f "$dir/result.tgz" "$dir/console.log" "$dir/ended"
    follow_guest "$dir/console.log" "$label" "$dir/ended" &
    local follower=$!
    boot "$VMLINUZ" "$dir/initrd" "$ACCEL_USED" "$TIMEOUT" "$dir/console.log" "$dir/result.tgz" || rc=$?
    local took=$(($(date +%s) - t0))
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
        PRODUCED+=("$label")
        GUESTS_OK=$((GUESTS_OK + 1))
        record_run "$label" "$label.json" "$how" "$(counts_of "$WORK/$label.json"), $took s${first:+; booted on the second attempt, the first failed: $first}"
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
  record_run "$label" "" "$how" "FAILED: $reason${first:+ (second attempt; the first failed: $first)}"
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
  rm -f "$OUT"/linux-*.json "$OUT"/linux-*.md "$OUT/matrix.md" "$OUT/matrix.html"
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
    echo "Accelerator: ${ACCEL_USED:-none}, because $(echo "${ACCEL_WHY:-no kernel could be fetched}" | html_escape). Guest timeout: $TIMEOUT s; $CPUS CPUs, $MEMORY MiB.</p>"
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

ensure_tools
QEMU_VERSION=$(qemu-system-x86_64 --version | head -n 1 | sed 's/ (.*//; s/,//g')
build_static
build_base

host_label=linux-$(host_version)
run_host "$host_label"

first_vmlinuz=""
read -r -a specs <<<"$KERNELS"
# The accelerator is probed with the first kernel that can be fetched.
for spec in "${specs[@]}"; do
  s=""
  n=${spec#*:}
  if [ "$n" != "$spec" ]; then s=${spec%%:*}; fi
  if resolve_kernel "$s" "$n" && fetch_kernel "$s"; then first_vmlinuz=$VMLINUZ; break; fi
done
if [ -n "$first_vmlinuz" ]; then
  choose_accelerator "$first_vmlinuz"
  say "accelerator: $ACCEL_USED ($ACCEL_WHY)"
fi
for spec in "${specs[@]}"; do
  run_guest "$spec"
done

publish
echo
cat "$WORK/runs.md"
echo
grep -E '^Differences|^[0-9]+ (differing|differences)' "$WORK/compare.log" || true
echo "matrix: wrote $(realpath --relative-to="$ROOT" "$OUT")/matrix.md and matrix.html in $(($(date +%s) - STARTED)) s"
if [ "$GUESTS_OK" = 0 ]; then
  echo "matrix: no guest produced a report" >&2
  exit 1
fi
