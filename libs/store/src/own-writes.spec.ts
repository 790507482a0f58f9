import type { KubeObject } from '@flotilla/api';
import { OwnWrites } from './own-writes';

/** What EtcdStore stores for an object: its JSON without resourceVersion. */
function stored(object: KubeObject): Buffer {
  const { resourceVersion: _ignored, ...metadata } = object.metadata ?? {};
  return Buffer.from(JSON.stringify({ ...object, metadata }));
}

/** What the watch decoder makes of a stored value at a revision, the reference to match. */
function parsed(value: Buffer, revision: number): KubeObject {
  const object = JSON.parse(value.toString('utf8')) as KubeObject;
  object.metadata = { ...(object.metadata ?? {}), resourceVersion: String(revision) };
  return object;
}

/** Writes as the store does: remembered (and copied) when serialized, before etcd answers. */
function write(writes: OwnWrites, options: { key: string; object: KubeObject }): Buffer {
  const value = stored(options.object);
  writes.remember({ key: options.key, value, object: options.object });
  return value;
}

function pod(): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'a', namespace: 'default', labels: { app: 'web' }, uid: 'u-1' },
    spec: {
      containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '10m' } }, args: ['x', 'y'] }],
      priority: 0,
    },
  } as KubeObject;
}

describe('OwnWrites', () => {
  it('gives, for create, update, status and delete in turn, the objects JSON.parse gives, shared with nobody', () => {
    const writes = new OwnWrites();
    const key = '/registry/pods/default/a';
    const seen: KubeObject[] = [];
    const check = (object: KubeObject, revision: number): void => {
      const value = write(writes, { key, object });
      const taken = writes.take(key, revision, value);
      expect(taken).toBeDefined();
      expect(taken).toEqual(parsed(value, revision));
      // Key order too: what the cache serializes later must read as the stored text does.
      expect(JSON.stringify(taken)).toBe(JSON.stringify(parsed(value, revision)));
      seen.push(taken as KubeObject);
    };

    const created = pod();
    check(created, 10);
    const updated = { ...pod(), metadata: { ...pod().metadata, resourceVersion: '10', labels: { app: 'db' } } };
    check(updated, 11);
    const withStatus = {
      ...updated,
      metadata: { ...updated.metadata, resourceVersion: '11' },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], podIP: '10.0.0.1' },
    } as KubeObject;
    check(withStatus, 12);
    // A delete writes no value: nothing is remembered and its event is decoded from prev_kv.
    expect(writes.take(key, 13, Buffer.from(''))).toBeUndefined();
    expect(writes.size).toBe(0);

    // The writers change everything they hold afterwards; the taken objects do not move.
    const before = JSON.stringify(seen);
    for (const object of [created, updated, withStatus] as KubeObject[]) {
      const spec = object.spec as { containers: Array<{ args: string[]; resources: { requests: Record<string, string> } }> };
      spec.containers[0]?.args.push('z');
      const requests = spec.containers[0]?.resources.requests;
      if (requests) requests['cpu'] = '1';
      if (object.metadata?.labels) object.metadata.labels['app'] = 'changed';
      (object.status as { conditions?: unknown[] } | undefined)?.conditions?.push({ type: 'X' });
    }
    expect(JSON.stringify(seen)).toBe(before);
  });

  it('leaves the event to JSON.parse when the bytes or the key differ, or the write failed', () => {
    const writes = new OwnWrites();
    const key = '/registry/pods/default/a';
    const value = write(writes, { key, object: pod() });
    const otherBytes = Buffer.from(value.toString('utf8').replace('"web"', '"wob"'));
    // Another writer's event for the key (or an earlier write's) does not use up this write.
    expect(writes.take(key, 20, otherBytes)).toBeUndefined();
    expect(writes.take('/registry/pods/default/b', 20, value)).toBeUndefined();
    expect(writes.take(key, 21, value)).toEqual(parsed(value, 21));
    // Taken once: a second event with those bytes is parsed.
    expect(writes.take(key, 22, value)).toBeUndefined();

    const refused = writes.remember({ key, value, object: pod() });
    writes.forget(key, refused);
    expect(writes.take(key, 23, value)).toBeUndefined();

    // The next write of a key may go out before the previous one's event came back.
    write(writes, { key, object: pod() });
    const newer = write(writes, { key, object: { ...pod(), status: { phase: 'Running' } } });
    expect(writes.take(key, 24, value)).toEqual(parsed(value, 24));
    expect(writes.take(key, 25, newer)).toEqual(parsed(newer, 25));
    expect(writes.size).toBe(0);
    // An event skips past writes of the key whose events never came (failed, say).
    write(writes, { key, object: pod() });
    const last = write(writes, { key, object: { ...pod(), status: { phase: 'Failed' } } });
    expect(writes.take(key, 26, last)).toEqual(parsed(last, 26));
    expect(writes.size).toBe(0);
  });

  it('remembers nothing it could not copy exactly as JSON would give it back', () => {
    const writes = new OwnWrites();
    const key = '/registry/pods/default/a';
    const odd: KubeObject[] = [
      { ...pod(), spec: { when: new Date(0) } },
      { ...pod(), spec: { value: { toJSON: () => 'x' } } },
      { ...pod(), spec: { ratio: Number.NaN } },
      { ...pod(), spec: { list: [1, undefined, 3] } },
      { apiVersion: 'v1', kind: 'Pod' } as KubeObject,
    ];
    odd.forEach((object, index) => {
      const value = write(writes, { key, object });
      expect(writes.take(key, 30 + index, value)).toBeUndefined();
    });
    expect(writes.size).toBe(0);
    // What JSON changes but we can copy faithfully is copied as JSON.parse gives it.
    const plain = { ...pod(), spec: { zero: -0, gone: undefined, fn: () => 1 } } as unknown as KubeObject;
    const value = write(writes, { key, object: plain });
    const taken = writes.take(key, 40, value);
    expect(taken).toEqual(parsed(value, 40));
    expect(Object.is((taken?.spec as { zero: number }).zero, 0)).toBe(true);
    expect(Object.keys(taken?.spec ?? {})).toEqual(['zero']);
  });

  it('holds at most its bound, dropping the oldest, and drops writes whose event never came', () => {
    let now = 0;
    const writes = new OwnWrites({ maxEntries: 3, maxAgeMs: 1000, now: () => now });
    const keys = [1, 2, 3, 4].map((index) => `/registry/pods/default/p${index}`);
    const values = keys.map((key) => write(writes, { key, object: pod() }));
    expect(writes.size).toBe(3);
    expect(writes.take(keys[0] as string, 1, values[0] as Buffer)).toBeUndefined();
    expect(writes.take(keys[1] as string, 2, values[1] as Buffer)).toBeDefined();

    now = 5000;
    write(writes, { key: '/registry/pods/default/p5', object: pod() });
    expect(writes.size).toBe(1);
    expect(writes.take(keys[2] as string, 3, values[2] as Buffer)).toBeUndefined();
  });
});
