#!/bin/sh
# The guide's maintenance step (`systemctl stop o3storage` first): reclaims the space of deleted
# blobs on this node's store. `o3storage check` verifies every blob's checksum the same way.
set -e
# setpriv, not runuser: it is in every util-linux (runuser needs PAM on a Yocto build).
exec setpriv --reuid=o3storage --regid=o3storage --init-groups -- /opt/o3storage/o3storage compact --data /opt/o3storage/data "$@"
