#!/usr/bin/env bash
# Runs the test suites in order and closes with a "failed: …" line per failure and "total: N passed, N failed".
# Usage: tools/test.sh [unit] [fuzz] [integration] [lifecycle] [power-cut] [power-cut-long] [chaos] [chaos-long] [firstboot] [arm64] [layer] [image] [update] [fleet] [fleet-update]
# (default: all; lifecycle is the guide's cluster procedures, also alone as make test-lifecycle)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit integration lifecycle chaos firstboot arm64 layer image)

passed=0
failed=0
status=0
failures=() # what failed and why (its first lines), repeated beside the closing line (CI shows only the end of the output)

fail() { failed=$((failed + 1)); status=1; failures+=("$1"); }

run_dotnet_tests() {
  local project=$1 log
  shift
  log=$(mktemp)
  dotnet test "$project" -c Release --no-build -nologo "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line
  line=$(grep -E '^(Passed|Failed)!' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    echo "no test summary from $project" >&2
    fail "$project: no test summary"
  else
    local name
    while IFS= read -r name; do failures+=("$project: $name"); done \
      < <(awk -f tools/test-failures.awk "$log")
    passed=$((passed + $(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$line")))
    failed=$((failed + $(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$line")))
  fi
  [ "$rc" -eq 0 ] || status=1
  rm -f "$log"
}

# Sets images to the built OS image, or counts a failure for SUITE when there is none.
built_image() { # built_image SUITE
  images=(artifacts/image/o3storage-os-*-arm64.img)
  [ -f "${images[0]}" ] && return 0
  echo "no image in artifacts/image (make image)" >&2
  fail "$1: no image in artifacts/image"
  return 1
}

for suite in "${suites[@]}"; do
  case "$suite" in
    unit)
      run_dotnet_tests tests/O3Storage.Cluster.Tests
      run_dotnet_tests tests/O3Storage.Node.Tests
      run_dotnet_tests tests/O3Storage.Storage.Tests
      run_dotnet_tests tests/O3Storage.Provisioning.Tests
      run_dotnet_tests tests/O3Storage.Firmware.Tests
      run_dotnet_tests tests/O3Storage.Chaos.Tests
      run_dotnet_tests tests/O3Storage.Ctl.Tests
      ;;
    fuzz)
      # Every parser that faces the network or the boot partition, O3_FUZZ_SECONDS each (unit runs them for 1 s).
      O3_FUZZ_SECONDS=${O3_FUZZ_SECONDS:-30} run_dotnet_tests tests/O3Storage.Node.Tests --filter Category=Fuzz
      O3_FUZZ_SECONDS=${O3_FUZZ_SECONDS:-30} run_dotnet_tests tests/O3Storage.Storage.Tests --filter Category=Fuzz
      ;;
    integration)
      # Leftovers of an interrupted run would hold the test addresses; only test nodes (their data
      # lives under a temporary o3-it-* root) are killed, never a `make run` cluster.
      pkill -9 -f 'o3storage --ip .* --data [^ ]*/o3-it-' 2>/dev/null || true
      run_dotnet_tests tests/O3Storage.Integration.Tests --filter "Category!=lifecycle-long&Category!=power-cut-long"
      ;;
    power-cut)
      # Every node killed at once under load, three fixed seeds: also part of integration (make test-power-cut runs it alone).
      pkill -9 -f 'o3storage --ip .* --data [^ ]*/o3-it-' 2>/dev/null || true
      run_dotnet_tests tests/O3Storage.Integration.Tests --filter "Category=power-cut"
      ;;
    power-cut-long)
      # O3_POWERCUT_ROUNDS rounds (default 3) of 64 x 4 KiB, 8 x 1 MiB and 2 x 64 MiB writers, with and without fsync latency.
      pkill -9 -f 'o3storage --ip .* --data [^ ]*/o3-it-' 2>/dev/null || true
      run_dotnet_tests tests/O3Storage.Integration.Tests --filter "Category=power-cut-long"
      ;;
    lifecycle)
      pkill -9 -f 'o3storage --ip .* --data [^ ]*/o3-it-' 2>/dev/null || true
      run_dotnet_tests tests/O3Storage.Integration.Tests --filter "Category=lifecycle-long"
      ;;
    chaos | chaos-long)
      # Seeded runs of the chaos suite (docs/reliability.md): 3 nodes in network namespaces, clients,
      # partitions, kill -9, pauses, whole-cluster power cuts (powercut-fs) and node replacements, every
      # history judged by the linearizability checker. The short set is part of make test; chaos-long
      # (make chaos) is the 100-run record. Each ends with a control run: a cluster set to consistency
      # "eventual" must be caught serving stale reads.
      chaos=(dotnet chaos/src/O3Storage.Chaos/bin/Release/net10.0/o3-chaos.dll run --binary artifacts/linux-x64/o3storage --out artifacts/chaos)
      if [ "$suite" = chaos ]; then
        runs=("--seed 1601 --runs 3 --duration 15" "--seed 1604 --runs 1 --duration 15 --faults powercut,replace")
      else
        runs=("--seed 1 --runs 80 --duration 20" "--seed 81 --runs 20 --duration 20 --nodes 5")
      fi
      runs+=("--seed 1700 --runs 1 --duration 15 --faults isolate --consistency eventual --expect anomaly")
      for args in "${runs[@]}"; do
        # shellcheck disable=SC2086 # the flags are words
        if "${chaos[@]}" $args; then passed=$((passed + 1)); else fail "chaos $args"; fi
      done
      ;;
    firstboot)
      # Real avahi-daemons in network namespaces: boards find each other and form one cluster.
      if python3 tests/firstboot/test_firstboot.py artifacts/linux-x64/o3storage; then
        passed=$((passed + 1))
      else
        fail firstboot
      fi
      ;;
    arm64)
      if tools/smoke-arm64.sh; then passed=$((passed + 1)); else fail arm64; fi
      ;;
    layer)
      # The Yocto layer, parsed and checked (and the checker shown to catch each breakage).
      if image/meta-o3storage/scripts/make-tarball.sh artifacts/linux-arm64/o3storage \
        && python3 -m unittest discover -v -s tests/image; then
        passed=$((passed + 1))
      else
        fail layer
      fi
      ;;
    image)
      built_image image || continue
      for step in image/check-image.sh image/test-image.sh; do
        # test-image deploys the freshly built binary with the guide's rolling update.
        if "$step" "${images[0]}" artifacts/linux-arm64/o3storage; then passed=$((passed + 1)); else fail "$step"; fi
      done
      if image/test-image.sh --interrupted-first-boot "${images[0]}"; then passed=$((passed + 1)); else fail "image/test-image.sh --interrupted-first-boot"; fi
      # Reproducible: the same binary and cached base assemble into the same bytes.
      again=$(mktemp -d)
      if image/build-image.sh artifacts/linux-arm64/o3storage "$again" .image-cache >/dev/null \
        && cmp "${images[0]}" "$again/$(basename "${images[0]}")"; then
        echo "image: a second assembly is byte-identical ($(cut -d' ' -f1 "${images[0]}.sha256"))"
        passed=$((passed + 1))
      else
        echo "image: a second assembly of the same inputs differs" >&2
        fail "image: not reproducible"
      fi
      rm -rf "$again"
      ;;
    fleet)
      # Four QEMU boards from one image on a virtual LAN form one cluster by themselves (make test-fleet).
      built_image fleet || continue
      if image/test-fleet.sh "${images[0]}"; then passed=$((passed + 1)); else fail "image/test-fleet.sh"; fi
      ;;
    fleet-update)
      # o3ctl os-update over three QEMU boards on a virtual LAN while a client writes (make test-fleet-update).
      built_image fleet-update || continue
      if image/test-fleet.sh --rolling-update "${images[0]%.img}.o3update" "${images[0]}"; then passed=$((passed + 1)); else fail "image/test-fleet.sh --rolling-update"; fi
      ;;
    update)
      # A/B OS updates on one QEMU board: refused, kept, rolled back (make test-update).
      built_image update || continue
      if image/test-update.sh "${images[0]}" "${images[0]%.img}.root.ext4" .image-cache/update-signing.key; then passed=$((passed + 1)); else fail "image/test-update.sh"; fi
      ;;
    *)
      echo "unknown suite $suite" >&2
      exit 2
      ;;
  esac
done

for f in "${failures[@]}"; do echo "failed: $f"; done
echo "total: $passed passed, $failed failed"
exit $status
