import { infoFor, resources, testNode, testPod } from '../framework/scheduling.fixture';
import { nodeResourcesFit } from './node-resources-fit.plugin';

describe('NodeResourcesFit', () => {
  const node = testNode('n1', { allocatable: resources(1000, 2, 3) });
  it.each([
    ['fits on an empty node', [], resources(1000, 2), []],
    [
      'counts what is bound already',
      [testPod('a', { requests: resources(600, 1) })],
      resources(500, 1),
      ['Insufficient cpu'],
    ],
    [
      'reports memory',
      [testPod('a', { requests: resources(100, 1.5) })],
      resources(100, 1),
      ['Insufficient memory'],
    ],
    ['reports both', [], resources(1001, 3), ['Insufficient cpu', 'Insufficient memory']],
    ['counts pods', [testPod('a'), testPod('b'), testPod('c')], resources(0, 0), ['Too many pods']],
  ])('%s', (_label, bound, requests, reasons) => {
    const status = nodeResourcesFit.filter(testPod('p', { requests }), infoFor(node, bound));
    expect(status.reasons).toEqual(reasons);
    expect(status.code).toBe(reasons.length === 0 ? 'Success' : 'Unschedulable');
  });
});
