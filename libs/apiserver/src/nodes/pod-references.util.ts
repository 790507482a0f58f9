// The ConfigMaps and Secrets a pod references, which is what its node may read: Kubernetes' node
// authorizer gives a kubelet exactly the objects of pods bound to it, nothing else in the cluster.
//
// Worked example: a pod with envFrom configMapRef "settings", env secretKeyRef "db/password", a
// secret volume "tls" and imagePullSecrets "registry" references ConfigMap/settings, Secret/db,
// Secret/tls and Secret/registry (keys are "Kind/name", within the pod's namespace).
import type { Container, Pod } from '@flotilla/api';

export type ReferenceKind = 'ConfigMap' | 'Secret';

export function referenceKey(kind: ReferenceKind, name: string): string {
  return `${kind}/${name}`;
}

function containerReferences(container: Container, into: Set<string>): void {
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef?.name) into.add(referenceKey('ConfigMap', source.configMapRef.name));
    if (source.secretRef?.name) into.add(referenceKey('Secret', source.secretRef.name));
  }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (from?.configMapKeyRef?.name) into.add(referenceKey('ConfigMap', from.configMapKeyRef.name));
    if (from?.secretKeyRef?.name) into.add(referenceKey('Secret', from.secretKeyRef.name));
  }
}

/** Every "Kind/name" the pod references, in its own namespace. */
export function podReferences(pod: Pod): Set<string> {
  const references = new Set<string>();
  const spec = pod.spec;
  if (!spec) return references;
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
    containerReferences(container, references);
  }
  for (const volume of spec.volumes ?? []) {
    if (volume.configMap?.name) references.add(referenceKey('ConfigMap', volume.configMap.name));
    if (volume.secret?.secretName) references.add(referenceKey('Secret', volume.secret.secretName));
  }
  for (const secret of spec.imagePullSecrets ?? []) {
    if (secret.name) references.add(referenceKey('Secret', secret.name));
  }
  return references;
}
