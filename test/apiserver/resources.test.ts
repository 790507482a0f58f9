import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import type { KubeObject } from '@flotilla/api';
import { eventually } from '../support/eventually';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';

let cp: TestControlPlane;
beforeAll(async () => {
  cp = await startTestControlPlane('resources');
});
afterAll(() => cp?.stop());

interface Meta {
  name?: string;
  resourceVersion?: string;
  generation?: number;
  uid?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
}
type Obj = { metadata: Meta; spec?: Record<string, unknown>; status?: Record<string, unknown> };

const configMap = (name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
  data,
});

async function createNamespace(name: string): Promise<void> {
  const result = await cp.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
  });
  expect(result.status).toBe(201);
}

describe('resources through the apiserver', () => {
  beforeAll(async () => {
    await createNamespace('crud');
  });

  it('creates, reads, updates with resourceVersion checks, and deletes', async () => {
    const created = await cp.request('POST', '/api/v1/namespaces/crud/configmaps', { body: configMap('a') });
    expect(created.status).toBe(201);
    const object = created.json<Obj>();
    expect(object.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    const got = await cp.request('GET', '/api/v1/namespaces/crud/configmaps/a');
    expect(got.json<Obj>().metadata.resourceVersion).toBe(object.metadata.resourceVersion);

    const updated = await cp.request('PUT', '/api/v1/namespaces/crud/configmaps/a', {
      body: {
        ...configMap('a', {}, { k: 'v' }),
        metadata: { name: 'a', resourceVersion: object.metadata.resourceVersion },
      },
    });
    expect(updated.status).toBe(200);
    const stale = await cp.request('PUT', '/api/v1/namespaces/crud/configmaps/a', {
      body: {
        ...configMap('a', {}, { k: 'w' }),
        metadata: { name: 'a', resourceVersion: object.metadata.resourceVersion },
      },
    });
    expect(stale.status).toBe(409);
    expect(stale.json()).toMatchObject({ kind: 'Status', reason: 'Conflict' });
    expect(stale.json<{ message: string }>().message).toContain(
      'Operation cannot be fulfilled on configmaps "a"',
    );

    expect(
      (await cp.request('POST', '/api/v1/namespaces/crud/configmaps', { body: configMap('a') })).status,
    ).toBe(409);
    expect((await cp.request('DELETE', '/api/v1/namespaces/crud/configmaps/a')).status).toBe(200);
    const gone = await cp.request('GET', '/api/v1/namespaces/crud/configmaps/a');
    expect(gone.status).toBe(404);
    expect(gone.json()).toMatchObject({ reason: 'NotFound', message: 'configmaps "a" not found' });
  });

  it('generates names from generateName', async () => {
    const created = await cp.request('POST', '/api/v1/namespaces/crud/configmaps', {
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } },
    });
    expect(created.status).toBe(201);
    expect(created.json<Obj>().metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
  });

  it('refuses bad names, a namespace that does not exist, and a mismatched kind', async () => {
    const bad = await cp.request('POST', '/api/v1/namespaces/crud/configmaps', {
      body: configMap('Bad_Name'),
    });
    expect(bad.status).toBe(422);
    expect(bad.json()).toMatchObject({
      reason: 'Invalid',
      details: { causes: [{ field: 'metadata.name' }] },
    });
    const missing = await cp.request('POST', '/api/v1/namespaces/nowhere/configmaps', {
      body: configMap('x'),
    });
    expect(missing.status).toBe(404);
    expect(missing.json<{ message: string }>().message).toBe('namespaces "nowhere" not found');
    const mismatch = await cp.request('POST', '/api/v1/namespaces/crud/configmaps', {
      body: { ...configMap('x'), kind: 'Secret' },
    });
    expect(mismatch.status).toBe(400);
  });

  it('lists with label selectors, field selectors, limit and continue', async () => {
    await createNamespace('lists');
    for (const [name, tier] of [
      ['l1', 'front'],
      ['l2', 'back'],
      ['l3', 'front'],
      ['l4', 'front'],
    ] as const) {
      expect(
        (await cp.request('POST', '/api/v1/namespaces/lists/configmaps', { body: configMap(name, { tier }) }))
          .status,
      ).toBe(201);
    }
    const front = await cp.request('GET', '/api/v1/namespaces/lists/configmaps?labelSelector=tier%3Dfront');
    expect(front.json<{ items: Obj[] }>().items.map((item) => item.metadata.name)).toEqual([
      'l1',
      'l3',
      'l4',
    ]);
    const named = await cp.request(
      'GET',
      '/api/v1/namespaces/lists/configmaps?fieldSelector=metadata.name%3Dl2',
    );
    expect(named.json<{ items: Obj[] }>().items.map((item) => item.metadata.name)).toEqual(['l2']);
    const page1 = await cp.request('GET', '/api/v1/namespaces/lists/configmaps?limit=2');
    const body1 = page1.json<{ items: Obj[]; metadata: { continue: string; remainingItemCount: number } }>();
    expect(body1.items).toHaveLength(2);
    expect(body1.metadata.remainingItemCount).toBe(2);
    const page2 = await cp.request(
      'GET',
      `/api/v1/namespaces/lists/configmaps?limit=2&continue=${body1.metadata.continue}`,
    );
    expect(page2.json<{ items: Obj[] }>().items.map((item) => item.metadata.name)).toEqual(['l3', 'l4']);
    const cached = await cp.request('GET', '/api/v1/namespaces/lists/configmaps?resourceVersion=0');
    expect(cached.json<{ items: Obj[] }>().items).toHaveLength(4);
    const all = await cp.request('GET', '/api/v1/configmaps?labelSelector=tier%20in%20(back)');
    expect(all.json<{ items: Obj[] }>().items.map((item) => item.metadata.name)).toEqual(['l2']);
    const badSelector = await cp.request('GET', '/api/v1/configmaps?labelSelector=tier%20in%20(');
    expect(badSelector.status).toBe(400);
    const badField = await cp.request('GET', '/api/v1/configmaps?fieldSelector=spec.nodeName%3Da');
    expect(badField.status).toBe(400);
    expect(badField.json<{ message: string }>().message).toContain('field label not supported');
  });

  it('keeps objects with finalizers until the last one is removed', async () => {
    const created = await cp.request('POST', '/api/v1/namespaces/crud/configmaps', {
      body: { ...configMap('fin'), metadata: { name: 'fin', finalizers: ['example.com/hold'] } },
    });
    expect(created.status).toBe(201);
    const deleting = await cp.request('DELETE', '/api/v1/namespaces/crud/configmaps/fin');
    expect(deleting.status).toBe(202);
    const held = await cp.request('GET', '/api/v1/namespaces/crud/configmaps/fin');
    const heldObject = held.json<Obj>();
    expect(heldObject.metadata.deletionTimestamp).toBeDefined();
    const released = await cp.request('PUT', '/api/v1/namespaces/crud/configmaps/fin', {
      body: { ...heldObject, metadata: { ...heldObject.metadata, finalizers: [] } },
    });
    expect(released.status).toBe(200);
    expect((await cp.request('GET', '/api/v1/namespaces/crud/configmaps/fin')).status).toBe(404);
  });
});

