# shellcheck shell=bash
# Sourced by scripts/run and scripts/test (not run directly).
#
# Brings a Debian 12 machine to the point where turnwarden builds and its tests run:
#   1. installs the Debian packages below that are missing (only those; apt-get update
#      runs once, and only when something is missing). Not root -> says what is missing
#      and how to install it, and exits 1.
#   2. configures build/ with CMake + Ninja (RelWithDebInfo) and builds everything.
# Safe to source again and again: an up-to-date tree costs one CMake re-check and
# "ninja: no work to do".
#
# Sets: TW_ROOT (repo root), TW_BUILD_DIR (default $TW_ROOT/build; override with
# the TW_BUILD_DIR environment variable).

TW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TW_BUILD_DIR="${TW_BUILD_DIR:-$TW_ROOT/build}"

# coturn is here for its test clients (turnutils_uclient, turnutils_peer), never its
# server; iproute2 gives `ss` (free-port checks), procps gives pgrep, openssl gives the
# independent HMAC check in tests/e2e/cli_test.sh; prometheus gives the real Prometheus
# server and promtool for tests/e2e/prometheus_test.sh and tests/etc (never started by
# the package here), and curl queries its HTTP API. chromium is the WebRTC client of
# tests/e2e/chromium (driven by playwright-core from npm, hence nodejs and npm).
# libhiredis-dev is fleet mode's Redis client (docs/fleet.md); redis-server is the real
# Redis the fleet tests start on loopback; python3-yaml parses etc/kubernetes in
# tests/etc/kubernetes_test.sh where no cluster is reachable for kubectl.
# The Debian package (scripts/package, scripts/package-test): help2man makes the man
# page from --help, dpkg-dev's dpkg-shlibdeps gives CPack the dependencies, lintian
# checks the .deb, debootstrap makes the clean Debian 12 chroot, systemd provides
# `systemd-analyze verify` for the unit, and systemd-container's systemd-nspawn boots
# a second chroot with systemd as its init, to run the unit for real (package-test 8).
# clang and libclang-rt-14-dev build the libFuzzer targets (scripts/fuzz, a stage of
# scripts/test); llvm gives llvm-symbolizer, which turns sanitizer reports into file:line.
# clang-format and clang-tidy check the style and lint of every C++ file (scripts/lint,
# the lint stage of scripts/test; .clang-format and .clang-tidy at the top).
# zlib1g-dev: zlib's crc32_z computes STUN FINGERPRINT.
# The network-namespace lab (scripts/lab, ctest label `lab`): nftables gives its NATs and
# firewalls (iproute2 its namespaces and veths), pebble is the ACME CA and certbot the
# ACME client that gets the TLS certificate over HTTP-01, libnss3-tools' certutil puts
# pebble's root in each Chromium's own NSS database (no --ignore-certificate-errors).
TW_PACKAGES=(
  build-essential g++ cmake ninja-build pkg-config
  libssl-dev libevent-dev libmicrohttpd-dev libyaml-cpp-dev prometheus-cpp-dev catch2
  nlohmann-json3-dev liburing-dev zlib1g-dev
  coturn openssl iproute2 procps prometheus curl
  chromium nodejs npm
  redis-server libhiredis-dev python3-yaml
  # A real L4 load balancer for the PROXY protocol e2e test (send-proxy-v2 in
  # front of the TCP and TLS listeners: tests/e2e/proxy_protocol_test.sh).
  haproxy
  help2man dpkg-dev lintian debootstrap systemd systemd-container
  clang libclang-rt-14-dev llvm clang-format clang-tidy
  nftables pebble certbot libnss3-tools
)

# Prints, one per line, the packages of TW_PACKAGES that dpkg does not report installed.
tw_missing_packages() {
  local pkg status
  for pkg in "${TW_PACKAGES[@]}"; do
    # Node.js from another source (e.g. NodeSource's nodejs, which bundles npm and
    # conflicts with Debian's npm package) is fine: only the commands matter.
    case "$pkg" in
      nodejs) command -v node >/dev/null 2>&1 && continue ;;
      npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    [[ "$status" == "install ok installed" ]] || printf '%s\n' "$pkg"
  done
}

