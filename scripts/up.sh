#!/usr/bin/env bash
# The main job in one command: install what is missing, start a local three-node cluster (etcd, Redis,
# the apiserver, scheduler and controller-manager as children of ours, three node hosts each with its
# own network namespace, cgroup limits and node agent, and an image registry they pull from; state
# under $FLOTILLA_HOME or ~/.flotilla), push the base image to the cluster registry, and deploy the
# sample web service from manifests/web. Running it again reuses what is running.
# FLOTILLA_NODES (default 3), FLOTILLA_NODE_CPUS and FLOTILLA_NODE_MEMORY size the nodes.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

flotilla() { node -- bin/flotilla "$@"; }
home="${FLOTILLA_HOME:-$HOME/.flotilla}"

flotilla up --nodes "${FLOTILLA_NODES:-3}" \
  --node-cpus "${FLOTILLA_NODE_CPUS:-1}" --node-memory "${FLOTILLA_NODE_MEMORY:-1Gi}"
echo "==> pushing the base image flotilla/busybox:latest to the cluster registry"
bash scripts/base-image.sh --state-dir "$home/images"
FLOTILLA_STATE_DIR="$home/images" flotilla image push --quiet flotilla/busybox:latest
echo "==> deploying the sample web service (manifests/web)"
flotilla apply -f manifests/web/
flotilla get nodes
flotilla get deployments,services -n web
echo "==> waiting for the sample web service to answer"
flotilla rollout status deployment/web -n web --timeout 3m
# The NodePort Service answers on every node's address; the first node's is as good as any.
port=$(flotilla get service web -n web -o 'jsonpath={.spec.ports[0].nodePort}')
address=$(flotilla get nodes -o 'jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}')
url="http://$address:$port/"
answered=""
for _ in $(seq 60); do
  if node -e '
    const request = require("http").get(process.argv[1], (response) => process.exit(response.statusCode < 500 ? 0 : 1));
    request.on("error", () => process.exit(1));
    request.setTimeout(3000, () => request.destroy());
  ' "$url"; then
    answered=yes
    break
  fi
  sleep 2
done
if [ -z "$answered" ]; then
  echo "up: web does not answer at $url after 2 minutes: see \`npx flotilla get pods,endpoints -n web\` and the node agents' logs under $home" >&2
  exit 1
fi
echo "web is answering at $url"
cat <<MSG

The cluster is up. Use it with:
  npx flotilla get nodes
  npx flotilla get all -n web
  kubectl --kubeconfig $home/kubeconfig get deployments -A
Stop it with \`npx flotilla down\` (its data stays for the next \`npm run up\`).
MSG
