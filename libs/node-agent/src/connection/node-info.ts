// What the agent tells the apiserver about its host (Node status.nodeInfo), read from the places
// kubelet reads: /etc/machine-id, the boot id, the kernel release, /etc/os-release.
import { readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { RUNTIME_NAME, detectCgroupVersion } from '@flotilla/runtime';
import type { NodeInfo } from '@flotilla/proto';

/** The version the agent reports as kubeletVersion and in containerRuntimeVersion. */
export const AGENT_VERSION = '0.1.0';

// Kubernetes names architectures as Go does.
const GO_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
};

async function firstLine(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).split('\n')[0]?.trim() ?? '';
  } catch {
    // Absent on some hosts (containers without systemd): the field stays empty, as kubelet leaves it.
    return '';
  }
}

async function osImage(): Promise<string> {
  try {
    const text = await readFile('/etc/os-release', 'utf8');
    const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
    return match?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

export async function collectNodeInfo(options: { cgroupRoot?: string } = {}): Promise<NodeInfo> {
  const [machineId, bootId, image, cgroupVersion] = await Promise.all([
    firstLine('/etc/machine-id'),
    firstLine('/proc/sys/kernel/random/boot_id'),
    osImage(),
    detectCgroupVersion(options.cgroupRoot).catch(() => ''),
  ]);
  return {
    machineId,
    bootId,
    kernelVersion: release(),
    osImage: image,
    operatingSystem: 'linux',
    architecture: GO_ARCH[process.arch] ?? process.arch,
    containerRuntimeVersion: `${RUNTIME_NAME}://${AGENT_VERSION}`,
    agentVersion: AGENT_VERSION,
    cgroupVersion,
  };
}
