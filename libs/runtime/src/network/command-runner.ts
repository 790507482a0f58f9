// Runs ip and nft with their batch input on stdin: one process per batch, never one per command.
import { spawn } from 'node:child_process';
import { NetworkError } from './network.types';

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs a command to completion; resolves whatever the exit code, so callers decide what failure means. */
export function runCommand(command: string, args: readonly string[], input = ''): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new NetworkError(
          error.code === 'ENOENT'
            ? `${command} is not installed: install iproute2 and nftables (scripts/setup.sh does)`
            : `cannot run ${command}: ${error.message}`,
        ),
      );
    });
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
    throw new NetworkError(
      `${step} failed: ${command} ${args.join(' ')} said: ${result.stderr.trim() || `exit ${result.exitCode}`}`,
    );
  }
  return result.stdout;
}