# Installs whatever tw_missing_packages reports; exits 1 if it cannot.
tw_install_missing_packages() {
  local -a missing=()
  mapfile -t missing < <(tw_missing_packages)
  (( ${#missing[@]} == 0 )) && return 0

  local install="DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  if (( EUID != 0 )); then
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: install them as root, then re-run:" >&2
    echo "  apt-get update && $install" >&2
    exit 1
  fi
  echo "setup: installing missing Debian packages: ${missing[*]}" >&2
  apt-get update || { echo "setup: apt-get update failed" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
    || { echo "setup: apt-get install failed" >&2; exit 1; }

  mapfile -t missing < <(tw_missing_packages)
  if (( ${#missing[@]} != 0 )); then
    echo "setup: still missing after apt-get install: ${missing[*]}" >&2
    exit 1
  fi
  tw_note_packaged_turnserver
}

# Debian's coturn package ships a turnserver service. It stays off unless enabled in
# /etc/default/coturn, and this machine class has no systemd; if one runs anyway it is
# not ours to stop. The tests never use 3478 (they pick free ports), so just say so.
tw_note_packaged_turnserver() {
  if pgrep -x turnserver >/dev/null 2>&1; then
    echo "setup: note: a turnserver process is running (coturn package?); left alone." >&2
    echo "setup: note: turnwarden's tests use random free ports, never 3478." >&2
  fi
}

# Configures (every time: the source CMakeLists glob their files) and builds TW_BUILD_DIR
# with the extra CMake arguments of TW_CMAKE_ARGS (scripts/test: --preset release, which
# makes warnings errors).
tw_build() {
  local -a extra=()
  read -r -a extra <<<"${TW_CMAKE_ARGS:-}"
  tw_build_dir "$TW_BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${extra[@]}"
}

# tw_build_dir DIR [cmake arguments...] [-- ninja targets...]: configures DIR with Ninja
# (ccache as the compiler launcher when it is installed) and builds the targets (all
# by default). Used by tw_build and by the sanitizer stages of scripts/test.
tw_build_dir() {
  local dir="$1"
  shift
  local -a cmake_args=() targets=()
  while (( $# )) && [[ "$1" != -- ]]; do cmake_args+=("$1"); shift; done
  (( $# )) && shift
  targets=("$@")
  tw_configure_dir "$dir" "${cmake_args[@]}"
  echo "setup: building $dir ${targets[*]}" >&2
  ninja -C "$dir" "${targets[@]}" || { echo "setup: build failed" >&2; exit 1; }
}

# tw_configure_dir DIR [cmake arguments...]: the configure half of tw_build_dir.
tw_configure_dir() {
  local dir="$1" cache="$1/CMakeCache.txt" generator
  shift
  local -a cmake_args=("$@")
  if [[ -f "$cache" ]]; then
    generator="$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$cache")"
    if [[ -n "$generator" && "$generator" != Ninja ]]; then
      echo "setup: $dir was configured with '$generator', not Ninja." >&2
      echo "setup: remove it (rm -rf '$dir') and re-run." >&2
      exit 1
    fi
  fi
  if command -v ccache >/dev/null 2>&1; then
    cmake_args+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    # Paths below the checkout are hashed relative to it, so another clone or worktree
    # of the same tree (CI's fresh clone, a second worktree) hits the same cache.
    export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$TW_ROOT}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
  fi
  mkdir -p "$dir"
  local log="$dir/setup-configure.log"
  echo "setup: configuring $dir (log: $log)" >&2
  if ! cmake -S "$TW_ROOT" -B "$dir" -G Ninja "${cmake_args[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup: cmake configure failed" >&2
    exit 1
  fi
}

tw_install_missing_packages
# scripts/fuzz builds only the fuzz targets of build-asan; everything else builds build/ here.
[[ "${TW_SETUP_NO_BUILD:-}" == 1 ]] || tw_build
