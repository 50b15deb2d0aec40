#!/usr/bin/env bash
# Installs the Debian packages the build, tests and benchmarks need; a no-op when all are present.
set -euo pipefail

packages=(
  clang lld zlib1g-dev                                                # native AOT for linux-x64
  gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross  # native AOT for linux-arm64
  qemu-user-static                                                    # runs the arm64 binary in tests
  jq curl procps iproute2 python3 openssl openssh-client              # scripts, tests, make run, the image test
  etcd-server etcd-client fio                                         # benchmark anchors (make bench)
  swift-proxy swift-object swift-container swift-account memcached    # the replicated S3 peer in make bench (Swift's s3api)
  linux-perf                                                          # where the CPU goes under load (bench/profile_bench.py)
  awscli rclone s3cmd python3-boto3                                   # unmodified S3 clients in the tests (tests/s3compat: boto3)
  mmdebstrap arch-test binfmt-support genimage dosfstools mtools e2fsprogs fdisk faketime cpio zstd  # the OS image
  bmap-tools qemu-system-arm u-boot-qemu ipxe-qemu u-boot-tools       # its .bmap, boot.scr (mkimage), booting it (make test-image)
  dnsmasq-base                                                        # DHCP on the fleet test's virtual LAN (make test-fleet)
  avahi-daemon avahi-utils dbus util-linux                            # first boot over real mDNS (make test-firstboot)
  nftables                                                            # partitions in the chaos suite (make chaos)
  tcpdump                                                             # captures showing nothing secret crosses the LAN in clear
  tmux                                                                # o3ctl's live views driven in a real terminal (tests)
  shellcheck                                                          # the shell scripts' lint (make lint)
  prometheus                                                          # a real Prometheus scrapes a test cluster's /metrics
  chromium                                                            # a real headless browser loads the dashboard (/ui)
  fuse3 libfuse3-dev pkg-config gcc                                   # the power-cut file system (tests/powercut)
)

missing=()
for package in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$package")
  fi
done

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# OpenSSL for the arm64 binary under qemu-user (tools/smoke-arm64.sh): its TLS and the cluster CA need
# it. Unpacked into artifacts/, not installed: a multiarch libc6:arm64 beside the cross toolchain's own
# loader makes every arm64 program hang.
root=$(cd "$(dirname "$0")/.." && pwd)
arm64_ssl="$root/artifacts/arm64-openssl"
if [ ! -e "$arm64_ssl/usr/lib/aarch64-linux-gnu/libssl.so.3" ]; then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    "${sudo_cmd[@]}" dpkg --add-architecture arm64
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  download=$(mktemp -d)
  chmod 777 "$download"
  (cd "$download" && apt-get download -qq libssl3:arm64)
  mkdir -p "$arm64_ssl"
  dpkg-deb -x "$download"/libssl3_*_arm64.deb "$arm64_ssl"
  rm -rf "$download"
fi
