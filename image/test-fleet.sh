#!/usr/bin/env bash
# The appliance as a fleet: copies of one image, each card with nothing but what docs/image.md tells the
# owner to put on it (o3storage.txt, the same on every card, and an authorized_keys), booted as QEMU
# `virt` boards (TCG) on one virtual LAN. With no typing they must form one 3-node cluster with exactly
# one bootstrap; a fourth board powered on later joins by itself; an object written through one board
# reads back through the others; each board's /health shows its role and LED pattern.
# The LAN: taps on a bridge inside a network namespace (o3fleet-PID), with dnsmasq giving each board's
# MAC address its reservation in 198.18.0.0/24 (as docs/image.md asks of a router) and this script
# reaching the boards from 198.18.0.1 through `ip netns exec`. Nothing leaves the namespace: it has no
# other interface and no route out. 198.18.0.0/15 is not a private range, so the cards say
# local_networks=198.18.0.0/15 (the firewall would drop the boards' traffic to each other otherwise).
# Usage: image/test-fleet.sh [--formation-only | --rolling-update BUNDLE] IMAGE
#   Prints "fleet-formation N s": power-on of three boards to a healthy 3-node cluster
#   (make bench-fleet). --formation-only stops there. --rolling-update updates the three boards' OS
#   with o3ctl os-update instead of adding a fourth board, while a client keeps writing and reading
#   through whichever board answers (make test-fleet-update).
set -uo pipefail
formation_only=false
bundle=
if [ "${1:-}" = --formation-only ]; then
  formation_only=true
  shift
elif [ "${1:-}" = --rolling-update ]; then
  bundle=${2:?usage: test-fleet.sh --rolling-update BUNDLE IMAGE}
  shift 2
  [ -f "$bundle" ] || { echo "test-fleet: no bundle at $bundle (make update-bundle)" >&2; exit 2; }
