#!/usr/bin/env bash
# Build the lab's container image locally: debootstrap --variant=minbase bookworm plus the
# packages in image-packages.txt, then `podman import`. No registry is needed.
#
# Cached: the image carries a label with the hash of this script and the package list; when an
# image of that name already has the same hash, nothing is done. Environment:
#   LAB_IMAGE             image name (default localhost/netpolicy-lab:bookworm)
#   LAB_IMAGE_NO_BUILD=1  use LAB_IMAGE as it is (e.g. pulled from a registry); fail if absent
#   LAB_DEBOOTSTRAP_MIRROR  optional mirror URL (default: debootstrap's own default)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
image="${LAB_IMAGE:-localhost/netpolicy-lab:bookworm}"
pkg_file="$here/image-packages.txt"
label=org.netpolicy.lab.hash

if [ "${LAB_IMAGE_NO_BUILD:-0}" = 1 ]; then
  podman image exists "$image" || podman pull "$image"
  exit 0
fi

want="$(cat "$0" "$pkg_file" | sha256sum | cut -c1-16)"
have="$(podman image inspect --format "{{ index .Labels \"$label\" }}" "$image" 2>/dev/null || true)"
if [ "$have" = "$want" ]; then
  echo "lab image $image is up to date ($want)"
  exit 0
fi

packages="$(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$pkg_file" | paste -sd, -)"
root="$(mktemp -d /var/tmp/netpolicy-lab-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT
start=$(date +%s)
echo "building lab image $image ($want) with: $packages"
# shellcheck disable=SC2086
debootstrap --variant=minbase --include="$packages" bookworm "$root" ${LAB_DEBOOTSTRAP_MIRROR:-} \
  > "$root.log" 2>&1 || { tail -n 40 "$root.log"; exit 1; }
rm -f "$root.log"
# Small image: no apt lists or caches; the VPN daemons are started by the lab, never at boot.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
old="$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
tar -C "$root" -c . | podman import \
  --change "LABEL $label=$want" \
  --change 'CMD ["sleep", "infinity"]' \
  --quiet - "$image" >/dev/null
# The previous build of this name is now untagged: remove it (only that one image).
if [ -n "$old" ] && [ "$old" != "$(podman image inspect --format '{{.Id}}' "$image")" ]; then
  podman rmi "$old" >/dev/null 2>&1 || true
fi
echo "lab image $image built in $(( $(date +%s) - start )) s"
