// Which cgroup version a host runs, decided once per root. Only the files matter: a cgroup2 mount has
// cgroup.controllers at its root, a v1 host mounts one hierarchy per controller under the root.
// Hybrid hosts (systemd's "unified" layout: v1 hierarchies plus a cgroup2 mount at <root>/unified
// that holds no real controller, often only hugetlb) are v1 for us: memory, cpu and pids live in v1.
import { join } from 'node:path';
import { CgroupError, type CgroupVersion } from './cgroup.types';
import { readOptionalControl } from './cgroup-files';
import { hostCgroupSystem, type CgroupSystem } from './cgroup-system';
import { V1_CONTROLLERS } from './cgroup-v1.driver';

export const DEFAULT_CGROUP_ROOT = '/sys/fs/cgroup';

/** The controllers that make a cgroup2 root worth using; hugetlb or misc alone do not. */
const USEFUL_V2_CONTROLLERS = ['cpu', 'memory', 'pids'];

const detected = new WeakMap<CgroupSystem, Map<string, Promise<CgroupVersion>>>();

async function probe(root: string, system: CgroupSystem): Promise<CgroupVersion> {
  const controllers = await readOptionalControl(system, root, 'cgroup.controllers');
  const v2Controllers = (controllers ?? '').split(/\s+/).filter((name) => name !== '');
  if (v2Controllers.some((name) => USEFUL_V2_CONTROLLERS.includes(name))) return 'v2';
  for (const controller of V1_CONTROLLERS) {
    if (await system.exists(join(root, controller, 'cgroup.procs'))) return 'v1';
  }
  if (controllers !== undefined) {
    throw new CgroupError(
      `${root} is a cgroup2 mount without the cpu, memory or pids controllers (it has: "${v2Controllers.join(' ')}"); they are bound to cgroup v1 hierarchies elsewhere — pass the v1 root (usually ${DEFAULT_CGROUP_ROOT}) or boot with systemd.unified_cgroup_hierarchy=1`,
    );
  }
  throw new CgroupError(
    `no cgroup filesystem found at ${root}: mount cgroup2 there (mount -t cgroup2 none ${root}) or the v1 hierarchies under it`,
  );
}

/**
 * The cgroup version at root, probed once per root and cached: the answer cannot change while we run,
 * and every container start asks.
 */
export function detectCgroupVersion(
  root: string = DEFAULT_CGROUP_ROOT,
  system: CgroupSystem = hostCgroupSystem,
): Promise<CgroupVersion> {
  let byRoot = detected.get(system);
  if (byRoot === undefined) {
    byRoot = new Map();
    detected.set(system, byRoot);
  }
  let version = byRoot.get(root);
  if (version === undefined) {
    version = probe(root, system);
    byRoot.set(root, version);
    // A failed probe (not mounted yet) may succeed later; do not cache the failure.
    version.catch(() => byRoot.delete(root));
  }
  return version;
}
