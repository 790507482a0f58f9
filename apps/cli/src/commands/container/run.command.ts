// `flotilla container run [options] IMAGE [COMMAND...]` (or `--rootfs DIR [COMMAND...]`): create and
// start a container, then attach (-it), follow its output, or print its id (-d).
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import {
  ContainerError,
  encodeCloseStdin,
  encodeStdin,
  type ContainerManager,
  type ContainerNetworkMode,
  type ContainerSpec,
} from '@flotilla/runtime';
import { CliError, EXIT_USAGE, type CliContext } from '../../cli-context';
import {
  EXIT_RUN_REFUSED,
  collect,
  parseBlkioWeight,
  parseCpus,
  parseDeviceBps,
  parseDeviceIops,
  parseUserNamespace,
  parseEnv,
  parseMemory,
  parsePositiveInteger,
  parsePublish,
  parseRestartPolicy,
  parseVolume,
} from './container-flags';
import { openContainerManager, reparseTail } from './container-runtime';
import { parseEnvFile, parseLabel, parseLabelFile } from './key-value-file.parser';
import { relayTerminal, terminalSize } from './terminal-session';

interface RunFlags {
  detach?: boolean;
  interactive?: boolean;
  tty?: boolean;
  rm?: boolean;
  name?: string;
  rootfs?: string;
  env?: string[];
  envFile?: string[];
  label?: string[];
  labelFile?: string[];
  workdir?: string;
  user?: string;
  publish?: string[];
  publishAll?: boolean;
  volume?: string[];
  memory?: string;
  cpus?: string;
  pidsLimit?: string;
  blkioWeight?: string;
  deviceReadBps?: string[];
  deviceWriteBps?: string[];
  deviceReadIops?: string[];
  deviceWriteIops?: string[];
  userns?: string;
  uidmap?: string[];
  gidmap?: string[];
  hostname?: string;
  network?: string;
  entrypoint?: string;
  stopSignal?: string;
  readOnly?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  restart?: string;
}

/** A file named by a flag; one that cannot be read is refused before anything is created. */
function readFlagFile(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error: unknown) {
    throw new CliError(
      `${flag} ${file}: ${error instanceof Error ? error.message : String(error)}`,
      EXIT_RUN_REFUSED,
    );
  }
}

const NETWORK_MODES: readonly ContainerNetworkMode[] = ['bridge', 'none', 'host'];

