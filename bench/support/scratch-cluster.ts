// A throwaway `flotilla up --nodes N` cluster for benchmarks that need real nodes: its own home,
// free ports, the base image pushed to its registry; `down` and removal at the end.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createClient, type RestClient } from '@flotilla/client';
import { freePort, isPortFree } from '@flotilla/cluster';

const repoRoot = resolve(__dirname, '../../..');
const cli = join(repoRoot, 'bin/flotilla');

export interface ScratchCluster {
  readonly home: string;
  readonly client: RestClient;
  /** Runs the flotilla CLI against this cluster; rejects with its output when it fails. */
  flotilla(args: readonly string[]): Promise<string>;
  destroy(): void;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): string {
  const result = spawnSync(command, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited ${String(result.status)}:\n${result.stderr}${result.stdout}`,
    );
  }
  return result.stdout;
}

/** A free port whose successor is free too (the apiserver's gRPC port is its HTTPS port + 1). */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (await isPortFree(port + 1)) return port;
  }
}

export interface ScratchClusterOptions {
  readonly nodes: number;
  /** Names the benchmark in messages and the home directory. */
  readonly name: string;
  /** Use the cluster a previous `keep` run left in this home instead of starting one. */
  readonly existingHome?: string;
  /** Leave the cluster up at the end (and say how to stop it), to study a run. */
  readonly keep?: boolean;
}

export async function startScratchCluster(options: ScratchClusterOptions): Promise<ScratchCluster> {
  const home = options.existingHome ?? mkdtempSync(join(tmpdir(), `flotilla-bench-${options.name}-`));
  const env = { ...process.env, FLOTILLA_HOME: home, FLOTILLA_STATE_DIR: join(home, 'images') };
  const destroy = (): void => {
    if (options.keep || options.existingHome !== undefined) {
      process.stderr.write(
        `bench/${options.name}: cluster kept; stop it with FLOTILLA_HOME=${home} ${cli} down\n`,
      );
      return;
    }
    spawnSync(cli, ['down'], { env, stdio: 'ignore' });
    rmSync(home, { recursive: true, force: true });
  };
  try {
    if (options.existingHome === undefined) await startCluster(options, home, env);
    const client = createClient({ kubeconfig: join(home, 'kubeconfig'), env: {} });
    return {
      home,
      client,
      flotilla: (args) =>
        new Promise((resolvePromise, reject) => {
          // Asynchronous, so the benchmark's own watches keep running while the CLI waits.
          execFile(cli, [...args], { env }, (error, stdout, stderr) => {
            if (error) reject(new Error(`flotilla ${args.join(' ')}: ${error.message}\n${stderr}${stdout}`));
            else resolvePromise(stdout);
          });
        }),
      destroy: () => {
        client.close();
        destroy();
      },
    };
  } catch (error) {
    destroy();
    throw error;
  }
}

async function startCluster(
  options: ScratchClusterOptions,
  home: string,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  process.stderr.write(`bench/${options.name}: starting a ${options.nodes}-node cluster in ${home}\n`);
  run(
    cli,
    [
      'up',
      '--nodes',
      String(options.nodes),
      '--apiserver-port',
      String(await freePortPair()),
      '--etcd-port',
      String(await freePort()),
      '--etcd-peer-port',
      String(await freePort()),
      '--redis-port',
      String(await freePort()),
      '--registry-port',
      String(await freePort()),
    ],
    env,
  );
  run('bash', [join(repoRoot, 'scripts/base-image.sh'), '--state-dir', join(home, 'images')], env);
  run(cli, ['image', 'push', '--quiet', 'flotilla/busybox:latest'], env);
}
