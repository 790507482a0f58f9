// Cluster IPs and node ports through the real apiserver and etcd: allocation from the range, requested
// values checked and refused when taken, release on delete, immutability, kubectl apply that does
// not fight the allocator, and two apiserver replicas creating 50 Services at once on a small range
// without ever handing out one IP twice.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { startApiServer, type RunningApiServer } from '@flotilla/apiserver';
import { EtcdStore } from '@flotilla/store';
import { startTestControlPlane, type HttpResult, type TestControlPlane } from '../support/cluster';
import { until } from '../support/eventually';

interface ServiceObject {
  metadata: { name: string; resourceVersion?: string };
  spec: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    ports: { name?: string; port: number; nodePort?: number; protocol?: string }[];
  };
}

interface StatusObject {
  message: string;
  details?: { causes?: { field?: string; message?: string }[] };
}

let cp: TestControlPlane;
const replicas: RunningApiServer[] = [];

beforeAll(async () => {
  cp = await startTestControlPlane('service-allocation');
  for (const name of ['svc-alloc', 'svc-race', 'svc-apply']) {
    const made = await cp.request('POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
    });
    expect(made.status).toBe(201);
  }
});

afterAll(async () => {
  for (const replica of replicas) await replica.close();
  await cp?.stop();
});

function service(name: string, spec: Partial<ServiceObject['spec']> = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec },
  };
}

const servicesPath = (namespace: string): string => `/api/v1/namespaces/${namespace}/services`;

/** Another apiserver on the same etcd (plain HTTP on loopback), as a second replica behind a balancer. */
async function startReplica(range: string): Promise<RunningApiServer> {
  const replica = await startApiServer({
    etcdServers: [cp.etcdUrl],
    bindAddress: '127.0.0.1',
    port: 0,
    tokenAuthFile: join(cp.dir, 'tokens.csv'),
    serviceClusterIpRange: range,
    serviceRepairIntervalMs: 300,
    logLevel: 'warn',
  });
  replicas.push(replica);
  return replica;
}

function requestReplica(
  replica: RunningApiServer,
  method: string,
  path: string,
  body?: object,
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      `${replica.url}${path}`,
      {
        method,
        headers: {
          Authorization: `Bearer ${cp.token}`,
          ...(text !== undefined
            ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) }
            : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: raw,
            json: <T>() => JSON.parse(raw) as T,
          });
        });
      },
    );
    req.on('error', reject);
    if (text !== undefined) req.write(text);
    req.end();
  });
}

function ipNumber(ip: string): number {
  return ip.split('.').reduce((value, part) => value * 256 + Number(part), 0);
}

