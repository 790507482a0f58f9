import { infoFor, testNode, testPod } from '../framework/scheduling.fixture';
import { nodeUnschedulable } from './node-unschedulable.plugin';

describe('NodeUnschedulable', () => {
  it.each([
    ['a ready node', testNode('n'), testPod('p'), 'Success'],
    ['a cordoned node', testNode('n', { unschedulable: true }), testPod('p'), 'UnschedulableAndUnresolvable'],
    [
      'a cordoned node for a pod that tolerates it',
      testNode('n', { unschedulable: true }),
      testPod('p', {
        tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }],
      }),
      'Success',
    ],
    [
      'a node that is not ready',
      testNode('n', { ready: false }),
      testPod('p'),
      'UnschedulableAndUnresolvable',
    ],
  ])('%s', (_label, node, pod, code) => {
    expect(nodeUnschedulable.filter(pod, infoFor(node)).code).toBe(code);
  });
});
