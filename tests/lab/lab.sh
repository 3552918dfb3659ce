#!/usr/bin/env bash
# A private lab of network namespaces for nsrun's tests, demo and benchmark.
#
#   lab.sh up NAME [--uplink-mtu N] [--resolver plain|stub]
#   lab.sh down NAME                      always succeeds
#   lab.sh exec NAME CMD...               run CMD in "the host" (NAME-host), where nsrun runs
#   lab.sh inet NAME CMD...               run CMD in "the internet" (NAME-inet)
#   lab.sh add-ns NAME TAG HOST_CIDR NS_CIDR
#                                         one more namespace NAME-TAG, linked to NAME-host by a veth
#                                         (x-TAG there, eth0 inside, default route via HOST_CIDR's address)
#   lab.sh in NAME TAG CMD...             run CMD in NAME-TAG
#
#  NAME-inet: lab0 198.51.100.1/24 2001:db8:1::1/64, web server on 198.51.100.80 and [2001:db8:1::80] port 80
#             (logs "CLIENT METHOD PATH" to web.log), dnsmasq on 198.51.100.53: example.com A 198.51.100.80,
#             AAAA 2001:db8:1::80; ipv6only.example AAAA only.
#  NAME-host: uplink 198.51.100.2/24 2001:db8:1::2/64, default routes via the internet; /etc/resolv.conf (the
#             ip-netns way, /etc/netns/NAME-host/resolv.conf) names 198.51.100.53, or with --resolver stub
#             127.0.0.53 (a dnsmasq there forwards to 198.51.100.53) and `exec` shows the systemd-resolved
#             upstream file /run/systemd/resolve/resolv.conf in a private mount namespace.
# State lives in /run/nsrun-lab/NAME. Nothing here touches the machine's own network namespace.
set -euo pipefail

export PATH=$PATH:/usr/sbin:/sbin # ip, dnsmasq, iptables, sysctl even from a user's PATH
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=/run/nsrun-lab
python=/usr/bin/python3
[[ -x $python ]] || python=$(command -v python3)

die() { echo "lab.sh: $*" >&2; exit 1; }
check_name() { [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$ ]] || die "bad lab name: '$1'"; }
has_ns() { [[ -e /run/netns/$1 ]]; }

# wait_for WHAT CMD...: polls CMD every 50 ms, at most 5 s.
wait_for() {
  local i
  for ((i = 0; i < 100; i++)); do "${@:2}" && return 0; sleep 0.05; done
  die "timed out waiting for $1"
}
operstate_up() { [[ $(ip -n "$1" -br link show dev "$2") =~ \ UP\  ]]; }
listening() { ip netns exec "$1" ss -Hln "src $2" 2>/dev/null | grep -q .; }

down() {
  local name=$1 dir=$root/$1 ns pids tag
  local all=("$name-inet" "$name-host")
  if [[ -f $dir/extras ]]; then
    while read -r tag; do all+=("$name-$tag"); done <"$dir/extras"
  fi
  for ns in "${all[@]}"; do
    has_ns "$ns" || continue
    # Every process in a lab namespace belongs to the lab (its servers, or leftovers of a test in it).
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [[ -z $pids ]] || kill -KILL $pids 2>/dev/null || true
  done
  for ns in "${all[@]}"; do
    has_ns "$ns" && ip netns del "$ns" 2>/dev/null || true
    rm -rf "/etc/netns/$ns"
  done
  rmdir /etc/netns 2>/dev/null || true
  rm -rf "$dir"
}