export function specFromFlags(
  flags: RunFlags,
  operands: string[],
  env: Readonly<Record<string, string | undefined>>,
): ContainerSpec {
  const image = flags.rootfs !== undefined ? undefined : operands[0];
  const command = flags.rootfs !== undefined ? operands : operands.slice(1);
  if (flags.rootfs === undefined && image === undefined) {
    throw new CliError('container run needs an IMAGE (or --rootfs DIR)', EXIT_USAGE);
  }
  if (flags.network !== undefined && !NETWORK_MODES.includes(flags.network as ContainerNetworkMode)) {
    throw new CliError(`--network "${flags.network}" must be one of ${NETWORK_MODES.join(', ')}`, EXIT_USAGE);
  }
  const blkioWeight = flags.blkioWeight !== undefined ? parseBlkioWeight(flags.blkioWeight) : undefined;
  const bps = (texts: string[] | undefined, flag: string) => texts?.map((text) => parseDeviceBps(text, flag));
  const iops = (texts: string[] | undefined, flag: string) =>
    texts?.map((text) => parseDeviceIops(text, flag));
  const blockIo = {
    ...(blkioWeight !== undefined ? { blkioWeight } : {}),
    ...(flags.deviceReadBps ? { blkioDeviceReadBps: bps(flags.deviceReadBps, '--device-read-bps') } : {}),
    ...(flags.deviceWriteBps ? { blkioDeviceWriteBps: bps(flags.deviceWriteBps, '--device-write-bps') } : {}),
    ...(flags.deviceReadIops
      ? { blkioDeviceReadIops: iops(flags.deviceReadIops, '--device-read-iops') }
      : {}),
    ...(flags.deviceWriteIops
      ? { blkioDeviceWriteIops: iops(flags.deviceWriteIops, '--device-write-iops') }
      : {}),
  };
  const resources = {
    ...blockIo,
    ...(flags.memory !== undefined ? { memoryBytes: parseMemory(flags.memory) } : {}),
    ...(flags.cpus !== undefined ? { cpuMillicores: parseCpus(flags.cpus) } : {}),
    ...(flags.pidsLimit !== undefined
      ? { pidsLimit: parsePositiveInteger(flags.pidsLimit, '--pids-limit') }
      : {}),
  };
  const restartPolicy = flags.restart !== undefined ? parseRestartPolicy(flags.restart) : undefined;
  if (flags.rm && restartPolicy !== undefined && restartPolicy.name !== 'no') {
    throw new CliError('--restart and --rm conflict: a removed container cannot restart', EXIT_RUN_REFUSED);
  }
  const userns = parseUserNamespace(flags, env['FLOTILLA_USERNS']);
  // Docker's order: the env files in turn, then -e, so a later -e wins over a file.
  const envEntries = [
    ...(flags.envFile ?? []).flatMap((file) => parseEnvFile(readFlagFile(file, '--env-file'), { file, env })),
    ...(flags.env ?? [])
      .map((entry) => parseEnv(entry, env))
      .filter((entry): entry is string => entry !== undefined),
  ];
  // Label files first, then --label, each later one of a key winning.
  const labelEntries = [
    ...(flags.labelFile ?? []).flatMap((file) => parseLabelFile(readFlagFile(file, '--label-file'), file)),
    ...(flags.label ?? []).map(parseLabel),
  ];
  return {
    ...(image !== undefined ? { image } : {}),
    ...(flags.rootfs !== undefined ? { rootfsDir: flags.rootfs } : {}),
    ...(command.length > 0 ? { command } : {}),
    ...(flags.entrypoint !== undefined
      ? { entrypoint: flags.entrypoint === '' ? [] : [flags.entrypoint] }
      : {}),
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    ...(envEntries.length > 0 ? { env: envEntries } : {}),
    ...(labelEntries.length > 0 ? { labels: Object.fromEntries(labelEntries) } : {}),
    ...(flags.workdir !== undefined ? { workingDir: flags.workdir } : {}),
    ...(flags.user !== undefined ? { user: flags.user } : {}),
    ...(flags.hostname !== undefined ? { hostname: flags.hostname } : {}),
    ...(flags.network !== undefined ? { network: flags.network as ContainerNetworkMode } : {}),
    ...(flags.publish ? { ports: flags.publish.map(parsePublish) } : {}),
    ...(flags.publishAll ? { publishAll: true } : {}),
    ...(flags.volume ? { volumes: flags.volume.map(parseVolume) } : {}),
    ...(Object.keys(resources).length > 0 ? { resources } : {}),
    ...(flags.stopSignal !== undefined ? { stopSignal: flags.stopSignal } : {}),
    ...(flags.readOnly ? { readOnlyRootfs: true } : {}),
    ...(restartPolicy !== undefined ? { restartPolicy } : {}),
    ...(flags.capAdd ? { capAdd: flags.capAdd } : {}),
    ...(flags.capDrop ? { capDrop: flags.capDrop } : {}),
    ...(userns ? { userns } : {}),
    ...(flags.interactive ? { stdin: true } : {}),
    // Nobody waits for a detached container: its shim removes it when it exits (see autoRemove).
    ...(flags.detach && flags.rm ? { autoRemove: true } : {}),
    tty: flags.tty ?? false,
  };
}

