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

export async function startScratchCluster(options: { nodes: number; name: string }): Promise<ScratchCluster> {
  const home = mkdtempSync(join(tmpdir(), `flotilla-bench-${options.name}-`));
  const env = { ...process.env, FLOTILLA_HOME: home, FLOTILLA_STATE_DIR: join(home, 'images') };
  const destroy = (): void => {
    spawnSync(cli, ['down'], { env, stdio: 'ignore' });
    rmSync(home, { recursive: true, force: true });
  };
  try {
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
