// pods/log and pods/exec end to end: kubectl 1.32 and bin/flotilla → the apiserver (real etcd,
// HTTPS, token auth) → the node agent's AgentService over gRPC with mTLS → a NodePods. The NodePods
// here is a small separate implementation over real files and real processes (logs-exec.fixture.ts),
// not the pod engine: this test is about the path from the client to the seam.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { ensureClusterPki, ensureSignedCertificate } from '@flotilla/cluster';
import { startAgentService, type RunningAgentService } from '@flotilla/node-agent';
import { AgentServiceClient, type LogChunk } from '@flotilla/proto';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { eventually } from '../support/eventually';
import { FileLogsProcessExecPods } from './logs-exec.fixture';

const KUBECTL = '/usr/bin/kubectl';
const FLOTILLA = join(__dirname, '..', '..', 'bin', 'flotilla');
const runId = randomBytes(4).toString('hex');
const namespace = `logs-exec-${runId}`;
const nodeName = `agent-${runId}`;

let cp: TestControlPlane;
let pods: FileLogsProcessExecPods;
let agent: RunningAgentService;
let pkiDir: string;
const children: ChildProcess[] = [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { timeout: 30_000, env: { ...process.env, KUBECONFIG: cp.kubeconfigPath } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

const kubectl = (...args: string[]): Promise<Run> =>
  run(KUBECTL, ['--kubeconfig', cp.kubeconfigPath, '-n', namespace, ...args]);
const kubectlIn = (input: string, ...args: string[]): Promise<Run> =>
  run(KUBECTL, ['--kubeconfig', cp.kubeconfigPath, '-n', namespace, ...args], input);

const flotilla = (...args: string[]): Promise<Run> =>
  run(FLOTILLA, ['--kubeconfig', cp.kubeconfigPath, '-n', namespace, ...args]);
const flotillaIn = (input: string, ...args: string[]): Promise<Run> =>
  run(FLOTILLA, ['--kubeconfig', cp.kubeconfigPath, '-n', namespace, ...args], input);

/** Quotes one argument for `sh -c`. */
const quote = (argument: string): string => `'${argument.replace(/'/g, `'\\''`)}'`;

async function create(path: string, body: object): Promise<void> {
  const result = await cp.request('POST', path, { body });
  if (result.status !== 201) throw new Error(`POST ${path}: ${result.status} ${result.text}`);
}

function pod(name: string, containers: string[], bound = true): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: {
      ...(bound ? { nodeName } : {}),
      containers: containers.map((container) => ({ name: container, image: 'busybox' })),
    },
  };
}

beforeAll(async () => {
  cp = await startTestControlPlane('logs-exec');
  pkiDir = join(cp.dir, 'pki');
  const pki = ensureClusterPki({ dir: pkiDir, apiserverHosts: ['127.0.0.1', 'localhost'] });
  const serving = ensureSignedCertificate({
    dir: pkiDir,
    name: `agent-${runId}`,
    commonName: `system:node:${nodeName}`,
    organization: 'system:nodes',
    hosts: ['127.0.0.1'],
    caCertFile: pki.caCertFile,
    caKeyFile: pki.caKeyFile,
    days: '1',
    usage: 'serverAuth',
  });
  pods = new FileLogsProcessExecPods(join(cp.dir, 'pods'));
  agent = await startAgentService({
    pods,
    bindAddress: '127.0.0.1',
    port: 0,
    tls: { caFile: pki.caCertFile, certFile: serving.certFile, keyFile: serving.keyFile },
  });
  await create('/api/v1/nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: nodeName },
    status: {
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
      daemonEndpoints: { kubeletEndpoint: { Port: agent.port } },
    },
  });
  await create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await create(`/api/v1/namespaces/${namespace}/pods`, pod('solo', ['app']));
  await create(`/api/v1/namespaces/${namespace}/pods`, pod('duo', ['web', 'sidecar']));
  await create(`/api/v1/namespaces/${namespace}/pods`, pod('chatty', ['app']));
  await create(`/api/v1/namespaces/${namespace}/pods`, pod('pending', ['app'], false));
  pods.addPod({ namespace, name: 'solo', containers: ['app'] });
  pods.addPod({ namespace, name: 'duo', containers: ['web', 'sidecar'] });
  pods.addPod({ namespace, name: 'chatty', containers: ['app'] });
  writeFileSync(pods.logFile(namespace, 'solo', 'app'), 'one\ntwo\nthree\n');
  writeFileSync(pods.logFile(namespace, 'solo', 'app', true), 'before the restart\n');
  writeFileSync(pods.logFile(namespace, 'duo', 'web'), 'web says hi\n');
  writeFileSync(pods.logFile(namespace, 'chatty', 'app'), 'one\ntwo\nthree\n');
  writeFileSync(pods.logFile(namespace, 'duo', 'sidecar'), 'sidecar says hi\n');
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await agent?.close();
  await cp?.stop();
});

describe('kubectl logs', () => {
  it('prints a container log, its tail, and the previous instance', async () => {
    expect(await kubectl('logs', 'solo')).toMatchObject({ code: 0, stdout: 'one\ntwo\nthree\n' });
    expect(await kubectl('logs', 'solo', '--tail=1')).toMatchObject({ code: 0, stdout: 'three\n' });
    expect(await kubectl('logs', 'solo', '--previous')).toMatchObject({
      code: 0,
      stdout: 'before the restart\n',
    });
    expect(await kubectl('logs', 'duo', '-c', 'sidecar')).toMatchObject({
      code: 0,
      stdout: 'sidecar says hi\n',
    });
  });

  it('passes every log option through to the node', async () => {
    const result = await kubectl('logs', 'solo', '--since=5m', '--timestamps', '--tail=2');
    expect(result.code).toBe(0);
    expect(pods.logRequests.at(-1)).toEqual({
      namespace,
      pod: 'solo',
      container: 'app',
      follow: false,
      previous: false,
      tailLines: 2,
      sinceSeconds: 300,
      timestamps: true,
    });
  });

  it('follows until kubectl goes away, and the read on the node stops with it', async () => {
    const follow = spawn(KUBECTL, [
      '--kubeconfig',
      cp.kubeconfigPath,
      '-n',
      namespace,
      'logs',
      '-f',
      'chatty',
    ]);
    children.push(follow);
    let output = '';
    follow.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(() => output === 'one\ntwo\nthree\n', 'the existing log');
    expect(pods.openFollows).toBe(1);
    appendFileSync(pods.logFile(namespace, 'chatty', 'app'), 'four\n');
    await eventually(() => output.endsWith('three\nfour\n'), 'the appended line');
    follow.kill('SIGINT');
    await eventually(() => pods.openFollows === 0, 'the node to stop reading the followed log');
  });

  it('refuses what Kubernetes refuses, in its words', async () => {
    const noContainer = await cp.request('GET', `/api/v1/namespaces/${namespace}/pods/duo/log`);
    expect(noContainer.status).toBe(400);
    expect(noContainer.json().message).toBe(
      'a container name must be specified for pod duo, choose one of: [web sidecar]',
    );
    const pending = await kubectl('logs', 'pending');
    expect(pending.code).not.toBe(0);
    expect(pending.stderr).toContain('container "app" in pod "pending" is waiting to start');
    const negative = await cp.request('GET', `/api/v1/namespaces/${namespace}/pods/solo/log?tailLines=-1`);
    expect(negative.status).toBe(422);
    const missing = await kubectl('logs', 'nosuchpod');
    expect(missing.stderr).toContain('pods "nosuchpod" not found');
    const anonymous = await cp.request('GET', `/api/v1/namespaces/${namespace}/pods/solo/log`, {
      token: null,
    });
    expect(anonymous.status).toBe(401);
  });

  it('streams limitBytes and sinceTime as kube-apiserver reads them', async () => {
    const limited = await cp.request('GET', `/api/v1/namespaces/${namespace}/pods/solo/log?limitBytes=5`);
    expect(limited).toMatchObject({ status: 200, text: 'one\nt' });
    expect(limited.headers['content-type']).toBe('text/plain');
    const since = new Date(Date.now() - 60_000).toISOString();
    const recent = await cp.request(
      'GET',
      `/api/v1/namespaces/${namespace}/pods/solo/log?sinceTime=${since}`,
    );
    expect(recent.status).toBe(200);
    expect(pods.logRequests.at(-1)?.sinceSeconds).toBeGreaterThanOrEqual(60);
  });
});

describe('kubectl exec', () => {
  it('runs a command and prints its output', async () => {
    expect(await kubectl('exec', 'solo', '--', 'echo', 'hi')).toMatchObject({ code: 0, stdout: 'hi\n' });
  });

  it('propagates the exit code', async () => {
    const result = await kubectl('exec', 'solo', '--', 'sh', '-c', 'exit 3');
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('command terminated with exit code 3');
  });

  it('keeps stderr apart from stdout', async () => {
    const result = await kubectl('exec', 'solo', '--', 'sh', '-c', 'echo out; echo err >&2');
    expect(result).toMatchObject({ code: 0, stdout: 'out\n' });
    expect(result.stderr).toContain('err\n');
  });

  it('passes stdin with -i and closes it at its end', async () => {
    const result = await kubectlIn(
      'hello from stdin\n',
      'exec',
      '-i',
      'solo',
      '--',
      'sh',
      '-c',
      'cat; echo done',
    );
    expect(result).toMatchObject({ code: 0, stdout: 'hello from stdin\ndone\n' });
  });

  it('names the container with -c and reports a command that cannot start', async () => {
    expect(await kubectl('exec', 'duo', '-c', 'sidecar', '--', 'pwd')).toMatchObject({
      code: 0,
      stdout: `${join(cp.dir, 'pods', namespace, 'duo', 'sidecar')}\n`,
    });
    const missing = await kubectl('exec', 'solo', '--', 'no-such-command-here');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('cannot run no-such-command-here');
    const unscheduled = await kubectl('exec', 'pending', '--', 'true');
    expect(unscheduled.stderr).toContain('pod pending does not have a host assigned');
  });
});

describe('flotilla logs and exec (bin/flotilla, built)', () => {
  it('prints logs with the container, tail and previous flags', async () => {
    expect(await flotilla('logs', 'solo')).toMatchObject({ code: 0, stdout: 'one\ntwo\nthree\n' });
    expect(await flotilla('logs', 'pod/solo', '--tail', '1')).toMatchObject({ code: 0, stdout: 'three\n' });
    expect(await flotilla('logs', '-p', 'solo')).toMatchObject({ code: 0, stdout: 'before the restart\n' });
    expect(await flotilla('logs', 'duo', '-c', 'web', '--since', '5m', '--timestamps')).toMatchObject({
      code: 0,
      stdout: 'web says hi\n',
    });
    expect(pods.logRequests.at(-1)).toMatchObject({ container: 'web', sinceSeconds: 300, timestamps: true });
    const ambiguous = await flotilla('logs', 'duo');
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toBe(
      'Error from server (BadRequest): a container name must be specified for pod duo, choose one of: [web sidecar]\n',
    );
  });

  it('follows with -f until interrupted, and the node stops reading', async () => {
    const follow = spawn(FLOTILLA, [
      '--kubeconfig',
      cp.kubeconfigPath,
      '-n',
      namespace,
      'logs',
      '-f',
      'duo',
      '-c',
      'sidecar',
    ]);
    children.push(follow);
    let output = '';
    follow.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(() => output === 'sidecar says hi\n', 'the existing log', 20_000);
    appendFileSync(pods.logFile(namespace, 'duo', 'sidecar'), 'still here\n');
    await eventually(() => output.endsWith('still here\n'), 'the appended line');
    follow.kill('SIGINT');
    await new Promise((resolve) => follow.once('exit', resolve));
    await eventually(() => pods.openFollows === 0, 'the node to stop reading the followed log');
  });

  it('exec exits with the command exit code, with stdout and stderr apart', async () => {
    const result = await flotilla('exec', 'solo', '--', 'sh', '-c', 'echo out; echo err >&2; exit 4');
    expect(result).toMatchObject({ code: 4, stdout: 'out\n', stderr: 'err\n' });
  });

  it('exec -i passes stdin and closes it at its end', async () => {
    expect(
      await flotillaIn('piped\n', 'exec', '-i', 'solo', '--', 'sh', '-c', 'cat; echo closed'),
    ).toMatchObject({
      code: 0,
      stdout: 'piped\nclosed\n',
    });
  });

  it('exec -it gives the command a terminal of this terminal size (under script)', async () => {
    const inner = [
      FLOTILLA,
      '--kubeconfig',
      cp.kubeconfigPath,
      '-n',
      namespace,
      'exec',
      '-i',
      '-t',
      'solo',
      '--',
    ]
      .concat(['sh', '-c', 'tty; exit 5'])
      .map(quote)
      .join(' ');
    const resizesBefore = pods.resizes.length;
    const result = await run('script', ['-qec', `stty rows 30 cols 100; ${inner}`, '/dev/null']);
    expect(result.code).toBe(5);
    expect(result.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(pods.execRequests.at(-1)).toMatchObject({
      tty: true,
      stdin: true,
      command: ['sh', '-c', 'tty; exit 5'],
    });
    expect(pods.resizes.slice(resizesBefore)).toContainEqual({ rows: 30, columns: 100 });
  });

  it('exec without a terminal says so and runs anyway', async () => {
    const result = await flotilla('exec', '-t', 'solo', '--', 'echo', 'plain');
    expect(result).toMatchObject({ code: 0, stdout: 'plain\n' });
    expect(result.stderr).toContain('Unable to use a TTY');
  });
});

describe('flotilla logs deploy/NAME (every replica, prefixed)', () => {
  function replica(name: string): object {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels: { app: 'merged' } },
      spec: { nodeName, containers: [{ name: 'app', image: 'busybox' }] },
    };
  }

  it('prints every replica with its prefix, and -f picks up a replica that starts later', async () => {
    // Only the Deployment object is needed for its selector: the replicas are made here.
    await create(`/apis/apps/v1/namespaces/${namespace}/deployments`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'merged', namespace },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'merged' } },
        template: {
          metadata: { labels: { app: 'merged' } },
          spec: { containers: [{ name: 'app', image: 'busybox' }] },
        },
      },
    });
    for (const name of ['merged-a', 'merged-b']) {
      await create(`/api/v1/namespaces/${namespace}/pods`, replica(name));
      pods.addPod({ namespace, name, containers: ['app'] });
      writeFileSync(pods.logFile(namespace, name, 'app'), `${name} one\n${name} two\n`);
    }
    expect(await flotilla('logs', 'deploy/merged')).toMatchObject({
      code: 0,
      stdout:
        '[pod/merged-a/app] merged-a one\n[pod/merged-a/app] merged-a two\n' +
        '[pod/merged-b/app] merged-b one\n[pod/merged-b/app] merged-b two\n',
    });

    const follow = spawn(FLOTILLA, [
      '--kubeconfig',
      cp.kubeconfigPath,
      '-n',
      namespace,
      'logs',
      '-f',
      'deploy/merged',
    ]);
    children.push(follow);
    let output = '';
    follow.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(
      () =>
        output.includes('[pod/merged-a/app] merged-a two\n') &&
        output.includes('[pod/merged-b/app] merged-b two\n'),
      'both replicas',
      20_000,
    );
    pods.addPod({ namespace, name: 'merged-c', containers: ['app'] });
    writeFileSync(pods.logFile(namespace, 'merged-c', 'app'), 'merged-c arrived\n');
    await create(`/api/v1/namespaces/${namespace}/pods`, replica('merged-c'));
    await eventually(
      () => output.includes('[pod/merged-c/app] merged-c arrived\n'),
      'the new replica',
      20_000,
    );
    appendFileSync(pods.logFile(namespace, 'merged-a', 'app'), 'merged-a three\n');
    await eventually(() => output.includes('[pod/merged-a/app] merged-a three\n'), 'a followed line');
    follow.kill('SIGINT');
    await new Promise((resolve) => follow.once('exit', resolve));
  });
});

describe('AgentService admission', () => {
  function logsWith(client: AgentServiceClient): Promise<ServiceError | undefined> {
    return new Promise((resolve) => {
      const call = client.logs({
        namespace,
        pod: 'solo',
        container: '',
        follow: false,
        previous: false,
        tailLines: -1n,
        sinceSeconds: 0n,
        timestamps: false,
      });
      call.on('data', (_chunk: LogChunk) => undefined);
      call.on('error', (error: ServiceError) => resolve(error));
      call.on('end', () => resolve(undefined));
    });
  }

  it('refuses a client certificate from the cluster CA that is not the apiserver', async () => {
    const pki = ensureClusterPki({ dir: pkiDir, apiserverHosts: ['127.0.0.1', 'localhost'] });
    const other = ensureSignedCertificate({
      dir: pkiDir,
      name: `not-apiserver-${runId}`,
      commonName: 'system:node:intruder',
      hosts: [],
      caCertFile: pki.caCertFile,
      caKeyFile: pki.caKeyFile,
      days: '1',
      usage: 'clientAuth',
    });
    const client = new AgentServiceClient(
      agent.endpoint,
      credentials.createSsl(
        readFileSync(pki.caCertFile),
        readFileSync(other.keyFile),
        readFileSync(other.certFile),
      ),
    );
    const error = await logsWith(client);
    client.close();
    expect(error?.code).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(error?.details).toContain('"system:node:intruder"');
  });

  it('refuses a client without a certificate at the TLS handshake', async () => {
    const pki = ensureClusterPki({ dir: pkiDir, apiserverHosts: ['127.0.0.1', 'localhost'] });
    const client = new AgentServiceClient(
      agent.endpoint,
      credentials.createSsl(readFileSync(pki.caCertFile)),
    );
    const error = await logsWith(client);
    client.close();
    expect(error?.code).toBe(GrpcStatus.UNAVAILABLE);
  });

  it('serves the apiserver certificate', async () => {
    const pki = ensureClusterPki({ dir: pkiDir, apiserverHosts: ['127.0.0.1', 'localhost'] });
    const client = new AgentServiceClient(
      agent.endpoint,
      credentials.createSsl(
        readFileSync(pki.caCertFile),
        readFileSync(pki.apiserverAgentClient.keyFile),
        readFileSync(pki.apiserverAgentClient.certFile),
      ),
    );
    expect(await logsWith(client)).toBeUndefined();
    client.close();
  });
});
