SUMMARY = "O3StorageOS node: a replicated, strongly consistent S3-compatible object store"
DESCRIPTION = "The o3storage node (native AOT, linux-arm64), its systemd units \
(o3storage.service, o3storage-firstboot.service, o3storage-firewall.service), first-boot script, \
firewall rules with the ufw front-end and SSH settings of the Debian image, installed from the \
tarball image/meta-o3storage/scripts/make-tarball.sh makes from a build of the project."
HOMEPAGE = "https://github.com/o3storage/O3StorageOS"
LICENSE = "CLOSED"

# PV and the tarball's checksum, written by scripts/make-tarball.sh next to the tarball.
require o3storage-version.inc

SRC_URI = "file://o3storage-${PV}-linux-arm64.tar.gz;subdir=${BP}"

COMPATIBLE_HOST = "aarch64.*-linux"

inherit bin_package systemd useradd features_check

REQUIRED_DISTRO_FEATURES = "systemd"

USERADD_PACKAGES = "${PN}"
GROUPADD_PARAM:${PN} = "--system o3storage"
USERADD_PARAM:${PN} = "--system --gid o3storage --home-dir /opt/o3storage --no-create-home \
                       --shell /sbin/nologin o3storage"

SYSTEMD_SERVICE:${PN} = "o3storage.service o3storage-firstboot.service o3storage-firewall.service"
SYSTEMD_AUTO_ENABLE:${PN} = "enable"

# The tarball keeps the Debian image's layout (units in /usr/lib/systemd/system); a distro
# without usrmerge keeps its units in /lib/systemd/system.
do_install:append() {
    if [ "${systemd_system_unitdir}" != "/usr/lib/systemd/system" ]; then
        install -d ${D}${systemd_system_unitdir}
        mv ${D}/usr/lib/systemd/system/*.service ${D}${systemd_system_unitdir}/
        rmdir --ignore-fail-on-non-empty ${D}/usr/lib/systemd/system ${D}/usr/lib/systemd
    fi
    chown -R root:root ${D}
}

# /etc (the sudoers, SSH and firewall settings) and /usr/sbin (ufw) are in FILES by default.
FILES:${PN} += "/opt/o3storage ${systemd_system_unitdir} /usr/lib/o3storage"
# What ufw (the guide's cluster-firewall.sh) last enabled, and the first boot's local_networks,
# survive a package upgrade.
CONFFILES:${PN} += "${sysconfdir}/o3storage/firewall-node.nft ${sysconfdir}/o3storage/firewall-local.nft"

# The binary is stripped native AOT: it links only against the C library at run time, and loads
# OpenSSL (libssl3) when it starts TLS between nodes and makes or uses the cluster CA, which every
# cluster does. The first-boot script partitions, formats and creates users with these; the node finds
# its cluster through avahi-daemon (--discover).
RDEPENDS:${PN} += "bash coreutils util-linux-sfdisk util-linux-partx util-linux-lsblk \
                   util-linux-findmnt util-linux-mountpoint util-linux-setpriv udev \
                   e2fsprogs-mke2fs iproute2 openssh-keygen shadow sudo avahi-daemon libssl3"
# The firewall (o3storage-firewall.service, and ufw over it): nftables comes from meta-networking.
RDEPENDS:${PN} += "nftables"
INSANE_SKIP:${PN} += "already-stripped"