async function followOutput(context: CliContext, manager: ContainerManager, id: string): Promise<void> {
  // Ctrl-C reaches the container as SIGINT, as `docker run` proxies signals.
  const forward = (): void => void manager.kill(id, 'SIGINT').catch(() => undefined);
  context.io.signal.addEventListener('abort', forward, { once: true });
  try {
    for await (const entry of await manager.logs(id, { follow: true })) {
      const text = entry.partial ? entry.content : `${entry.content}\n`;
      if (entry.stream === 'stderr') context.io.writeError(text);
      else context.io.write(text);
    }
  } finally {
    context.io.signal.removeEventListener('abort', forward);
  }
}

/**
 * `run -i` without a tty: this process's stdin, to its end, becomes the container's through the
 * shim's attach socket; the end of it closes the container's stdin, as a pipe would.
 */
function pipeStdin(manager: ContainerManager, id: string): { stop(): void } {
  const stdin = process.stdin;
  let socket: Socket | undefined;
  let stopped = false;
  const onData = (chunk: Buffer): void => {
    // Back-pressure: the shim stops reading while the container has not read its stdin.
    if (socket && !socket.write(encodeStdin(chunk))) {
      stdin.pause();
      socket.once('drain', () => stdin.resume());
    }
  };
  const onEnd = (): void => void socket?.end(encodeCloseStdin());
  const stop = (): void => {
    stopped = true;
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.pause();
    socket?.destroy();
  };
  manager
    .attach(id)
    .then((attached) => {
      socket = attached;
      // The container may end before its input does; then the rest of it has nowhere to go.
      socket.on('error', stop);
      socket.on('close', stop);
      if (stopped) return stop();
      stdin.on('data', onData);
      stdin.once('end', onEnd);
    })
    .catch(() => undefined); // it has already exited: there is no stdin left to feed
  return { stop };
}

/** Docker's exit codes for a start that failed: 127 the program is missing, 126 it cannot run. */
export async function startOrExplain<T>(start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error: unknown) {
    if (error instanceof ContainerError && error.code === 'StartFailed') {
      throw new CliError(error.message, /executable file not found/.test(error.message) ? 127 : 126);
    }
    throw error;
  }
}

/** A spec the runtime refuses (a device that is not a block device, a missing volume) exits 125, as `docker run`. */
async function createOrExplain<T>(create: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (error: unknown) {
    if (error instanceof ContainerError && error.code === 'InvalidSpec') {
      throw new CliError(error.message, EXIT_RUN_REFUSED);
    }
    throw error;
  }
}

