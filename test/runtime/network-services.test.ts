// Services on the real kernel: a virtual IP and a NodePort spread over two backends that are busybox
// httpd in their own namespaces, reached from the host and from another container; backends come and
// go with sync; no backends means refused at once. Names come from a per-run id; everything is
// removed at the end, and a crashed run's leftovers at the start.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BridgeNetwork,
  ServiceProxy,
  type BridgeNetworkOptions,
  type FirewallKind,
  type NetworkAttachment,
  type ServiceRule,
} from '@flotilla/runtime';
import { registerRun, requireRoot } from './network-runs';
import { httpGetOrError } from '../support/http-get';

const BUSYBOX = '/bin/busybox';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function httpGetFrom(namespace: string, host: string, port: number): string {
  const reply = execFileSync(
    'ip',
    ['netns', 'exec', namespace, BUSYBOX, 'nc', '-w', '3', host, String(port)],
    {
      input: 'GET / HTTP/1.0\r\n\r\n',
      encoding: 'utf8',
      timeout: 10_000,
    },
  );
  return reply.split('\r\n\r\n')[1]?.trim() ?? '';
}

describe.each<[FirewallKind]>([['nftables'], ['iptables']])(
  'services through %s on real namespaces',
  (firewall) => {
    const runBytes = randomBytes(4);
    const runId = runBytes.toString('hex');
    const subnet = `10.${224 + ((runBytes[0] ?? 0) % 8)}.${runBytes[1] ?? 0}.0/24`;
    // A virtual IP no interface holds, as Kubernetes' service range is.
    const clusterIp = `10.${96 + ((runBytes[2] ?? 0) % 8)}.${runBytes[3] ?? 0}.10`;
    let stateDir: string;
    let network: BridgeNetwork;
    let proxy: ServiceProxy;
    let unregisterRun: (() => Promise<void>) | undefined;
    const servers: ChildProcess[] = [];
    const backends: NetworkAttachment[] = [];
    let client: NetworkAttachment;
    let nodePort: number;

    async function serveHttp(attachment: NetworkAttachment, body: string): Promise<void> {
      const root = join(stateDir, attachment.containerId);
      await mkdir(root);
      await writeFile(join(root, 'index.html'), `${body}\n`);
      const namespace = attachment.namespaceName ?? '';
      servers.push(
        spawn('ip', ['netns', 'exec', namespace, BUSYBOX, 'httpd', '-f', '-p', '80', '-h', root], {
          stdio: 'ignore',
        }),
      );
      for (let attempt = 0; ; attempt++) {
        const listening = execFileSync('ip', ['netns', 'exec', namespace, BUSYBOX, 'netstat', '-ltn'], {
          encoding: 'utf8',
        });
        if (listening.includes(':80 ')) return;
        if (attempt > 500) throw new Error(`httpd in ${namespace} did not listen`);
        await sleep(20);
      }
    }

    function rule(ready: readonly NetworkAttachment[]): ServiceRule {
      return {
        name: `test/web-${runId}:http`,
        protocol: 'tcp',
        clusterIp,
        port: 80,
        nodePort,
        backends: ready.map((attachment) => ({ ip: attachment.ipAddress ?? '', port: 80 })),
      };
    }

    beforeAll(async () => {
      requireRoot();
      stateDir = await mkdtemp(join(tmpdir(), `flotilla-net-svc-${runId}-`));
      const options: BridgeNetworkOptions = {
        name: `s${runId}`,
        bridge: `fls${runId}`,
        table: `flotilla_s${runId}`,
        subnet,
        stateDir,
      };
      unregisterRun = await registerRun(`s${runId}`, runId, options, [`flotilla_svc${runId}`]);
      network = new BridgeNetwork(options);
      proxy = new ServiceProxy({ table: `flotilla_svc${runId}`, firewall });
      nodePort = await freePort();
      for (const name of ['a', 'b']) {
        const attachment = await network.attach({ containerId: `backend-${name}-${runId}` });
        await serveHttp(attachment, `backend ${name}`);
        backends.push(attachment);
      }
      client = await network.attach({ containerId: `client-${runId}` });
    });

    afterAll(async () => {
      for (const server of servers) server.kill('SIGKILL');
      if (proxy) await proxy.remove();
      if (network) await network.remove();
      if (stateDir) await rm(stateDir, { recursive: true, force: true });
      await unregisterRun?.();
    });

    it('spreads connections to the virtual IP over every backend, from the host and from a container', async () => {
      await proxy.sync([rule(backends)]);
      const fromHost = new Set<string>();
      for (let attempt = 0; attempt < 40 && fromHost.size < 2; attempt++)
        fromHost.add(await httpGetOrError(clusterIp, 80));
      expect([...fromHost].sort()).toEqual(['backend a', 'backend b']);
      const fromContainer = new Set<string>();
      for (let attempt = 0; attempt < 40 && fromContainer.size < 2; attempt++) {
        fromContainer.add(httpGetFrom(client.namespaceName ?? '', clusterIp, 80));
      }
      expect([...fromContainer].sort()).toEqual(['backend a', 'backend b']);
    });

    it('answers on the node port of local addresses, loopback included', async () => {
      await proxy.sync([rule(backends)]);
      expect(await httpGetOrError('127.0.0.1', nodePort)).toMatch(/^backend [ab]$/);
      expect(await httpGetOrError(network.gateway, nodePort)).toMatch(/^backend [ab]$/);
      expect(httpGetFrom(client.namespaceName ?? '', network.gateway, nodePort)).toMatch(/^backend [ab]$/);
    });

    it('follows the ready set: one backend left gets every connection, none refuses at once', async () => {
      await proxy.sync([rule(backends.slice(1))]);
      for (let attempt = 0; attempt < 10; attempt++)
        expect(await httpGetOrError(clusterIp, 80)).toBe('backend b');
      await proxy.sync([rule([])]);
      expect(await httpGetOrError(clusterIp, 80)).toBe('ECONNREFUSED');
      expect(await httpGetOrError('127.0.0.1', nodePort)).toBe('ECONNREFUSED');
    });

    it('removes every rule', async () => {
      expect(await proxy.kind()).toBe(firewall);
      await proxy.remove();
      expect(execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' })).not.toContain(proxy.table);
      for (const table of ['nat', 'filter']) {
        const rules = execFileSync('iptables', ['-w', '-t', table, '-S'], { encoding: 'utf8' });
        expect(rules).not.toContain(proxy.table.toUpperCase());
      }
      await proxy.remove();
    });
  },
);
