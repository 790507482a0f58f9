// `flotilla version`: this client's version, and the server's when one is reachable.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import type { CliContext } from '../cli-context';

interface ServerVersion {
  readonly gitVersion?: string;
  readonly major?: string;
  readonly minor?: string;
}

export function createVersionCommand(context: CliContext): Command {
  return new Command('version')
    .description("print the client's version and the server's")
    .option('--client', 'only the client version, without contacting a server', false)
    .action(async (flags: { client: boolean }, command: Command) => {
      context.io.write(`Client Version: v${clientVersion()}\n`);
      if (flags.client) return;
      const server = await context
        .client(command)
        .request<ServerVersion>({ method: 'GET', path: '/version' });
      context.io.write(
        `Server Version: ${server.gitVersion ?? `v${server.major ?? '?'}.${server.minor ?? '?'}`}\n`,
      );
    });
}

/** The version of the flotilla package this file ships in, found by walking up from here. */
export function clientVersion(): string {
  let directory = __dirname;
  for (;;) {
    const candidate = join(directory, 'package.json');
    if (existsSync(candidate)) {
      const parsed = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (parsed.name === 'flotilla' && parsed.version) return parsed.version;
    }
    const parent = dirname(directory);
    if (parent === directory) return 'unknown';
    directory = parent;
  }
}
