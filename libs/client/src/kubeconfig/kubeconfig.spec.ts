import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  KubeconfigError,
  defaultKubeconfigPath,
  emptyKubeconfig,
  kubeconfigFileForEdit,
  loadKubeconfig,
  parseKubeconfig,
  readKubeconfigFile,
  resolveConnection,
  upsertCluster,
  upsertContext,
  upsertUser,
  writeKubeconfigFile,
} from './kubeconfig';

const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function kubeconfigText(options: {
  context: string;
  server: string;
  current?: string;
  namespace?: string;
}): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${options.context}`,
    '  cluster:',
    `    server: ${options.server}`,
    `    certificate-authority-data: ${Buffer.from(CA_PEM).toString('base64')}`,
    'users:',
    `- name: ${options.context}-admin`,
    '  user:',
    `    token: token-of-${options.context}`,
    'contexts:',
    `- name: ${options.context}`,
    '  context:',
    `    cluster: ${options.context}`,
    `    user: ${options.context}-admin`,
    ...(options.namespace ? [`    namespace: ${options.namespace}`] : []),
    ...(options.current ? [`current-context: ${options.current}`] : []),
    '',
  ].join('\n');
}

describe('kubeconfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-kubeconfig-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves the current context into server, CA, token and namespace', () => {
    const file = join(dir, 'config');
    writeFileSync(
      file,
      kubeconfigText({ context: 'one', server: 'https://127.0.0.1:6443/', current: 'one', namespace: 'web' }),
    );
    const connection = resolveConnection(loadKubeconfig({ explicitPath: file, env: {} }));
    expect(connection).toMatchObject({
      server: 'https://127.0.0.1:6443',
      token: 'token-of-one',
      namespace: 'web',
      contextName: 'one',
    });
    expect(connection.ca?.toString('utf8')).toBe(CA_PEM);
  });

  it('lets --context and --namespace override the file', () => {
    const file = join(dir, 'config');
    writeFileSync(file, kubeconfigText({ context: 'one', server: 'https://a:1', current: 'one' }));
    const loaded = loadKubeconfig({ explicitPath: file, env: {} });
    expect(resolveConnection(loaded).namespace).toBe('default');
    expect(resolveConnection(loaded, { namespace: 'other' }).namespace).toBe('other');
    expect(() => resolveConnection(loaded, { context: 'missing' })).toThrow('context "missing" is not in');
  });

  it('merges KUBECONFIG files with the first definition winning and ignores missing files', () => {
    const first = join(dir, 'first');
    const second = join(dir, 'second');
    writeFileSync(first, kubeconfigText({ context: 'shared', server: 'https://first:1' }));
    writeFileSync(
      second,
      kubeconfigText({ context: 'shared', server: 'https://second:1', current: 'shared' }) + '',
    );
    const loaded = loadKubeconfig({
      env: { KUBECONFIG: [first, join(dir, 'absent'), second].join(delimiter) },
    });
    expect(loaded.files.origin).toBe('KUBECONFIG');
    // current-context only exists in the second file; the cluster of the same name comes from the first.
    expect(resolveConnection(loaded).server).toBe('https://first:1');
    expect(loaded.currentContextOrigin).toBe(second);
    expect(kubeconfigFileForEdit(loaded, 'current-context')).toBe(second);
    expect(kubeconfigFileForEdit(loaded, { context: 'shared' })).toBe(first);
    expect(kubeconfigFileForEdit(loaded, { context: 'new' })).toBe(first);
    expect(loaded.clusterOrigins.get('shared')).toBe(first);
    expect(loaded.userOrigins.get('shared-admin')).toBe(first);
  });

  it('falls back to $FLOTILLA_HOME/kubeconfig and says to run `flotilla up` when there is none', () => {
    const env = { FLOTILLA_HOME: dir };
    expect(defaultKubeconfigPath(env)).toBe(join(dir, 'kubeconfig'));
    const loaded = loadKubeconfig({ env });
    expect(loaded.files).toEqual({ files: [join(dir, 'kubeconfig')], origin: 'default' });
    expect(() => resolveConnection(loaded)).toThrow(/run `flotilla up`.*--kubeconfig/);
  });

  it('refuses a --kubeconfig that does not exist, saying what to do', () => {
    expect(() => loadKubeconfig({ explicitPath: join(dir, 'nope'), env: {} })).toThrow(
      /does not exist: check the path, or run `flotilla up`/,
    );
  });

  it('reads certificate-authority and tokenFile relative to the kubeconfig file', () => {
    writeFileSync(join(dir, 'ca.crt'), CA_PEM);
    writeFileSync(join(dir, 'token'), 'from-file\n');
    const file = join(dir, 'config');
    writeFileSync(
      file,
      [
        'clusters: [{name: c, cluster: {server: "https://h:1", certificate-authority: ca.crt}}]',
        'users: [{name: u, user: {tokenFile: ./token}}]',
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
      ].join('\n'),
    );
    const connection = resolveConnection(loadKubeconfig({ explicitPath: file, env: {} }));
    expect(connection.ca?.toString('utf8')).toBe(CA_PEM);
    expect(connection.token).toBe('from-file');
  });

  it('rejects malformed files with the file and the problem', () => {
    expect(() => parseKubeconfig('clusters: {}', '/x/config')).toThrow(
      new KubeconfigError('/x/config: clusters must be a list'),
    );
    expect(() => parseKubeconfig('clusters: [{name: c, cluster: {server: "ftp://h"}}]', '/x/config')).toThrow(
      /not an http\(s\) URL/,
    );
    expect(() => parseKubeconfig('kind: Pod', '/x/config')).toThrow(/kind is Pod, expected Config/);
    expect(() => parseKubeconfig('a: [', '/x/config')).toThrow(/\/x\/config is not valid YAML/);
  });

  it('writes a file kubectl reads back the same, with mode 0600, replacing entries by name', () => {
    const file = join(dir, 'nested', 'kubeconfig');
    let config = emptyKubeconfig();
    config = upsertCluster(config, { name: 'flotilla', cluster: { server: 'https://127.0.0.1:1' } });
    config = upsertCluster(config, { name: 'flotilla', cluster: { server: 'https://127.0.0.1:2' } });
    config = upsertUser(config, { name: 'admin', user: { token: 't' } });
    config = upsertContext(config, { name: 'flotilla', context: { cluster: 'flotilla', user: 'admin' } });
    config['current-context'] = 'flotilla';
    writeKubeconfigFile(file, config);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain('current-context: flotilla');
    const read = readKubeconfigFile(file);
    expect(read).toEqual(config);
    expect(read.clusters).toHaveLength(1);
    expect(read.clusters[0]?.cluster.server).toBe('https://127.0.0.1:2');
  });
});
