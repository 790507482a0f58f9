// Reading, merging and writing kubeconfig files the way kubectl does: --kubeconfig names one file;
// otherwise KUBECONFIG lists several (first definition of a name wins, missing files are ignored);
// otherwise Flotilla's own $FLOTILLA_HOME/kubeconfig, which `flotilla up` writes.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import type {
  ConnectionConfig,
  Kubeconfig,
  KubeconfigCluster,
  KubeconfigContext,
  KubeconfigUser,
  NamedCluster,
  NamedContext,
  NamedUser,
} from './kubeconfig.types';

/** A kubeconfig problem the user can fix; the message says how. */
export class KubeconfigError extends Error {
  override readonly name = 'KubeconfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

export function flotillaHome(env: Env = process.env): string {
  const configured = env['FLOTILLA_HOME'];
  return configured && configured !== '' ? resolve(configured) : join(homedir(), '.flotilla');
}

export function defaultKubeconfigPath(env: Env = process.env): string {
  return join(flotillaHome(env), 'kubeconfig');
}

export interface KubeconfigSource {
  /** --kubeconfig: exactly this file, which must exist. */
  readonly explicitPath?: string;
  readonly env?: Env;
}

export interface KubeconfigFiles {
  readonly files: readonly string[];
  /** How the list was chosen, for error messages. */
  readonly origin: 'flag' | 'KUBECONFIG' | 'default';
}

export function kubeconfigFiles(source: KubeconfigSource = {}): KubeconfigFiles {
  const env = source.env ?? process.env;
  if (source.explicitPath !== undefined && source.explicitPath !== '') {
    return { files: [resolve(source.explicitPath)], origin: 'flag' };
  }
  const listed = (env['KUBECONFIG'] ?? '').split(delimiter).filter((file) => file !== '');
  if (listed.length > 0) return { files: listed.map((file) => resolve(file)), origin: 'KUBECONFIG' };
  return { files: [defaultKubeconfigPath(env)], origin: 'default' };
}

export function emptyKubeconfig(): Kubeconfig {
  return { apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [], preferences: {} };
}

/** Parses one kubeconfig document; `file` only labels errors. */
export function parseKubeconfig(text: string, file: string): Kubeconfig {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new KubeconfigError(`${file} is not valid YAML: ${errorMessage(error)}`);
  }
  if (document === null || document === undefined) return emptyKubeconfig();
  if (!isRecord(document))
    throw new KubeconfigError(`${file} is not a kubeconfig: expected a mapping at the top`);
  const kind = document['kind'];
  if (kind !== undefined && kind !== 'Config') {
    throw new KubeconfigError(`${file} is not a kubeconfig: kind is ${String(kind)}, expected Config`);
  }
  const config = emptyKubeconfig();
  config.clusters = namedEntries(document, 'clusters', 'cluster', file).map(([name, value]) => ({
    name,
    cluster: parseCluster(value, `${file}: cluster "${name}"`),
  }));
  config.users = namedEntries(document, 'users', 'user', file).map(([name, value]) => ({
    name,
    user: parseUser(value, `${file}: user "${name}"`),
  }));
  config.contexts = namedEntries(document, 'contexts', 'context', file).map(([name, value]) => ({
    name,
    context: parseContext(value, `${file}: context "${name}"`),
  }));
  const current = document['current-context'];
  if (typeof current === 'string' && current !== '') config['current-context'] = current;
  const preferences = document['preferences'];
  if (isRecord(preferences)) config.preferences = preferences;
  return config;
}

export function serializeKubeconfig(config: Kubeconfig): string {
  return stringify(config, { lineWidth: 0 });
}

/** Reads one file; a missing file is an empty config. */
export function readKubeconfigFile(file: string): Kubeconfig {
  if (!existsSync(file)) return emptyKubeconfig();
  return parseKubeconfig(readFileSync(file, 'utf8'), file);
}

