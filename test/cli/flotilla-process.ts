// Runs the real `flotilla` executable (bin/flotilla over the build in dist/) the way users do, and
// refuses to test a build that is older than its sources.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const LAUNCHER = join(ROOT, 'bin', 'flotilla');

export interface FlotillaResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface FlotillaProcess {
  stdout(): string;
  stderr(): string;
  /** Ctrl-C: the CLI stops watching and exits 0. */
  interrupt(): void;
  /** False once the process has exited. */
  running(): boolean;
  readonly done: Promise<FlotillaResult>;
}

export interface FlotillaOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly stdin?: string;
}

/** Fails with what to do when dist/ lacks the CLI or holds an older build of it. */
export function requireFreshBuild(): void {
  const stale: string[] = [];
  // tsc -b leaves the outputs of unchanged sources alone, so a source touched without a change (a
  // git checkout) counts as built when a whole build ran after it.
  const buildInfo = join(ROOT, 'dist', '.tsbuildinfo');
  const builtAt = existsSync(buildInfo) ? statSync(buildInfo).mtimeMs : 0;
  for (const dir of ['apps/cli/src', 'libs/client/src']) {
    for (const source of typeScriptSources(join(ROOT, dir))) {
      const output = join(ROOT, 'dist', relative(ROOT, source)).replace(/\.ts$/, '.js');
      const changedAt = statSync(source).mtimeMs;
      if (!existsSync(output) || (statSync(output).mtimeMs < changedAt && builtAt < changedAt)) {
        stale.push(relative(ROOT, source));
      }
    }
  }
  if (stale.length > 0) {
    throw new Error(
      `the CLI build in dist/ is missing or older than ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ' and others' : ''}: run \`npm run build\` (npm test builds first)`,
    );
  }
}

export function startFlotilla(args: readonly string[], options: FlotillaOptions): FlotillaProcess {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/root',
    ...options.env,
  };
  // `--` as bin/flotilla's own #! line has it: node reads no option of ours (see there).
  const child = spawn(process.execPath, ['--', LAUNCHER, ...args], {
    cwd: options.cwd,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  child.stdin.end(options.stdin ?? '');
  const done = new Promise<FlotillaResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    interrupt: () => child.kill('SIGINT'),
    running: () => !exited,
    done,
  };
}

export function runFlotilla(args: readonly string[], options: FlotillaOptions): Promise<FlotillaResult> {
  return startFlotilla(args, options).done;
}

function typeScriptSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return typeScriptSources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}
