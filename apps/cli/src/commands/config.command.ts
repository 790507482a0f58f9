// `flotilla config`: read and edit kubeconfig files with kubectl's verbs and wording. Edits go to
// the file that defines what is edited, as kubectl does when KUBECONFIG lists several.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import {
  kubeconfigFileForEdit,
  loadKubeconfig,
  readKubeconfigFile,
  serializeKubeconfig,
  upsertCluster,
  upsertContext,
  upsertUser,
  writeKubeconfigFile,
  type Kubeconfig,
  type KubeconfigCluster,
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

  config
    .command('set-cluster')
    .description('create or change a cluster entry (server and CA)')
    .argument('<name>', 'the cluster entry')
    .option('--server <url>', 'the apiserver URL, e.g. https://10.0.0.1:6443')
    .option('--certificate-authority <file>', 'PEM file of the CA that signed the server certificate')
    .option('--embed-certs', 'store the CA in the kubeconfig instead of referring to the file', false)
    .option('--insecure-skip-tls-verify', 'do not verify the server certificate (tests only)', false)
    .action(
      (
        name: string,
        flags: {
          server?: string;
          certificateAuthority?: string;
          embedCerts: boolean;
          insecureSkipTlsVerify: boolean;
        },
        command: Command,
      ) => {
        const loaded = load(command);
        const file = loaded.clusterOrigins.get(name) ?? kubeconfigFileForEdit(loaded, { context: name });
        const onDisk = readKubeconfigFile(file);
        const existing = onDisk.clusters.find((c) => c.name === name)?.cluster;
        const server = flags.server ?? existing?.server;
        if (server === undefined)
          throw new CliError(`cluster "${name}" is new: give its --server URL`, EXIT_USAGE);
        const cluster: KubeconfigCluster = { ...existing, server };
        if (flags.certificateAuthority !== undefined) {
          const path = resolve(context.io.cwd, flags.certificateAuthority);
          if (!existsSync(path)) throw new CliError(`the CA file ${path} does not exist`, EXIT_USAGE);
          delete cluster['certificate-authority'];
          delete cluster['certificate-authority-data'];
          if (flags.embedCerts) cluster['certificate-authority-data'] = readFileSync(path).toString('base64');
          else cluster['certificate-authority'] = path;
        }
        if (flags.insecureSkipTlsVerify) cluster['insecure-skip-tls-verify'] = true;
        writeKubeconfigFile(file, upsertCluster(onDisk, { name, cluster }));
        context.io.write(`Cluster "${name}" set.\n`);
      },
    );

  config
    .command('set-credentials')
    .description('create or change a user entry (bearer token)')
    .argument('<name>', 'the user entry')
    .option('--token <token>', 'the bearer token to send')
    .action((name: string, flags: { token?: string }, command: Command) => {
      if (flags.token === undefined) throw new CliError('give the user a --token', EXIT_USAGE);
      const loaded = load(command);
      const file = loaded.userOrigins.get(name) ?? kubeconfigFileForEdit(loaded, { context: name });
      const onDisk = readKubeconfigFile(file);
      const existing = onDisk.users.find((u) => u.name === name)?.user;
      writeKubeconfigFile(file, upsertUser(onDisk, { name, user: { ...existing, token: flags.token } }));
      context.io.write(`User "${name}" set.\n`);
    });

  config
    .command('delete-context')
    .description('remove a context (its cluster and user entries stay)')
    .argument('<name>', 'the context to remove')
    .action((name: string, _flags: unknown, command: Command) => {
      const loaded = load(command);
      const file = loaded.contextOrigins.get(name);
      if (file === undefined)
        throw new CliError(`cannot delete context ${name}, not in ${loaded.files.files.join(', ')}`);
      const onDisk = readKubeconfigFile(file);
      const current = onDisk['current-context'] === name;
      writeKubeconfigFile(file, {
        ...onDisk,
        contexts: onDisk.contexts.filter((c) => c.name !== name),
        ...(current ? { 'current-context': undefined } : {}),
      });
      context.io.write(`deleted context ${name} from ${file}\n`);
      if (current)
        context.io.writeError(
          `warning: this removed your active context, use "flotilla config use-context" to select a different one\n`,
        );
    });

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