export function addRunOptions(command: Command): Command {
  return command
    .option('--rootfs <dir>', 'use a plain directory as the (read-only) image instead of IMAGE')
    .option('--name <name>', 'a name for the container')
    .option(
      '-e, --env <NAME=value>',
      'set an environment variable (repeatable; NAME alone passes yours)',
      collect,
    )
    .option(
      '--env-file <file>',
      'read environment variables from a file of KEY=VALUE lines (repeatable)',
      collect,
    )
    .option('-l, --label <KEY=VALUE>', 'set a label on the container (repeatable)', collect)
    .option('--label-file <file>', 'read labels from a file of KEY=VALUE lines (repeatable)', collect)
    .option('-w, --workdir <dir>', 'the working directory inside the container')
    .option('-u, --user <user[:group]>', 'run as this user (name or uid, looked up in the image)')
    .option(
      '-p, --publish <[[hostIp:][hostPort]:]containerPort[/udp]>',
      'publish a container port on the host; no host port: a free one (repeatable)',
      collect,
    )
    .option('-P, --publish-all', 'publish every port the image EXPOSEs on a free host port')
    .option('-v, --volume <hostDir:containerDir[:ro]>', 'bind a host directory (repeatable)', collect)
    .option('--memory <size>', 'memory limit, e.g. 64m or 1g')
    .option('--cpus <number>', 'CPU limit in CPUs, e.g. 0.5')
    .option('--pids-limit <number>', 'most processes and threads the container may have')
    .option('--blkio-weight <weight>', 'block I/O weight against other containers, 10 to 1000 (0: none)')
    .option(
      '--device-read-bps <device:rate>',
      'limit reads from a block device, e.g. /dev/sda:1mb (repeatable)',
      collect,
    )
    .option(
      '--device-write-bps <device:rate>',
      'limit writes to a block device, e.g. /dev/sda:1mb (repeatable)',
      collect,
    )
    .option(
      '--device-read-iops <device:rate>',
      'limit read operations per second on a block device, e.g. /dev/sda:100 (repeatable)',
      collect,
    )
    .option(
      '--device-write-iops <device:rate>',
      'limit write operations per second on a block device, e.g. /dev/sda:100 (repeatable)',
      collect,
    )
    .option(
      '--userns <mode>',
      'auto: a user namespace on a free range of host ids ("flotilla" in /etc/subuid, else 100000 up); host: none (default, unless FLOTILLA_USERNS=auto)',
    )
    .option(
      '--uidmap <container:host:size>',
      'map container uids to host uids in a user namespace, e.g. 0:100000:65536 (repeatable)',
      collect,
    )
    .option('--gidmap <container:host:size>', 'the same for gids (default: as --uidmap)', collect)
    .option('--hostname <name>', 'the container hostname (default: its short id)')
    .option('--network <mode>', 'bridge, none or host (default bridge)')
    .option('--entrypoint <program>', "replace the image's ENTRYPOINT")
    .option(
      '--stop-signal <signal>',
      "the signal `container stop` sends first (default: the image's, else SIGTERM)",
    )
    .option('--read-only', 'mount the root filesystem read-only')
    .option(
      '--restart <policy>',
      'no (default), on-failure[:MAX_RETRIES], always or unless-stopped: run again when it exits, unless stopped',
    )
    .option(
      '--cap-add <capability>',
      "add a Linux capability to Docker's default 14, e.g. NET_ADMIN or ALL (repeatable)",
      collect,
    )
    .option('--cap-drop <capability>', 'drop a Linux capability, e.g. NET_RAW or ALL (repeatable)', collect)
    .option('-t, --tty', 'give the container a terminal')
    .option('-i, --interactive', "keep stdin open and send this terminal's input to it (with -t: a session)");
}

function runParser(): Command {
  return addRunOptions(
    new Command('run')
      .description('create and start a container')
      .argument('[image]', 'the image to run (omit with --rootfs)')
      .argument('[command...]', "the command and its arguments (default: the image's)")
      .passThroughOptions()
      .option('-d, --detach', 'start in the background and print the container id')
      .option('--rm', 'remove the container when it exits (with -d: its shim removes it)'),
  );
}

export function createRunCommand(context: CliContext): Command {
  return runParser()
    .allowUnknownOption()
    .action(async (_image: string | undefined, _args: string[], _flags: RunFlags, command: Command) => {
      const parsed = reparseTail(command, runParser, context);
      const flags = parsed.opts<RunFlags>();
      const operands = parsed.args;
      const spec = specFromFlags(flags, operands, context.io.env);
      const manager = await openContainerManager(context);
      const created = await createOrExplain(() => manager.create(spec));
      const removeIfAsked = async (): Promise<void> => {
        if (flags.rm) await manager.remove(created.id, { force: true });
      };
      if (flags.detach) {
        try {
          await startOrExplain(() => manager.start(created.id));
        } catch (error: unknown) {
          // A container that never ran has no shim to remove it.
          await removeIfAsked();
          throw error;
        }
        context.io.write(`${created.id}\n`);
        return;
      }
      try {
        if (flags.tty) {
          const { terminal } = await startOrExplain(() => manager.startAttached(created.id, terminalSize()));
          await relayTerminal(terminal);
        } else {
          await startOrExplain(() => manager.start(created.id));
          const input = flags.interactive ? pipeStdin(manager, created.id) : undefined;
          await followOutput(context, manager, created.id);
          input?.stop();
        }
        const exit = await manager.wait(created.id);
        if (exit.oomKilled) context.io.writeError(`container ${created.name} was killed: out of memory\n`);
        context.exitCode = exit.exitCode;
      } finally {
        await removeIfAsked();
      }
    });
}
