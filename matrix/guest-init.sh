#!/bin/sh
# /init of a matrix guest (busybox sh, PID 1 of an initramfs built by matrix/matrix.sh).
#
# Mounts proc, sys and dev, loads the kernel modules listed in /etc/matrix/modules (one path
# under /lib/modules/$(uname -r) a line, dependencies first), brings up lo, runs the whole
# catalogue with the label and origin from /etc/matrix/env, and writes a gzipped tar of the
# results to the second serial port (ttyS1), which the host saves to a file:
#   report.json, report.md   the run's report (when the run got that far)
#   run.log                  what `sockerr run` printed
#   status                   `sockerr run`'s exit status
#   guest.txt                uname, modules loaded and those that failed, nft version
# The console (ttyS0) shows progress, a line per ten trials while the catalogue runs. The guest then powers off; a panic also ends QEMU
# (panic=-1 on the kernel command line, -no-reboot).
# shellcheck shell=sh

PATH=/sbin:/bin:/usr/sbin:/usr/bin
export PATH

say() {
  echo "matrix-guest: $*"
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp /run /dev/pts /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /dev/shm

# LABEL and ORIGIN, written by matrix.sh for this kernel.
# shellcheck source=/dev/null
. /etc/matrix/env

out=/tmp/out
mkdir -p "$out/run"
info="$out/guest.txt"
release=$(uname -r)
{
  echo "uname: $(uname -a)"
  echo "cpus: $(nproc)"
  echo "memory: $(grep MemTotal /proc/meminfo)"
} >"$info"

say "kernel $release, loading modules"
loaded=0
failed=""
while read -r module; do
  [ -n "$module" ] || continue
  if insmod "/lib/modules/$release/$module" 2>>"$out/insmod.err"; then
    loaded=$((loaded + 1))
  else
    failed="$failed $(basename "$module" .ko)"
  fi
done </etc/matrix/modules
echo "modules loaded: $loaded" >>"$info"
echo "modules that did not load:${failed:- none}" >>"$info"
[ -s "$out/insmod.err" ] && sed 's/^/insmod: /' "$out/insmod.err" >>"$info"
# Anything else the kernel asks for (nft expressions, link kinds) comes through modprobe.
echo /sbin/modprobe >/proc/sys/kernel/modprobe
echo "nft: $(nft --version 2>&1)" >>"$info"
if unshare -n nft add table inet matrix_check 2>>"$out/nft.err"; then
  echo "nft in a new network namespace: works" >>"$info"
else
  echo "nft in a new network namespace: fails: $(cat "$out/nft.err")" >>"$info"
fi

ip link set lo up

say "running the catalogue as $LABEL ($ORIGIN)"
start=$(date +%s)
# Every tenth finished trial is told on the console, which the host shows as it comes.
{
  sockerr run --out "$out/run" --label "$LABEL" --origin "$ORIGIN" --no-pcap --no-runtime-clients 2>&1
  echo "$?" >"$out/status"
} | while IFS= read -r line; do
  printf '%s\n' "$line" >>"$out/run.log"
  case $line in
    "["*"0/"*) say "trials done: ${line%%]*}]" ;;
  esac
done
status=$(cat "$out/status" 2>/dev/null || echo "?")
echo "run seconds: $(($(date +%s) - start))" >>"$info"
grep -E '^[0-9]+ passed' "$out/run.log" | sed 's/^/matrix-guest: /'
say "sockerr run exited with $status"

# The results leave through ttyS1, byte for byte.
mkdir -p "$out/pack"
for f in report.json report.md; do
  [ -f "$out/run/$f" ] && cp "$out/run/$f" "$out/pack/$f"
done
cp "$out/run.log" "$out/status" "$info" "$out/pack/"
stty -F /dev/ttyS1 raw -echo 2>/dev/null
tar -C "$out/pack" -cf - . | gzip -c >"$out/result.tgz"
cat "$out/result.tgz" >/dev/ttyS1
say "sent $(wc -c <"$out/result.tgz") bytes on ttyS1"
sync
poweroff -f
