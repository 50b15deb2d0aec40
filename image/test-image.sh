#!/usr/bin/env bash
# Boots the image in qemu-system-aarch64 (-M virt, TCG, U-Boot distro boot from the image's FAT
# partition) and checks it as a user would find it: first boot provisions once, the node serves
# /health through a port forwarded to 127.0.0.1, runs as o3storage under systemd, keeps its data
# across `systemctl restart`, stop/start and a reboot, and our units log no errors.
# The guest's network is QEMU's user-mode network with restrict=on: it reaches nothing but the
# forwarded ports, so no traffic leaves this machine.
# Usage: image/test-image.sh [--interrupted-first-boot] IMAGE [NEW_BINARY]
#   Prints "boot-to-health ..." lines for docs/benchmarks.md. NEW_BINARY (default: the image's own)
#   is deployed by the guide's rolling update. --interrupted-first-boot starts from a card whose
#   first boot lost power after creating the data partition and before formatting it, and checks
#   only that the next boot completes the provisioning and serves; its o3storage.txt also gives a
#   static address (QEMU's user network: 10.0.2.15/24), which the first boot must apply.
set -uo pipefail
interrupted=false
if [ "${1:-}" = --interrupted-first-boot ]; then
  interrupted=true
  shift
fi
image=${1:?usage: test-image.sh [--interrupted-first-boot] IMAGE [NEW_BINARY]}
new_binary=${2:-}
[ -f "$image" ] || { echo "test-image: no image at $image (make image)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/o3-image-test-XXXXXX")
test_name=test-image
# shellcheck source=checks.sh
source "$(dirname "$0")/checks.sh" # check, pass, fail and the failures count
# shellcheck source=qemu-board.sh
source "$(dirname "$0")/qemu-board.sh" # boot, guest, wait_health, wait_ssh, wait_down, make_card
cleanup() {
  local status=$?
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
  if [ "$status" -ne 0 ] || [ "$failures" -gt 0 ]; then
    # The disk and the whole serial console stay for a look (the disk is sparse).
    echo "test-image: kept $work (console.log, disk.img, id for ssh -i)" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

make_card "$image"
# o3storage.txt edited as docs/image.md shows (Windows line endings, as Notepad saves them): one
# board expected, so it bootstraps its cluster once it sees itself over mDNS.
printf '# edited for the image test\r\ncluster_name=qemu-test\r\njoin_token=image-test-token-1\r\nexpected_nodes=1\r\nhostname=o3-qemu-test\r\n' >"$work/o3storage.txt"
if $interrupted; then
  printf 'address=10.0.2.15/24   # what QEMU user networking would lease\r\ngateway=10.0.2.2\r\ndns=10.0.2.3\r\n' >>"$work/o3storage.txt"
fi
mcopy -o -i "$work/disk.img@@4M" "$work/o3storage.txt" ::o3storage.txt
if $interrupted; then
  # What sfdisk left before the power went: partition 4 over the free space, no file system on it.
  start=$(sfdisk --list-free "$work/disk.img" | awk '$1 ~ /^[0-9]+$/ && $3 > best { best = $3; s = $1 } END { print s }')
  echo "$(( (start + 2047) / 2048 * 2048 )),,L" | sfdisk --quiet --append "$work/disk.img"
  echo "test-image: partition 4 made and left unformatted, as a first boot cut short would leave it"
fi


echo "test-image: booting $(basename "$image") (TCG; the first boot takes a few minutes)"
boot
first_boot_s=$(wait_health 900 "first boot") || exit 1
echo "boot-to-health first-boot ${first_boot_s} s"
wait_ssh
# Where the seconds went (docs/benchmarks.md): the chain to the node and the slowest units.
boot_profile() { # boot_profile WHICH
  echo "boot profile ($1):"
  guest "systemd-analyze time; systemd-analyze critical-chain o3storage.service; systemd-analyze blame | head -n 12" 2>&1 | sed 's/^/  | /'
}
boot_profile "first boot"

echo "first boot:"
check "firstboot finished" "active success" "$(guest systemctl show -P ActiveState o3storage-firstboot) $(guest systemctl show -P Result o3storage-firstboot)"
check "node settings written" "8080" "$(guest "sed -n 's/^O3STORAGE_PORT=//p' /etc/default/o3storage")"
check "machine-id made on this boot" "32" "$(guest cat /etc/machine-id | tr -d '\n' | wc -c)"
check "SSH host keys made on this boot: Ed25519 and ECDSA, no RSA" "ssh_host_ecdsa_key.pub ssh_host_ed25519_key.pub" "$(guest 'cd /etc/ssh && ls ssh_host_*_key.pub' | paste -sd' ')"
check "hostname from o3storage.txt" "o3-qemu-test" "$(guest hostname)"
check "o3storage.txt copied to the node's own copy" "$(tr -d '\r' <"$work/o3storage.txt" | md5sum)" "$(guest sudo cat /etc/o3storage/o3storage.txt | tr -d '\r' | md5sum)"
check "node settings: --discover with the copy" '"--discover --boot-config /etc/o3storage/o3storage.txt"' "$(guest "sed -n 's/^O3STORAGE_OPTIONS=//p' /etc/default/o3storage")"
check "discovery over avahi: this board bootstrapped cluster qemu-test" "1" "$(guest "journalctl -b -u o3storage -q -o cat --grep \"this node bootstraps cluster 'qemu-test'\"" | wc -l)"
# What a peer on the LAN would ask: browse _o3storage._tcp and find this node by the node id in its
# TXT record, not by an instance name. Waits for the condition (TCG: about a minute at most).
node_id="$(guest "sed -n 's/^O3STORAGE_IP=//p' /etc/default/o3storage"):8080"
adverts() { # the resolved IPv4 adverts of this node: "NAME;TXT..." lines
  guest "avahi-browse --resolve --parsable --terminate --no-db-lookup _o3storage._tcp" 2>/dev/null \
    | awk -F';' -v node="\"node=$node_id\"" '$1 == "=" && $3 == "IPv4" && index($10, node) { print $4 ";" $10 }' | sort -u
}
advert_states() { grep -o '"state=[a-z]*"' <<<"$1" | sort -u | tr -d '"' | cut -d= -f2 | paste -sd,; }
advert=""
for _ in $(seq 1 30); do
  advert=$(adverts)
  [ "$(advert_states "$advert")" = member ] && break
  sleep 2
