#!/usr/bin/env bash
# Makes the base image flotilla/busybox:latest without a network: a root file system from Debian's
# busybox-static (with every applet as a symlink), /etc/passwd and /etc/group, /tmp and a web page for
# busybox httpd, written as an OCI archive (that Docker can load too) and optionally loaded into a
# Flotilla state dir. The output is byte-for-byte reproducible for a given busybox, and both steps are
# skipped when their result is already there, so calling it again costs a few milliseconds.
#
# usage: scripts/base-image.sh [--output FILE] [--state-dir DIR] [--name NAME] [--print-path]
#   --output FILE    where the OCI archive goes (default: a cache file under ${XDG_CACHE_HOME:-~/.cache}/flotilla)
#   --state-dir DIR  also load the image into this state dir (as `flotilla image load` does; needs `npm run build`)
#   --name NAME      the image name (default flotilla/busybox:latest)
#   --print-path     print the archive's path on stdout (for scripts and tests)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

# Bump when the image's content changes, so cached archives are rebuilt.
recipe_version=1
name="flotilla/busybox:latest"
output=""
state_dir=""
print_path=0
while [ $# -gt 0 ]; do
  case "$1" in
    --output) output="${2:?--output needs a file}"; shift 2 ;;
    --state-dir) state_dir="${2:?--state-dir needs a directory}"; shift 2 ;;
    --name) name="${2:?--name needs an image name}"; shift 2 ;;
    --print-path) print_path=1; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "base-image: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

busybox=/bin/busybox
if [ ! -x "$busybox" ] || ! "$busybox" --list-full >/dev/null 2>&1; then
  echo "base-image: $busybox is missing; run 'bash scripts/setup.sh' as root (it installs Debian's busybox-static)" >&2
  exit 1
fi
if ldd "$busybox" >/dev/null 2>&1; then
  echo "base-image: $busybox is dynamically linked; install Debian's busybox-static, whose binary runs in an empty root" >&2
  exit 1
fi

# A name without a registry is Docker Hub's, as `docker tag` would store it.
case "$name" in
  */*.*/*|*.*/*|localhost/*|*:*/*) full_name="$name" ;;
  */*) full_name="docker.io/$name" ;;
  *) full_name="docker.io/library/$name" ;;
esac
case "${full_name##*/}" in *:*) ;; *) full_name="$full_name:latest" ;; esac
tag="${full_name##*:}"

busybox_sum="$(sha256sum "$busybox" | cut -c1-16)"
if [ -z "$output" ]; then
  cache="${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/flotilla"
  output="$cache/busybox-$busybox_sum-r$recipe_version-$(printf %s "$full_name" | sha256sum | cut -c1-8).oci.tar"
fi

build_archive() {
  local work rootfs epoch created arch
  work="$(mktemp -d "${TMPDIR:-/tmp}/flotilla-base-image.XXXXXX")"
  trap 'rm -rf "$work"' RETURN
  rootfs="$work/rootfs"
  mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home,dev,proc,sys,run,var/www,var/tmp}
  # The busybox binary's own mtime dates the image, so the same busybox always gives the same digests.
  epoch="$(stat -c %Y "$busybox")"
  created="$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)"
  arch="$(dpkg --print-architecture 2>/dev/null || uname -m)"

  install -m 0755 "$busybox" "$rootfs/bin/busybox"
  # Applet links point at /bin/busybox. As root, busybox makes them itself inside the new root (one
  # process instead of one `ln` per applet); otherwise they are linked one by one.
  if [ "$(id -u)" = 0 ] && chroot "$rootfs" /bin/busybox --install -s 2>/dev/null; then
    :
  else
    "$busybox" --list-full | grep -vx bin/busybox | while IFS= read -r applet; do
      mkdir -p "$rootfs/$(dirname "$applet")"
      ln -sf /bin/busybox "$rootfs/$applet"
    done
  fi
  cat >"$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
  cat >"$rootfs/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
