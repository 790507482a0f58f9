import { nodeSpecsFrom } from './up-nodes.util';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

describe('flotilla up node flags', () => {
  it.each([
    [{}, []],
    [
      { nodes: 2 },
      [
        ['node-1', 1000, GiB],
        ['node-2', 1000, GiB],
      ],
    ],
    [{ nodes: 1, nodeCpus: '500m', nodeMemory: '512Mi' }, [['node-1', 500, 512 * MiB]]],
    [
      { node: ['big:2:4Gi', 'small:250m'] },
      [
        ['big', 2000, 4 * GiB],
        ['small', 250, GiB],
      ],
    ],
    [{ node: ['a::2Gi'], nodeCpus: '1.5' }, [['a', 1500, 2 * GiB]]],
    [{ nodes: 1, node: ['only'] }, [['only', 1000, GiB]]],
  ])('%j gives %j', (flags, expected) => {
    expect(nodeSpecsFrom(flags).map((node) => [node.name, node.cpuMillicores, node.memoryBytes])).toEqual(
      expected,
    );
  });

  it.each([
    [{ nodes: -1 }, /from 0 to 50/],
    [{ nodes: 2, node: ['a'] }, /disagrees/],
    [{ node: ['a:1:1Gi:x'] }, /NAME\[:CPUS\[:MEMORY\]\]/],
    [{ node: ['Big'] }, /DNS label/],
    [{ node: ['a', 'a'] }, /given twice/],
    [{ nodes: 1, nodeMemory: 'lots' }, /MEMORY "lots" is not a quantity/],
    [{ nodes: 1, nodeMemory: '1Mi' }, /at least 64Mi/],
    [{ nodes: 1, nodeCpus: '1m' }, /at least 10m/],
    [{ nodes: 1, nodeCpus: '-1' }, /CPUS "-1" is not a quantity/],
  ])('%j is refused with %s', (flags, message) => {
    expect(() => nodeSpecsFrom(flags)).toThrow(message);
  });
});
