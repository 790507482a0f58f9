// What every command shares: where output goes, how to reach the cluster, and how failures become
// exit codes (0 ok, 1 failure or diff found, 2 usage).
import type { Command } from 'commander';
import { parseGoDurationMs } from '@flotilla/api';
import { ApiError, ConnectionError, KubeconfigError, RestClient, createClient } from '@flotilla/client';
import { ManifestError } from './manifests/manifest-reader';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  write(text: string): void;
  writeError(text: string): void;
  readStdin(): Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Aborts on Ctrl-C, so `get -w` and `wait` stop cleanly. */
  readonly signal: AbortSignal;
  now(): Date;
}

/** A failure already phrased for the user; exitCode 2 marks misuse of the command line. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}

export interface GlobalOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespace?: string;
}

export class CliContext {
  exitCode = EXIT_OK;
  private readonly clients: RestClient[] = [];

  constructor(readonly io: CliIo) {}

  /** A client for the kubeconfig, context and namespace given on this command line. */
  client(command: Command): RestClient {
    const options = globalOptions(command);
    const client = createClient({
      kubeconfig: options.kubeconfig,
      context: options.context,
      namespace: options.namespace,
      env: this.io.env,
      userAgent: 'flotilla-cli',
    });
    this.clients.push(client);
    return client;
  }

  /** Prints a failure without stopping the command (kubectl carries on with the next object). */
  reportError(error: unknown): void {
    this.io.writeError(`${describeError(error)}\n`);
    this.exitCode = Math.max(this.exitCode, EXIT_FAILURE);
  }

  close(): void {
    for (const client of this.clients.splice(0)) client.close();
  }
}

export function globalOptions(command: Command): GlobalOptions {
  const options = command.optsWithGlobals<Record<string, unknown>>();
  const text = (key: string): string | undefined => {
    const value = options[key];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  return { kubeconfig: text('kubeconfig'), context: text('context'), namespace: text('namespace') };
}

/** One line (or a few) that says what went wrong, in kubectl's wording where kubectl has one. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const causes = error.causes
      .filter((cause) => cause.message !== undefined && !error.message.includes(cause.message))
      .map((cause) => `\n  ${cause.field ? `${cause.field}: ` : ''}${cause.message ?? ''}`)
      .join('');
    return `Error from server (${error.reason ?? error.code}): ${error.message}${causes}`;
  }
  if (
    error instanceof CliError ||
    error instanceof KubeconfigError ||
    error instanceof ManifestError ||
    error instanceof ConnectionError
  ) {
    return `error: ${error.message}`;
  }
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}

/** Parses kubectl-style durations: "30s", "2m", "1h30m", "500ms", or bare seconds. */
export function parseDuration(text: string, flag: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const ms = parseGoDurationMs(text);
  if (ms === undefined) {
    throw new CliError(`${flag} "${text}" is not a duration: use forms like 30s, 5m or 1h`, EXIT_USAGE);
  }
  return ms;
}