done
check "avahi advertises the node ($node_id) as a member" "member" "$(advert_states "$advert")"
if [ "$(advert_states "$advert")" != member ]; then
  echo "  what avahi-browse saw: ${advert:-nothing}; the node's and avahi's journal:"
  guest "journalctl -b -q -o short-monotonic -u avahi-daemon -u o3storage --no-pager | grep -i -E 'avahi|mdns|advert|discover' | tail -n 30" || true
fi
# avahi 0.8 can take the echo of its own probe for a rival's when the TXT changes while it probes
# (avahi/avahi#654); the node must not give its name up for that (issue 14).
check "advertised under its own name, never renamed" 'o3storage\032on\032o3-qemu-test' "$(cut -d';' -f1 <<<"$advert" | sort -u | paste -sd,)"
check "data partition on the free space, after the two root slots" "/dev/vda4 ext4" "$(guest findmnt -n -o SOURCE,FSTYPE /opt/o3storage/data | tr -s ' ')"
check "data partition fills the rest of the card" "yes" "$(guest "[ \$(lsblk -bno SIZE /dev/vda4) -gt 2600000000 ] && echo yes")"
check "/tmp on the root file system (not RAM), with 400 MiB free for the guide's offline backup" "ext4 yes" \
  "$(guest "findmnt -n -o FSTYPE --target /tmp; [ \$(df --output=avail -B1M /tmp | tail -n 1) -ge 400 ] && echo yes" | paste -sd' ')"
host_key=$(guest cat /etc/ssh/ssh_host_ed25519_key.pub)

echo "A/B boot:"
check "U-Boot's boot.scr booted slot A, not on trial, root by partition" "root=PARTUUID=03b00000-02 o3.slot=A o3.trial=0" \
  "$(guest cat /proc/cmdline | tr ' ' '\n' | grep -E '^(root=|o3\.)' | paste -sd' ')"
check "the boot state: slot A committed, nothing on trial" "O3_SLOT=A O3_TRY=none O3_TRIED=none" "$(guest sudo o3-bootstate show | paste -sd' ')"
check "o3storage-bootstate.service ran; no trial to watch" "active inactive" \
  "$(guest systemctl is-active o3storage-bootstate) $(guest systemctl is-active o3storage-update-trial)"
