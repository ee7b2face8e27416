#!/usr/bin/env bash
# Prepares this host for the test suite, idempotently and without questions.
#   - as root: installs runc, conmon, busybox-static, catatonit and containers-common's
#     seccomp.json (apt) when any of them, or mount, is missing, and tar, attr and libcap2-bin
#     (archives and their tests); without root it only says what is missing (unit tests need
#     only tar).
#   - as root: installs netavark, aardvark-dns and iptables (bridge networking) when missing.
#   - installs node_modules (npm install, pinned by package-lock.json) when it is missing
#     or older than package.json / package-lock.json.
# Prints nothing when there is nothing to do, and then takes well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Runs a command quietly; on failure shows its output and stops.
quiet() {
  if ! "$@" >"$log" 2>&1; then
    echo "setup-host: failed: $*" >&2
    cat "$log" >&2
    exit 1
  fi
}

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

# The rootfs fixtures copy /bin/busybox into a container: it must be the static build.
have_static_busybox() {
  # A dynamic build names its ELF interpreter (/lib64/ld-linux-...) in its first bytes.
  [ -x /bin/busybox ] && ! grep -qaE '/ld-(linux|musl)' <(head -c 4096 /bin/busybox)
}

# Installs the Debian packages "$@" as root (one `apt-get update` per run); without root or apt,
# says what is missing and why ($why), as unit tests need none of it.
apt_updated=false
install_or_warn() {
  local why="$1"; shift
  if [ "$(id -u)" = 0 ] && have apt-get; then
    export DEBIAN_FRONTEND=noninteractive
    $apt_updated || quiet apt-get update -qq
    apt_updated=true
    quiet apt-get install -y -qq --no-install-recommends "$@" </dev/null
  else
    echo "setup-host: missing $* (apt-get install $*): $why" >&2
  fi
}

missing=()
for bin in conmon runc catatonit mount; do have "$bin" || missing+=("$bin"); done
have_static_busybox || missing+=("busybox (static)")
# podman's default seccomp profile, applied to every container that is not privileged.
[ -f /usr/share/containers/seccomp.json ] || missing+=("containers-common seccomp.json")
# image archive oracles (e2e): skopeo, umoci and podman read and write the archive formats;
# registry tests (e2e) run docker-registry on 127.0.0.1, push with skopeo, make a bcrypt
# htpasswd line with python3 and a token server certificate with openssl
for bin in skopeo umoci podman docker-registry python3 openssl; do have "$bin" || missing+=("$bin"); done

if [ "${#missing[@]}" -gt 0 ]; then
  pkgs=(runc conmon busybox-static catatonit golang-github-containers-common)
  have mount || pkgs+=(mount)
  for bin in skopeo umoci podman docker-registry python3 openssl; do have "$bin" || pkgs+=("$bin"); done
  install_or_warn "real-container tests need them; unit tests do not." "${pkgs[@]}"
fi

# Archives: GNU tar does the file system work of src/archive/; the archive tests set xattrs and
# file capabilities with setfattr (attr) and setcap (libcap2-bin).
archive_pkgs=()
have tar || archive_pkgs+=(tar)
have setfattr || archive_pkgs+=(attr)
have setcap || archive_pkgs+=(libcap2-bin)
# Images: the store decompresses zstd layers with the zstd tool when present; the tests make them with it.
have zstd || archive_pkgs+=(zstd)
# The store marks its layer homes with chattr +T (ext4's Orlov hint; see src/host/top-dir.ts); the tests check it with lsattr.
have chattr || archive_pkgs+=(e2fsprogs)
if [ "${#archive_pkgs[@]}" -gt 0 ]; then
  install_or_warn "archives need GNU tar, the archive tests setfattr and setcap." "${archive_pkgs[@]}"
fi

# Bridge networking: netavark (bridge, firewall, port forwarding), aardvark-dns (names), iptables
# (netavark's firewall driver) and unshare (util-linux: network namespaces bound to a file).
net_pkgs=()
have_libexec() { [ -x "/usr/lib/podman/$1" ] || [ -x "/usr/libexec/podman/$1" ] || [ -x "/usr/local/lib/podman/$1" ] || [ -x "/usr/local/libexec/podman/$1" ]; }
have_libexec netavark || net_pkgs+=(netavark)
have_libexec aardvark-dns || net_pkgs+=(aardvark-dns)
have iptables || net_pkgs+=(iptables)
have unshare || net_pkgs+=(util-linux)
if [ "${#net_pkgs[@]}" -gt 0 ]; then
  install_or_warn "bridge networking needs them; networks 'none' and 'host' do not." "${net_pkgs[@]}"
fi

stale=false
if [ ! -d node_modules ] || [ node_modules -ot package.json ]; then stale=true; fi
if [ -f package-lock.json ] && [ node_modules -ot package-lock.json ]; then stale=true; fi
if $stale; then
  # `npm install`, not `npm ci`: it tolerates optional per-platform packages the registry lacks.
  # The lock file still pins every version that is installed.
  quiet npm install --include=dev --no-audit --no-fund --loglevel=error </dev/null
  # npm does not always touch the directory itself; mark it fresh for the next run.
  touch node_modules
fi