describe('subresources', () => {
  beforeAll(async () => {
    await createNamespace('sub');
  });

  const pod = (name: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'app', image: 'flotilla/busybox:latest' }] },
  });

  it('binds a pod to a node once, and refuses a second binding', async () => {
    const created = await cp.request('POST', '/api/v1/namespaces/sub/pods', { body: pod('p1') });
    expect(created.status).toBe(201);
    const binding = (node: string) => ({
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'p1' },
      target: { apiVersion: 'v1', kind: 'Node', name: node },
    });
    const first = await cp.request('POST', '/api/v1/namespaces/sub/pods/p1/binding', {
      body: binding('node-a'),
    });
    expect(first.status).toBe(201);
    const second = await cp.request('POST', '/api/v1/namespaces/sub/pods/p1/binding', {
      body: binding('node-b'),
    });
    expect(second.status).toBe(409);
    expect(second.json<{ message: string }>().message).toContain('already assigned to node "node-a"');
    const got = await cp.request('GET', '/api/v1/namespaces/sub/pods/p1');
    expect(got.json<Obj>().spec?.['nodeName']).toBe('node-a');
    // As Kubernetes' binding subresource: the pod's managedFields are the creator's alone.
    const managers = (object: Obj): unknown[] | undefined =>
      (object.metadata as Meta & { managedFields?: unknown[] }).managedFields;
    expect(managers(got.json<Obj>())).toEqual(managers(created.json<Obj>()));
    expect(managers(created.json<Obj>())).toHaveLength(1);
    // The binding says the pod is scheduled and leaves its generation alone, as kube-apiserver does.
    const status = got.json<Obj>().status as { conditions?: Array<Record<string, unknown>> };
    expect(status.conditions).toEqual([
      expect.objectContaining({
        type: 'PodScheduled',
        status: 'True',
        lastTransitionTime: expect.any(String),
      }),
    ]);
    expect((got.json<Obj>().metadata as Meta & { generation?: number }).generation).toBe(
      (created.json<Obj>().metadata as Meta & { generation?: number }).generation,
    );
  });

  it('refuses a binding to no node or to something that is not a node, naming the field', async () => {
    expect((await cp.request('POST', '/api/v1/namespaces/sub/pods', { body: pod('p1b') })).status).toBe(201);
    const refused = async (target: object): Promise<Array<{ field?: string }>> => {
      const response = await cp.request('POST', '/api/v1/namespaces/sub/pods/p1b/binding', {
        body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p1b' }, target },
      });
      expect(response.status).toBe(422);
      return response.json<{ details: { causes: Array<{ field?: string }> } }>().details.causes;
    };
    expect(await refused({ kind: 'Node' })).toEqual([expect.objectContaining({ field: 'target.name' })]);
    expect(await refused({ kind: 'Node', name: 'Not_A_Node' })).toEqual([
      expect.objectContaining({ field: 'target.name' }),
    ]);
    expect(await refused({ kind: 'Service', name: 'node-a' })).toEqual([
      expect.objectContaining({ field: 'target.kind' }),
    ]);
    const still = await cp.request('GET', '/api/v1/namespaces/sub/pods/p1b');
    expect(still.json<Obj>().spec?.['nodeName']).toBeUndefined();
  });

  it('writes status only through the status subresource', async () => {
    const created = (
      await cp.request('POST', '/api/v1/namespaces/sub/pods', { body: pod('p2') })
    ).json<Obj>();
    expect(created.status).toEqual({ phase: 'Pending' });
    const viaMain = await cp.request('PUT', '/api/v1/namespaces/sub/pods/p2', {
      body: { ...created, status: { phase: 'Running' } },
    });
    expect(viaMain.json<Obj>().status).toEqual({ phase: 'Pending' });
    const current = viaMain.json<Obj>();
    const viaStatus = await cp.request('PUT', '/api/v1/namespaces/sub/pods/p2/status', {
      body: { ...current, spec: { containers: [] }, status: { phase: 'Running' } },
    });
    expect(viaStatus.status).toBe(200);
    const after = viaStatus.json<Obj>();
    expect(after.status).toEqual({ phase: 'Running' });
    expect((after.spec?.['containers'] as unknown[]).length).toBe(1);
  });

  it('never changes spec or metadata through the status subresource, and checks the status itself', async () => {
    const created = (await cp.request('POST', '/api/v1/namespaces/sub/pods', { body: pod('p3') })).json<
      Obj & { metadata: Meta & { labels?: Record<string, string> } }
    >();
    const patched = await cp.request('PATCH', '/api/v1/namespaces/sub/pods/p3/status', {
      contentType: 'application/merge-patch+json',
      body: {
        metadata: { labels: { sneaked: 'in' } },
        spec: { nodeName: 'node-x', containers: [{ name: 'app', image: 'other:1' }] },
        status: { phase: 'Running' },
      },
    });
    expect(patched.status).toBe(200);
    const jsonPatched = await cp.request('PATCH', '/api/v1/namespaces/sub/pods/p3/status', {
      contentType: 'application/json-patch+json',
      body: [
        { op: 'replace', path: '/spec/containers/0/image', value: 'other:2' },
        { op: 'add', path: '/status/message', value: 'patched' },
      ],
    });
    expect(jsonPatched.status).toBe(200);
    const stored = (await cp.request('GET', '/api/v1/namespaces/sub/pods/p3')).json<
      Obj & { metadata: Meta & { labels?: Record<string, string> } }
    >();
    expect(stored.spec).toEqual(created.spec);
    expect(stored.metadata.labels).toEqual(created.metadata.labels);
    expect(stored.metadata.uid).toBe(created.metadata.uid);
    expect(stored.metadata.generation).toBe(created.metadata.generation);
    expect(stored.status).toEqual({ phase: 'Running', message: 'patched' });

    const notAnObject = await cp.request('PUT', '/api/v1/namespaces/sub/pods/p3/status', {
      body: { ...stored, status: 'Running' },
    });
    expect(notAnObject.status).toBe(422);
    expect(notAnObject.json<{ details: { causes: Array<{ field?: string }> } }>().details.causes).toEqual([
      expect.objectContaining({ field: 'status' }),
    ]);
    const unchanged = (await cp.request('GET', '/api/v1/namespaces/sub/pods/p3')).json<Obj>();
    expect(unchanged.metadata.resourceVersion).toBe(stored.metadata.resourceVersion);
  });
});

