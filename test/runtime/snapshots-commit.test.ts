// `container commit` with real containers: what a container wrote becomes a layer of a new image, with
// config changes, and a container started from that image sees it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  commitContainer,
  ContainerManager,
  ImageRootfsProvider,
  ImageStore,
  loadImageArchive,
} from '@flotilla/runtime';

let work: string;
let store: ImageStore;
let containers: ContainerManager;

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error('this test needs root (containers run in real namespaces on overlay roots)');
  work = mkdtempSync(join(tmpdir(), 'flotilla-commit-'));
  store = new ImageStore({ stateDir: work });
  containers = new ContainerManager({ stateDir: work, images: new ImageRootfsProvider(store) });
  await loadImageArchive(
    store,
    execFileSync('bash', [join(__dirname, '..', '..', 'scripts', 'base-image.sh'), '--print-path'], {
      encoding: 'utf8',
    }).trim(),
  );
});

afterAll(async () => {
  for (const container of await containers.list({ all: true }))
    await containers.remove(container.id, { force: true });
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** Runs a container to its end and answers its ID. */
async function runToEnd(image: string, command?: string[]): Promise<string> {
  const info = await containers.create({
    image,
    ...(command === undefined ? {} : { command }),
    network: 'none',
  });
  await containers.start(info.id);
  expect((await containers.wait(info.id)).exitCode).toBe(0);
  return info.id;
}

describe('container commit', () => {
  it("turns a container's changes into a new image with config changes", async () => {
    const id = await runToEnd('flotilla/busybox', ['sh', '-c', 'echo committed > /data.txt && rm /bin/vi']);
    const base = await store.resolve('flotilla/busybox');
    const image = await commitContainer({
      containers,
      images: store,
      container: id,
      names: ['committed:1'],
      author: 'engineer f',
      message: 'add data',
      changes: ['CMD ["sh", "-c", "cat /data.txt; ls /bin/vi 2>/dev/null || echo vi-gone"]', 'ENV MODE=prod'],
    });
    expect(image.manifest.layers).toHaveLength(base.manifest.layers.length + 1);
    expect(image.config.author).toBe('engineer f');
    expect(image.config.history?.at(-1)).toMatchObject({ comment: 'add data' });
    expect(image.config.config?.Env).toEqual(
      expect.arrayContaining(['MODE=prod', expect.stringMatching(/^PATH=/)]),
    );

    const second = await containers.create({ image: 'committed:1', network: 'none' });
    await containers.start(second.id);
    expect((await containers.wait(second.id)).exitCode).toBe(0);
    const output: string[] = [];
    for await (const entry of await containers.logs(second.id)) output.push(entry.content);
    expect(output).toEqual(['committed', 'vi-gone']);
  });

  it('records what a container in a user namespace wrote under its own ids, not the host ids', async () => {
    const info = await containers.create({
      image: 'flotilla/busybox',
      command: [
        'sh',
        '-c',
        'echo mine > /root-owned.txt && echo web > /web-owned.txt && chown 1000:50 /web-owned.txt',
      ],
      network: 'none',
      userns: {
        mode: 'map',
        uidMappings: [{ containerId: 0, hostId: 450000, size: 65536 }],
        gidMappings: [{ containerId: 0, hostId: 450000, size: 65536 }],
      },
    });
    await containers.start(info.id);
    expect((await containers.wait(info.id)).exitCode).toBe(0);
    await commitContainer({ containers, images: store, container: info.id, names: ['userns-committed:1'] });

    const id = await runToEnd('userns-committed:1', [
      'sh',
      '-c',
      'stat -c "%u:%g %n" /root-owned.txt /web-owned.txt',
    ]);
    const output: string[] = [];
    for await (const entry of await containers.logs(id)) output.push(entry.content);
    expect(output).toEqual(['0:0 /root-owned.txt', '1000:50 /web-owned.txt']);
  });

  it('says which container it could not find', async () => {
    await expect(
      commitContainer({ containers, images: store, container: 'no-such-container' }),
    ).rejects.toThrow(/no-such-container/);
  });
});
