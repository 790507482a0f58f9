import type { Endpoints, Service } from '@flotilla/api';
import type { ServiceRule } from '@flotilla/runtime';
import { ServiceTable, type ServiceRuleSink } from './service-table';

class RecordingProxy implements ServiceRuleSink {
  readonly writes: (readonly ServiceRule[])[] = [];
  failures = 0;
  sync(rules: readonly ServiceRule[]): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error('nft: table busy'));
    }
    this.writes.push(rules);
    return Promise.resolve();
  }
}

const web: Service = {
  metadata: { name: 'web', namespace: 'shop' },
  spec: { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, nodePort: 30080 }] },
};

function webEndpoints(...ips: string[]): Endpoints {
  return {
    metadata: { name: 'web', namespace: 'shop' },
    subsets: [{ addresses: ips.map((ip) => ({ ip })), ports: [{ name: 'http', port: 8080 }] }],
  };
}

function waitFor(check: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 5_000;
    const poll = (): void => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error('condition never held'));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

describe('ServiceTable', () => {
  it('turns a burst of endpoint changes into one write of the whole set', async () => {
    const proxy = new RecordingProxy();
    const table = new ServiceTable({ proxy, debounceMs: 50 });
    table.replaceAll([{ kind: 'Service', object: web }]);
    for (let count = 1; count <= 10; count++) {
      const ips = Array.from({ length: count }, (_, index) => `10.244.1.${index + 2}`);
      table.upsert({ kind: 'Endpoints', object: webEndpoints(...ips) });
    }
    await waitFor(() => proxy.writes.length > 0);
    await table.flush();
    expect(proxy.writes).toHaveLength(1);
    expect(proxy.writes[0]?.[0]?.backends).toHaveLength(10);
    await table.close();
  });

  it('does not write a rule set equal to the last one, and retries a failed write', async () => {
    const proxy = new RecordingProxy();
    const logs: string[] = [];
    const table = new ServiceTable({
      proxy,
      debounceMs: 1,
      retryMs: 10,
      log: (message) => logs.push(message),
    });
    proxy.failures = 1;
    table.replaceAll([
      { kind: 'Service', object: web },
      { kind: 'Endpoints', object: webEndpoints('10.244.1.2') },
    ]);
    await waitFor(() => proxy.writes.length === 1);
    expect(logs[0]).toContain('could not program 1 service port(s): nft: table busy; retrying');
    // A change that alters no rule (a label) writes nothing.
    table.upsert({
      kind: 'Service',
      object: { ...web, metadata: { ...web.metadata, labels: { tier: 'front' } } },
    });
    await table.flush();
    expect(proxy.writes).toHaveLength(1);
    // The pod leaves the rotation: the rule stays, without backends (connections refused).
    table.upsert({ kind: 'Endpoints', object: { ...webEndpoints(), subsets: [] } });
    await table.flush();
    expect(proxy.writes[1]).toEqual([
      {
        name: 'shop/web:http',
        protocol: 'tcp',
        clusterIp: '10.96.0.10',
        port: 80,
        nodePort: 30080,
        backends: [],
      },
    ]);
    table.remove('Service', 'shop', 'web');
    await table.flush();
    expect(proxy.writes[2]).toEqual([]);
    await table.close();
  });

  it('answers lookups for the DNS: cluster IP, ready endpoints, ports; headless with endpoint ports', async () => {
    const table = new ServiceTable({ proxy: new RecordingProxy(), debounceMs: 1 });
    const changes: number[] = [];
    table.onChange(() => changes.push(1));
    table.replaceAll([
      { kind: 'Service', object: web },
      { kind: 'Endpoints', object: webEndpoints('10.244.1.2', '10.244.2.3') },
      {
        kind: 'Service',
        object: {
          metadata: { name: 'db', namespace: 'data' },
          spec: { clusterIP: 'None', ports: [{ port: 5432 }] },
        },
      },
      {
        kind: 'Endpoints',
        object: {
          metadata: { name: 'db', namespace: 'data' },
          subsets: [{ addresses: [{ ip: '10.244.3.4' }], ports: [{ name: 'pg', port: 5433 }] }],
        },
      },
    ]);
    expect(table.lookupService('shop', 'web')).toEqual({
      clusterIP: '10.96.0.10',
      ready: ['10.244.1.2', '10.244.2.3'],
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    });
    expect(table.lookupService('data', 'db')).toEqual({
      ready: ['10.244.3.4'],
      ports: [{ name: 'pg', port: 5433, protocol: 'TCP' }],
    });
    expect(table.lookupService('shop', 'nothing')).toBeUndefined();
    expect(table.hasNamespace('shop')).toBe(true);
    expect(table.hasNamespace('other')).toBe(false);
    table.remove('Service', 'data', 'db');
    expect(table.hasNamespace('data')).toBe(false);
    expect(changes).toHaveLength(2);
    await table.close();
  });
});
