#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real: a C compiler (the engine's native
# data path), traffic tools, sshd, chromium (the HTML report test), and what the labs and monitors
# use. Idempotent; run as root.
set -euo pipefail
packages=(gcc libc6-dev iproute2 iputils-ping sockperf iperf3 openssh-server openssh-client ethtool numactl procps linux-perf chromium
  qemu-system-x86 busybox-static cpio libvirt-daemon libvirt-clients)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
