# The front door: `make run` and `make test` set up everything on a fresh Debian machine with the .NET SDK.
SHELL := /bin/bash
.DEFAULT_GOAL := help

X64_BINARY   := artifacts/linux-x64/o3storage
ARM64_BINARY := artifacts/linux-arm64/o3storage
# Defined before the rules that depend on it: make expands prerequisites as it reads them.
POWERCUT_FS  := artifacts/powercut-fs/powercut-fs

.PHONY: help deps powercut-fs build lint publish publish-arm64 publish-next-level-test image yocto-tarball test test-unit fuzz test-integration test-lifecycle test-power-cut test-power-cut-long chaos test-firstboot test-arm64 test-image test-update update-bundle test-fleet-update test-fleet test-layer run clean-run bench bench-image bench-fleet bench-firstboot format clean
IMAGE_DIR    := artifacts/image
IMAGE_CACHE  := .image-cache

help:
	@echo "make run            local 3-node cluster on 127.0.0.1-3:8080 (Ctrl-C stops it)"
	@echo "make test           install deps, build, run unit + integration + arm64 smoke tests"
	@echo "make bench          cluster vs etcd, blob store vs fio, S3 vs Swift (docs/benchmarks.md)"
	@echo "make lint           dotnet format (.editorconfig) and shellcheck over every shell script"
	@echo "make publish        native-AOT linux-x64 o3storage and o3ctl in $(dir $(X64_BINARY))"
	@echo "make publish-arm64  native-AOT linux-arm64 o3storage and o3ctl in $(dir $(ARM64_BINARY))"
	@echo "make image          flashable arm64 OS image in $(IMAGE_DIR) (docs/image.md)"
	@echo "make update-bundle  the image's root as a signed OS update bundle for o3-update (docs/image.md)"
	@echo "make test-image     build the image, boot it in QEMU and check it"
	@echo "make test-update    A/B updates in QEMU: a good bundle is kept, a broken one rolls back (~15 min)"
	@echo "make test-fleet-update  o3ctl os-update rolls an OS update over three QEMU boards while a client writes (~30 min)"
	@echo "make test-fleet     four QEMU boards from one image form one cluster on a virtual LAN (~15 min)"
	@echo "make test-lifecycle the guide's long cluster procedures on real nodes (~2 min; part of make test)"
	@echo "make test-power-cut whole-cluster power cuts under 16 writers: kill -9 and powercut-fs, three seeds each (~1.5 min; in make test)"
	@echo "make test-power-cut-long  power-cut rounds of 64 x 4 KiB, 8 x 1 MiB, 2 x 64 MiB writers (O3_POWERCUT_ROUNDS=50)"
	@echo "make fuzz           fuzz every network and boot-partition parser, 30 s each (~6 min; 1 s each in make test)"
	@echo "make chaos          100 seeded chaos runs with the linearizability checker (~45 min; 3 are in make test)"
	@echo "make test-firstboot boards in network namespaces find each other over real avahi"
	@echo "make yocto-tarball  the tarball meta-o3storage's recipe installs"
	@echo "make bench-image    boot time of the image to /health in QEMU (BASELINE=old.img: side by side)"
	@echo "make bench-fleet    power-on of three QEMU boards to a healthy 3-node cluster"
	@echo "make bench-firstboot time from power-on to a 3-node cluster over mDNS"

deps:
	@tools/install-deps.sh

build: deps
	dotnet build O3StorageOS.sln -c Release -nologo -clp:NoSummary

# Style (.editorconfig) is checked, not just suggested; so are the shell scripts (warnings and errors).
lint: build
	dotnet format O3StorageOS.sln --verify-no-changes --no-restore
	shellcheck --severity=warning --external-sources $$(tools/shell-scripts.sh)

publish: deps
	@tools/publish.sh linux-x64

publish-arm64: deps
	@tools/publish.sh linux-arm64

# The "N+1" build the rolling-update test updates to (one metadata level more, a test-only record kind).
publish-next-level-test: deps
	@tools/publish-next-level-test.sh

# The OS image: a cached Debian base (10-15 minutes the first time), the overlay and the node.
image: publish-arm64
	@image/build-image.sh $(ARM64_BINARY) $(IMAGE_DIR) $(IMAGE_CACHE)

yocto-tarball: publish-arm64
	@image/meta-o3storage/scripts/make-tarball.sh $(ARM64_BINARY)

# One build at a time: this machine has two cores.
test: build lint publish publish-next-level-test publish-arm64 $(POWERCUT_FS) image
	@tools/test.sh unit integration lifecycle chaos firstboot arm64 layer image

