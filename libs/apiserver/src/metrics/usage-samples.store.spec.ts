import { MemorySampleLists } from './sample-lists';
import { UsageSamples, type UsageReport } from './usage-samples.store';

function report(time: string, cpu: bigint, uid = 'u1'): UsageReport {
  return {
    node: { nodeName: 'node-a', time, cpuNanos: cpu * 10n, memoryWorkingSetBytes: 4096n },
    pods: [
      {
        namespace: 'shop',
        name: 'web',
        uid,
        containers: [{ name: 'main', cpuNanos: cpu, memoryWorkingSetBytes: 1024n }],
      },
    ],
  };
}

describe('UsageSamples on memory lists', () => {
  let clock = 0;
  let samples: UsageSamples;

  beforeEach(() => {
    clock = 1_000_000;
    samples = new UsageSamples({ lists: new MemorySampleLists({ now: () => clock }), ttlMs: 15_000 });
  });

  it('keeps the two newest samples of each node and pod, newest first', async () => {
    await samples.record(report('2026-11-23T10:00:00.000Z', 1n));
    await samples.record(report('2026-11-23T10:00:05.000Z', 2n));
    await samples.record(report('2026-11-23T10:00:10.000Z', 3n));
    const node = (await samples.nodes(['node-a', 'node-b'])).get('node-a');
    expect(node?.latest).toEqual({
      nodeName: 'node-a',
      time: '2026-11-23T10:00:10.000Z',
      cpuNanos: 30n,
      memoryWorkingSetBytes: 4096n,
    });
    expect(node?.previous?.time).toBe('2026-11-23T10:00:05.000Z');
    const pods = await samples.pods([
      { namespace: 'shop', name: 'web' },
      { namespace: 'shop', name: 'gone' },
    ]);
    expect([...pods.keys()]).toEqual(['shop/web']);
    expect(pods.get('shop/web')).toEqual({
      latest: {
        namespace: 'shop',
        name: 'web',
        uid: 'u1',
        nodeName: 'node-a',
        time: '2026-11-23T10:00:10.000Z',
        containers: [{ name: 'main', cpuNanos: 3n, memoryWorkingSetBytes: 1024n }],
      },
      previous: expect.objectContaining({ time: '2026-11-23T10:00:05.000Z' }),
    });
  });

  it('lets a silent node expire after the TTL, and forgets a deleted node at once', async () => {
    await samples.record(report('2026-11-23T10:00:00.000Z', 1n));
    clock += 14_999;
    expect((await samples.nodes(['node-a'])).size).toBe(1);
    clock += 1;
    expect((await samples.nodes(['node-a'])).size).toBe(0);
    expect((await samples.pods([{ namespace: 'shop', name: 'web' }])).size).toBe(0);
    await samples.record(report('2026-11-23T10:00:20.000Z', 1n));
    await samples.forget('node-a');
    expect((await samples.nodes(['node-a'])).size).toBe(0);
  });

  it('starts a new window after expiry instead of joining a stale sample', async () => {
    await samples.record(report('2026-11-23T10:00:00.000Z', 1n));
    clock += 20_000;
    await samples.record(report('2026-11-23T10:00:20.000Z', 2n));
    expect((await samples.nodes(['node-a'])).get('node-a')?.previous).toBeUndefined();
  });
});
