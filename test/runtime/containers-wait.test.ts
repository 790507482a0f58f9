// ContainerManager.wait with an AbortSignal: a watcher (the node agent's pod engine) stops waiting on
// a container that keeps running, and a wait that is not aborted still sees the exit. Needs root.
import { containerTestBed, type ContainerTestBed } from './containers.fixture';

let bed: ContainerTestBed;

beforeAll(async () => {
  bed = await containerTestBed('containers-wait');
});

afterAll(async () => {
  await bed?.cleanup();
});

it('stops waiting when aborted and leaves the container running', async () => {
  const info = await bed.manager.create({ rootfsDir: bed.rootfs, command: ['/bin/sleep', '1000'] });
  await bed.manager.start(info.id);
  const controller = new AbortController();
  const waiting = bed.manager.wait(info.id, { signal: controller.signal });
  controller.abort(new Error('the watcher closed'));
  await expect(waiting).rejects.toThrow('the watcher closed');
  expect((await bed.manager.inspect(info.id)).state.status).toBe('running');

  const unaborted = bed.manager.wait(info.id, { signal: new AbortController().signal });
  await bed.manager.kill(info.id, 'SIGKILL');
  await expect(unaborted).resolves.toMatchObject({ exitCode: 137, signal: 9 });
});
