// ip, iptables, nsenter and umount for setting node hosts up and tearing them down: run once per
// node or cluster, never on a per-container path, so a process each is fine here.
import { spawn } from 'node:child_process';

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** Resolves whatever the exit code; callers decide what failure means. */
export function runCommand(command: string, args: readonly string[], input = ''): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === 'ENOENT'
            ? `${command} is not installed: run 'bash scripts/setup.sh' as root (iproute2, iptables, util-linux)`
            : `cannot run ${command}: ${error.message}`,
        ),
      ),
    );
    child.once('close', (code) =>
      resolve({
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        exitCode: code ?? 1,
      }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** Runs a command and fails with its stderr and the step it was for. */
export async function runChecked(
  step: string,
  command: string,
  args: readonly string[],
  input = '',
): Promise<string> {
  const result = await runCommand(command, args, input);
  if (result.exitCode !== 0) {
    throw new Error(
      `${step} failed: ${command} ${args.join(' ')} said: ${result.stderr.trim() || `exit ${result.exitCode}`}`,
    );
  }
  return result.stdout;
}
