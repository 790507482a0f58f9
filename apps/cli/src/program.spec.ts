import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_USAGE } from './cli-context';
import { runCli } from './program';
import { capturedIo } from './testing/captured-io';

// Everything here stops before any request: kubeconfig handling, usage errors, manifest errors.
describe('flotilla without a server', () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'flotilla-cli-'));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  const run = async (args: string[], stdin?: string) => {
    const io = capturedIo({ env: { FLOTILLA_HOME: home }, cwd: home, stdin });
    const code = await runCli(args, io);
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  };

  const writeConfig = (): string => {
    const file = join(home, 'kubeconfig');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- {name: local, cluster: {server: "https://127.0.0.1:1", certificate-authority-data: QUJD}}',
        '- {name: other, cluster: {server: "https://127.0.0.1:2"}}',
        'users:',
        '- {name: admin, user: {token: secret-token}}',
        'contexts:',
        '- {name: local, context: {cluster: local, user: admin}}',
        '- {name: other, context: {cluster: other, user: admin, namespace: shop}}',
        'current-context: local',
        '',
      ].join('\n'),
    );
    return file;
  };

  it('tells the user to run `flotilla up` when there is no kubeconfig', async () => {
    const result = await run(['get', 'pods']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: no kubeconfig found .*run `flotilla up`.*--kubeconfig FILE\n$/);
  });

  it('exits 2 for usage errors: unknown command, bad flag values, missing arguments', async () => {
    expect((await run(['frobnicate'])).code).toBe(EXIT_USAGE);
    const badOutput = await run(['get', 'pods', '-o', 'xml']);
    expect(badOutput.code).toBe(EXIT_USAGE);
    expect(badOutput.stderr).toContain(
      'unknown output format "xml": use wide, yaml, json, name or jsonpath=TEMPLATE',
    );
    expect((await run(['wait', 'deploy/web', '--for=ready'])).code).toBe(EXIT_USAGE);
    const unnamed = await run(['delete', 'pods']);
    expect(unnamed.code).toBe(EXIT_USAGE);
    expect(unnamed.stderr).toContain('give names, -l SELECTOR, or --all');
  });

  it('exits 0 with help', async () => {
    const result = await run(['get', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: flotilla get');
  });

  it('lists, shows and switches contexts, writing back to the file', async () => {
    const file = writeConfig();
    const contexts = await run(['config', 'get-contexts']);
    expect(contexts.stdout).toBe(
      [
        'CURRENT   NAME    CLUSTER   AUTHINFO   NAMESPACE',
        '*         local   local     admin',
        '          other   other     admin      shop',
        '',
      ].join('\n'),
    );
    expect((await run(['config', 'current-context'])).stdout).toBe('local\n');
    expect((await run(['config', 'use-context', 'other'])).stdout).toBe('Switched to context "other".\n');
    expect(readFileSync(file, 'utf8')).toContain('current-context: other');
    const missing = await run(['config', 'use-context', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('error: no context exists with the name: "nope" (contexts: local, other)\n');
  });

  it('sets a context namespace and hides credentials in view unless --raw', async () => {
    writeConfig();
    expect((await run(['config', 'set-context', '--current', '-n', 'web'])).stdout).toBe(
      'Context "local" modified.\n',
    );
    expect(
      (await run(['config', 'set-context', 'new', '--cluster', 'other', '--user', 'admin'])).stdout,
    ).toBe('Context "new" created.\n');
    const view = await run(['config', 'view', '--minify']);
    expect(view.stdout).toContain('namespace: web');
    expect(view.stdout).toContain('certificate-authority-data: DATA+OMITTED');
    expect(view.stdout).toContain('token: REDACTED');
    expect(view.stdout).not.toContain('other');
    expect((await run(['config', 'view', '--raw'])).stdout).toContain('token: secret-token');
  });

  it('builds a kubeconfig for CI from nothing with set-cluster, set-credentials and set-context', async () => {
    writeFileSync(join(home, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const steps = [
      [
        'config',
        'set-cluster',
        'ci',
        '--server',
        'https://10.0.0.1:6443',
        '--certificate-authority',
        'ca.pem',
        '--embed-certs',
      ],
      ['config', 'set-credentials', 'ci-bot', '--token', 'abc123'],
      ['config', 'set-context', 'ci', '--cluster', 'ci', '--user', 'ci-bot', '-n', 'prod'],
      ['config', 'use-context', 'ci'],
    ];
    const outputs: string[] = [];
    for (const step of steps) {
      const result = await run(step);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      outputs.push(result.stdout);
    }
    expect(outputs).toEqual([
      'Cluster "ci" set.\n',
      'User "ci-bot" set.\n',
      'Context "ci" created.\n',
      'Switched to context "ci".\n',
    ]);
    const view = (await run(['config', 'view', '--raw', '--minify'])).stdout;
    expect(view).toContain('server: https://10.0.0.1:6443');
    expect(view).toContain(
      `certificate-authority-data: ${Buffer.from(readFileSync(join(home, 'ca.pem'))).toString('base64')}`,
    );
    expect(view).toContain('token: abc123');
    expect(view).toContain('namespace: prod');

    const deleted = await run(['config', 'delete-context', 'ci']);
    expect(deleted.stdout).toBe(`deleted context ci from ${join(home, 'kubeconfig')}\n`);
    expect(deleted.stderr).toContain('this removed your active context');
    expect((await run(['config', 'current-context'])).code).toBe(1);
  });

  it('reports YAML errors with file, line and column before contacting any server', async () => {
    writeConfig();
    writeFileSync(
      join(home, 'broken.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: a: b\n',
    );
    const result = await run(['apply', '-f', 'broken.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: broken\.yaml:5:11: /);
  });

  it('reads manifests from stdin and names unknown kinds', async () => {
    writeConfig();
    const result = await run(
      ['diff', '-f', '-'],
      'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n',
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('stdin:1: no kind "Widget" is served in version "example.com/v1"');
  });

  it('prints the client version without a server', async () => {
    const result = await run(['version', '--client']);
    expect(result.stdout).toMatch(/^Client Version: v\d+\.\d+\.\d+\n$/);
  });
});