describe('watch', () => {
  beforeAll(async () => {
    await createNamespace('watch');
  });

  function openWatch(path: string): {
    events: Array<{ type: string; object: Obj & { code?: number } }>;
    close: () => void;
  } {
    const events: Array<{ type: string; object: Obj & { code?: number } }> = [];
    const controller = new AbortController();
    const req = httpsRequest(
      `${cp.url}${path}`,
      {
        headers: { Authorization: `Bearer ${cp.token}` },
        ca: readFileSync(cp.caFile),
        signal: controller.signal,
      },
      (res) => {
        let buffer = '';
        res.on('data', (chunk: Buffer) => {
          buffer += chunk.toString('utf8');
          let newline: number;
          while ((newline = buffer.indexOf('\n')) >= 0) {
            events.push(JSON.parse(buffer.slice(0, newline)) as { type: string; object: Obj });
            buffer = buffer.slice(newline + 1);
          }
        });
        res.on('error', () => undefined);
      },
    );
    req.on('error', () => undefined);
    req.end();
    return { events, close: () => controller.abort() };
  }

  it('streams the current state, then changes, from the watch cache', async () => {
    await cp.request('POST', '/api/v1/namespaces/watch/configmaps', { body: configMap('w1', { app: 'x' }) });
    const watch = openWatch('/api/v1/namespaces/watch/configmaps?watch=1&labelSelector=app%3Dx');
    await eventually(() => watch.events.length === 1, 'initial ADDED');
    const created = await cp.request('POST', '/api/v1/namespaces/watch/configmaps', {
      body: configMap('w2', { app: 'x' }),
    });
    const w2 = created.json<Obj>();
    await cp.request('PUT', '/api/v1/namespaces/watch/configmaps/w2', {
      body: { ...w2, metadata: { ...w2.metadata, labels: { app: 'y' } } },
    });
    await eventually(() => watch.events.length === 3, 'ADDED and DELETED (left the selector)');
    watch.close();
    expect(watch.events.map((event) => `${event.type} ${event.object.metadata.name ?? ''}`)).toEqual([
      'ADDED w1',
      'ADDED w2',
      'DELETED w2',
    ]);
  });

  it('resumes from a resourceVersion and answers 410 once it is compacted', async () => {
    const first = (
      await cp.request('POST', '/api/v1/namespaces/watch/configmaps', { body: configMap('r1') })
    ).json<Obj>();
    await cp.request('POST', '/api/v1/namespaces/watch/configmaps', { body: configMap('r2') });
    const resumed = openWatch(
      `/api/v1/namespaces/watch/configmaps?watch=1&resourceVersion=${first.metadata.resourceVersion ?? ''}`,
    );
    await eventually(() => resumed.events.length === 1, 'r2 replayed');
    resumed.close();
    expect(resumed.events[0]?.object.metadata.name).toBe('r2');

    // Two compaction intervals: the first records the current revision, the second compacts to it.
    await cp.apiserver.compact();
    await cp.request('POST', '/api/v1/namespaces/watch/configmaps', { body: configMap('r3') });
    await cp.apiserver.compact();
    const stale = openWatch('/api/v1/namespaces/watch/configmaps?watch=1&resourceVersion=1');
    await eventually(() => stale.events.length === 1, 'an ERROR event');
    stale.close();
    expect(stale.events[0]).toMatchObject({
      type: 'ERROR',
      object: { kind: 'Status', code: 410, reason: 'Gone' },
    });
  });
});