test-unit: build
	@tools/test.sh unit

# The power-cut file system the power-cut tests mount under each node (chaos/powercut-fs).
$(POWERCUT_FS): chaos/powercut-fs/powercut-fs.c | deps
	@mkdir -p $(dir $@)
	gcc -O2 -Wall -Wextra -Werror -o $@ $< $$(pkg-config fuse3 --cflags --libs)

powercut-fs: $(POWERCUT_FS)

# Property-based fuzzing of every parser facing the network or the boot partition: 30 s per target
# (O3_FUZZ_SECONDS to change), about 6 minutes; make test runs each for 1 s.
fuzz: build
	@tools/test.sh fuzz

test-integration: build publish publish-next-level-test $(POWERCUT_FS)
	@tools/test.sh integration

# The guide's long cluster procedures (scale up and down, replace, remove the leader, drain), ~3 min.
test-lifecycle: build publish
	@tools/test.sh lifecycle

test-power-cut: build publish $(POWERCUT_FS)
	@tools/test.sh power-cut

# O3_POWERCUT_ROUNDS (default 3) rounds of each workload, with and without SD-card fsync latency.
test-power-cut-long: build publish $(POWERCUT_FS)
	@tools/test.sh power-cut-long

# Partitions, kill -9, pauses on 3- and 5-node clusters in network namespaces; histories in artifacts/chaos.
chaos: build publish $(POWERCUT_FS)
	@tools/test.sh chaos-long

test-firstboot: publish
	@tools/test.sh firstboot

test-arm64: publish-arm64
	@tools/test.sh arm64

test-layer: publish-arm64
	@tools/test.sh layer

test-image: image
	@tools/test.sh image

# A signed OS update bundle of the image's root file system (UPDATE_KEY=... signs with another key).
update-bundle: image
	@image/make-bundle.sh $$(ls $(IMAGE_DIR)/o3storage-os-*-arm64.root.ext4) $$(ls $(IMAGE_DIR)/o3storage-os-*-arm64.root.ext4 | sed 's/\.root\.ext4$$/.o3update/')

# A/B updates in QEMU (not in make test: several reboots under TCG).
test-update: update-bundle
	@tools/test.sh update

# A rolling OS update of three QEMU boards with o3ctl os-update while a client writes (~30 min).
test-fleet-update: update-bundle publish
	@tools/test.sh fleet-update

# Boards from one image, each with only o3storage.txt, form one cluster over mDNS in QEMU (not in make test: long).
test-fleet: image
	@tools/test.sh fleet

run: publish
	@tools/run-local-cluster.sh

clean-run:
	rm -rf .run

# Cluster (vs etcd), failover under load, storage (vs fio, including a 1M-blob recovery), objects, rebalancing,
# snapshots, metadata growth to 5M objects (7 GB of memory), growth on real nodes (1M and 5M), backup, TLS,
# S3 against Swift; then bench/race.py prints the performance race table from this run: about 65 minutes.
bench: publish
	rm -rf .bench/results
	dotnet build bench/StorageBench -c Release -nologo -clp:NoSummary
	dotnet build bench/LoadGen -c Release -nologo -clp:NoSummary
	dotnet build bench/MetadataBench -c Release -nologo -clp:NoSummary
	python3 bench/cluster_bench.py
	python3 bench/failover_bench.py
	python3 bench/storage_bench.py
	python3 bench/object_bench.py
	python3 bench/rebalance_bench.py
	python3 bench/snapshot_bench.py
	python3 bench/metadata_bench.py
	python3 bench/growth_bench.py
	python3 bench/backup_bench.py
	bench/tls_bench.sh
	python3 bench/swift_bench.py
	python3 bench/race.py

# Boot time of the image to /health in QEMU (three fresh first boots and reboots; about 10 minutes);
# BASELINE=path/to/earlier.img alternates it with an earlier image, run by run.
bench-image: image
	bench/image_bench.sh $(IMAGE_DIR)/o3storage-os-*-arm64.img 3 $(BASELINE)

# Power-on of three QEMU boards to a healthy 3-node cluster (three rounds, about 15 minutes).
bench-fleet: image
	bench/fleet_bench.sh $(IMAGE_DIR)/o3storage-os-*-arm64.img 3

# Time from power-on to a 3-node cluster over real avahi in network namespaces (five rounds, about 5 minutes).
bench-firstboot: publish
	bench/firstboot_bench.sh $(X64_BINARY) 5

format:
	dotnet format O3StorageOS.sln

clean:
	rm -rf artifacts .run .bench $(IMAGE_CACHE)
	find . -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} +
