// Where a node keeps images, layers, snapshots and containers. Daemonless: every process that points at
// the same directory sees the same state.
import { join } from 'node:path';

export const DEFAULT_STATE_DIR = '/var/lib/flotilla';

export function resolveStateDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return explicit ?? env['FLOTILLA_STATE_DIR'] ?? DEFAULT_STATE_DIR;
}

export interface StateLayout {
  readonly root: string;
  /** An OCI image layout (oci-layout, index.json, blobs/sha256). */
  readonly images: string;
  /** Unpacked layers by chain ID: layers/<hex>/diff. */
  readonly layers: string;
  /** Container root file systems: snapshots/<key>/{upper,work}. */
  readonly snapshots: string;
  /** Same-file-system scratch space, so finished work is renamed into place atomically. */
  readonly tmp: string;
}

export function stateLayout(root: string): StateLayout {
  return {
    root,
    images: join(root, 'images'),
    layers: join(root, 'layers'),
    snapshots: join(root, 'snapshots'),
    tmp: join(root, 'tmp'),
  };
}
