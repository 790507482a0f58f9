#!/usr/bin/env bash
# Installs what Flotilla needs on a Debian/Ubuntu machine and builds it. Safe to run again:
# every step checks first and is quick when its work is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  echo "setup: run as root (it installs Debian packages and the runtime needs namespaces and cgroups)" >&2
  exit 1
fi

# Debian packages Flotilla runs on (the cluster's own etcd, Redis and registry, the runtime's tools,
# the base image's busybox, the layer extractor's setfattr, the shim's compiler).
packages=(etcd-server redis-server busybox-static iproute2 nftables iptables docker-registry attr gcc libc6-dev make openssl protobuf-compiler)
# crun and runc are for bench/container-start only (it compares our container start with theirs);
# Flotilla itself never runs them.
packages+=(crun runc)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The packaged services are not ours to run: Flotilla starts etcd, Redis and the registry as its own children.
  for svc in etcd redis-server docker-registry; do
    systemctl disable --now "$svc" >/dev/null 2>&1 || service "$svc" stop >/dev/null 2>&1 || true
  done
fi

# npm dependencies: reinstall only when the lockfile changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  # `npm install` rather than `npm ci`: it honours the lockfile too, and npm 11 writes lockfiles without
  # other platforms' optional packages, which `npm ci` then rejects as out of sync.
  npm install --no-audit --no-fund --loglevel=error
fi

# The C shim: rebuilt only when its source is newer than the binary.
if [ -f native/shim/Makefile ]; then
  make -s -C native/shim
fi

say "compiling TypeScript"
npx tsc -b tsconfig.build.json
