import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ipam } from './ipam';

describe('Ipam', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'flotilla-ipam-'));
  });
  afterEach(() => rm(directory, { recursive: true, force: true }));

  it('hands out host addresses after the gateway, one per owner, and persists them', async () => {
    const ipam = new Ipam({ directory, subnet: '10.88.0.0/16' });
    expect(await ipam.allocate('a')).toBe('10.88.0.2');
    expect(await ipam.allocate('b')).toBe('10.88.0.3');
    expect(await ipam.allocate('a')).toBe('10.88.0.2');
    const reopened = new Ipam({ directory, subnet: '10.88.0.0/16' });
    expect(Object.fromEntries(await reopened.list())).toEqual({ '10.88.0.2': 'a', '10.88.0.3': 'b' });
  });

  it('reuses an address after release, and releasing twice is fine', async () => {
    const ipam = new Ipam({ directory, subnet: '10.88.0.0/24' });
    await ipam.allocate('a');
    await ipam.allocate('b');
    await ipam.release('a');
    await ipam.release('a');
    expect(await ipam.allocate('c')).toBe('10.88.0.2');
  });

  it('never gives the network, gateway or broadcast address, and says when the subnet is full', async () => {
    const ipam = new Ipam({ directory, subnet: '10.9.9.0/30' });
    expect(await ipam.allocate('only')).toBe('10.9.9.2');
    await expect(ipam.allocate('one-too-many')).rejects.toThrow(/no free address left in 10\.9\.9\.0\/30/);
  });

  it('gives distinct addresses to concurrent callers sharing the file', async () => {
    const first = new Ipam({ directory, subnet: '10.88.0.0/16' });
    const second = new Ipam({ directory, subnet: '10.88.0.0/16' });
    const owners = Array.from({ length: 20 }, (_, index) => `c${index}`);
    const addresses = await Promise.all(
      owners.map((owner, index) => (index % 2 ? first : second).allocate(owner)),
    );
    expect(new Set(addresses).size).toBe(20);
  });

  it('applies changes asked for at once together, each with its own outcome', async () => {
    // A /27 has 29 addresses after the gateway: of 30 callers at once exactly one finds none, and
    // its failure neither loses nor undoes the others' addresses.
    const ipam = new Ipam({ directory, subnet: '10.7.7.0/27' });
    const owners = Array.from({ length: 30 }, (_, index) => `p${index}`);
    const outcomes = await Promise.allSettled(owners.map((owner) => ipam.allocate(owner)));
    const given = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const refused = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
    expect(new Set(given).size).toBe(29);
    expect(refused).toHaveLength(1);
    expect(String(refused[0])).toMatch(/no free address left in 10\.7\.7\.0\/27/);
    const persisted = await new Ipam({ directory, subnet: '10.7.7.0/27' }).list();
    expect([...persisted.keys()].sort()).toEqual([...given].sort());

    const [, , again] = await Promise.all([ipam.release('p0'), ipam.release('p1'), ipam.allocate('late')]);
    expect(given).toContain(again);
    expect((await ipam.list()).size).toBe(28);
  });

  it('breaks a lock left by a process that no longer exists', async () => {
    // pid 2^22 + 1 is above Linux's pid_max ceiling, so no live process can hold it.
    await writeFile(join(directory, 'ipam.lock'), String(4_194_305));
    const ipam = new Ipam({ directory, subnet: '10.88.0.0/16' });
    expect(await ipam.allocate('a')).toBe('10.88.0.2');
  });

  it('refuses a state file of another subnet or one that is corrupt', async () => {
    await new Ipam({ directory, subnet: '10.88.0.0/16' }).allocate('a');
    await expect(new Ipam({ directory, subnet: '10.89.0.0/16' }).allocate('b')).rejects.toThrow(
      /belongs to subnet 10\.88\.0\.0\/16/,
    );
    await writeFile(join(directory, 'ipam.json'), '{not json');
    await expect(new Ipam({ directory, subnet: '10.88.0.0/16' }).allocate('b')).rejects.toThrow(
      /is not JSON/,
    );
    expect(await readFile(join(directory, 'ipam.json'), 'utf8')).toBe('{not json');
  });
});
