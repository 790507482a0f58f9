// RUN steps executed by our own container runtime: a container on the step's image (snapshot key = the
// container's ID), its output streamed from the container log, and a non-zero exit turned into a build
// error that quotes the end of that output.
import type { ContainerManager } from '../containers/container-manager';
import type { ContainerNetworkMode } from '../containers/container.types';
import { ContainerfileError } from './containerfile.parser';
import type { RunStep, RunStepRequest, RunStepResult } from './image-builder';

export interface ContainerRunStepOptions {
  /** A manager whose image provider is an ImageRootfsProvider over the same image store. */
  readonly containers: ContainerManager;
  /** Network for RUN steps; `none` keeps builds hermetic, `host` lets them download. */
  readonly network?: ContainerNetworkMode;
}

const OUTPUT_TAIL = 20;

export class ContainerRunStep implements RunStep {
  constructor(private readonly options: ContainerRunStepOptions) {}

  async run(request: RunStepRequest): Promise<RunStepResult> {
    const containers = this.options.containers;
    const info = await containers.create({
      image: request.image.manifestDigest,
      entrypoint: [...request.command],
      command: [],
      env: [...request.env],
      workingDir: request.workingDir,
      ...(request.user === undefined ? {} : { user: request.user }),
      network: this.options.network ?? 'none',
    });
    const release = async (): Promise<void> => {
      await containers.remove(info.id, { force: true });
    };
    const tail: string[] = [];
    try {
      await containers.start(info.id);
      for await (const entry of await containers.logs(info.id, { follow: true })) {
        if (entry.partial) continue;
        tail.push(entry.content);
        if (tail.length > OUTPUT_TAIL) tail.shift();
        request.onOutput?.(entry.content);
      }
      const exit = await containers.wait(info.id);
      if (exit.exitCode !== 0 || exit.error !== undefined) {
        const reason =
          exit.error ?? (exit.oomKilled ? 'killed by the OOM killer' : `exit code ${exit.exitCode}`);
        throw new ContainerfileError(
          `RUN ${request.command.join(' ')} failed (${reason})${tail.length > 0 ? `; last output:\n${tail.join('\n')}` : ''}`,
        );
      }
    } catch (error) {
      await release();
      throw error;
    }
    return { snapshotKey: info.id, release };
  }
}
