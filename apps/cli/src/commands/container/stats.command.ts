// `flotilla container stats [--no-stream] [CONTAINER...]`: CPU, memory, block I/O and pids from each
// container's cgroup; CPU % is measured over one second, as docker stats does.
import { Command } from 'commander';
import type { ContainerCgroupUsage, ContainerManager } from '@flotilla/runtime';
import type { CliContext } from '../../cli-context';
import { humanSize } from '../../output/human-size';
import { formatTable, openContainerManager, shortId } from './container-runtime';

const SAMPLE_MS = 1000;

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 2)}${units[unit]}`;
}

interface Sample {
  id: string;
  name: string;
  usage: ContainerCgroupUsage;
  at: bigint;
}

async function sample(
  manager: ContainerManager,
  references: string[],
  context: CliContext,
): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (const reference of references) {
    try {
      const stats = await manager.stats(reference);
      samples.push({ ...stats, at: process.hrtime.bigint() });
    } catch (error: unknown) {
      context.reportError(error);
    }
  }
  return samples;
}

export function createStatsCommand(context: CliContext): Command {
  return new Command('stats')
    .description('show CPU, memory, block I/O (read / written) and pids usage of running containers')
    .argument('[containers...]', 'names or ids (default: every running container)')
    .option('--no-stream', 'print one sample and exit')
    .action(async (references: string[], flags: { stream: boolean }) => {
      const manager = await openContainerManager(context);
      const targets = references.length > 0 ? references : (await manager.list()).map((info) => info.id);
      let previous = await sample(manager, targets, context);
      do {
        await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
        const current = await sample(manager, targets, context);
        const rows = current.map((now) => {
          const before = previous.find((entry) => entry.id === now.id);
          const cpu = before
            ? (Number(now.usage.cpuUsageNanos - before.usage.cpuUsageNanos) / Number(now.at - before.at)) *
              100
            : 0;
          const limit = now.usage.memoryLimitBytes;
          return [
            shortId(now.id),
            now.name,
            `${cpu.toFixed(2)}%`,
            `${formatBytes(now.usage.memoryBytes)} / ${limit !== undefined ? formatBytes(limit) : 'unlimited'}`,
            now.usage.blockIo
              ? `${humanSize(now.usage.blockIo.readBytes)} / ${humanSize(now.usage.blockIo.writeBytes)}`
              : '--',
            String(now.usage.pids),
          ];
        });
        context.io.write(
          formatTable([['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'BLOCK I/O', 'PIDS'], ...rows]),
        );
        previous = current;
      } while (flags.stream && !context.io.signal.aborted);
    });
}