check "o3-update status: slot A runs this release, slot B is empty" "slot A: $(guest cat /etc/o3storage-release) slot B: (none)" \
  "$(guest sudo o3-update status | grep -E '^slot [AB]:' | paste -sd' ')"
check "the boot state as the host reads it (copy 1 at 1 MiB)" "O3_SLOT=A O3_TRIED=none O3_TRY=none" \
  "$(dd if="$work/disk.img" bs=512 skip=2048 count=8 status=none | tail -c +5 | tr '\0' '\n' | grep . | paste -sd' ')"

echo "service:"
check "o3storage.service active" "active" "$(guest systemctl is-active o3storage)"
check "Type=notify with a watchdog" "notify 30s" "$(guest systemctl show -P Type o3storage) $(guest systemctl show -P WatchdogUSec o3storage)"
main_pid=$(guest systemctl show -P MainPID o3storage)
check "node process runs as o3storage" "o3storage" "$(guest ps -o user= -p "$main_pid" | tr -d ' ')"
check "node binary is /opt/o3storage/o3storage" "/opt/o3storage/o3storage" "$(guest sudo readlink /proc/"$main_pid"/exe)"
check "blob store on the data partition, O_DIRECT" "/opt/o3storage/data/blobs.dev true" "$(curl -s "$api/health" | jq -r '"\(.storage.device | split(" ")[0]) \(.storage.direct_io)"')"
check "log file in /var/log/o3storage" "1" "$(guest "sudo grep -c 'serving on' /var/log/o3storage/o3storage.log")"
check "log in the journal, with priorities" "1" "$(guest "journalctl -b -u o3storage -q -o cat -p info --grep '^o3storage\[1002\] serving on'" | wc -l)"
check "/health: leader of a 1-node cluster" "leader 1 true" "$(curl -s "$api/health" | jq -r '"\(.cluster.role) \(.cluster.active_nodes) \(.cluster.write_enabled)"')"
# QEMU's virt machine: its device tree says linux,dummy-virt, it has no LED and no thermal zone.
check "/health: board qemu-virt, LED pattern leader (console: no LED), no sensor" "qemu-virt leader console no sensor null" \
  "$(curl -s "$api/health" | jq -r '"\(.hardware.board) \(.hardware.led) \(.hardware.led_driver) \(.hardware.temperature_source | split(":")[0]) \(.hardware.temperature_celsius)"')"
check "/metrics: Prometheus text with the leader gauge" "o3storage_cluster_is_leader 1" "$(curl -s "$api/metrics" | grep '^o3storage_cluster_is_leader ')"
uuid=$(curl -s "$api/health" | jq -r .node_uuid)

echo "secure by default:"
first_key=$(guest "sudo cat /opt/o3storage/data/first-admin-key" | cut -d: -f2)
check "closed: a first admin key made at bootstrap (64 hex digits)" "yes" "$([[ $first_key =~ ^[0-9a-f]{64}$ ]] && echo yes)"
check "the key file is the node user's alone" "-rw------- o3storage" "$(guest "sudo stat -c '%A %U' /opt/o3storage/data/first-admin-key")"
check "a call without a key is refused" "403" "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$api/anonymous")"
check "/health: authentication on" "true" "$(curl -s "$api/health" | jq -r .auth.enabled)"
check "the node cannot change its program or /opt/o3storage" "root:o3admin 775 root:root 755" \
  "$(guest "stat -c '%U:%G %a' /opt/o3storage /opt/o3storage/o3storage" | paste -sd' ')"
check "o3storage-firewall.service active, before the network" "active" "$(guest systemctl is-active o3storage-firewall)"
check "the firewall's table is loaded" "1" "$(guest "sudo nft list tables" | grep -c -x 'table inet o3storage')"

if $interrupted; then
  check "o3storage.service active after the resumed first boot" "active" "$(guest systemctl is-active o3storage)"
  check "static address from o3storage.txt: networkd file written, address not from DHCP" "yes 10.0.2.15/24 static" \
    "$(guest "[ -f /etc/systemd/network/10-o3storage-static.network ] && echo yes") $(guest "ip -o -4 addr show scope global" | awk '{ print $4, (/dynamic/ ? "dhcp" : "static") }' | head -n 1)"
  check "node settings: the static address" "10.0.2.15" "$(guest "sed -n 's/^O3STORAGE_IP=//p' /etc/default/o3storage")"
  check "the partition left behind was formatted, not another made" "0 4" \
    "$(guest "journalctl -q -o cat -t o3storage-firstboot --grep '^creating the data partition'" | wc -l) $(guest "lsblk -lno TYPE /dev/vda" | grep -c part)"
  check "no errors from our units in the journal" "" "$(guest journalctl -q -p err -u o3storage -u o3storage-firstboot -u o3storage-bootstate --no-pager)"
  guest sudo systemctl poweroff 2>/dev/null
  for _ in $(seq 1 300); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 1; done
  kill -0 "$qemu_pid" 2>/dev/null && fail "guest did not power off within 300 s"
  qemu_pid=
  [ "$failures" -eq 0 ] || exit 1
  echo "test-image: an interrupted first boot completes on the next boot"
  exit 0
