import { infoFor, resources, testNode, testPod } from './scheduling.fixture';
import { schedulePod } from './schedule-pod';
import { fitErrorMessage, unschedulable } from './status';

describe('schedulePod', () => {
  it('places a pod on the emptiest node that fits', () => {
    const nodes = [
      infoFor(testNode('a'), [testPod('x', { requests: resources(1500, 1) })]),
      infoFor(testNode('b')),
      infoFor(testNode('c', { unschedulable: true })),
    ];
    const result = schedulePod(testPod('p'), nodes);
    expect(result).toMatchObject({ kind: 'scheduled', nodeName: 'b' });
  });

  it('says why per node, in Kubernetes words, when nothing fits', () => {
    const nodes = [
      infoFor(testNode('a', { allocatable: resources(1000, 0.5, 110) })),
      infoFor(testNode('b', { allocatable: resources(1000, 0.5, 110) })),
      infoFor(testNode('c', { allocatable: resources(100, 8, 110) })),
    ];
    const result = schedulePod(testPod('p', { requests: resources(500, 1) }), nodes);
    expect(result.kind).toBe('unschedulable');
    if (result.kind === 'unschedulable') {
      expect(result.message).toBe('0/3 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.');
    }
  });

  it('formats an empty cluster and sorted reasons', () => {
    expect(fitErrorMessage(0, new Map())).toBe('0/0 nodes are available: no nodes are registered.');
    const statuses = new Map([
      ['a', unschedulable('x', 'Insufficient memory')],
      ['b', unschedulable('x', 'Insufficient memory')],
      ['c', unschedulable('x', "node(s) didn't match Pod's node affinity/selector")],
    ]);
    expect(fitErrorMessage(3, statuses)).toBe(
      "0/3 nodes are available: 2 Insufficient memory, 1 node(s) didn't match Pod's node affinity/selector.",
    );
  });

  it('spreads replicas of one owner across equally loaded nodes', () => {
    const owner = { ownerUid: 'rs-1' };
    const nodes = [infoFor(testNode('a'), [testPod('r1', owner)]), infoFor(testNode('b'))];
    expect(schedulePod(testPod('r2', owner), nodes)).toMatchObject({ kind: 'scheduled', nodeName: 'b' });
  });
});

describe('schedulePod on large clusters', () => {
  const many = (count: number) =>
    Array.from({ length: count }, (_, i) => infoFor(testNode(`n${String(i).padStart(4, '0')}`)));

  it('stops filtering after the adaptive share of feasible nodes and reports how far it got', () => {
    const result = schedulePod(testPod('p'), many(1000), undefined, { startIndex: 0 });
    expect(result).toMatchObject({ kind: 'scheduled', evaluatedNodes: 420 });
  });

  it('starts where it is told, so successive cycles look at other nodes', () => {
    const nodes = many(1000);
    const result = schedulePod(testPod('p'), nodes, undefined, { startIndex: 900, random: () => 0.99 });
    expect(result.kind).toBe('scheduled');
    if (result.kind === 'scheduled') {
      // 900..999 then 0..319: the scored nodes wrap around the end of the list.
      expect(result.scores.has('n0900')).toBe(true);
      expect(result.scores.has('n0319')).toBe(true);
      expect(result.scores.has('n0320')).toBe(false);
    }
  });

  it('looks at every node before it calls a pod unschedulable', () => {
    const nodes = many(300);
    const result = schedulePod(testPod('p', { requests: resources(5000, 1) }), nodes);
    expect(result).toMatchObject({
      kind: 'unschedulable',
      message: '0/300 nodes are available: 300 Insufficient cpu.',
    });
  });

  it('breaks ties at random among the best nodes', () => {
    const nodes = many(3);
    const first = schedulePod(testPod('p'), nodes, undefined, { random: () => 0.99 });
    const last = schedulePod(testPod('p'), nodes, undefined, { random: () => 0 });
    expect(first).toMatchObject({ nodeName: 'n0000' });
    expect(last).toMatchObject({ nodeName: 'n0002' });
  });
});
