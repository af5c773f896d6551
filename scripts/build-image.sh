#!/usr/bin/env bash
# Builds the production image without a Docker daemon: a base assembled from Debian packages (debootstrap:
# Python 3.11 and its venv module, nothing else), the wheels of requirements.lock downloaded on this machine
# (so the build needs no network and the lock's hashes are checked), and buildah with chroot isolation.
#
#   scripts/build-image.sh [TAG]      default TAG: localhost/bonemet-cds:local
#
# The Debian mirror is the one this machine's apt already uses. The base is built once and kept as an image
# (localhost/bonemet-base:bookworm); delete it with `podman rmi` to rebuild it.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-localhost/bonemet-cds:local}
base=localhost/bonemet-base:bookworm
work=var/image-build
mkdir -p "$work"

if ! podman image exists "$base"; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list)
  rm -rf "$work/rootfs"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$work/rootfs" "$mirror" \
    > "$work/debootstrap.log"
  tar -C "$work/rootfs" -c . | podman import --quiet - "$base" > /dev/null
  rm -rf "$work/rootfs"
fi

rm -rf "$work/wheelhouse"
python3 -m pip download --quiet --disable-pip-version-check --require-hashes -r requirements.lock \
  -d "$work/wheelhouse"
python3 -m pip download --quiet --disable-pip-version-check -d "$work/wheelhouse" "setuptools>=77" wheel

buildah bud --quiet --isolation chroot --format docker \
  --build-arg BASE="$base" --build-arg PIP_NO_INDEX=1 --build-arg PIP_FIND_LINKS=/wheelhouse \
  --volume "$PWD/$work/wheelhouse:/wheelhouse:ro" \
  --tag "$tag" . > /dev/null
echo "$tag"
