import { infoFor, resources, testNode, testPod } from '../framework/scheduling.fixture';
import { balancedAllocation } from './balanced-allocation.plugin';
import { leastAllocated } from './least-allocated.plugin';
import { ownerSpread } from './owner-spread.plugin';

describe('score plugins', () => {
  const pod = testPod('p', { requests: resources(500, 1), ownerUid: 'rs-1' });
  const empty = infoFor(testNode('empty'));
  const busy = infoFor(testNode('busy'), [testPod('a', { requests: resources(1000, 1), ownerUid: 'rs-1' })]);

  it('least allocated prefers the emptier node', () => {
    expect(leastAllocated.score(pod, empty, [empty, busy])).toBeGreaterThan(
      leastAllocated.score(pod, busy, [empty, busy]),
    );
  });

  it('balanced allocation prefers even cpu and memory use', () => {
    expect(balancedAllocation.score(pod, empty, [empty, busy])).toBeGreaterThan(
      balancedAllocation.score(pod, busy, [empty, busy]),
    );
  });

  it('owner spread prefers nodes without replicas of the same owner, and ignores unowned pods', () => {
    expect(ownerSpread.score(pod, empty, [empty, busy])).toBe(100);
    expect(ownerSpread.score(pod, busy, [empty, busy])).toBe(0);
    expect(ownerSpread.score(testPod('solo'), busy, [empty, busy])).toBe(0);
  });
});
