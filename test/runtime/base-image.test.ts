// scripts/base-image.sh: the offline busybox base image the tests and `flotilla up` use.
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore, loadImageArchive } from '@flotilla/runtime';

const script = join(__dirname, '..', '..', 'scripts', 'base-image.sh');
let work: string;

beforeEach(() => {
  if (process.getuid?.() !== 0)
    throw new Error('this test needs root (it unpacks the image with its owners and chroots into it)');
  work = mkdtempSync(join(tmpdir(), 'flotilla-base-image-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

function makeArchive(output: string, ...args: string[]): string {
  return execFileSync('bash', [script, '--output', output, '--print-path', ...args], {
    encoding: 'utf8',
  }).trim();
}

describe('scripts/base-image.sh', () => {
  it('makes a reproducible busybox image that loads and runs from its own root', async () => {
    const first = makeArchive(join(work, 'a.tar'));
    const second = makeArchive(join(work, 'b.tar'));
    expect(readFileSync(first).equals(readFileSync(second))).toBe(true);

    const store = new ImageStore({ stateDir: join(work, 'state') });
    const [loaded] = await loadImageArchive(store, first);
    expect(loaded?.names).toEqual(['flotilla/busybox:latest']);
    // The OCI name and manifest.json's RepoTags name the same image: one index entry, not two.
    expect((await store.readIndex()).manifests).toHaveLength(1);
    const image = await store.resolve('flotilla/busybox');
    expect(image.config.config).toMatchObject({ Cmd: ['sh'], WorkingDir: '/' });

    const [layer] = await store.unpack(image);
    const root = store.layers.diffDirectory(layer?.chainId ?? '');
    expect(readlinkSync(join(root, 'bin/sh'))).toBe('/bin/busybox');
    expect(readlinkSync(join(root, 'usr/sbin/httpd'))).toBe('/bin/busybox');
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8')).toMatch(/^root:x:0:0:root:\/root:\/bin\/sh$/m);
    expect(readFileSync(join(root, 'etc/group'), 'utf8')).toMatch(/^root:x:0:$/m);
    expect(readFileSync(join(root, 'var/www/index.html'), 'utf8')).toContain('Hello from Flotilla');
    expect(lstatSync(join(root, 'tmp')).mode & 0o7777).toBe(0o1777);
    // The static busybox needs nothing from the host: it runs with the layer as its root.
    expect(
      execFileSync('chroot', [root, '/bin/sh', '-c', 'echo $((6 * 7)) && id -un'], { encoding: 'utf8' }),
    ).toBe('42\nroot\n');
  });

  it('names the image as asked and refuses unknown arguments with a hint', async () => {
    const archive = makeArchive(join(work, 'named.tar'), '--name', 'localhost:5000/base:v1');
    const store = new ImageStore({ stateDir: join(work, 'state') });
    expect((await loadImageArchive(store, archive))[0]?.names).toEqual(['localhost:5000/base:v1']);
    expect(() => execFileSync('bash', [script, '--bogus'], { encoding: 'utf8', stdio: 'pipe' })).toThrow(
      /unknown argument --bogus \(see --help\)/,
    );
  });
});
