// What the container tests share: a real root filesystem made from busybox-static (one binary and a
// symlink per applet), a per-run state dir, and the root check every such test needs.
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerManager } from '@flotilla/runtime';

const BUSYBOX = '/bin/busybox';

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'container tests need root: they create namespaces, overlay mounts and cgroups. Run them as root (CI does).',
    );
  }
}

/** A minimal but real root: /bin/busybox, its applets, /etc/passwd and /etc/group, empty /proc /dev /sys /tmp. */
export async function makeBusyboxRootfs(dir: string): Promise<string> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  await copyFile(BUSYBOX, join(dir, 'bin', 'busybox'));
  await chmod(join(dir, 'bin', 'busybox'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  await Promise.all(
    applets
      .filter((applet) => applet !== 'busybox')
      .map((applet) => symlink('busybox', join(dir, 'bin', applet))),
  );
  for (const sub of ['etc', 'proc', 'dev', 'sys', 'tmp', 'root', 'home/web'])
    await mkdir(join(dir, sub), { recursive: true });
  await chmod(join(dir, 'tmp'), 0o1777);
  await writeFile(
    join(dir, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nweb:x:1000:1000:web:/home/web:/bin/sh\n',
  );
  await writeFile(join(dir, 'etc', 'group'), 'root:x:0:\nweb:x:1000:\nstaff:x:50:web\n');
  return dir;
}

export interface ContainerTestBed {
  root: string;
  rootfs: string;
  stateDir: string;
  manager: ContainerManager;
  cleanup(): Promise<void>;
}

export async function containerTestBed(prefix: string): Promise<ContainerTestBed> {
  requireRoot();
  const root = await mkdtemp(join(tmpdir(), `flotilla-${prefix}-`));
  const rootfs = await makeBusyboxRootfs(join(root, 'busybox'));
  const stateDir = join(root, 'state');
  const manager = new ContainerManager({ stateDir });
  return {
    root,
    rootfs,
    stateDir,
    manager,
    async cleanup() {
      for (const info of await manager.list({ all: true })) await manager.remove(info.id, { force: true });
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Output of a container run to completion. */
export async function runToEnd(
  manager: ContainerManager,
  spec: Parameters<ContainerManager['create']>[0],
): Promise<{ stdout: string; stderr: string; exitCode: number; id: string }> {
  const info = await manager.create(spec);
  await manager.start(info.id);
  const exit = await manager.wait(info.id);
  let stdout = '';
  let stderr = '';
  for await (const entry of await manager.logs(info.id)) {
    if (entry.stream === 'stdout') stdout += `${entry.content}\n`;
    else stderr += `${entry.content}\n`;
  }
  return { stdout, stderr, exitCode: exit.exitCode, id: info.id };
}
