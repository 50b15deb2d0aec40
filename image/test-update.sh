#!/usr/bin/env bash
# A/B OS updates in QEMU (make test-update): one board (-M virt, TCG, U-Boot, the image's boot.scr)
# is updated as docs/image.md tells a user to, and each update is checked from outside:
#   - a bundle signed with another key is refused and nothing is written or tried;
#   - a good bundle (this release, marked "-good" so its slot is told apart) goes into slot B,
#     boots on trial, is kept once the node is healthy, and stays on the next reboot;
#   - a broken bundle (its node binary exits at once) goes into slot A, boots on trial, is not kept:
#     at its deadline the board reboots into slot B by itself and serves again;
# and after each, the node is the same node (uuid, SSH host key, machine-id, hostname) with the same
# data (an object written before the first update reads back), and its key still works.
# Usage: image/test-update.sh IMAGE ROOT_EXT4 KEY
set -uo pipefail
image=${1:?usage: test-update.sh IMAGE ROOT_EXT4 KEY}
root_ext4=${2:?usage: test-update.sh IMAGE ROOT_EXT4 KEY}
key=${3:?usage: test-update.sh IMAGE ROOT_EXT4 KEY}
here=$(cd "$(dirname "$0")" && pwd)
for file in "$image" "$root_ext4" "$key"; do
  [ -f "$file" ] || { echo "test-update: no $file (make update-bundle)" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/o3-update-test-XXXXXX")
test_name=test-update
# shellcheck source=checks.sh
source "$here/checks.sh"
# shellcheck source=qemu-board.sh
source "$here/qemu-board.sh" # boot, guest, wait_health, wait_ssh, wait_down, make_card
cleanup() {
  local status=$?
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
  if [ "$status" -ne 0 ] || [ "$failures" -gt 0 ]; then
    rm -f "$work"/*.o3update "$work"/*.ext4
    echo "test-update: kept $work (console.log, disk.img, id for ssh -i)" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# The bundles, made as make update-bundle makes them, from copies of the image's root file system.
release=$(debugfs -R "cat /etc/o3storage-release" "$root_ext4" 2>/dev/null | head -n 1)
cp --sparse=always "$root_ext4" "$work/good.ext4"
printf '%s-good\n' "$release" >"$work/release"
debugfs -w -R "rm /etc/o3storage-release" "$work/good.ext4" >/dev/null 2>&1
debugfs -w -R "write $work/release /etc/o3storage-release" "$work/good.ext4" >/dev/null 2>&1
cp --sparse=always "$root_ext4" "$work/broken.ext4"
printf '#!/bin/sh\necho "o3storage: broken on purpose by test-update" >&2\nexit 1\n' >"$work/broken-node"
printf '%s-broken\n' "$release" >"$work/release"
for command in "rm /opt/o3storage/o3storage" "write $work/broken-node /opt/o3storage/o3storage" "sif /opt/o3storage/o3storage mode 0100755" \
  "rm /etc/o3storage-release" "write $work/release /etc/o3storage-release"; do
  debugfs -w -R "$command" "$work/broken.ext4" >/dev/null 2>&1
done
"$here/make-bundle.sh" "$work/good.ext4" "$work/good.o3update" "$key" >/dev/null || die "make-bundle (good)"
"$here/make-bundle.sh" "$work/broken.ext4" "$work/broken.o3update" "$key" >/dev/null || die "make-bundle (broken)"
openssl genpkey -algorithm ed25519 -out "$work/stranger.key" 2>/dev/null
"$here/make-bundle.sh" "$work/good.ext4" "$work/stranger.o3update" "$work/stranger.key" >/dev/null || die "make-bundle (stranger)"
rm -f "$work/good.ext4" "$work/broken.ext4"

make_card "$image"
printf 'cluster_name=update-test\njoin_token=update-test-token-1\nexpected_nodes=1\nhostname=o3-update-test\n' >"$work/o3storage.txt"
mcopy -o -i "$work/disk.img@@4M" "$work/o3storage.txt" ::o3storage.txt

slot_line() { guest cat /proc/cmdline | tr ' ' '\n' | grep -E '^o3\.(slot|trial)=' | paste -sd' '; }
state() { guest sudo o3-bootstate show | paste -sd' '; }
identity() { # what makes this board this node
  echo "$(curl -s "$api/health" | jq -r .node_uuid) $(guest "cat /etc/machine-id /etc/hostname /etc/ssh/ssh_host_ed25519_key.pub" | paste -sd' ')"
}
object_sha() { curl -fsS -H "Authorization: Bearer $first_key" "$api/update-test/object.bin" | sha256sum | cut -d' ' -f1; }
echo "test-update: booting $(basename "$image") (TCG)"
boot
first_s=$(wait_health 900 "first boot") || exit 1
wait_ssh
echo "first boot: /health 200 after $first_s s"
first_key=$(guest "sudo cat /opt/o3storage/data/first-admin-key" | cut -d: -f2)
head -c 2000000 /dev/urandom >"$work/object"
want=$(sha256sum <"$work/object" | cut -d' ' -f1)
curl -fsS -H "Authorization: Bearer $first_key" -X PUT "$api/update-test" >/dev/null || die "create bucket"
curl -fsS -H "Authorization: Bearer $first_key" -X PUT --data-binary "@$work/object" "$api/update-test/object.bin" >/dev/null || die "put object"
who=$(identity)
check "slot A, committed" "o3.slot=A o3.trial=0 | O3_SLOT=A O3_TRY=none O3_TRIED=none" "$(slot_line) | $(state)"

echo "a bundle signed with another key:"
# Streamed over SSH as docs/image.md shows: the board needs no room for a bundle.
refused=$(guest "sudo o3-update install - 2>&1; echo exit=\$?" <"$work/stranger.o3update")
check "refused before anything is written" "1 exit=1" "$(grep -c 'is not signed by the key this release trusts' <<<"$refused") $(tail -n 1 <<<"$refused")"
check "nothing to try, slot B still empty" "O3_SLOT=A O3_TRY=none O3_TRIED=none | slot B: (none)" "$(state) | $(guest sudo o3-update status | grep '^slot B:')"

echo "a good bundle:"
started=$SECONDS
guest "sudo o3-update install -" <"$work/good.o3update" >"$work/install-good.log" 2>&1
grep -q 'rebooting into slot B on trial' "$work/install-good.log" || { cat "$work/install-good.log" >&2; die "o3-update install (good) did not reboot into slot B"; }
sed 's/^/  | /' "$work/install-good.log"
wait_down 300 "o3-update's reboot" >/dev/null || exit 1
trial_s=$(wait_health 600 "the trial boot of slot B") || exit 1
wait_ssh
echo "good bundle: installed and healthy on trial after $((SECONDS - started)) s (/health 200 $trial_s s after the reboot)"
check "slot B boots on trial, runs the new release" "o3.slot=B o3.trial=1 $release-good" "$(slot_line) $(guest cat /etc/o3storage-release)"
for _ in $(seq 1 60); do [ "$(state)" = "O3_SLOT=B O3_TRY=none O3_TRIED=none" ] && break; sleep 2; done
check "slot B kept once healthy (committed)" "O3_SLOT=B O3_TRY=none O3_TRIED=none" "$(state)"
check "o3-update status: running slot B, no longer on trial; both releases; committed" "running: slot B, release $release-good slot A: $release slot B: $release-good state=committed" \
  "$(guest sudo o3-update status | grep -E '^(running:|last update: state=|slot [AB]:)' | sed 's/^last update: //' | paste -sd' ')"
check "same node, same data" "$who $want" "$(identity) $(object_sha)"
guest sudo systemctl reboot 2>/dev/null
wait_down 300 "systemctl reboot" >/dev/null || exit 1
wait_health 600 "the reboot after the commit" >/dev/null || exit 1
wait_ssh
check "after a reboot: slot B again, not on trial" "o3.slot=B o3.trial=0 $release-good" "$(slot_line) $(guest cat /etc/o3storage-release)"
check "same node, same data" "$who $want" "$(identity) $(object_sha)"

echo "a broken bundle (its node exits at once):"
# A short deadline for the test; the setting is carried into the new slot as a user's would be.
guest "echo O3_UPDATE_DEADLINE_SECONDS=180 | sudo tee /etc/o3storage/update.conf >/dev/null"
started=$SECONDS
guest "sudo o3-update install -" <"$work/broken.o3update" >"$work/install-broken.log" 2>&1
grep -q 'rebooting into slot A on trial' "$work/install-broken.log" || { cat "$work/install-broken.log" >&2; die "o3-update install (broken) did not reboot into slot A"; }
wait_down 300 "o3-update's reboot" >/dev/null || exit 1
# The trial boot: the node never serves (its unit fails, on purpose); at the deadline the board
# reboots into slot B.
expect_failed_units=yes
boots=$(grep -c 'o3: booting slot' "$work/console.log")
until [ "$(grep -c 'o3: booting slot' "$work/console.log")" -ge $((boots + 1)) ]; do
  [ $((SECONDS - started)) -lt 900 ] || die "the board did not roll back within 900 s"
  kill -0 "$qemu_pid" 2>/dev/null || die "QEMU exited during the broken trial"
  sleep 2
done
back_s=$(wait_health 600 "the boot back into slot B") || exit 1
expect_failed_units=no
wait_ssh
echo "broken bundle: back on slot B and healthy $((SECONDS - started)) s after the install began (/health 200 $back_s s after the rollback's reboot)"
check "U-Boot booted slot A on trial, then slot B again" "o3: booting slot A (partition 2, trial 1, state copy 1) o3: booting slot B (partition 3, trial 0, state copy 1)" \
  "$(grep -a -o 'o3: booting slot .*)' "$work/console.log" | tail -n 2 | paste -sd' ')"
check "slot B, committed, not on trial" "o3.slot=B o3.trial=0 O3_SLOT=B O3_TRY=none O3_TRIED=none $release-good" "$(slot_line) $(state) $(guest cat /etc/o3storage-release)"
check "o3-update status: rolled back" "state=rolled-back" "$(guest sudo o3-update status | sed -n 's/^last update: \(state=.*\)/\1/p')"
check "the rollback is logged as an error" "1" "$(guest "journalctl -q -o cat -t o3storage-bootstate -p err --grep 'failed its trial boot'" | wc -l)"
check "same node, same data" "$who $want" "$(identity) $(object_sha)"
check "no failed units" "0" "$(guest systemctl list-units --failed --plain --no-legend | wc -l)"

guest sudo systemctl poweroff 2>/dev/null
for _ in $(seq 1 120); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 1; done
qemu_pid=
[ "$failures" -eq 0 ] || { echo "test-update: $failures check(s) failed"; exit 1; }
echo "test-update: a foreign bundle was refused, a good one kept, a broken one rolled back; the node and its data stayed"
