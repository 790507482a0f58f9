import { infoFor, testNode, testPod } from '../framework/scheduling.fixture';
import { taintToleration, toleratesTaint } from './taint-toleration.plugin';

describe('TaintToleration', () => {
  const taint = { key: 'gpu', value: 'yes', effect: 'NoSchedule' };
  it.each([
    [{ key: 'gpu', operator: 'Equal', value: 'yes', effect: 'NoSchedule' }, true],
    [{ key: 'gpu', operator: 'Equal', value: 'no', effect: 'NoSchedule' }, false],
    [{ key: 'gpu', operator: 'Exists' }, true],
    [{ operator: 'Exists' }, true],
    [{ key: 'gpu', operator: 'Exists', effect: 'NoExecute' }, false],
    [{ key: 'other', operator: 'Exists' }, false],
  ])('toleration %j tolerates {gpu=yes:NoSchedule}: %s', (toleration, expected) => {
    expect(toleratesTaint(toleration, taint)).toBe(expected);
  });

  it('keeps out pods that do not tolerate a NoSchedule taint, naming it', () => {
    const node = testNode('n', { taints: [taint, { key: 'soft', effect: 'PreferNoSchedule' }] });
    const status = taintToleration.filter(testPod('p'), infoFor(node));
    expect(status.reasons).toEqual(['node(s) had untolerated taint {gpu: yes}']);
    const tolerant = testPod('q', { tolerations: [{ key: 'gpu', operator: 'Exists' }] });
    expect(taintToleration.filter(tolerant, infoFor(node)).code).toBe('Success');
  });
});
