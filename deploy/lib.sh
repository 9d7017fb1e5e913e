# Shared by deploy/up and deploy/test: install what is missing, build.
# shellcheck shell=bash

ITS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages the build and the tests need.
ITS_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git curl jq procps
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libasio-dev node-llhttp libtomlplusplus-dev libcli11-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
  libjemalloc-dev prometheus-cpp-dev
)

# ccache hashes paths relative to the checkout, so clean clones share hits.
export CCACHE_BASEDIR="$ITS_ROOT"

# What only the tests need: the browser tests, clang for the thread-safety
# analysis (preset clang-tsa) and, with its runtime libraries (libFuzzer,
# the sanitizers; only recommended by clang), for the fuzz targets (preset
# fuzz), clang-format for the formatting check,
# HAProxy and ip/tc for the cluster across network namespaces
# (deploy/hosts-up, ctest label hosts) and a real Prometheus
# (tests/integration/prometheus_test.cc).
ITS_TEST_PACKAGES=(chromium fonts-dejavu-core clang libclang-rt-dev clang-format haproxy iproute2
  prometheus)

its_log() { printf '%s\n' "$*" >&2; }

# its_install PKG... : installs the Debian packages that are not installed yet.
its_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
      its_log "missing Debian packages: ${missing[*]}"
      its_log "install them as root: apt-get install ${missing[*]}"
      return 1
    fi
  fi
  its_log "installing: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

# its_build [TARGET...]: configures (once) and builds the Release tree in build/.
# ITS_UNITY_BUILD=1 (set by .ci/run) configures it as a unity build: a build
# from nothing takes 5.3 min instead of 8.7 on 2 cores without ccache, at the
# price of recompiling a whole batch of files for any change - for one-off
# builds, not for working on the code.
its_build() {
  cd "$ITS_ROOT"
  if [ ! -f build/build.ninja ]; then
    local unity=()
    [ "${ITS_UNITY_BUILD:-0}" = 1 ] && unity=(-DCMAKE_UNITY_BUILD=ON)
    cmake --preset release "${unity[@]}" >/dev/null
  fi
  if [ $# -gt 0 ]; then
    cmake --build build --target "$@"
  else
    cmake --build build
  fi
}