fi

echo "data across restarts:"
head -c 3000000 /dev/urandom >"$work/object"
want=$(sha256sum <"$work/object" | cut -d' ' -f1)
bearer="Authorization: Bearer $first_key"
curl -fsS -H "$bearer" -X PUT "$api/image-test" >/dev/null || fail "create bucket"
curl -fsS -H "$bearer" -X PUT --data-binary "@$work/object" "$api/image-test/object.bin" >/dev/null || fail "put object"
rw_key=
object_sha() {
  if [ -n "$rw_key" ]; then
    AWS_ACCESS_KEY_ID="O3$(printf %s "$rw_key" | sha256sum | cut -c1-18 | tr a-f A-F)" AWS_SECRET_ACCESS_KEY="$rw_key" \
      AWS_DEFAULT_REGION=us-east-1 AWS_CA_BUNDLE='' /usr/bin/aws --endpoint-url "$api" s3 cp s3://image-test/object.bin - | sha256sum | cut -d' ' -f1
  else
    curl -fsS -H "$bearer" "$api/image-test/object.bin" | sha256sum | cut -d' ' -f1
  fi
}
check "object reads back" "$want" "$(object_sha)"
guest sudo systemctl restart o3storage || fail "systemctl restart o3storage"
wait_health 300 "restart" >/dev/null
check "after systemctl restart: same node, same object" "$uuid $want" "$(curl -s "$api/health" | jq -r .node_uuid) $(object_sha)"
guest sudo systemctl stop o3storage || fail "systemctl stop o3storage"
check "after systemctl stop: /health does not answer" "000" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$api/health")"
check "stopped cleanly (exit 0)" "inactive 0" "$(guest systemctl show -P ActiveState o3storage) $(guest systemctl show -P ExecMainStatus o3storage)"
guest sudo systemctl start o3storage || fail "systemctl start o3storage"
check "after systemctl start: active at once (READY=1 came once it served)" "200" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$api/health")"
check "after stop/start: same object" "$want" "$(object_sha)"
check "no restarts by systemd" "0" "$(guest systemctl show -P NRestarts o3storage)"

echo "status LED through the kernel's LED class, inside the service's sandbox:"
# A USB keyboard's Caps Lock LED is a real LED class device (input-leds): a board profile
# naming it, as a user with another board would write one, drives it like a Pi's ACT LED.
led=$(guest "ls -d /sys/class/leds/*::capslock 2>/dev/null | head -n 1 | xargs -r basename")
if [ -z "$led" ]; then
  fail "no *::capslock LED class device in the guest (USB keyboard, input-leds)"