/** Writes atomically with mode 0600: the file holds credentials. */
export function writeKubeconfigFile(file: string, config: Kubeconfig): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, serializeKubeconfig(config), { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

export interface LoadedKubeconfig {
  /** The merged view, with relative file references made absolute against their own file. */
  readonly config: Kubeconfig;
  readonly files: KubeconfigFiles;
  /** Which file each context and the current-context came from, so edits go back where they belong. */
  readonly contextOrigins: ReadonlyMap<string, string>;
  readonly clusterOrigins: ReadonlyMap<string, string>;
  readonly userOrigins: ReadonlyMap<string, string>;
  readonly currentContextOrigin?: string;
}

export function loadKubeconfig(source: KubeconfigSource = {}): LoadedKubeconfig {
  const files = kubeconfigFiles(source);
  if (files.origin === 'flag' && !existsSync(files.files[0] ?? '')) {
    throw new KubeconfigError(
      `the kubeconfig ${files.files[0] ?? ''} given with --kubeconfig does not exist: check the path, or run \`flotilla up\` to create a local cluster and its kubeconfig`,
    );
  }
  const merged = emptyKubeconfig();
  const contextOrigins = new Map<string, string>();
  const clusterOrigins = new Map<string, string>();
  const userOrigins = new Map<string, string>();
  let currentContextOrigin: string | undefined;
  for (const file of files.files) {
    const single = absolutizePaths(readKubeconfigFile(file), dirname(file));
    mergeNamed(merged.clusters, single.clusters, clusterOrigins, file);
    mergeNamed(merged.users, single.users, userOrigins, file);
    mergeNamed(merged.contexts, single.contexts, contextOrigins, file);
    if (merged['current-context'] === undefined && single['current-context'] !== undefined) {
      merged['current-context'] = single['current-context'];
      currentContextOrigin = file;
    }
  }
  return { config: merged, files, contextOrigins, clusterOrigins, userOrigins, currentContextOrigin };
}

export interface ConnectionOverrides {
  /** --context */
  readonly context?: string;
  /** -n/--namespace: wins over the context's namespace. */
  readonly namespace?: string;
}

/** Turns the chosen context into connection settings, reading referenced files. */
export function resolveConnection(
  loaded: LoadedKubeconfig,
  overrides: ConnectionOverrides = {},
): ConnectionConfig {
  const { config } = loaded;
  const where = describeFiles(loaded.files);
  const contextName = overrides.context ?? config['current-context'];
  if (contextName === undefined) {
    if (config.contexts.length === 0) {
      throw new KubeconfigError(
        `no kubeconfig found (${where}): run \`flotilla up\` to start a local cluster, or pass --kubeconfig FILE`,
      );
    }
    throw new KubeconfigError(
      `no current context in ${where}: run \`flotilla config use-context NAME\` (contexts: ${config.contexts
        .map((c) => c.name)
        .join(', ')}) or pass --context NAME`,
    );
  }
  const context = config.contexts.find((c) => c.name === contextName)?.context;
  if (!context) {
    throw new KubeconfigError(
      `context "${contextName}" is not in ${where}: see \`flotilla config get-contexts\` for the ones that are`,
    );
  }
  const cluster = config.clusters.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster) {
    throw new KubeconfigError(
      `context "${contextName}" names cluster "${context.cluster}", which is not in ${where}: fix the context or add the cluster`,
    );
  }
  const user: KubeconfigUser = config.users.find((u) => u.name === context.user)?.user ?? {};
  const namespace =
    overrides.namespace !== undefined && overrides.namespace !== ''
      ? overrides.namespace
      : (context.namespace ?? 'default');
  return {
    server: cluster.server.replace(/\/+$/, ''),
    ca: dataOrFile(
      cluster['certificate-authority-data'],
      cluster['certificate-authority'],
      'certificate-authority',
    ),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true ? true : undefined,
    tlsServerName: cluster['tls-server-name'],
    token:
      user.token ??
      (user.tokenFile ? readReferencedFile(user.tokenFile, 'tokenFile').toString('utf8').trim() : undefined),
    clientCertificate: dataOrFile(
      user['client-certificate-data'],
      user['client-certificate'],
      'client-certificate',
    ),
    clientKey: dataOrFile(user['client-key-data'], user['client-key'], 'client-key'),
    namespace,
    contextName,
  };
}

/** Adds or replaces entries by name, keeping the order of the others. */
export function upsertCluster(config: Kubeconfig, entry: NamedCluster): Kubeconfig {
  return { ...config, clusters: upsertNamed(config.clusters, entry) };
}

export function upsertUser(config: Kubeconfig, entry: NamedUser): Kubeconfig {
  return { ...config, users: upsertNamed(config.users, entry) };
}

export function upsertContext(config: Kubeconfig, entry: NamedContext): Kubeconfig {
  return { ...config, contexts: upsertNamed(config.contexts, entry) };
}

/** The file an edit to `contextName` (or to current-context) should go to, as kubectl chooses it. */
export function kubeconfigFileForEdit(
  loaded: LoadedKubeconfig,
  target: { readonly context: string } | 'current-context',
): string {
  const origin =
    target === 'current-context' ? loaded.currentContextOrigin : loaded.contextOrigins.get(target.context);
  const first = loaded.files.files[0];
  if (origin !== undefined) return origin;
  if (first === undefined)
    throw new KubeconfigError('no kubeconfig file to write to: pass --kubeconfig FILE');
  return first;
}

function describeFiles(files: KubeconfigFiles): string {
  const list = files.files.join(delimiter);
  switch (files.origin) {
    case 'flag':
      return list;
    case 'KUBECONFIG':
      return `KUBECONFIG=${list}`;
    case 'default':
      return list;
  }
}

