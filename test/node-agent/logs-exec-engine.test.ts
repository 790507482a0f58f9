// kubectl and flotilla logs/exec against a real container: the apiserver proxies to this process's
// AgentService, which serves the real pod engine (createNodePods: shim, namespaces, cgroups, overlay
// root from the busybox base image). Needs root, as the pod engine does.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Pod } from '@flotilla/api';
import { ensureClusterPki, ensureSignedCertificate } from '@flotilla/cluster';
import { startAgentService, type RunningAgentService } from '@flotilla/node-agent';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { eventually } from '../support/eventually';
import { busybox, startTestNode, waitForPod, type TestNode } from './pods.fixture';

const KUBECTL = '/usr/bin/kubectl';
const FLOTILLA = join(__dirname, '..', '..', 'bin', 'flotilla');
const runId = randomBytes(4).toString('hex');

let cp: TestControlPlane;
let node: TestNode;
let agent: RunningAgentService;
let talker: Pod;
const children: ChildProcess[] = [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], input = ''): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

const kubectl = (args: string[], input?: string): Promise<Run> =>
  run(KUBECTL, ['--kubeconfig', cp.kubeconfigPath, ...args], input);
const quote = (argument: string): string => `'${argument.replace(/'/g, `'\\''`)}'`;

beforeAll(async () => {
  node = await startTestNode(5);
  cp = await startTestControlPlane('logs-exec-engine');
  const pkiDir = join(cp.dir, 'pki');
  const pki = ensureClusterPki({ dir: pkiDir, apiserverHosts: ['127.0.0.1', 'localhost'] });
  const serving = ensureSignedCertificate({
    dir: pkiDir,
    name: `agent-${runId}`,
    commonName: `system:node:${node.options.nodeName}`,
    hosts: ['127.0.0.1'],
    caCertFile: pki.caCertFile,
    caKeyFile: pki.caKeyFile,
    days: '1',
    usage: 'serverAuth',
  });
  agent = await startAgentService({
    pods: node.engine,
    bindAddress: '127.0.0.1',
    port: 0,
    tls: { caFile: pki.caCertFile, certFile: serving.certFile, keyFile: serving.keyFile },
  });
  const created = await cp.request('POST', '/api/v1/nodes', {
    body: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: node.options.nodeName },
      status: {
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
        daemonEndpoints: { kubeletEndpoint: { Port: agent.port } },
      },
    },
  });
  expect(created.status).toBe(201);
  talker = node.pod('talker', {
    terminationGracePeriodSeconds: 1,
    containers: [
      {
        name: 'app',
        ...busybox,
        command: [
          'sh',
          '-c',
          'echo hello from a container; while sleep 0.2; do [ -f /tmp/more ] && cat /tmp/more && rm /tmp/more; done',
        ],
      },
    ],
  });
  const posted = await cp.request('POST', '/api/v1/namespaces/default/pods', { body: talker });
  expect(posted.status).toBe(201);
  node.engine.upsertDesired(talker);
  await waitForPod(node, talker, 'Running', (report) => report.status.phase === 'Running');
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await agent?.close();
  await node?.cleanup();
  await cp?.stop();
});

it('kubectl logs reads the container log', async () => {
  const result = await kubectl(['logs', 'talker']);
  expect(result).toMatchObject({ code: 0, stdout: 'hello from a container\n' });
});

it('kubectl logs -f follows new output until interrupted', async () => {
  const follow = spawn(KUBECTL, ['--kubeconfig', cp.kubeconfigPath, 'logs', '-f', 'talker']);
  children.push(follow);
  let output = '';
  follow.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await eventually(() => output.includes('hello from a container\n'), 'the existing log', 20_000);
  const poke = await kubectl(['exec', 'talker', '--', 'sh', '-c', 'echo poked > /tmp/more']);
  expect(poke.code).toBe(0);
  await eventually(() => output.includes('poked\n'), 'the new line', 20_000);
  follow.kill('SIGINT');
  await new Promise((resolve) => follow.once('exit', resolve));
});

it('kubectl exec runs in the container and propagates the exit code', async () => {
  expect(await kubectl(['exec', 'talker', '--', 'hostname'])).toMatchObject({ code: 0, stdout: 'talker\n' });
  const failed = await kubectl(['exec', 'talker', '--', 'sh', '-c', 'exit 3']);
  expect(failed.code).toBe(3);
  expect(await kubectl(['exec', '-i', 'talker', '--', 'cat'], 'into the container\n')).toMatchObject({
    code: 0,
    stdout: 'into the container\n',
  });
});

// -it end to end with the real container: the command's terminal is the container's own (`tty` names
// /dev/pts/N from its devpts), the local window size reaches it, and the exit code comes back.
it('flotilla exec -it gives the command a terminal in the container, with the size and exit code', async () => {
  const inner = [
    FLOTILLA,
    '--kubeconfig',
    cp.kubeconfigPath,
    'exec',
    '-it',
    'talker',
    '--',
    'sh',
    '-c',
    'hostname; tty; stty size; exit 4',
  ]
    .map(quote)
    .join(' ');
  const result = await run('script', ['-qec', `stty rows 33 cols 101; ${inner}`, '/dev/null']);
  expect(result.code).toBe(4);
  expect(result.stdout).toContain('talker');
  expect(result.stdout).toMatch(/\/dev\/pts\/\d+/);
  expect(result.stdout).toContain('33 101');
});
