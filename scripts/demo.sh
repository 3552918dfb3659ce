#!/usr/bin/env bash
# nsrun's quick start: builds nsrun and runs it inside a private lab of network namespaces (tests/lab/lab.sh),
# so nothing on this machine changes: the lab's "host" and "internet" are namespaces of their own, removed on exit.
#   sudo bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ $(id -u) == 0 ]] || { echo "demo.sh: run as root (sudo bash scripts/demo.sh)" >&2; exit 1; }

lab=nsrun-demo
nsrun=build/cmd/nsrun
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
show() { printf '$'; printf ' %q' "$@"; printf '\n'; "$@"; }

say "Installing build and lab dependencies (Debian packages)"
bash scripts/install-deps.sh
say "Building nsrun (Release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target nsrun

say "Starting the lab '$lab': namespaces $lab-host (where nsrun runs) and $lab-inet (a web server for"
echo "    example.com on 198.51.100.80 and a DNS server on 198.51.100.53)"
trap 'bash tests/lab/lab.sh down "$lab"' EXIT
bash tests/lab/lab.sh up "$lab"
in_host() { show bash tests/lab/lab.sh exec "$lab" "$@"; }

say "The lab's host: its interfaces, and the page fetched without nsrun"
in_host ip -brief addr
in_host curl -sS --max-time 5 example.com

say "--net=nat: the program gets eth0 with an address from the pool, a default route and NAT"
in_host "$nsrun" --net=nat --subnet=203.0.113.0/24 -- ip -brief addr
in_host "$nsrun" --net=nat --subnet=203.0.113.0/24 -- curl -sS --max-time 5 example.com
echo "The web server saw the request come from: $(tail -n 1 "/run/nsrun-lab/$lab/web.log" | cut -d' ' -f1)"
echo "(the lab host's address, 198.51.100.2: the sandbox's address was translated)"

say "--verbose shows each set-up step with its time"
in_host "$nsrun" --verbose --net=nat --subnet=203.0.113.0/24 -- true

say "--net=none (the default): only lo, so the same request fails"
in_host "$nsrun" --net=none -- ip -brief addr
if in_host "$nsrun" --net=none -- curl -sS --max-time 3 http://198.51.100.80/; then
  echo "demo.sh: unexpected: the request went through without a network" >&2
  exit 1
fi

say "Exit statuses are the program's own"
set +e
in_host "$nsrun" -- sh -c 'exit 3'
echo "exit status: $?"
set -e

say "Done; removing the lab"
