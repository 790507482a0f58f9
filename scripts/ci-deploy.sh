#!/usr/bin/env bash
# A deploy from CI in one step: build the image, push it to the cluster's registry, apply the
# manifests with that image, wait for the rollout, and roll back when it fails.
#
#   scripts/ci-deploy.sh --image web:$GIT_SHA --context . --manifests deploy/ --deployment web \
#     [--namespace web] [--timeout 5m] [--insecure-registry HOST:PORT]
#
# The manifests name the image as __IMAGE__; it is replaced by --image. An --image without a registry
# goes to the registry of the `flotilla up` cluster (and the nodes pull it from there).
# Exit codes: 0 deployed; those of `flotilla rollout status` when the rollout failed and was undone
# (3 timeout, 4 progress deadline exceeded, 5 new pods failing); 10 the rollback failed too; 1 any
# earlier step (build, push, apply) failed; 2 wrong arguments.
set -uo pipefail

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

image='' context='' manifests='' deployment='' namespace='' timeout='5m' registry_flags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --image) image="${2:-}"; shift 2 ;;
    --context) context="${2:-}"; shift 2 ;;
    --manifests) manifests="${2:-}"; shift 2 ;;
    --deployment) deployment="${2:-}"; shift 2 ;;
    --namespace) namespace="${2:-}"; shift 2 ;;
    --timeout) timeout="${2:-}"; shift 2 ;;
    --insecure-registry) registry_flags+=(--insecure-registry "${2:-}"); shift 2 ;;
    -h|--help) usage ;;
    *) echo "ci-deploy: unknown argument $1" >&2; usage ;;
  esac
done
[ -n "$image" ] && [ -n "$context" ] && [ -n "$manifests" ] && [ -n "$deployment" ] || usage

flotilla() { "${FLOTILLA:-$(dirname "$0")/../bin/flotilla}" "$@"; }
ns=()
[ -n "$namespace" ] && ns=(-n "$namespace")
step() { printf '==> %s\n' "$*"; }

step "building $image from $context"
flotilla image build -t "$image" "$context" || exit 1
step "pushing $image"
flotilla image push "${registry_flags[@]}" "$image" || exit 1

step "applying $manifests with image $image"
rendered="$(mktemp -d)"
trap 'rm -rf "$rendered"' EXIT
for file in "$manifests"/*.yaml "$manifests"/*.yml; do
  [ -e "$file" ] || continue
  sed "s#__IMAGE__#${image}#g" "$file" > "$rendered/$(basename "$file")"
done
flotilla "${ns[@]}" apply -f "$rendered" || exit 1

step "waiting for deployment $deployment to roll out (timeout $timeout)"
flotilla "${ns[@]}" rollout status "deployment/$deployment" --timeout "$timeout"
status=$?
[ "$status" -eq 0 ] && { step "deployed $image"; exit 0; }

step "rollout failed (exit $status): rolling deployment $deployment back"
if flotilla "${ns[@]}" rollout undo "deployment/$deployment" &&
  flotilla "${ns[@]}" rollout status "deployment/$deployment" --timeout "$timeout"; then
  step "rolled back; the release of $image failed"
  exit "$status"
fi
echo "ci-deploy: the rollback of $deployment did not finish either: look at 'flotilla get pods ${ns[*]}'" >&2
exit 10
