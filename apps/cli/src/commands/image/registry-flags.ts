// Registry access for pull, push and build: credentials from flags, then FLOTILLA_REGISTRY_USERNAME /
// FLOTILLA_REGISTRY_PASSWORD, then Docker's config.json; plain-HTTP registries named explicitly.
import type { Command } from 'commander';
import { dockerConfigCredentials, RegistryClient, type CredentialSource } from '@flotilla/runtime';
import { CliError, EXIT_USAGE, type CliContext } from '../../cli-context';

export interface RegistryFlags {
  username?: string;
  password?: string;
  insecureRegistry?: string[];
}

export function addRegistryFlags(command: Command): Command {
  return command
    .option(
      '--username <name>',
      'registry user (or FLOTILLA_REGISTRY_USERNAME; default: docker login credentials)',
    )
    .option('--password <password>', 'registry password (or FLOTILLA_REGISTRY_PASSWORD)')
    .option(
      '--insecure-registry <host:port>',
      'talk plain HTTP to this registry (loopback always is)',
      collect,
      [],
    );
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registryClient(context: CliContext, flags: RegistryFlags): RegistryClient {
  const username = flags.username ?? context.io.env['FLOTILLA_REGISTRY_USERNAME'];
  const password = flags.password ?? context.io.env['FLOTILLA_REGISTRY_PASSWORD'];
  if ((username === undefined) !== (password === undefined)) {
    throw new CliError(
      'give both --username and --password (or neither, to use docker login credentials)',
      EXIT_USAGE,
    );
  }
  const fromDocker = dockerConfigCredentials();
  const credentials: CredentialSource =
    username !== undefined && password !== undefined
      ? () => ({ username, password })
      : (registry) => fromDocker(registry);
  return new RegistryClient({ credentials, insecureRegistries: flags.insecureRegistry ?? [] });
}