up() {
  local name=$1 mtu='' resolver=plain
  shift
  while (($#)); do
    case $1 in
      --uplink-mtu) mtu=${2-}; shift 2 || die "--uplink-mtu needs a value" ;;
      --uplink-mtu=*) mtu=${1#*=}; shift ;;
      --resolver) resolver=${2-}; shift 2 || die "--resolver needs a value" ;;
      --resolver=*) resolver=${1#*=}; shift ;;
      *) die "up: unknown option '$1'" ;;
    esac
  done
  [[ -z $mtu || $mtu =~ ^[0-9]{3,5}$ ]] || die "bad MTU '$mtu'"
  [[ $resolver == plain || $resolver == stub ]] || die "bad resolver '$resolver' (plain or stub)"

  local dir=$root/$name inet=$name-inet host=$name-host i
  if [[ -e $dir ]] || has_ns "$inet" || has_ns "$host"; then down "$name"; fi
  trap 'down "$name"' EXIT # a failed `up` leaves nothing behind
  mkdir -p "$dir/ovl" "$dir/resolve"
  echo "$resolver" >"$dir/resolver"
  : >"$dir/web.log"

  ip netns add "$inet"
  ip netns add "$host"
  ip -n "$host" link add uplink type veth peer name lab0 netns "$inet"
  if [[ -n $mtu ]]; then
    ip -n "$host" link set uplink mtu "$mtu"
    ip -n "$inet" link set lab0 mtu "$mtu"
  fi
  for i in 1 80 53; do
    ip -n "$inet" addr add "198.51.100.$i/24" dev lab0
    ip -n "$inet" addr add "2001:db8:1::$i/64" dev lab0 nodad
  done
  ip -n "$host" addr add 198.51.100.2/24 dev uplink
  ip -n "$host" addr add 2001:db8:1::2/64 dev uplink nodad
  for i in "$inet" "$host"; do ip -n "$i" link set lo up; done
  ip -n "$inet" link set lab0 up
  ip -n "$host" link set uplink up
  ip -n "$host" route add default via 198.51.100.1
  ip -n "$host" -6 route add default via 2001:db8:1::1

  for i in 1 2 3; do mkdir -p "/etc/netns/$host" && break; sleep 0.05; done # another lab's down may rmdir
  if [[ $resolver == stub ]]; then
    echo "nameserver 127.0.0.53" >"/etc/netns/$host/resolv.conf"
    echo "nameserver 198.51.100.53" >"$dir/resolve/resolv.conf"
    ip -n "$host" addr add 127.0.0.53/8 dev lo
  else
    echo "nameserver 198.51.100.53" >"/etc/netns/$host/resolv.conf"
  fi

  ip netns exec "$inet" setsid "$python" "$here/web.py" "$dir" 198.51.100.80 2001:db8:1::80 \
    </dev/null >>"$dir/web.out" 2>&1 &
  local dns=(dnsmasq --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces --user=root --group=root)
  ip netns exec "$inet" "${dns[@]}" --listen-address=198.51.100.53 --listen-address=2001:db8:1::53 \
    --host-record=example.com,198.51.100.80,2001:db8:1::80 --host-record=ipv6only.example,2001:db8:1::80 \
    --local=/#/ \
    --pid-file="$dir/dns.pid" --log-queries --log-facility="$dir/dns.log" </dev/null >/dev/null 2>&1
  if [[ $resolver == stub ]]; then
    ip netns exec "$host" "${dns[@]}" --listen-address=127.0.0.53 --server=198.51.100.53 \
      --pid-file="$dir/stub.pid" --log-facility="$dir/stub.log" </dev/null >/dev/null 2>&1
    wait_for "the stub resolver" listening "$host" 127.0.0.53:53
  fi
  wait_for "the uplink" operstate_up "$host" uplink
  wait_for "the web server" test -e "$dir/web.ready"
  wait_for "the DNS server" listening "$inet" 198.51.100.53:53
  trap - EXIT
}

add_ns() {
  local name=$1 tag=$2 hostcidr=$3 nscidr=$4 dir=$root/$1
  [[ $tag =~ ^[a-z0-9]{1,8}$ && $tag != inet && $tag != host ]] || die "bad tag '$tag'"
  [[ -d $dir ]] || die "no lab '$name'"
  local ns=$name-$tag
  echo "$tag" >>"$dir/extras"
  ip netns add "$ns"
  ip -n "$name-host" link add "x-$tag" type veth peer name eth0 netns "$ns"
  ip -n "$name-host" addr add "$hostcidr" dev "x-$tag"
  ip -n "$name-host" link set "x-$tag" up
  ip -n "$ns" addr add "$nscidr" dev eth0
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "${hostcidr%/*}"
}

# The stub-resolver host: in a private mount namespace, /run/systemd/resolve is the lab's "$dir/resolve"
# (an overlay over the nearest existing parent makes the mount point when the machine has none).
run_stub() {
  local dir=$1
  shift
  exec ip netns exec "$name-host" unshare -m sh -c '
    set -e
    dir=$1; shift
    if [ ! -d /run/systemd/resolve ]; then
      base=/run/systemd; [ -d "$base" ] || base=/run
      mount -t tmpfs lab-ovl "$dir/ovl"
      mkdir "$dir/ovl/upper" "$dir/ovl/work"
      mount -t overlay lab-ovl -o "lowerdir=$base,upperdir=$dir/ovl/upper,workdir=$dir/ovl/work" "$base"
      mkdir -p /run/systemd/resolve
    fi
    mount --bind "$dir/resolve" /run/systemd/resolve
    exec "$@"' lab-exec "$dir" "$@"
}

(($# >= 2)) || die "usage: lab.sh up|down|exec|inet|add-ns|in NAME ..."
cmd=$1 name=$2
shift 2
check_name "$name"
case $cmd in
  up) up "$name" "$@" ;;
  down) down "$name" ;;
  exec)
    (($#)) || die "exec: no command"
    [[ -d $root/$name ]] || die "no lab '$name'"
    if [[ $(<"$root/$name/resolver") == stub ]]; then run_stub "$root/$name" "$@"; fi
    exec ip netns exec "$name-host" "$@" ;;
  inet) (($#)) || die "inet: no command"; exec ip netns exec "$name-inet" "$@" ;;
  in) (($# >= 2)) || die "in: NAME TAG CMD..."; tag=$1; shift; exec ip netns exec "$name-$tag" "$@" ;;
  add-ns) (($# == 3)) || die "add-ns: NAME TAG HOST_CIDR NS_CIDR"; add_ns "$name" "$@" ;;
  *) die "unknown command '$cmd'" ;;
esac
