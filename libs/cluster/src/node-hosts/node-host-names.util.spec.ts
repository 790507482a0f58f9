import {
  checkClusterId,
  checkNodeName,
  clusterCgroupName,
  lanBridgeName,
  nodeHostNames,
  ownerOfTestClusterId,
  testClusterId,
} from './node-host-names.util';

describe('node host names', () => {
  it('names everything of a node from the cluster id and node name', () => {
    const names = nodeHostNames('t1a2bx3f', 'node-1');
    expect(names.namespace).toBe('fln-t1a2bx3f-node-1');
    expect(names.cgroup).toBe('flotilla-nodes-t1a2bx3f/node-1');
    expect(names.agentCgroup).toBe('flotilla-nodes-t1a2bx3f/node-1/agent');
    expect(names.podsCgroup).toBe('flotilla-nodes-t1a2bx3f/node-1/pods');
    expect(names.hostVeth).toMatch(/^fle[0-9a-f]{12}$/);
    expect(clusterCgroupName('t1a2bx3f')).toBe('flotilla-nodes-t1a2bx3f');
  });

  it('keeps interface names within 15 characters and distinct per cluster and node', () => {
    const names = [
      lanBridgeName('a'),
      lanBridgeName('b'),
      nodeHostNames('a', 'n1').hostVeth,
      nodeHostNames('a', 'n2').hostVeth,
      nodeHostNames('b', 'n1').hostVeth,
    ];
    for (const name of names) expect(name.length).toBeLessThanOrEqual(15);
    expect(new Set(names).size).toBe(names.length);
  });

  it('hashes a node name that would make the namespace name too long', () => {
    const long = `n${'x'.repeat(61)}`;
    const { namespace } = nodeHostNames('abcdefghij0123456789', long);
    expect(namespace.length).toBeLessThanOrEqual(63);
    expect(namespace).toMatch(/^fln-abcdefghij0123456789-[0-9a-f]{16}$/);
  });

  it.each([['Upper'], ['with-dash'], [''], ['a'.repeat(21)]])('refuses cluster id %j', (id) => {
    expect(() => checkClusterId(id)).toThrow(/lower-case letters or digits/);
  });

  it.each([['Node1'], ['-node'], ['node_1'], ['n'.repeat(64)]])('refuses node name %j', (name) => {
    expect(() => checkNodeName(name)).toThrow(/DNS label/);
  });

  it.each([
    [1234, 'ab12', 't1234xab12', 1234],
    [4_194_304, 'FF-0z', 't4194304xff0', 4_194_304],
  ])('test cluster id of pid %i and %s is %s and names its owner', (pid, random, id, owner) => {
    expect(testClusterId(pid, random)).toBe(id);
    expect(ownerOfTestClusterId(id)).toBe(owner);
  });

  it('finds no owner in a user cluster id', () => {
    expect(ownerOfTestClusterId('up3f9a2c')).toBeUndefined();
    expect(ownerOfTestClusterId('t12xyz')).toBeUndefined();
  });
});
