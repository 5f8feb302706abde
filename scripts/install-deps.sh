#!/usr/bin/env bash
# Installs the Debian packages regain builds and tests with (idempotent; needs root), and the
# npm package the browser tests drive Chromium with. Skips apt entirely when all is present.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git
  libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev libtiff-dev libwebp-dev libopenexr-dev liblcms2-dev
  libpugixml-dev nlohmann-json3-dev libcli11-dev libexpected-dev
  libopencv-imgproc-dev libopencv-features2d-dev libopencv-calib3d-dev
  libde265-dev libx265-dev libdav1d-dev libaom-dev libcpp-httplib-dev libhiredis-dev redis-server haproxy
  libfreetype-dev fonts-liberation2 libdnnl-dev python3-torch
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev libfuzzer-14-dev
  pybind11-dev python3-dev python3-numpy python3-pytest dpkg-dev file
  libimage-exiftool-perl chromium libheif-examples wrk curl
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs npm); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