describe('namespaces', () => {
  it('deletes the content of a namespace, then the namespace', async () => {
    await createNamespace('doomed');
    await cp.request('POST', '/api/v1/namespaces/doomed/configmaps', { body: configMap('c1') });
    const deleting = await cp.request('DELETE', '/api/v1/namespaces/doomed');
    expect(deleting.status).toBe(202);
    expect(deleting.json<Obj>().status).toMatchObject({ phase: 'Terminating' });
    const refused = await cp.request('POST', '/api/v1/namespaces/doomed/configmaps', {
      body: configMap('c2'),
    });
    expect([403, 404]).toContain(refused.status);
    let remaining = 200;
    for (let attempt = 0; attempt < 100 && remaining !== 404; attempt++) {
      remaining = (await cp.request('GET', '/api/v1/namespaces/doomed')).status;
      if (remaining !== 404) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(remaining).toBe(404);
    expect((await cp.request('GET', '/api/v1/namespaces/doomed/configmaps/c1')).status).toBe(404);
  });
});

describe('hostile and malformed input', () => {
  it('answers a body over 3 MiB with 413 and stays healthy', async () => {
    const result = await cp.request('POST', '/api/v1/namespaces/default/configmaps', {
      body: 'x'.repeat(3 * 1024 * 1024 + 10),
    });
    expect(result.status).toBe(413);
    expect(result.json()).toMatchObject({ kind: 'Status', reason: 'RequestEntityTooLarge' });
    expect((await cp.request('GET', '/healthz')).status).toBe(200);
  });

  it('answers JSON nested a million deep with 400', async () => {
    const body = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
    const result = await cp.request('POST', '/api/v1/namespaces/default/configmaps', { body });
    expect(result.status).toBe(400);
    expect((await cp.request('GET', '/readyz')).status).toBe(200);
  });

  it('answers a YAML billion laughs with 400', async () => {
    const lines = [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata: {name: lol}',
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ];
    let previous = 'a';
    for (const name of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']) {
      lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
      previous = name;
    }
    const result = await cp.request('POST', '/api/v1/namespaces/default/configmaps', {
      body: lines.join('\n'),
      contentType: 'application/yaml',
    });
    expect(result.status).toBe(400);
    expect(result.json<{ message: string }>().message).toMatch(/alias/i);
  });

  it('answers an object over etcd’s limit with 413', async () => {
    await createNamespace('big');
    // Endpoints have no size rule of their own (a ConfigMap over 1 MiB is already a 422), so this
    // one reaches the store and meets etcd's request limit.
    const addresses = Array.from({ length: 40_000 }, (_, index) => ({
      ip: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`,
      hostname: `pod-${index}-with-a-longer-name`,
    }));
    const big = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'big' }, subsets: [{ addresses }] };
    const result = await cp.request('POST', '/api/v1/namespaces/big/endpoints', { body: big });
    expect(result.status).toBe(413);
    expect(result.json<{ message: string }>().message).toContain('etcd accepts at most');
  });

  it('answers malformed JSON with 400 and an unknown media type with 415', async () => {
    const malformed = await cp.request('POST', '/api/v1/namespaces/default/configmaps', {
      body: '{"metadata":',
    });
    expect(malformed.status).toBe(400);
    const media = await cp.request('POST', '/api/v1/namespaces/default/configmaps', {
      body: 'x',
      contentType: 'text/plain',
    });
    expect(media.status).toBe(415);
  });
});

describe('authentication, health and metrics', () => {
  it('refuses missing and wrong tokens with a 401 Status', async () => {
    for (const token of [null, 'wrong']) {
      const result = await cp.request('GET', '/api/v1/namespaces', { token });
      expect(result.status).toBe(401);
      expect(result.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    }
  });

  it('serves health without a token and metrics with one', async () => {
    expect((await cp.request('GET', '/livez', { token: null })).status).toBe(200);
    expect((await cp.request('GET', '/version', { token: null })).json()).toMatchObject({ major: '1' });
    const metrics = await cp.request('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('apiserver_request_total{verb="create",resource="configmaps",code="201"}');
  });

  it('serves discovery for every group-version', async () => {
    const groups = (await cp.request('GET', '/apis')).json<{ groups: Array<{ name: string }> }>();
    expect(groups.groups.map((group) => group.name)).toEqual(
      expect.arrayContaining(['apps', 'autoscaling', 'coordination.k8s.io']),
    );
    const core = (await cp.request('GET', '/api/v1')).json<{ resources: KubeObject[] }>();
    expect(core.resources.length).toBeGreaterThan(8);
  });
});

describe('validation and defaults', () => {
  it('names every unknown field with fieldValidation=Strict and drops them with Ignore', async () => {
    const body = { ...configMap('strict'), bogus: 1, metadata: { name: 'strict', bogus2: 'x' } };
    const strict = await cp.request('POST', '/api/v1/namespaces/crud/configmaps', { body });
    expect(strict.status).toBe(400);
    expect(strict.json<{ message: string }>().message).toBe(
      'strict decoding error: unknown field "bogus", unknown field "metadata.bogus2"',
    );
    const ignored = await cp.request('POST', '/api/v1/namespaces/crud/configmaps?fieldValidation=Ignore', {
      body,
    });
    expect(ignored.status).toBe(201);
    expect(ignored.json()).not.toHaveProperty('bogus');
    const warned = await cp.request('POST', '/api/v1/namespaces/crud/configmaps?fieldValidation=Warn', {
      body: { ...body, metadata: { name: 'warned' } },
    });
    expect(warned.status).toBe(201);
    expect(String(warned.headers['warning'])).toContain('unknown field \\"bogus\\"');
  });

  it('applies Kubernetes defaults and reports every invalid field with a 422', async () => {
    const created = await cp.request('POST', '/apis/apps/v1/namespaces/crud/deployments', {
      body: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'defaults' },
        spec: {
          selector: { matchLabels: { app: 'd' } },
          template: {
            metadata: { labels: { app: 'd' } },
            spec: { containers: [{ name: 'app', image: 'x:1' }] },
          },
        },
      },
    });
    expect(created.status).toBe(201);
    expect(created.json()).toMatchObject({
      spec: {
        replicas: 1,
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      },
    });
    const invalid = await cp.request('POST', '/apis/apps/v1/namespaces/crud/deployments', {
      body: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'invalid' },
        spec: {
          replicas: -1,
          selector: { matchLabels: { app: 'x' } },
          template: {
            metadata: { labels: { app: 'y' } },
            spec: { containers: [{ name: 'app', image: 'x', resources: { requests: { memory: '-1Gi' } } }] },
          },
        },
      },
    });
    expect(invalid.status).toBe(422);
    const status = invalid.json<{ reason: string; details: { causes: Array<{ field: string }> } }>();
    expect(status.reason).toBe('Invalid');
    expect(status.details.causes.map((cause) => cause.field).sort()).toEqual([
      'spec.replicas',
      'spec.template.metadata.labels',
      'spec.template.spec.containers[0].resources.requests',
    ]);
  });
});

describe('patch and server-side apply', () => {
  beforeAll(async () => {
    await createNamespace('patch');
  });

  const deployment = (replicas?: number, image = 'flotilla/busybox:1') => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'patch' },
    spec: {
      ...(replicas === undefined ? {} : { replicas }),
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image }] } },
    },
  });
  const path = '/apis/apps/v1/namespaces/patch/deployments/web';

  it('creates by apply, keeps the autoscaler’s replicas on re-apply, and names it in a conflict', async () => {
    const created = await cp.request('PATCH', `${path}?fieldManager=ci`, {
      body: JSON.stringify(deployment(3)),
      contentType: 'application/apply-patch+yaml',
    });
    expect(created.status).toBe(201);
    const scaled = await cp.request('PATCH', `${path}/scale?fieldManager=hpa`, {
      body: { spec: { replicas: 5 } },
      contentType: 'application/merge-patch+json',
    });
    expect(scaled.status).toBe(200);
    expect(scaled.json()).toMatchObject({
      kind: 'Scale',
      spec: { replicas: 5 },
      status: { selector: 'app=web' },
    });

    const reapplied = await cp.request('PATCH', `${path}?fieldManager=ci`, {
      body: JSON.stringify(deployment(undefined, 'flotilla/busybox:2')),
      contentType: 'application/apply-patch+yaml',
    });
    expect(reapplied.status).toBe(200);
    const object = reapplied.json<Obj & { spec: { replicas: number } }>();
    expect(object.spec.replicas).toBe(5);
    expect(object.metadata.generation).toBe(3);

    const conflict = await cp.request('PATCH', `${path}?fieldManager=ci`, {
      body: JSON.stringify(deployment(3, 'flotilla/busybox:2')),
      contentType: 'application/apply-patch+yaml',
    });
    expect(conflict.status).toBe(409);
    expect(conflict.json<{ message: string }>().message).toBe(
      'Apply failed with 1 conflict: conflict with "hpa" using apps/v1: .spec.replicas',
    );
    const forced = await cp.request('PATCH', `${path}?fieldManager=ci&force=true`, {
      body: JSON.stringify(deployment(3, 'flotilla/busybox:2')),
      contentType: 'application/apply-patch+yaml',
    });
    expect(forced.json<{ spec: { replicas: number } }>().spec.replicas).toBe(3);
  });

  it('applies strategic merge, merge and JSON patches', async () => {
    const strategic = await cp.request('PATCH', path, {
      body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'flotilla/busybox:3' }] } } } },
      contentType: 'application/strategic-merge-patch+json',
    });
    expect(strategic.status).toBe(200);
    const containers = strategic.json<{ spec: { template: { spec: { containers: unknown[] } } } }>().spec
      .template.spec.containers;
    expect(containers).toEqual([expect.objectContaining({ name: 'app', image: 'flotilla/busybox:3' })]);
    expect(containers).toHaveLength(1);
    const merge = await cp.request('PATCH', path, {
      body: { metadata: { labels: { tier: 'front' } } },
      contentType: 'application/merge-patch+json',
    });
    expect(merge.json<Obj & { metadata: { labels: Record<string, string> } }>().metadata.labels).toEqual({
      tier: 'front',
    });
    const json = await cp.request('PATCH', path, {
      body: [{ op: 'replace', path: '/spec/replicas', value: 4 }],
      contentType: 'application/json-patch+json',
    });
    expect(json.json<{ spec: { replicas: number } }>().spec.replicas).toBe(4);
    const failed = await cp.request('PATCH', path, {
      body: [{ op: 'test', path: '/spec/replicas', value: 9 }],
      contentType: 'application/json-patch+json',
    });
    expect(failed.status).toBe(400);
    expect(
      (
        await cp.request('PATCH', '/apis/apps/v1/namespaces/patch/deployments/nope', {
          body: {},
          contentType: 'application/merge-patch+json',
        })
      ).status,
    ).toBe(404);
  });

  it('re-applies concurrent patches to the newer object, and refuses a patch with a stale resourceVersion', async () => {
    // Twenty writers race on one object: each patch without a resourceVersion lands, none is lost.
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        cp.request('PATCH', path, {
          body: { metadata: { annotations: { [`writer-${i}`]: 'yes' } } },
          contentType: 'application/merge-patch+json',
        }),
      ),
    );
    expect(results.map((result) => result.status)).toEqual(Array.from({ length: 20 }, () => 200));
    const after = (await cp.request('GET', path)).json<
      Obj & { metadata: { annotations: Record<string, string> } }
    >();
    for (let i = 0; i < 20; i++) expect(after.metadata.annotations[`writer-${i}`]).toBe('yes');

    const stale = await cp.request('PATCH', path, {
      body: { metadata: { resourceVersion: '1', labels: { stale: 'yes' } } },
      contentType: 'application/merge-patch+json',
    });
    expect(stale.status).toBe(409);
    expect(stale.json<{ reason: string }>().reason).toBe('Conflict');
    const current = await cp.request('PATCH', path, {
      body: { metadata: { resourceVersion: after.metadata.resourceVersion, labels: { fresh: 'yes' } } },
      contentType: 'application/merge-patch+json',
    });
    expect(current.status).toBe(200);
  });

  it('validates without writing on dryRun=All', async () => {
    const dry = await cp.request('PATCH', `${path}?dryRun=All`, {
      body: { spec: { replicas: 9 } },
      contentType: 'application/merge-patch+json',
    });
    expect(dry.json<{ spec: { replicas: number } }>().spec.replicas).toBe(9);
    const live = await cp.request('GET', path);
    expect(live.json<{ spec: { replicas: number } }>().spec.replicas).toBe(4);
  });
});
