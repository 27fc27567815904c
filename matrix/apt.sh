# shellcheck shell=bash
# Private apt configurations, sourced by matrix.sh and cross.sh: packages of another Debian
# suite (sid, trixie-backports...) are looked up and downloaded without touching the host's
# sources, package lists or caches. The caller defines `die` and `say`.

# Sets APT_OPTS to the options for SUITE ($2): for an empty SUITE, the host's own sources;
# otherwise a configuration under $1/apt/SUITE naming SUITE on the host's Debian mirror,
# whose package lists are fetched when missing or older than a day.
private_apt() {
  local cache=$1 suite=$2
  APT_OPTS=(-o "APT::Sandbox::User=root")
  [ -n "$suite" ] || return 0
  local dir=$cache/apt/$suite
  if [ ! -f "$dir/sources.list" ]; then
    local codename mirror keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
    # shellcheck disable=SC2016 # $(REPO_URI) is apt's field, not the shell's
    mirror=$(apt-get indextargets --format '$(REPO_URI)' "Origin: Debian" "Codename: $codename" \
      "Created-By: Packages" 2>/dev/null | head -n 1)
    [ -n "$mirror" ] || die "no Debian mirror for $codename in the host's apt sources, needed for the suite $suite"
    [ -f "$keyring" ] || die "$keyring is missing (apt-get install debian-archive-keyring)"
    mkdir -p "$dir/state/lists/partial" "$dir/cache/archives/partial"
    printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$mirror" "$suite" >"$dir/sources.list"
  fi
  APT_OPTS+=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State=$dir/state" -o "Dir::Cache=$dir/cache" -o "Dir::State::status=/var/lib/dpkg/status")
  if [ ! -f "$dir/updated" ] || [ -n "$(find "$dir/updated" -mmin +1440)" ]; then
    say "apt-get update for $suite (private configuration in $dir)"
    apt-get "${APT_OPTS[@]}" update -qq || die "apt-get update for the suite $suite failed"
    touch "$dir/updated"
  fi
}