function dataOrFile(data: string | undefined, file: string | undefined, field: string): Buffer | undefined {
  if (data !== undefined && data !== '') return Buffer.from(data, 'base64');
  if (file !== undefined && file !== '') return readReferencedFile(file, field);
  return undefined;
}

function readReferencedFile(file: string, field: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new KubeconfigError(`cannot read ${field} file ${file}: ${errorMessage(error)}`);
  }
}

function absolutizePaths(config: Kubeconfig, base: string): Kubeconfig {
  const absolute = (path: string | undefined): string | undefined =>
    path === undefined || path === '' || isAbsolute(path) ? path : resolve(base, path);
  return {
    ...config,
    clusters: config.clusters.map(({ name, cluster }) => ({
      name,
      cluster: withDefined({
        ...cluster,
        'certificate-authority': absolute(cluster['certificate-authority']),
      }),
    })),
    users: config.users.map(({ name, user }) => ({
      name,
      user: withDefined({
        ...user,
        tokenFile: absolute(user.tokenFile),
        'client-certificate': absolute(user['client-certificate']),
        'client-key': absolute(user['client-key']),
      }),
    })),
  };
}

function withDefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function mergeNamed<T extends { name: string }>(
  into: T[],
  from: readonly T[],
  origins: Map<string, string>,
  file: string,
): void {
  for (const entry of from) {
    if (origins.has(entry.name)) continue;
    origins.set(entry.name, file);
    into.push(entry);
  }
}

function upsertNamed<T extends { name: string }>(list: readonly T[], entry: T): T[] {
  const index = list.findIndex((existing) => existing.name === entry.name);
  if (index === -1) return [...list, entry];
  return list.map((existing, i) => (i === index ? entry : existing));
}

function namedEntries(
  document: Record<string, unknown>,
  listField: string,
  itemField: string,
  file: string,
): Array<[string, Record<string, unknown>]> {
  const list = document[listField];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new KubeconfigError(`${file}: ${listField} must be a list`);
  return list.map((item: unknown, index) => {
    if (!isRecord(item) || typeof item['name'] !== 'string' || item['name'] === '') {
      throw new KubeconfigError(`${file}: ${listField}[${index}] needs a name`);
    }
    const value = item[itemField];
    if (!isRecord(value)) {
      throw new KubeconfigError(
        `${file}: ${listField}[${index}] ("${item['name']}") needs a ${itemField} mapping`,
      );
    }
    return [item['name'], value];
  });
}

function parseCluster(value: Record<string, unknown>, where: string): KubeconfigCluster {
  const server = value['server'];
  if (typeof server !== 'string' || server === '') throw new KubeconfigError(`${where} has no server URL`);
  try {
    const url = new URL(server);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    throw new KubeconfigError(
      `${where}: server "${server}" is not an http(s) URL such as https://127.0.0.1:6443`,
    );
  }
  return withDefined({
    server,
    'certificate-authority': optionalString(value, 'certificate-authority', where),
    'certificate-authority-data': optionalString(value, 'certificate-authority-data', where),
    'insecure-skip-tls-verify': optionalBoolean(value, 'insecure-skip-tls-verify', where),
    'tls-server-name': optionalString(value, 'tls-server-name', where),
  });
}

function parseUser(value: Record<string, unknown>, where: string): KubeconfigUser {
  return withDefined({
    token: optionalString(value, 'token', where),
    tokenFile: optionalString(value, 'tokenFile', where),
    'client-certificate': optionalString(value, 'client-certificate', where),
    'client-certificate-data': optionalString(value, 'client-certificate-data', where),
    'client-key': optionalString(value, 'client-key', where),
    'client-key-data': optionalString(value, 'client-key-data', where),
  });
}

function parseContext(value: Record<string, unknown>, where: string): KubeconfigContext {
  const cluster = value['cluster'];
  const user = value['user'];
  if (typeof cluster !== 'string' || cluster === '') throw new KubeconfigError(`${where} names no cluster`);
  return withDefined({
    cluster,
    user: typeof user === 'string' ? user : '',
    namespace: optionalString(value, 'namespace', where),
  });
}

function optionalString(value: Record<string, unknown>, field: string, where: string): string | undefined {
  const found = value[field];
  if (found === undefined || found === null) return undefined;
  if (typeof found !== 'string') throw new KubeconfigError(`${where}: ${field} must be a string`);
  return found;
}

function optionalBoolean(value: Record<string, unknown>, field: string, where: string): boolean | undefined {
  const found = value[field];
  if (found === undefined || found === null) return undefined;
  if (typeof found !== 'boolean') throw new KubeconfigError(`${where}: ${field} must be true or false`);
  return found;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
