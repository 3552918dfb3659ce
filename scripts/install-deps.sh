#!/usr/bin/env bash
# Installs, from Debian's packages, everything nsrun needs to build, test, run its demo and its benchmark.
set -euo pipefail
packages=(
  # build
  cmake g++ make pkg-config
  libnl-3-dev libnl-route-3-dev libnftables-dev libnftnl-dev libmnl-dev libseccomp-dev libcap-ng-dev libcli11-dev
  nlohmann-json3-dev
  libgtest-dev libgmock-dev
  # the lab of network namespaces the demo, the tests and the benchmark run in
  iproute2 nftables iptables dnsmasq-base curl python3 procps psmisc util-linux iputils-ping
  # the management example's real sshd (tests/integration/mgmt_sshd_test.cc)
  openssh-server openssh-client
  # podman's seccomp profile (/usr/share/containers/seccomp.json), which the isolation tests load
  golang-github-containers-common
  # benchmark and fuzzing
  iperf3 slirp4netns hyperfine clang libclang-rt-14-dev
  # other launchers the benchmark compares with (bench/run.sh skips any that is missing)
  bubblewrap firejail
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