else
  original_trigger=$(guest "sed -n 's/.*\[\([^]]*\)\].*/\1/p' /sys/class/leds/$led/trigger")
  printf '{"name": "qemu-virt-keyboard", "model": "QEMU virt with a virtio keyboard", "compatible": ["linux,dummy-virt"], "leds": [{"driver": "sysfs", "names": ["%s"]}], "sensors": {"thermal_zones": [], "i2c": []}, "throttle": {"soft_celsius": 70, "hard_celsius": 80}}\n' "$led" \
    | guest "sudo tee /etc/o3storage/board.json >/dev/null"
  guest "sudo cp /etc/default/o3storage /tmp/o3storage.defaults && sudo sed -i 's|^O3STORAGE_OPTIONS=\"\\(.*\\)\"|O3STORAGE_OPTIONS=\"\\1 --board /etc/o3storage/board.json\"|' /etc/default/o3storage && sudo systemctl restart o3storage" \
    || fail "restart with the keyboard board profile"
  wait_health 300 "restart with a board profile" >/dev/null
  check "/health: the profile's LED shows the leader pattern" "qemu-virt-keyboard sysfs:$led leader" \
    "$(curl -s "$api/health" | jq -r '"\(.hardware.board) \(.hardware.led_driver) \(.hardware.led)"')"
  # Leader: on 900 ms, off 100 ms. Sampled every 50 ms (slower under TCG) until both are seen, at most 300 samples.
  check "the LED blinks the leader pattern (brightness seen off and on)" "0 1" \
    "$(guest "seen=; for i in \$(seq 300); do seen=\"\$seen \$(cat /sys/class/leds/$led/brightness)\"; case \"\$seen\" in *0*) case \"\$seen\" in *1*) break;; esac;; esac; sleep 0.05; done; echo \$seen" | tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ' | sed 's/ $//')"
  check "no LED errors in the node's log" "0" "$(guest "journalctl -b -u o3storage -q -o cat --grep 'cannot write'" | wc -l)"
  guest "sudo systemctl stop o3storage" || fail "stop with the board profile"
  check "stopping gives the LED back its own trigger ($original_trigger)" "$original_trigger" \
    "$(guest "sed -n 's/.*\[\([^]]*\)\].*/\1/p' /sys/class/leds/$led/trigger")"
  guest "sudo mv /tmp/o3storage.defaults /etc/default/o3storage && sudo systemctl start o3storage" || fail "start without the board profile"
  wait_health 300 "start without the board profile" >/dev/null
fi

echo "the guide's maintenance steps:"
# Rolling update (one node): stop, back up the binary, copy the new one in, chown, chmod, start.
if [ -z "$new_binary" ]; then
  guest "sudo cp /opt/o3storage/o3storage /tmp/o3storage-new && sudo chown o3admin /tmp/o3storage-new"
else
  scp -q "${ssh_options[@]}" -P "$ssh_port" "$new_binary" o3admin@127.0.0.1:/tmp/o3storage-new || fail "scp the new binary"
fi
guest "sudo systemctl stop o3storage" || fail "rolling update: stop"
guest "sudo cp /opt/o3storage/o3storage /opt/o3storage/o3storage.backup" || fail "rolling update: backup"
guest "sudo mv /tmp/o3storage-new /opt/o3storage/o3storage" || fail "rolling update: mv"
guest "sudo chown o3storage:o3storage /opt/o3storage/o3storage" || fail "rolling update: chown"
guest "sudo chmod +x /opt/o3storage/o3storage" || fail "rolling update: chmod"
guest "sudo systemctl start o3storage" || fail "rolling update: start"
check "rolling update: serving, 1 active node, same object" "1 $want" "$(curl -s "$api/health" | jq -r .cluster.active_nodes) $(object_sha)"
check "rolling update: the guide's chown undone, the binary is root's again" "root:root" "$(guest "stat -c '%U:%G' /opt/o3storage/o3storage")"
# Offline compaction: stop, compact-storage.sh, start.
guest "sudo systemctl stop o3storage" || fail "compaction: stop"
check "compact-storage.sh runs on the stopped node" "0" "$(guest "sudo /opt/o3storage/compact-storage.sh >/dev/null; echo \$?")"
guest "sudo systemctl start o3storage" || fail "compaction: start"
# API keys as the guide writes them: appended by the admin user, then chmod 600 with sudo.
admin_key=$(openssl rand -hex 32)
rw_key=$(openssl rand -hex 32)
ro_key=$(openssl rand -hex 32)
guest "for key in admin:$admin_key read-write:$rw_key read-only:$ro_key; do echo \"\$key\" >> /opt/o3storage/api-keys.txt; done" || fail "write api-keys.txt as o3admin"
guest "sudo chmod 600 /opt/o3storage/api-keys.txt" || fail "chmod 600 api-keys.txt"
guest "sudo systemctl restart o3storage" || fail "restart with api-keys.txt"
check "api-keys.txt: authentication on with 3 keys and the first admin key" "true 4" "$(curl -s "$api/health" | jq -r '"\(.auth.enabled) \(.auth.keys)"')"
first_id="O3$(printf %s "$first_key" | sha256sum | cut -c1-18 | tr a-f A-F)"
# The node shares its file with the cluster within seconds of starting; then the owner's admin key retires the first one.
for _ in $(seq 1 30); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $admin_key" "$api/admin/keys/$first_id")" = 200 ] && break
  sleep 1