describe('service cluster IP and node port allocation', () => {
  it('gives a ClusterIP Service an address of the range, and a NodePort Service a port per service port', async () => {
    const created = await cp.request('POST', servicesPath('svc-alloc'), { body: service('plain') });
    expect(created.status).toBe(201);
    const plain = created.json<ServiceObject>();
    const ip = plain.spec.clusterIP ?? '';
    // The default range 10.96.0.0/12: 10.96.0.1 .. 10.111.255.254.
    expect(ipNumber(ip)).toBeGreaterThan(ipNumber('10.96.0.0'));
    expect(ipNumber(ip)).toBeLessThan(ipNumber('10.111.255.255'));
    expect(plain.spec.clusterIPs).toEqual([ip]);
    expect(plain.spec.ports[0]?.nodePort).toBeUndefined();

    const nodePort = await cp.request('POST', servicesPath('svc-alloc'), {
      body: service('np', {
        type: 'NodePort',
        ports: [
          { name: 'http', port: 80 },
          { name: 'metrics', port: 9090 },
        ],
      }),
    });
    expect(nodePort.status).toBe(201);
    const ports = nodePort.json<ServiceObject>().spec.ports.map((port) => port.nodePort ?? 0);
    expect(ports).toHaveLength(2);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(30000);
      expect(port).toBeLessThanOrEqual(32767);
    }
    expect(new Set(ports).size).toBe(2);
  });

  it('keeps headless and ExternalName Services without an address', async () => {
    const headless = await cp.request('POST', servicesPath('svc-alloc'), {
      body: service('headless', { clusterIP: 'None' }),
    });
    expect(headless.status).toBe(201);
    expect(headless.json<ServiceObject>().spec).toMatchObject({ clusterIP: 'None', clusterIPs: ['None'] });
    const external = await cp.request('POST', servicesPath('svc-alloc'), {
      body: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'external' },
        spec: { type: 'ExternalName', externalName: 'example.invalid' },
      },
    });
    expect(external.status).toBe(201);
    expect(external.json<ServiceObject>().spec.clusterIP).toBeUndefined();
  });

  it('refuses a requested IP outside the range or already taken, and a taken node port, naming the field', async () => {
    const outside = await cp.request('POST', servicesPath('svc-alloc'), {
      body: service('outside', { clusterIP: '192.168.1.1' }),
    });
    expect(outside.status).toBe(422);
    expect(outside.json<StatusObject>().message).toContain(
      'the provided IP (192.168.1.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
    );

    const fixed = await cp.request('POST', servicesPath('svc-alloc'), {
      body: service('fixed', {
        clusterIP: '10.96.0.10',
        type: 'NodePort',
        ports: [{ port: 80, nodePort: 30080 }],
      }),
    });
    expect(fixed.status).toBe(201);
    expect(fixed.json<ServiceObject>().spec.clusterIP).toBe('10.96.0.10');

    const sameIp = await cp.request('POST', servicesPath('svc-alloc'), {
      body: service('same-ip', { clusterIP: '10.96.0.10' }),
    });
    expect(sameIp.status).toBe(422);
    const ipStatus = sameIp.json<StatusObject>();
    expect(ipStatus.message).toContain('failed to allocate IP 10.96.0.10: provided IP is already allocated');
    expect(ipStatus.details?.causes?.[0]?.field).toBe('spec.clusterIPs');

    const samePort = await cp.request('POST', servicesPath('svc-alloc'), {
      body: service('same-port', { type: 'NodePort', ports: [{ port: 8080, nodePort: 30080 }] }),
    });
    expect(samePort.status).toBe(422);
    const portStatus = samePort.json<StatusObject>();
    expect(portStatus.message).toContain('30080: provided port is already allocated');
    expect(portStatus.details?.causes?.[0]?.field).toBe('spec.ports[0].nodePort');
    // The refused Service claimed nothing: its allocated IP did not leak (a retry with a free port works).
    const retried = await cp.request('POST', servicesPath('svc-alloc'), {
      body: service('same-port', { type: 'NodePort', ports: [{ port: 8080, nodePort: 30081 }] }),
    });
    expect(retried.status).toBe(201);
  });

  it('frees the IP and node port on delete, so another Service can ask for them', async () => {
    const made = await cp.request('POST', servicesPath('svc-alloc'), {
      body: service('first-owner', {
        clusterIP: '10.96.0.20',
        type: 'NodePort',
        ports: [{ port: 80, nodePort: 30090 }],
      }),
    });
    expect(made.status).toBe(201);
    expect((await cp.request('DELETE', `${servicesPath('svc-alloc')}/first-owner`)).status).toBe(200);
    const again = await cp.request('POST', servicesPath('svc-alloc'), {
      body: service('second-owner', {
        clusterIP: '10.96.0.20',
        type: 'NodePort',
        ports: [{ port: 80, nodePort: 30090 }],
      }),
    });
    expect(again.status).toBe(201);
  });

  it('keeps the cluster IP immutable and the node ports across updates that leave them out', async () => {
    const made = await cp.request('POST', servicesPath('svc-alloc'), {
      body: service('stable', { type: 'NodePort' }),
    });
    expect(made.status).toBe(201);
    const stable = made.json<ServiceObject>();
    const path = `${servicesPath('svc-alloc')}/stable`;

    const changed = await cp.request('PUT', path, {
      body: {
        ...service('stable', { type: 'NodePort', clusterIP: '10.96.0.30' }),
        metadata: stable.metadata,
      },
    });
    expect(changed.status).toBe(422);
    expect(changed.json<StatusObject>().message).toContain(
      'spec.clusterIP: Invalid value: "10.96.0.30": field is immutable',
    );

    // A PUT without clusterIP and nodePort keeps both, as Kubernetes does.
    const put = await cp.request('PUT', path, {
      body: { ...service('stable', { type: 'NodePort' }), metadata: stable.metadata },
    });
    expect(put.status).toBe(200);
    expect(put.json<ServiceObject>().spec.clusterIP).toBe(stable.spec.clusterIP);
    expect(put.json<ServiceObject>().spec.ports[0]?.nodePort).toBe(stable.spec.ports[0]?.nodePort);

    // clusterIP "" (a replaced manifest that names none) keeps it too.
    const emptied = await cp.request('PUT', path, {
      body: {
        ...service('stable', { type: 'NodePort', clusterIP: '' }),
        metadata: put.json<ServiceObject>().metadata,
      },
    });
    expect(emptied.status).toBe(200);
    expect(emptied.json<ServiceObject>().spec.clusterIP).toBe(stable.spec.clusterIP);

    // Back to ClusterIP: the node port goes back to the pool.
    const toClusterIp = await cp.request('PATCH', path, {
      body: { spec: { type: 'ClusterIP', ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] } },
      contentType: 'application/merge-patch+json',
    });
    expect(toClusterIp.status).toBe(200);
    expect(toClusterIp.json<ServiceObject>().spec.ports[0]?.nodePort).toBeUndefined();
    const reuse = await cp.request('POST', servicesPath('svc-alloc'), {
      body: service('reuser', {
        type: 'NodePort',
        ports: [{ port: 80, nodePort: stable.spec.ports[0]?.nodePort ?? 0 }],
      }),
    });
    expect(reuse.status).toBe(201);
  });

  it('lets kubectl apply the same manifest twice without touching the allocated IP or node port', async () => {
    const file = join(cp.dir, 'web-service.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Service',
        'metadata:',
        '  name: web',
        '  namespace: svc-apply',
        'spec:',
        '  type: NodePort',
        '  selector: {app: web}',
        '  ports:',
        '  - {name: http, port: 80, targetPort: 8080}',
        '',
      ].join('\n'),
    );
    const kubectl = (...args: string[]): Promise<string> =>
      new Promise((resolve, reject) => {
        execFile(
          '/usr/bin/kubectl',
          ['--kubeconfig', cp.kubeconfigPath, ...args],
          { timeout: 30_000 },
          (error, stdout, stderr) =>
            error ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
        );
      });
    await kubectl('apply', '-f', file);
    const first = (await cp.request('GET', `${servicesPath('svc-apply')}/web`)).json<ServiceObject>();
    expect(first.spec.clusterIP).toMatch(/^10\./);
    expect(await kubectl('apply', '-f', file)).toContain('unchanged');
    await kubectl('apply', '--server-side', '-f', file);
    await kubectl('apply', '--server-side', '-f', file);
    const second = (await cp.request('GET', `${servicesPath('svc-apply')}/web`)).json<ServiceObject>();
    expect(second.spec.clusterIP).toBe(first.spec.clusterIP);
    expect(second.spec.ports[0]?.nodePort).toBe(first.spec.ports[0]?.nodePort);
  });

  it('never gives one IP to two Services created at once through two apiservers, and says when the range is full', async () => {
    // 10.200.0.0/26 offers 62 addresses; 50 creates race for them through two replicas.
    const range = '10.200.0.0/26';
    const [a, b] = [await startReplica(range), await startReplica(range)];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        requestReplica(index % 2 === 0 ? a : b, 'POST', servicesPath('svc-race'), service(`race-${index}`)),
      ),
    );
    expect(results.map((result) => result.status)).toEqual(Array.from({ length: 50 }, () => 201));
    const ips = results.map((result) => result.json<ServiceObject>().spec.clusterIP ?? '');
    expect(new Set(ips).size).toBe(50);
    for (const ip of ips) expect(ip).toMatch(/^10\.200\.0\.(\d+)$/);

    for (let index = 50; index < 62; index++) {
      const made = await requestReplica(a, 'POST', servicesPath('svc-race'), service(`race-${index}`));
      expect(made.status).toBe(201);
    }
    const full = await requestReplica(b, 'POST', servicesPath('svc-race'), service('race-full'));
    expect(full.status).toBe(422);
    expect(full.json<StatusObject>().message).toContain('range 10.200.0.0/26 is full');

    // A delete gives the address back at once.
    expect((await requestReplica(a, 'DELETE', `${servicesPath('svc-race')}/race-0`)).status).toBe(200);
    const again = await requestReplica(b, 'POST', servicesPath('svc-race'), service('race-again'));
    expect(again.status).toBe(201);
    expect(again.json<ServiceObject>().spec.clusterIP).toBe(ips[0]);

    // A Service removed behind the allocator's back (a namespace deletion removes objects straight
    // from etcd) gives its address back once a repair pass has seen its claim orphaned twice.
    const store = new EtcdStore({ endpoints: [cp.etcdUrl] });
    try {
      await store.delete('/registry/core/services/svc-race/race-1');
    } finally {
      await store.close();
    }
    const repaired = await until('the repair pass to free a leaked address', async () => {
      const made = await requestReplica(b, 'POST', servicesPath('svc-race'), service('race-repaired'));
      return made.status === 201 ? made.json<ServiceObject>() : undefined;
    });
    expect(repaired.spec.clusterIP).toBe(ips[1]);
    // Those repair passes left the claims of the other range (10.96.0.0/12, the first apiserver's) alone.
    const stillTaken = await cp.request('POST', servicesPath('svc-alloc'), {
      body: service('late-same-ip', { clusterIP: '10.96.0.10' }),
    });
    expect(stillTaken.status).toBe(422);
  });
});