fi
image=${1:?usage: test-fleet.sh [--formation-only | --rolling-update BUNDLE] IMAGE}
o3ctl=${O3CTL:-$(cd "$(dirname "$0")/.." && pwd)/artifacts/linux-x64/o3ctl}
[ -f "$image" ] || { echo "test-fleet: no image at $image (make image)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "test-fleet: needs root (network namespace, taps)" >&2; exit 2; }
firmware=/usr/lib/u-boot/qemu_arm64/u-boot.bin
# Small boards: four of them beside a build on a 2-core machine.
memory_mib=${O3_FLEET_MEMORY_MIB:-512}

work=$(mktemp -d "${TMPDIR:-/tmp}/o3-fleet-test-XXXXXX")
ns=o3fleet-$$
# shellcheck source=checks.sh
source "$(dirname "$0")/checks.sh" # check, pass, fail and the failures count
declare -A qemu_pids=()
dnsmasq_pid=
cleanup() {
  local status=$? pid
  for pid in "${qemu_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${qemu_pids[@]}"; do wait "$pid" 2>/dev/null; done
  [ -n "$dnsmasq_pid" ] && kill "$dnsmasq_pid" 2>/dev/null && wait "$dnsmasq_pid" 2>/dev/null
  ip netns delete "$ns" 2>/dev/null
  if [ "$status" -ne 0 ] || [ "$failures" -gt 0 ]; then
    echo "test-fleet: kept $work (console-N.log, disk-N.img, id for ssh -i)" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

die() {
  echo "test-fleet: $*" >&2
  local i
  for i in "${!qemu_pids[@]}"; do
    echo "--- board $i: the end of its node's journal (or of its serial console) ---" >&2
    # The journal is what tells why; a board that does not answer SSH shows its console.
    board "$i" "journalctl -b -q -o short-monotonic -u o3storage -u o3storage-firstboot --no-pager | grep -v -E '^\s+(at |---)' | tail -n 25" >&2 2>/dev/null \
      || tail -n 25 "$work/console-$i.log" >&2
  done
  exit 1
}

in_lan() { ip netns exec "$ns" "$@"; }
address() { echo "198.18.0.$((10 + $1))"; }
mac() { printf '52:54:00:03:b0:%02x' "$1"; }
api() { echo "http://$(address "$1"):8080"; }
ssh_options=(-i "$work/id" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 -o BatchMode=yes -o LogLevel=ERROR)
board() { local i=$1; shift; in_lan ssh -q "${ssh_options[@]}" "o3admin@$(address "$i")" "$@"; }
health() { in_lan curl -fsS --max-time 5 "$(api "$1")/health" 2>/dev/null; }

# The virtual LAN: a bridge that floods multicast (mDNS) to every port, one tap per board.
ip netns add "$ns" || die "cannot make network namespace $ns"
in_lan ip link set lo up
in_lan ip link add br0 type bridge mcast_snooping 0
in_lan ip addr add 198.18.0.1/24 dev br0
in_lan ip link set br0 up
for i in 1 2 3 4; do
  in_lan ip tuntap add dev "tap$i" mode tap
  in_lan ip link set "tap$i" master br0 up
done
reservations=()
for i in 1 2 3 4; do reservations+=("--dhcp-host=$(mac "$i"),$(address "$i")"); done
# DHCP only (port 0: no DNS); the lease goes nowhere but this run's directory.
ip netns exec "$ns" dnsmasq --keep-in-foreground --port=0 --interface=br0 --bind-interfaces --user=root --group=root \
  --dhcp-range=198.18.0.100,198.18.0.199,255.255.255.0,12h --dhcp-leasefile="$work/leases" \
  --dhcp-option=option:router,198.18.0.1 "${reservations[@]}" --log-facility="$work/dnsmasq.log" --log-dhcp &
dnsmasq_pid=$!

# The cards: the same image and the same o3storage.txt on each, as a user flashes them.
ssh-keygen -q -t ed25519 -N '' -C o3storage-fleet-test -f "$work/id"
printf '# the fleet test: one cluster of boards on a 198.18.0.0/15 lab network\r\ncluster_name=fleet\r\njoin_token=fleet-test-token-1\r\nexpected_nodes=3\r\nlocal_networks=198.18.0.0/15\r\n' >"$work/o3storage.txt"
for i in 1 2 3 4; do
  cp --sparse=always "$image" "$work/disk-$i.img"
  truncate --size=8G "$work/disk-$i.img"
  mcopy -i "$work/disk-$i.img@@4M" "$work/id.pub" ::authorized_keys
  mcopy -o -i "$work/disk-$i.img@@4M" "$work/o3storage.txt" ::o3storage.txt
done

power_on() { # power_on I
  local i=$1
  # Not through in_lan: a function in the background is a subshell, and killing it would leave QEMU running.
  ip netns exec "$ns" qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 1 -m "$memory_mib" -nographic -monitor none \
    -bios "$firmware" \
    -drive if=none,file="$work/disk-$i.img",format=raw,id=disk -device virtio-blk-device,drive=disk \
    -netdev "tap,id=net,ifname=tap$i,script=no,downscript=no" -device "virtio-net-device,netdev=net,mac=$(mac "$i")" \
    -device virtio-rng-device \
    -serial "file:$work/console-$i.log" </dev/null >"$work/qemu-$i.log" 2>&1 &
  qemu_pids[$i]=$!
}

# Waits until every board named answers /health with the cluster at SIZE active nodes; dies after LIMIT s.
wait_cluster() { # wait_cluster LIMIT SIZE BOARD...
  local limit=$1 size=$2 started=$SECONDS i ready
  shift 2
  while :; do
    ready=0
    for i in "$@"; do
      kill -0 "${qemu_pids[$i]}" 2>/dev/null || die "board $i's QEMU exited"
      grep -a -q 'Failed to start .*o3storage' "$work/console-$i.log" 2>/dev/null && die "a unit of ours failed on board $i"
      [ "$(health "$i" | jq -r '.cluster.active_nodes // empty' 2>/dev/null)" = "$size" ] && ready=$((ready + 1))
    done
    [ "$ready" -eq $# ] && break
    [ $((SECONDS - started)) -lt "$limit" ] || die "boards $* not all in a $size-node cluster within $limit s"
    sleep 2
  done
  echo $((SECONDS - started))
}

echo "test-fleet: powering on boards 1-3 ($(basename "$image"), TCG, ${memory_mib} MiB each)"
for i in 1 2 3; do power_on "$i"; done
formation_s=$(wait_cluster 1200 3 1 2 3) || exit 1
echo "fleet-formation ${formation_s} s (power-on of three boards to a healthy 3-node cluster)"
if $formation_only; then exit 0; fi

echo "formation:"
for i in 1 2 3; do
  check "board $i: DHCP reservation $(address "$i"), served on it" "200" \
    "$(in_lan curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$(api "$i")/health")"
done
bootstraps=0
joins=0
for i in 1 2 3; do
  bootstraps=$((bootstraps + $(board "$i" "journalctl -q -o cat -u o3storage --grep \"this node bootstraps cluster 'fleet'\"" | wc -l)))
  joins=$((joins + $(board "$i" "journalctl -q -o cat -u o3storage --grep \"joining cluster 'fleet'\"" | head -n 1 | wc -l)))
done
check "exactly one board bootstrapped cluster fleet, the other two joined it" "1 2" "$bootstraps $joins"
roles=$(for i in 1 2 3; do health "$i" | jq -r '.cluster.role'; done | sort | paste -sd' ')
check "one leader, two followers" "follower follower leader" "$roles"
for i in 1 2 3; do
  role=$(health "$i" | jq -r .cluster.role)
  check "board $i: LED pattern shows its role ($role), healthy" "$role $role true" \
    "$(health "$i" | jq -r '"\(.cluster.role) \(.hardware.led) \(.cluster.write_enabled)"')"
done
check "the boards named themselves (o3- and 6 hex digits), all different" "3" \
  "$(for i in 1 2 3; do board "$i" hostname; done | grep -E -x 'o3-[0-9a-f]{6}' | sort -u | wc -l)"
check "local_networks from o3storage.txt is in the firewall" "198.18.0.0/15" \
  "$(board 1 "sudo nft list set inet o3storage local4" | grep -o '198\.18\.0\.0/15')"

echo "objects across boards:"
key=$(board 2 "sudo cat /opt/o3storage/data/first-admin-key" | cut -d: -f2)
check "every member keeps the first admin key" "yes" "$([[ $key =~ ^[0-9a-f]{64}$ ]] && echo yes)"
bearer="Authorization: Bearer $key"
head -c 2500000 /dev/urandom >"$work/object"
want=$(sha256sum <"$work/object" | cut -d' ' -f1)
in_lan curl -fsS -H "$bearer" -X PUT "$(api 1)/fleet-test" >/dev/null || fail "create a bucket through board 1"
in_lan curl -fsS -H "$bearer" -X PUT --data-binary "@$work/object" "$(api 1)/fleet-test/object.bin" >/dev/null || fail "put an object through board 1"
object_sha() { in_lan curl -fsS -H "$bearer" "$(api "$1")/fleet-test/object.bin" | sha256sum | cut -d' ' -f1; }
for i in 2 3; do check "written through board 1, read through board $i" "$want" "$(object_sha "$i")"; done
check "a stranger without a key is refused" "403" "$(in_lan curl -s -o /dev/null -w '%{http_code}' "$(api 3)/fleet-test/object.bin")"
for i in 1 2 3; do health "$i" | jq -r .node_uuid >"$work/uuid-$i"; done

if [ -n "$bundle" ]; then
  echo "a rolling OS update of the three boards (o3ctl os-update), a client writing throughout:"
  [ -x "$o3ctl" ] || die "no o3ctl at $o3ctl (tools/publish.sh linux-x64)"
  # The client: one small object every 2 s, through the first board that takes it (as a client with
  # all three boards' addresses would), each line "TIME N BOARD" or "TIME N none". Bounded: it stops
  # when told, or after 2 hours.
  : >"$work/writes"
  (
    for n in $(seq 1 3600); do
      [ -e "$work/stop-writes" ] && break
      printf 'object %s\n' "$n" >"$work/w-$n"
      taken=none
      for i in $(( n % 3 + 1 )) $(( (n + 1) % 3 + 1 )) $(( (n + 2) % 3 + 1 )); do
        if ip netns exec "$ns" curl -fsS --max-time 10 -H "$bearer" -X PUT --data-binary "@$work/w-$n" "$(api "$i")/fleet-test/w-$n" >/dev/null 2>&1; then
          taken=$i
          break
        fi
      done
      echo "$(date +%s) $n $taken" >>"$work/writes"
      sleep 2
    done
  ) &
  writer_pid=$!
  leader_before=$(for i in 1 2 3; do health "$i" | jq -r 'select(.cluster.role == "leader") | .node_id'; done | head -n 1)
  update_started=$(date +%s)
  # o3ctl's progress lines, each with the time it came.
  in_lan "$o3ctl" --endpoint "$(api 1),$(api 2),$(api 3)" --key "$key" --json os-update "$bundle" \
    --ssh-identity "$work/id" --ssh-option StrictHostKeyChecking=no --ssh-option UserKnownHostsFile=/dev/null --ssh-option LogLevel=ERROR \
    >"$work/os-update.json" 2> >(while IFS= read -r line; do echo "$(date +%s) $line"; done >"$work/os-update.log")
  update_exit=$?
  sleep 1
  touch "$work/stop-writes"
  wait "$writer_pid"
  sed 's/^[0-9]* /  | /' "$work/os-update.log"
  check "o3ctl os-update: exit 0, three boards committed, the leader last" "0 committed committed committed $leader_before" \
    "$update_exit $(jq -r '[.boards[].outcome] | join(" ")' "$work/os-update.json") $(jq -r '.order[-1]' "$work/os-update.json")"
  release=$(jq -r .release "$work/os-update.json")
  for i in 1 2 3; do
    check "board $i: runs slot B, committed, release $release" "running: slot B, release $release last update: state=committed" \
      "$(board "$i" "sudo o3-update status" | grep -E '^(running:|last update: state=)' | paste -sd' ')"
  done
  echo "fleet-rolling-update $(( $(date +%s) - update_started )) s (three boards, one at a time)"
  rounds=$(wc -l <"$work/writes")
  lost=$(awk '$3 == "none"' "$work/writes" | wc -l)
  # The longest stretch without a taken write, "SECONDS END" (END: the time of the write that ended it).
  read -r gap gap_end < <(awk 'BEGIN { last = 0; gap = 0; end = 0 } $3 != "none" { if (last && $1 - last > gap) { gap = $1 - last; end = $1 }; last = $1 } END { print gap, end }' "$work/writes")
  # Whose turn it was, and in which step: o3ctl's last progress line before that stretch ended.
  gap_step=$(awk -v end="$gap_end" '$1 <= end { line = $0 } END { sub(/^[0-9]+ o3ctl: /, "", line); print line }' "$work/os-update.log")
  echo "  (the client: $rounds writes, $lost taken by no board; the longest stretch without a write: $gap s, ending $(( gap_end - update_started )) s into the update, after \"$gap_step\")"
  # Each board's turn, from o3ctl's "installing" line to its "updated" line: writes kept succeeding.
  for id in $(jq -r '.order[]' "$work/os-update.json"); do
    from=$(awk -v id="$id" 'index($0, "o3ctl: " id ": installing") { print $1; exit }' "$work/os-update.log")
    to=$(awk -v id="$id" 'index($0, "o3ctl: " id ": updated") { print $1; exit }' "$work/os-update.log")
    check "while $id was updated, writes were taken" "yes" \
      "$([ -n "$from" ] && [ -n "$to" ] && awk -v from="$from" -v to="$to" '$1 >= from && $1 <= to && $3 != "none" { n++ } END { exit !(n > 0) }' "$work/writes" && echo yes)"
  done
  # Every acknowledged write reads back through every board.
  missing=0
  while read -r _ n taken; do
    [ "$taken" = none ] && continue
    for i in 1 2 3; do
      [ "$(in_lan curl -fsS --max-time 10 -H "$bearer" "$(api "$i")/fleet-test/w-$n" 2>/dev/null)" = "object $n" ] || missing=$((missing + 1))
    done
  done <"$work/writes"
  check "every acknowledged write reads back through every board" "0" "$missing"
  check "the object written before the update reads back through every board" "$want $want $want" "$(for i in 1 2 3; do object_sha "$i"; done | paste -sd' ')"
  for i in 1 2 3; do
    check "board $i: same node (uuid kept)" "$(cat "$work/uuid-$i")" "$(health "$i" | jq -r .node_uuid)"
  done
  if [ "$failures" -gt 0 ]; then
    echo "test-fleet: $failures check(s) failed"
    exit 1
  fi
  echo "test-fleet: the rolling OS update passed"
  exit 0
fi

echo "a fourth board, powered on later:"
power_on 4
joined_s=$(wait_cluster 900 4 1 2 3 4) || exit 1
echo "fleet-fourth-board ${joined_s} s (power-on to a member of the 4-node cluster)"
check "board 4 joined (it did not bootstrap)" "0 1" \
  "$(board 4 "journalctl -q -o cat -u o3storage --grep \"this node bootstraps\"" | wc -l) $(board 4 "journalctl -q -o cat -u o3storage --grep \"joining cluster 'fleet'\"" | head -n 1 | wc -l)"
check "board 4: a follower, its LED pattern says so" "follower follower" "$(health 4 | jq -r '"\(.cluster.role) \(.hardware.led)"')"
check "still one leader among four" "1" "$(for i in 1 2 3 4; do health "$i" | jq -r .cluster.role; done | grep -c -x leader)"
# A board that has just joined is still busy with its own start; under emulation its first calls to
# the others can take longer than the cluster's connect timeouts (TLS included), and a read or write
# through it answers 503 until they go through. Retried, and how long that took is printed.
until_served() { # until_served WHAT COMMAND...: runs COMMAND until it succeeds, for up to 180 s
  local what=$1 started=$SECONDS answer
  shift
  until answer=$("$@" 2>&1); do
    if [ $((SECONDS - started)) -ge 180 ]; then
      echo "  (${what}: still failing after 180 s: ${answer:0:300})" >&2
      return 1
    fi
    sleep 3
  done
  [ $((SECONDS - started)) -eq 0 ] || echo "  (${what}: served after $((SECONDS - started)) s of 503s)" >&2
  printf '%s' "$answer"
}
read_through() { in_lan curl -sS --fail-with-body -H "$bearer" "$(api "$1")/fleet-test/$2" -o "$work/read-$1" && sha256sum <"$work/read-$1" | cut -d' ' -f1; }
check "written through board 1, read through board 4" "$want" "$(until_served "a read through board 4" read_through 4 object.bin)"
head -c 700000 /dev/urandom >"$work/object2"
until_served "a write through board 4" in_lan curl -sS --fail-with-body -H "$bearer" -X PUT --data-binary "@$work/object2" "$(api 4)/fleet-test/from-4.bin" >/dev/null \
  || fail "put an object through board 4"
check "written through board 4, read through board 2" "$(sha256sum <"$work/object2" | cut -d' ' -f1)" \
  "$(in_lan curl -fsS -H "$bearer" "$(api 2)/fleet-test/from-4.bin" | sha256sum | cut -d' ' -f1)"
# DotNext logs, as an error, every TLS handshake its Raft server saw the other side give up on: under
# emulation a handshake can take longer than a connecting peer's 200 ms, so these come and go here (the
# peer tries again at its next heartbeat). Any other error line fails the test.
abandoned='TcpServer\[74027\] TLS handshake with [0-9.:]+ failed System\.IO\.IOException: Received an unexpected EOF or 0 bytes'
for i in 1 2 3 4; do
  errors=$(board "$i" "journalctl -q -p err -u o3storage -u o3storage-firstboot --no-pager -o cat") || fail "board $i: read its journal"
  check "board $i: no errors from our units in the journal (but DotNext's abandoned TLS handshakes)" "" "$(grep -v -E "$abandoned" <<<"$errors")"
  echo "  (board $i: $(grep -c -E "$abandoned" <<<"$errors") abandoned TLS handshakes logged by DotNext)"
done

if [ "$failures" -gt 0 ]; then
  echo "test-fleet: $failures check(s) failed"
  exit 1
fi
echo "test-fleet: all checks passed"
