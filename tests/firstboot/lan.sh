#!/usr/bin/env bash
# A private LAN of isolated hosts for the first-boot tests: network namespaces o3fb-h1..hN on a
# bridge (namespace o3fb-lan), addresses 198.18.0.1..N/24, each host with its own mount and UTS
# namespace (a tmpfs /run), its own system D-Bus and its own avahi-daemon, as a board has.
# Nothing leaves the bridge: no route to the machine's network exists.
# Usage: lan.sh up N [HOSTNAME...]  |  lan.sh exec I CMD...  |  lan.sh restart-avahi I  |  lan.sh down
# O3_LAN=NAME (default o3fb) names the namespaces and the state directory /tmp/NAME, so two users
# (the first-boot test and the provisioning tests' avahi fixture) never take each other's LAN down.
# Host i is named by the i-th HOSTNAME (default o3board-i). Give two hosts one name to make avahi's
# host-name collision happen (the later one is renamed, as on a LAN where two boards share a name).
set -euo pipefail
prefix=${O3_LAN:-o3fb}
[[ $prefix =~ ^[a-z0-9]{1,8}$ ]] || { echo "lan.sh: O3_LAN must be 1-8 lowercase letters or digits" >&2; exit 2; }
state=/tmp/$prefix

holder_pid() { cat "$state/h$1.pid"; }

# Waits until host $1's avahi answers on its bus and has settled its host name (state 2: RUNNING).
wait_running() {
  local deadline=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if "$0" exec "$1" dbus-send --system --print-reply --dest=org.freedesktop.Avahi / org.freedesktop.Avahi.Server.GetState 2>/dev/null | grep -q 'int32 2'; then
      return 0
    fi
    sleep 0.1
  done
  echo "lan.sh: avahi-daemon on host $1 is not RUNNING after 30 s" >&2
  exit 1
}

case "${1:-}" in
  up)
    n=$2
    shift 2
    names=("$@")
    "$0" down >/dev/null 2>&1 || true
    mkdir -p "$state"
    ip netns add "$prefix-lan"
    ip -n "$prefix-lan" link add br0 type bridge
    ip -n "$prefix-lan" link set br0 up
    ip -n "$prefix-lan" link set lo up
    for i in $(seq 1 "$n"); do
      ns=$prefix-h$i
      name=${names[$((i - 1))]:-o3board-$i}
      # A host that repeats an earlier host's name starts once the earlier hosts hold theirs, so it is
      # the one avahi renames: two boards probing one name at the same moment may rename either.
      for ((j = 1; j < i; j++)); do
        if [ "${names[$((j - 1))]:-o3board-$j}" = "$name" ]; then
          for ((k = 1; k < i; k++)); do wait_running "$k"; done
          break
        fi
      done
      ip netns add "$ns"
      ip link add "veth$i" netns "$prefix-lan" type veth peer name eth0 netns "$ns"
      ip -n "$prefix-lan" link set "veth$i" master br0 up
      ip -n "$ns" addr add "198.18.0.$i/24" dev eth0
      ip -n "$ns" link set eth0 up
      ip -n "$ns" link set lo up
      conf=$state/avahi-h$i.conf
      cat >"$conf" <<CONF
[server]
use-ipv4=yes
use-ipv6=no
allow-interfaces=eth0
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[publish]
publish-workstation=no
[wide-area]
enable-wide-area=no
CONF
      # The holder keeps the host's mount/UTS namespaces alive; `exec` enters them with nsenter.
      ip netns exec "$ns" unshare -m -u --propagation private bash -c "
        set -e
        mount -t tmpfs tmpfs /run
        mkdir -p /run/dbus /run/avahi-daemon
        hostname '$name'
        dbus-daemon --system --fork --nopidfile
        avahi-daemon --daemonize --no-drop-root --no-chroot -f '$conf'
        exec sleep infinity" </dev/null >"$state/h$i.log" 2>&1 &
      echo $! >"$state/h$i.pid"
    done
    for i in $(seq 1 "$n"); do
      wait_running "$i"
    done
    ;;
  exec)
    i=$2
    shift 2
    # The holder (ip netns exec, exec'd into unshare, bash, then sleep) is in the host's namespaces.
    exec nsenter -t "$(holder_pid "$i")" -m -u -n -- "$@"
    ;;
  restart-avahi)
    # As apt upgrading avahi-daemon does: the daemon goes away with every object its clients made.
    i=$2
    "$0" exec "$i" sh -c "avahi-daemon --kill; sleep 1; avahi-daemon --daemonize --no-drop-root --no-chroot -f '$state/avahi-h$i.conf'"
    ;;
  down)
    for ns in $(ip netns list | awk '{print $1}' | grep "^$prefix-" || true); do
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
      ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$state"
    ;;
  *)
    echo "usage: $0 up N [HOSTNAME] | exec I CMD... | down" >&2
    exit 2
    ;;
esac
