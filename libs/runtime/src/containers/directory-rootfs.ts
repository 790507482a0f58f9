// A root filesystem made from a plain directory (`container run --rootfs DIR`): the directory is the
// overlay's read-only lower layer and each container writes to its own upper dir, exactly as with
// an image's layers, so the directory is never modified.
import { mkdir, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { ContainerError } from './container.error';
import type { PreparedRootfs, RootfsProvider } from './container.types';

export function overlayPaths(containerDir: string): { upperDir: string; workDir: string; target: string } {
  return {
    upperDir: join(containerDir, 'upper'),
    workDir: join(containerDir, 'work'),
    target: join(containerDir, 'rootfs'),
  };
}

export class DirectoryRootfsProvider implements RootfsProvider {
  async prepare(request: { containerDir: string; image: string }): Promise<PreparedRootfs> {
    const lower = isAbsolute(request.image) ? request.image : resolve(request.image);
    const info = await stat(lower).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new ContainerError('InvalidSpec', `root filesystem ${lower} is not a directory`);
    }
    if (/[,:]/.test(lower)) {
      throw new ContainerError(
        'InvalidSpec',
        `root filesystem path ${lower} may not contain "," or ":" (overlayfs option syntax)`,
      );
    }
    const { upperDir, workDir, target } = overlayPaths(request.containerDir);
    await Promise.all([upperDir, workDir, target].map((dir) => mkdir(dir, { recursive: true })));
    return {
      rootfs: {
        type: 'overlay',
        source: 'overlay',
        target,
        options: [`lowerdir=${lower}`, `upperdir=${upperDir}`, `workdir=${workDir}`],
        upperDir,
      },
      image: {},
      lowerDirs: [lower],
    };
  }

  async release(request: { containerDir: string }): Promise<void> {
    const { upperDir, workDir } = overlayPaths(request.containerDir);
    await Promise.all([upperDir, workDir].map((dir) => rm(dir, { recursive: true, force: true })));
  }
}
