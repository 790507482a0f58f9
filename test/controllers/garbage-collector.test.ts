// Garbage collection by ownerReferences against a real control plane: background deletion removes
// dependents, Orphan keeps them without the owner, Foreground removes them before the owner.
import { randomUUID } from 'node:crypto';
import { createClient, type RestClient } from '@flotilla/client';
import { startGarbageCollector, type RunningGarbageCollector } from '@flotilla/controllers';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { requireTestEnv, until } from '../support/eventually';

const redisUrl = requireTestEnv('FLOTILLA_TEST_REDIS');

let cp: TestControlPlane;
let client: RestClient;
let collector: RunningGarbageCollector;

beforeAll(async () => {
  cp = await startTestControlPlane('gc');
  client = createClient({ kubeconfig: cp.kubeconfigPath });
  collector = startGarbageCollector({
    client,
    redisUrl,
    queueName: `gc-${randomUUID()}`,
    resyncIntervalMs: 2000,
  });
  await collector.ready;
});

afterAll(async () => {
  await collector?.stop();
  client?.close();
  await cp?.stop();
});

async function configMap(name: string, owner?: { name: string; uid: string }): Promise<string> {
  const created = await cp.request('POST', '/api/v1/namespaces/default/configmaps', {
    body: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        ...(owner
          ? { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner.name, uid: owner.uid }] }
          : {}),
      },
    },
  });
  expect(created.status).toBe(201);
  return created.json<{ metadata: { uid: string } }>().metadata.uid;
}

async function status(name: string): Promise<number> {
  return (await cp.request('GET', `/api/v1/namespaces/default/configmaps/${name}`)).status;
}

function deleteWith(name: string, propagationPolicy: string): Promise<{ status: number }> {
  return cp.request('DELETE', `/api/v1/namespaces/default/configmaps/${name}`, {
    body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy },
  });
}

describe('garbage collector', () => {
  it('deletes dependents after their owner is deleted in the background', async () => {
    const uid = await configMap('bg-owner');
    await configMap('bg-child-1', { name: 'bg-owner', uid });
    await configMap('bg-child-2', { name: 'bg-owner', uid });
    expect((await deleteWith('bg-owner', 'Background')).status).toBe(200);
    await until(
      'children deleted',
      async () => (await status('bg-child-1')) === 404 && (await status('bg-child-2')) === 404,
    );
  });

  it('keeps a dependent that still has a living owner, listing only that one', async () => {
    const first = await configMap('two-a');
    const second = await configMap('two-b');
    await cp.request('POST', '/api/v1/namespaces/default/configmaps', {
      body: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'two-child',
          ownerReferences: [
            { apiVersion: 'v1', kind: 'ConfigMap', name: 'two-a', uid: first },
            { apiVersion: 'v1', kind: 'ConfigMap', name: 'two-b', uid: second },
          ],
        },
      },
    });
    await deleteWith('two-a', 'Background');
    await until('the dangling owner dropped', async () => {
      const child = (await cp.request('GET', '/api/v1/namespaces/default/configmaps/two-child')).json<{
        metadata: { ownerReferences?: Array<{ name: string }> };
      }>();
      return child.metadata.ownerReferences?.map((owner) => owner.name).join() === 'two-b';
    });
  });

  it('orphans dependents with propagationPolicy Orphan', async () => {
    const uid = await configMap('orphan-owner');
    await configMap('orphan-child', { name: 'orphan-owner', uid });
    expect((await deleteWith('orphan-owner', 'Orphan')).status).toBe(202);
    await until('the owner gone', async () => (await status('orphan-owner')) === 404);
    const child = (await cp.request('GET', '/api/v1/namespaces/default/configmaps/orphan-child')).json<{
      metadata: { ownerReferences?: unknown[] };
    }>();
    expect(child.metadata.ownerReferences ?? []).toEqual([]);
  });

  it('deletes dependents before the owner with propagationPolicy Foreground', async () => {
    const uid = await configMap('fg-owner');
    await configMap('fg-child', { name: 'fg-owner', uid });
    expect((await deleteWith('fg-owner', 'Foreground')).status).toBe(202);
    await until(
      'child and owner gone',
      async () => (await status('fg-child')) === 404 && (await status('fg-owner')) === 404,
    );
  });
});
