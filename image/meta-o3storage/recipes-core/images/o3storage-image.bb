SUMMARY = "O3StorageOS: a small-cluster S3 object store appliance image"
DESCRIPTION = "A minimal systemd image running the o3storage node, with avahi-daemon as the one \
mDNS stack and OpenSSH for the guide's maintenance steps. Flash the .wic with bmaptool."
LICENSE = "MIT"

inherit core-image features_check

REQUIRED_DISTRO_FEATURES = "systemd"

IMAGE_FEATURES += "ssh-server-openssh"

IMAGE_INSTALL:append = " o3storage avahi-daemon curl ca-certificates kernel-modules"

IMAGE_FSTYPES = "wic.bz2 wic.bmap"
WKS_FILE = "o3storage-sdimage.wks"

# Room for logs and upgrades on the root file system; blobs live on the data partition that the
# first boot creates in the rest of the card.
IMAGE_ROOTFS_EXTRA_SPACE = "524288"
