// `flotilla config`: read and edit kubeconfig files with kubectl's verbs and wording. Edits go to
// the file that defines what is edited, as kubectl does when KUBECONFIG lists several.
import { Command } from 'commander';
import {
  kubeconfigFileForEdit,
  loadKubeconfig,
  readKubeconfigFile,
  serializeKubeconfig,
  upsertContext,
  writeKubeconfigFile,
  type Kubeconfig,
  type KubeconfigContext,
  type LoadedKubeconfig,
} from '@flotilla/client';
import { CliError, EXIT_USAGE, globalOptions, type CliContext } from '../cli-context';
import { renderTable } from '@flotilla/printers';

export function createConfigCommand(context: CliContext): Command {
  const load = (command: Command): LoadedKubeconfig =>
    loadKubeconfig({ explicitPath: globalOptions(command).kubeconfig, env: context.io.env });

  const config = new Command('config').description('show and edit kubeconfig files');

  config
    .command('view')
    .description('print the merged kubeconfig (credentials hidden unless --raw)')
    .option('--minify', 'only what the current context uses', false)
    .option('--raw', 'show certificates and tokens', false)
    .action((flags: { minify: boolean; raw: boolean }, command: Command) => {
      const loaded = load(command);
      let view = loaded.config;
      if (flags.minify) view = minify(view, globalOptions(command).context ?? view['current-context']);
      if (!flags.raw) view = redact(view);
      context.io.write(serializeKubeconfig(view));
    });

  config
    .command('get-contexts')
    .description('list contexts, marking the current one')
    .argument('[name]', 'show only this context')
    .option('--no-headers', 'leave out the header line')
    .action((name: string | undefined, flags: { headers: boolean }, command: Command) => {
      const { config: merged } = load(command);
      const contexts = merged.contexts.filter((c) => name === undefined || c.name === name);
      if (name !== undefined && contexts.length === 0) throw new CliError(`context ${name} not found`);
      const table = {
        headers: ['CURRENT', 'NAME', 'CLUSTER', 'AUTHINFO', 'NAMESPACE'],
        rows: contexts.map((c) => [
          c.name === merged['current-context'] ? '*' : '',
          c.name,
          c.context.cluster,
          c.context.user,
          c.context.namespace ?? '',
        ]),
      };
      context.io.write(renderTable(table, { noHeaders: !flags.headers }));
    });

  config
    .command('current-context')
    .description('print the current context')
    .action((_flags: unknown, command: Command) => {
      const current = load(command).config['current-context'];
      if (current === undefined) {
        throw new CliError(
          'current-context is not set: run `flotilla config use-context NAME` or `flotilla up`',
        );
      }
      context.io.write(`${current}\n`);
    });

  config
    .command('use-context')
    .description('make a context the current one')
    .argument('<name>', 'the context to switch to')
    .action((name: string, _flags: unknown, command: Command) => {
      const loaded = load(command);
      if (!loaded.config.contexts.some((c) => c.name === name)) {
        const known = loaded.config.contexts.map((c) => c.name).join(', ') || 'none';
        throw new CliError(`no context exists with the name: "${name}" (contexts: ${known})`);
      }
      const file = kubeconfigFileForEdit(loaded, 'current-context');
      writeKubeconfigFile(file, { ...readKubeconfigFile(file), 'current-context': name });
      context.io.write(`Switched to context "${name}".\n`);
    });

  config
    .command('set-context')
    .description('create or change a context (-n/--namespace sets its default namespace)')
    .argument('[name]', 'the context to set (or --current)')
    .option('--current', 'change the current context', false)
    .option('--cluster <name>', 'the cluster entry the context uses')
    .option('--user <name>', 'the user entry the context uses')
    .action(
      (
        name: string | undefined,
        flags: { current: boolean; cluster?: string; user?: string },
        command: Command,
      ) => {
        const loaded = load(command);
        // -n/--namespace is the program-wide option, so it arrives through the globals.
        const namespace = globalOptions(command).namespace;
        const target = flags.current ? loaded.config['current-context'] : name;
        if (flags.current && name !== undefined) {
          throw new CliError('give either a context name or --current, not both', EXIT_USAGE);
        }
        if (target === undefined) {
          throw new CliError(
            flags.current
              ? 'there is no current context to change: name one'
              : 'say which context to set, or pass --current',
            EXIT_USAGE,
          );
        }
        const file = kubeconfigFileForEdit(loaded, { context: target });
        const onDisk = readKubeconfigFile(file);
        const existing = onDisk.contexts.find((c) => c.name === target)?.context;
        const merged: KubeconfigContext = {
          cluster: flags.cluster ?? existing?.cluster ?? '',
          user: flags.user ?? existing?.user ?? '',
          ...((namespace ?? existing?.namespace) !== undefined
            ? { namespace: namespace ?? existing?.namespace }
            : {}),
        };
        writeKubeconfigFile(file, upsertContext(onDisk, { name: target, context: merged }));
        context.io.write(`Context "${target}" ${existing ? 'modified' : 'created'}.\n`);
      },
    );

  return config;
}

function minify(config: Kubeconfig, contextName: string | undefined): Kubeconfig {
  const chosen = config.contexts.find((c) => c.name === contextName);
  if (!chosen)
    throw new CliError('--minify needs a current context: pass --context NAME or set one with use-context');
  return {
    ...config,
    'current-context': chosen.name,
    contexts: [chosen],
    clusters: config.clusters.filter((c) => c.name === chosen.context.cluster),
    users: config.users.filter((u) => u.name === chosen.context.user),
  };
}

function redact(config: Kubeconfig): Kubeconfig {
  return {
    ...config,
    clusters: config.clusters.map(({ name, cluster }) => ({
      name,
      cluster: cluster['certificate-authority-data']
        ? { ...cluster, 'certificate-authority-data': 'DATA+OMITTED' }
        : cluster,
    })),
    users: config.users.map(({ name, user }) => ({
      name,
      user: {
        ...user,
        ...(user.token ? { token: 'REDACTED' } : {}),
        ...(user['client-certificate-data'] ? { 'client-certificate-data': 'DATA+OMITTED' } : {}),
        ...(user['client-key-data'] ? { 'client-key-data': 'DATA+OMITTED' } : {}),
      },
    })),
  };
}