www-data:x:33:
users:x:100:
nogroup:x:65534:
GROUP
  printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
  printf '<!doctype html>\n<title>Flotilla</title>\n<h1>Hello from Flotilla</h1>\n' >"$rootfs/var/www/index.html"
  chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
  chmod 0700 "$rootfs/root"
  chmod 0755 "$rootfs"/{bin,sbin,usr,usr/bin,usr/sbin,etc,home,dev,proc,sys,run,var,var/www}
  chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group" "$rootfs/etc/nsswitch.conf" "$rootfs/var/www/index.html"

  local tar_flags=(--sort=name --format=gnu --numeric-owner --owner=0 --group=0 --mtime="@$epoch")
  tar "${tar_flags[@]}" -C "$rootfs" -cf "$work/layer.tar" .
  local diff_id layer_digest layer_size
  diff_id="sha256:$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
  gzip -n -6 "$work/layer.tar"
  layer_digest="sha256:$(sha256sum "$work/layer.tar.gz" | cut -d' ' -f1)"
  layer_size="$(stat -c %s "$work/layer.tar.gz")"

  local busybox_version
  busybox_version="$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || echo unknown)"
  printf '{"created":"%s","architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["%s"]},"history":[{"created":"%s","created_by":"scripts/base-image.sh (busybox-static %s)"}]}' \
    "$created" "$arch" "$diff_id" "$created" "$busybox_version" >"$work/config.json"
  local config_digest config_size
  config_digest="sha256:$(sha256sum "$work/config.json" | cut -d' ' -f1)"
  config_size="$(stat -c %s "$work/config.json")"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
    "$config_digest" "$config_size" "$layer_digest" "$layer_size" >"$work/manifest.json.blob"
  local manifest_digest manifest_size
  manifest_digest="sha256:$(sha256sum "$work/manifest.json.blob" | cut -d' ' -f1)"
  manifest_size="$(stat -c %s "$work/manifest.json.blob")"

  local layout="$work/layout"
  mkdir -p "$layout/blobs/sha256"
  mv "$work/layer.tar.gz" "$layout/blobs/sha256/${layer_digest#sha256:}"
  mv "$work/config.json" "$layout/blobs/sha256/${config_digest#sha256:}"
  mv "$work/manifest.json.blob" "$layout/blobs/sha256/${manifest_digest#sha256:}"
  printf '{"imageLayoutVersion":"1.0.0"}\n' >"$layout/oci-layout"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}\n' \
    "$manifest_digest" "$manifest_size" "$full_name" "$tag" >"$layout/index.json"
  # Docker's own manifest.json beside the OCI index, so `docker load` takes the archive too.
  local familiar="${full_name#docker.io/}"
  familiar="${familiar#library/}"
  printf '[{"Config":"blobs/sha256/%s","RepoTags":["%s"],"Layers":["blobs/sha256/%s"]}]\n' \
    "${config_digest#sha256:}" "$familiar" "${layer_digest#sha256:}" >"$layout/manifest.json"

  mkdir -p "$(dirname "$output")"
  tar "${tar_flags[@]}" -C "$layout" -cf "$work/archive.tar" oci-layout index.json manifest.json blobs
  mv "$work/archive.tar" "$output"
}

if [ ! -s "$output" ]; then
  build_archive
  echo "base-image: wrote $full_name to $output" >&2
fi

if [ -n "$state_dir" ]; then
  manifest_digest="$(tar -xOf "$output" index.json | sed -n 's/.*"digest":"\(sha256:[0-9a-f]*\)".*/\1/p')"
  index="$state_dir/images/index.json"
  if [ -f "$index" ] && tr -d ' \n' <"$index" | grep -q "\"digest\":\"$manifest_digest\",\"size\":[0-9]*,\"annotations\":{\"io.containerd.image.name\":\"$full_name\""; then
    : # already loaded under this name
  else
    runtime="$repo/dist/libs/runtime/src/index.js"
    if [ ! -f "$runtime" ]; then
      echo "base-image: $runtime is missing; build Flotilla first (npm run build, or bash scripts/setup.sh)" >&2
      exit 1
    fi
    node -e '
      const [runtime, stateDir, archive] = process.argv.slice(1);
      const { ImageStore, loadImageArchive } = require(runtime);
      loadImageArchive(new ImageStore({ stateDir }), archive).then(
        (images) => process.stderr.write(`base-image: loaded ${images.flatMap((image) => image.names).join(", ")} into ${stateDir}\n`),
        (error) => { process.stderr.write(`base-image: loading into ${stateDir} failed: ${error.message}\n`); process.exit(1); },
      );' "$runtime" "$state_dir" "$output"
  fi
fi

if [ "$print_path" = 1 ]; then echo "$output"; fi
