import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AUTO_RANGE_SIZE,
  DEFAULT_SUBORDINATE_RANGE,
  claimAutoRange,
  containerOwners,
  hostIdOf,
  parseIdMapping,
  releaseAutoRange,
  renderIdMap,
  subordinateRange,
  validateMaps,
} from './user-namespace';

describe('user namespace maps', () => {
  it("parses podman's CONTAINER_ID:HOST_ID:SIZE and refuses anything else", () => {
    expect(parseIdMapping('0:100000:65536', '--uidmap')).toEqual({
      containerId: 0,
      hostId: 100000,
      size: 65536,
    });
    for (const bad of ['0:100000', '0:100000:0', 'a:1:1', '0:-1:5', '0:1:2:3', '0:4294967295:1', '']) {
      expect(() => parseIdMapping(bad, '--uidmap')).toThrow(
        /--uidmap ".*" must be CONTAINER_ID:HOST_ID:SIZE/,
      );
    }
  });

  it('refuses ranges that overlap on either side, naming the side', () => {
    const ok = [{ containerId: 0, hostId: 100000, size: 1000 }];
    expect(() =>
      validateMaps({
        uidMappings: [...ok, { containerId: 500, hostId: 300000, size: 10 }],
        gidMappings: ok,
      }),
    ).toThrow(/uid mappings 0:100000:1000 and 500:300000:10 overlap on the container side/);
    expect(() =>
      validateMaps({
        uidMappings: ok,
        gidMappings: [...ok, { containerId: 2000, hostId: 100999, size: 10 }],
      }),
    ).toThrow(/overlap on the host side/);
    expect(() => validateMaps({ uidMappings: [], gidMappings: ok })).toThrow(/1 to 340 uid mappings/);
    expect(() => validateMaps({ uidMappings: ok, gidMappings: ok })).not.toThrow();
  });

  it('translates container ids and renders the kernel map', () => {
    const maps = [
      { containerId: 0, hostId: 100000, size: 1000 },
      { containerId: 1000, hostId: 50000, size: 1 },
    ];
    expect(hostIdOf(maps, 0)).toBe(100000);
    expect(hostIdOf(maps, 999)).toBe(100999);
    expect(hostIdOf(maps, 1000)).toBe(50000);
    expect(hostIdOf(maps, 1001)).toBeUndefined();
    expect(renderIdMap(maps)).toBe('0 100000 1000\n1000 50000 1');
  });

  it('turns host owners back into container owners, leaving unmapped ones alone', () => {
    const owners = containerOwners({
      uidMappings: [{ containerId: 0, hostId: 100000, size: 65536 }],
      gidMappings: [{ containerId: 0, hostId: 300000, size: 10 }],
    });
    expect(owners({ uid: 101000, gid: 300005 })).toEqual({ uid: 1000, gid: 5 });
    expect(owners({ uid: 0, gid: 0 })).toEqual({ uid: 0, gid: 0 });
  });

  it('finds the "flotilla" range in an /etc/subuid file', () => {
    const text = 'alice:100000:65536\nflotilla:500000:262144\nflotilla:900000:10\n';
    expect(subordinateRange(text)).toEqual({ start: 500000, size: 262144 });
    expect(subordinateRange('alice:100000:65536\n')).toBeUndefined();
  });
});

describe('--userns=auto ranges', () => {
  let dir: string;
  const live = new Set<string>();
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-userns-'));
    live.clear();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const claim = (containerId: string, files: { subuid: string; subgid: string }) => {
    live.add(containerId);
    return claimAutoRange({
      claimsDir: join(dir, 'claims'),
      containerId,
      exists: (id) => live.has(id),
      subuidFile: files.subuid,
      subgidFile: files.subgid,
    });
  };

  it('gives each container its own range from the subordinate files, and reuses a released one', async () => {
    const files = { subuid: join(dir, 'subuid'), subgid: join(dir, 'subgid') };
    await writeFile(files.subuid, `flotilla:200000:${3 * AUTO_RANGE_SIZE}\n`);
    await writeFile(files.subgid, `flotilla:300000:${2 * AUTO_RANGE_SIZE}\n`);
    const first = claim('a', files);
    const second = claim('b', files);
    expect(first).toEqual({
      uidMappings: [{ containerId: 0, hostId: 200000, size: AUTO_RANGE_SIZE }],
      gidMappings: [{ containerId: 0, hostId: 300000, size: AUTO_RANGE_SIZE }],
    });
    expect(second.uidMappings[0]?.hostId).toBe(200000 + AUTO_RANGE_SIZE);
    // The smaller of the two files decides how many fit.
    expect(() => claim('c', files)).toThrow(/every --userns=auto range of 65536 ids is in use/);
    releaseAutoRange(join(dir, 'claims'), 'a');
    expect(claim('d', files).uidMappings[0]?.hostId).toBe(200000);
  });

  it('takes back the range of a container that no longer exists', async () => {
    const files = { subuid: join(dir, 'none'), subgid: join(dir, 'none') };
    expect(claim('a', files).uidMappings[0]?.hostId).toBe(DEFAULT_SUBORDINATE_RANGE.start);
    live.delete('a');
    expect(claim('b', files).uidMappings[0]?.hostId).toBe(DEFAULT_SUBORDINATE_RANGE.start);
    expect(await readdir(join(dir, 'claims'))).toEqual(['0']);
    releaseAutoRange(join(dir, 'claims'), 'b');
    expect(existsSync(join(dir, 'claims', '0'))).toBe(false);
  });

  it('says how to grow a subordinate range too small for one container', async () => {
    const files = { subuid: join(dir, 'subuid'), subgid: join(dir, 'subgid') };
    await writeFile(files.subuid, 'flotilla:200000:1000\n');
    await writeFile(files.subgid, 'flotilla:200000:1000\n');
    expect(() => claim('a', files)).toThrow(/add larger "flotilla:START:COUNT" lines to \/etc\/subuid/);
  });
});
