// The registry of the local cluster (`flotilla up --nodes N` runs one on its LAN address and records it
// in the cluster state): `flotilla image push NAME` goes there when NAME names no registry, under the
// path the node agents pull it by ("flotilla/busybox:latest" → "<registry>/flotilla/busybox:latest",
// "busybox" → "<registry>/busybox:latest").
import { existsSync } from 'node:fs';
import { flotillaHome } from '@flotilla/client';
import { clusterLayout, readClusterState } from '@flotilla/cluster';
import { formatReference, parseReference } from '@flotilla/runtime';
import type { CliContext } from '../../cli-context';

export function clusterRegistryTarget(
  context: CliContext,
  image: string,
): { registry: string; target: string } | undefined {
  // An image ID names no repository to push to; the push itself says so.
  if (hasExplicitRegistry(image) || /^(sha256:)?[0-9a-f]{12,64}$/.test(image)) return undefined;
  const stateFile = clusterLayout(flotillaHome(context.io.env)).stateFile;
  const registry = existsSync(stateFile) ? readClusterState(stateFile)?.registry : undefined;
  if (registry === undefined) return undefined;
  let reference;
  try {
    reference = parseReference(image);
  } catch {
    // An image ID or a bad name: the push itself reports it.
    return undefined;
  }
  const repository =
    reference.repository.startsWith('library/') && !image.startsWith('library/')
      ? reference.repository.slice('library/'.length)
      : reference.repository;
  return { registry, target: formatReference({ ...reference, registry, repository }) };
}

function hasExplicitRegistry(text: string): boolean {
  const first = text.split('/')[0] ?? '';
  return text.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
}
