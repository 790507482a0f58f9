import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '@flotilla/api';
import { PodStateStore, type PodState } from './pod-state.store';

function stateOf(uid: string, restartCount = 0): PodState {
  return {
    uid,
    namespace: 'default',
    name: `pod-${uid}`,
    pod: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `pod-${uid}`, uid },
      spec: { containers: [] },
    } as Pod,
    startTime: '2026-01-01T00:00:00Z',
    initContainers: {},
    containers: { main: { restartCount } },
  };
}

describe('PodStateStore', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'flotilla-pod-state-'));
  });
  afterEach(() => rm(directory, { recursive: true, force: true }));

  it('writes a state only when it differs from what it last wrote, and again after a removal', async () => {
    const store = new PodStateStore(directory);
    const file = join(directory, 'u1', 'state.json');
    await store.save(stateOf('u1'));
    const first = await stat(file);
    await store.save(stateOf('u1'));
    expect((await stat(file)).ino).toBe(first.ino);

    await store.save(stateOf('u1', 1));
    expect((await stat(file)).ino).not.toBe(first.ino);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(stateOf('u1', 1));

    await store.remove('u1');
    await store.save(stateOf('u1', 1));
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(stateOf('u1', 1));
  });

  it('reads back every saved pod for the next engine', async () => {
    const store = new PodStateStore(directory);
    await store.save(stateOf('a'));
    await store.save(stateOf('b', 2));
    const loaded = await new PodStateStore(directory).loadAll(() => undefined);
    expect(loaded.sort((x, y) => x.uid.localeCompare(y.uid))).toEqual([stateOf('a'), stateOf('b', 2)]);
  });
});
