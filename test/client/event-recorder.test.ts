import { resolveResourceName, type KubeObject, type ResourceType } from '@flotilla/api';
import { createClient, createEventRecorder, type RestClient } from '@flotilla/client';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';

function type(name: string): ResourceType {
  const found = resolveResourceName(name);
  if (!found) throw new Error(`no resource type ${name}`);
  return found;
}

let cp: TestControlPlane;
let client: RestClient;

beforeAll(async () => {
  cp = await startTestControlPlane('events');
  client = createClient({ kubeconfig: cp.kubeconfigPath, env: {} });
});

afterAll(async () => {
  client?.close();
  await cp?.stop();
});

describe('event recorder', () => {
  it('folds repeats into one event with a count and keeps different reasons apart', async () => {
    const target = await client.create<KubeObject>(type('cm'), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'watched' },
    });
    const errors: unknown[] = [];
    const recorder = createEventRecorder({
      client,
      component: 'test-controller',
      onError: (e) => errors.push(e),
    });
    // Concurrent repeats must still fold into one object.
    await Promise.all([
      recorder.record(target, 'Warning', 'BackOff', 'retrying'),
      recorder.record(target, 'Warning', 'BackOff', 'retrying'),
      recorder.record(target, 'Warning', 'BackOff', 'retrying'),
    ]);
    await recorder.record(target, 'Normal', 'Synced', 'all good');
    expect(errors).toEqual([]);

    const events = await client.list(type('events'), {
      fieldSelector: 'involvedObject.name=watched,involvedObject.kind=ConfigMap',
    });
    const summary = events.items
      .map((event: KubeObject) => `${String(event['reason'])} x${String(event['count'])}`)
      .sort();
    expect(summary).toEqual(['BackOff x3', 'Synced x1']);
    const backOff = events.items.find((event) => event['reason'] === 'BackOff');
    expect(backOff).toMatchObject({
      type: 'Warning',
      message: 'retrying',
      source: { component: 'test-controller' },
      involvedObject: { kind: 'ConfigMap', name: 'watched', namespace: 'default', uid: target.metadata.uid },
    });
  });

  it('starts a new event when the folded one was deleted', async () => {
    const target = await client.create<KubeObject>(type('cm'), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'pruned' },
    });
    const recorder = createEventRecorder({ client, component: 'test-controller' });
    await recorder.record(target, 'Normal', 'Tick', 'tick');
    const [first] = (await client.list(type('events'), { fieldSelector: 'involvedObject.name=pruned' }))
      .items;
    await client.delete(type('events'), first?.metadata.name ?? '');
    await recorder.record(target, 'Normal', 'Tick', 'tick');
    const after = (await client.list(type('events'), { fieldSelector: 'involvedObject.name=pruned' })).items;
    expect(after).toHaveLength(1);
    expect(after[0]?.['count']).toBe(1);
    expect(after[0]?.metadata.name).not.toBe(first?.metadata.name);
  });

  it('drops events beyond its write limit and backlog instead of queueing without bound', async () => {
    const target = await client.create<KubeObject>(type('cm'), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'busy' },
    });
    const dropped: string[] = [];
    const recorder = createEventRecorder({
      client,
      component: 'test-controller',
      limit: { writes: 1, backlog: 1 },
      onDropped: (reason) => dropped.push(reason),
    });
    await Promise.all(
      ['One', 'Two', 'Three', 'Four'].map((reason) => recorder.record(target, 'Normal', reason, reason)),
    );
    expect(dropped).toEqual(['Three', 'Four']);
    // Once the burst has drained, new events are written again.
    await recorder.record(target, 'Normal', 'Five', 'five');
    const reasons = (await client.list(type('events'), { fieldSelector: 'involvedObject.name=busy' })).items
      .map((event) => String(event['reason']))
      .sort();
    expect(reasons).toEqual(['Five', 'One', 'Two']);
  });
});
