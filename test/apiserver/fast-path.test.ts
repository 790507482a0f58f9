// Resource requests with a Content-Length are answered before Fastify (api-fast-path.ts); chunked
// bodies, watches and everything unusual take the framework route. Both must answer alike: same
// codes, Status bodies, Warning headers, metrics, and a connection that keeps serving after a 401.
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import {
  startTestControlPlane,
  type HttpResult,
  type RequestOptions,
  type TestControlPlane,
} from '../support/cluster';

let cp: TestControlPlane;
let agent: Agent;
beforeAll(async () => {
  cp = await startTestControlPlane('fast-path');
  agent = new Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(cp.caFile) });
  const namespace = await cp.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fast' } },
  });
  expect(namespace.status).toBe(201);
});
afterAll(async () => {
  agent?.destroy();
  await cp?.stop();
});

/** A request on one kept-alive connection, so a refused request's socket must keep serving. */
function send(method: string, path: string, options: RequestOptions = {}): Promise<HttpResult> {
  return cp.request(method, path, { ...options, agent });
}

const configMap = (name: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' }, ...extra });

interface Created {
  apiVersion: string;
  kind: string;
  metadata: { name: string; resourceVersion: string; uid: string; managedFields: unknown[] };
  data: Record<string, string>;
}

describe('the direct resource path and the framework route', () => {
  it('create alike with a Content-Length and with a chunked body', async () => {
    const direct = await send('POST', '/api/v1/namespaces/fast/configmaps', { body: configMap('direct') });
    const chunked = await send('POST', '/api/v1/namespaces/fast/configmaps', {
      body: configMap('chunked'),
      chunked: true,
    });
    for (const [result, name] of [
      [direct, 'direct'],
      [chunked, 'chunked'],
    ] as const) {
      expect(result.status).toBe(201);
      expect(result.headers['content-type']).toBe('application/json; charset=utf-8');
      const object = result.json<Created>();
      expect(object).toMatchObject({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name },
        data: { k: 'v' },
      });
      expect(object.metadata.managedFields).toHaveLength(1);
      const read = await send('GET', `/api/v1/namespaces/fast/configmaps/${name}`);
      expect(read.json<Created>().metadata.resourceVersion).toBe(object.metadata.resourceVersion);
    }
    const again = await send('POST', '/api/v1/namespaces/fast/configmaps', { body: configMap('direct') });
    expect(again.status).toBe(409);
    expect(again.json()).toMatchObject({ kind: 'Status', reason: 'AlreadyExists' });
  });

  it('sends fieldValidation=Warn warnings as Warning headers on both', async () => {
    for (const chunked of [false, true]) {
      const name = chunked ? 'warned-chunked' : 'warned-direct';
      const result = await send('POST', '/api/v1/namespaces/fast/configmaps?fieldValidation=Warn', {
        body: configMap(name, { bogus: 1 }),
        chunked,
      });
      expect(result.status).toBe(201);
      expect(String(result.headers['warning'])).toBe('299 - "unknown field \\"bogus\\""');
      expect(result.json()).not.toHaveProperty('bogus');
    }
  });

  it('refuses a body without a media type with 415 and malformed JSON with 400', async () => {
    const untyped = await send('POST', '/api/v1/namespaces/fast/configmaps', {
      body: configMap('untyped'),
      contentType: null,
    });
    expect(untyped.status).toBe(415);
    expect(untyped.json()).toMatchObject({ kind: 'Status', code: 415 });
    const malformed = await send('POST', '/api/v1/namespaces/fast/configmaps', { body: '{"kind": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.json<{ message: string }>().message).toContain('not valid JSON');
  });

  it('answers 401 without reading the body and keeps serving the connection', async () => {
    const refused = await send('POST', '/api/v1/namespaces/fast/configmaps', {
      body: configMap('refused'),
      token: 'not-a-token',
    });
    expect(refused.status).toBe(401);
    expect(refused.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized' });
    const next = await send('GET', '/api/v1/namespaces/fast/configmaps/refused');
    expect(next.status).toBe(404);
  });

  it('counts direct requests in apiserver_request_total by verb, resource and code', async () => {
    const before = await send('GET', '/metrics');
    const count = (text: string): number => {
      const line = text
        .split('\n')
        .find((entry) =>
          entry.startsWith('apiserver_request_total{verb="create",resource="configmaps",code="201"}'),
        );
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    const created = await send('POST', '/api/v1/namespaces/fast/configmaps', { body: configMap('counted') });
    expect(created.status).toBe(201);
    const after = await send('GET', '/metrics');
    expect(count(after.text)).toBe(count(before.text) + 1);
  });

  it('leaves pods/log to its own route and lists with table output', async () => {
    const log = await send('GET', '/api/v1/namespaces/fast/pods/missing/log');
    expect(log.status).toBe(404);
    expect(log.json<{ message: string }>().message).toContain('pods "missing" not found');
    const table = await send('GET', '/api/v1/namespaces/fast/configmaps', {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
    });
    expect(table.status).toBe(200);
    expect(table.json()).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1' });
  });
});
