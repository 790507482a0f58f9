#!/usr/bin/env bash
# The main job in one command: install what is missing, start a local cluster on embedded defaults
# (etcd, Redis and the apiserver as children of ours, state under $FLOTILLA_HOME or ~/.flotilla),
# and deploy the sample web service from manifests/web. Running it again reuses what is running.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

flotilla() { node bin/flotilla "$@"; }

flotilla up
echo "==> deploying the sample web service (manifests/web)"
flotilla apply -f manifests/web/
flotilla get deployments,services -n web
home="${FLOTILLA_HOME:-$HOME/.flotilla}"
cat <<MSG

The cluster is up. Use it with:
  npx flotilla get all -n web
  kubectl --kubeconfig $home/kubeconfig get deployments -A
Stop it with \`npx flotilla down\` (its data stays for the next \`npm run up\`).
MSG
