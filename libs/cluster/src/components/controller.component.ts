// Control-plane processes that talk to the apiserver and Redis (scheduler, controller-manager):
// started detached with a kubeconfig and the Redis URL, ready once they log `"<name> ready"`.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startDetached, waitUntilReady, type StartedProcess } from '../processes/supervised-process';

export interface ControllerOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly kubeconfigFile: string;
  readonly redisUrl: string;
  readonly logDir: string;
  readonly timeoutMs?: number;
}

export interface RunningController extends StartedProcess {
  readonly url: string;
}

export async function startController(options: ControllerOptions): Promise<RunningController> {
  const logFile = join(options.logDir, `${options.name}.log`);
  // The log is appended across restarts: only what this start writes counts towards readiness.
  const offset = existsSync(logFile) ? statSync(logFile).size : 0;
  const started = startDetached({
    name: options.name,
    command: options.command,
    args: [...options.args, '--kubeconfig', options.kubeconfigFile, '--redis', options.redisUrl],
    logFile,
  });
  const marker = `"message":"${options.name} ready"`;
  await waitUntilReady(
    started,
    () => Promise.resolve(readFileSync(logFile).subarray(offset).toString('utf8').includes(marker)),
    { timeoutMs: options.timeoutMs ?? 30_000 },
  );
  return { ...started, url: '' };
}
