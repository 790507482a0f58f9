#!/usr/bin/env bash
# Generates libs/proto/src/gen from proto/ with ts-proto. The output is never edited by hand;
# `scripts/gen-proto.sh --check` regenerates into a temporary directory and fails on any difference.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v protoc >/dev/null || { echo "gen-proto: protoc is missing: run 'bash scripts/setup.sh' (it installs Debian's protobuf-compiler)" >&2; exit 1; }

out=libs/proto/src/gen
target=$out
if [ "${1:-}" = "--check" ]; then
  target=$(mktemp -d)
  trap 'rm -rf "$target"' EXIT
fi
rm -rf "${target:?}"/*
mkdir -p "$target"
protoc \
  --plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out="$target" \
  --ts_proto_opt=outputServices=grpc-js,esModuleInterop=true,env=node,useOptionals=messages,oneof=unions-value,forceLong=bigint,useDate=false \
  -I proto \
  $(find proto -name '*.proto' | sort)

if [ "${1:-}" = "--check" ]; then
  if ! diff -r "$out" "$target" >/dev/null; then
    echo "gen-proto: $out is out of date with proto/; run 'bash scripts/gen-proto.sh' and commit the result" >&2
    diff -ru "$out" "$target" | head -40 >&2
    exit 1
  fi
fi