done
check "the first admin key, retired with the owner's own" "403 retired false" \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "$bearer" "$api/image-test/object.bin") $(curl -s -H "Authorization: Bearer $admin_key" "$api/admin/keys" | jq -r .first_admin_key) $(sleep 3; guest "sudo test -e /opt/o3storage/data/first-admin-key && echo true || echo false")"
check "api-keys.txt: still readable by no one else" "-rw------- o3storage" "$(guest "stat -c '%A %U' /opt/o3storage/api-keys.txt")"
check "api-keys.txt: an unsigned read is refused" "403" "$(curl -s -o /dev/null -w '%{http_code}' "$api/image-test/object.bin")"
check "api-keys.txt: a signed read (aws CLI, read-write key) works" "$want" "$(object_sha)"

echo "the guide's cluster-firewall.sh (this image's ufw over nftables):"
# Its lines as each node runs them; QEMU's user network brings the host's calls from 10.0.2.2.
guide_firewall() { # guide_firewall CLUSTER_IPS ALLOWED_CLIENTS
  guest "
        sudo ufw --force reset
        for ip in \$(echo $1 | tr ',' ' '); do
            sudo ufw allow from \$ip to any port 8080
            sudo ufw allow from \$ip to any port 8090
        done
        for subnet in \$(echo $2 | tr ',' ' '); do
            sudo ufw allow from \$subnet to any port 8080
        done
        sudo ufw --force enable
  " >/dev/null
}
guide_firewall "10.0.2.15" "10.0.0.0/8,172.16.0.0/12" || fail "cluster-firewall.sh: clients in 10.0.0.0/8"
check "clients in ALLOWED_CLIENTS reach the node" "200" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$api/health")"
guide_firewall "10.0.2.15" "172.16.0.0/12" || fail "cluster-firewall.sh: clients in 172.16.0.0/12"
check "a client outside ALLOWED_CLIENTS does not (dropped)" "000" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$api/health")"
check "SSH still works: the script cannot lock the owner out" "active" "$(guest sudo ufw status | head -n 1 | sed 's/Status: //')"
guest "sudo ufw --force reset" >/dev/null || fail "ufw reset"
check "ufw reset: the node answers again" "200" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$api/health")"

echo "second boot:"
boot_id=$(guest cat /proc/sys/kernel/random/boot_id)
guest sudo systemctl reboot 2>/dev/null
# Until the old system stops answering, /health and SSH would still be the first boot's.
down_s=$(wait_down 300 "systemctl reboot") || exit 1
second_boot_s=$(wait_health 600 "second boot") || exit 1
echo "boot-to-health second-boot ${second_boot_s}+${down_s} s (from the reboot command)"
wait_ssh
boot_profile "reboot"
new_boot_id=$(guest cat /proc/sys/kernel/random/boot_id)
check "a new boot (boot id changed)" "yes" "$([ -n "$boot_id" ] && [ -n "$new_boot_id" ] && [ "$new_boot_id" != "$boot_id" ] && echo yes)"
check "two boots in the journal" "2" "$(guest journalctl --list-boots -q | wc -l)"
check "firstboot skipped on the second boot" "no" "$(guest systemctl show -P ConditionResult o3storage-firstboot)"
check "firstboot ran exactly once" "1" "$(guest "journalctl -q -o cat -t o3storage-firstboot --grep '^done\$'" | wc -l)"
check "same SSH host key" "$host_key" "$(guest cat /etc/ssh/ssh_host_ed25519_key.pub)"
check "after reboot: same node, same object" "$uuid $want" "$(curl -s "$api/health" | jq -r .node_uuid) $(object_sha)"
check "no failed units" "0" "$(guest systemctl list-units --failed --plain --no-legend | wc -l)"
errors=$(guest journalctl -q -p err -u o3storage -u o3storage-firstboot -u o3storage-bootstate --no-pager)
check "no errors from our units in the journal (both boots)" "" "$errors"

guest sudo systemctl poweroff 2>/dev/null
for _ in $(seq 1 300); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 1; done
if kill -0 "$qemu_pid" 2>/dev/null; then fail "guest did not power off within 300 s"; else pass "powered off"; qemu_pid=; fi

if [ "$failures" -gt 0 ]; then
  echo "test-image: $failures check(s) failed"
  echo "--- last 40 lines of the serial console ---"
  tail -n 40 "$work/console.log"
  exit 1
fi
echo "test-image: all checks passed"
