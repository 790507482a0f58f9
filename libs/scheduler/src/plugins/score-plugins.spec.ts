import { CycleState } from '../framework/cycle-state';
import { infoFor, resources, testNode, testPod } from '../framework/scheduling.fixture';
import { balancedAllocation } from './balanced-allocation.plugin';
import { leastAllocated } from './least-allocated.plugin';
import { ownerSpread } from './owner-spread.plugin';

describe('score plugins', () => {
  const pod = testPod('p', { requests: resources(500, 1), ownerUid: 'rs-1' });
  const empty = infoFor(testNode('empty'));
  const busy = infoFor(testNode('busy'), [testPod('a', { requests: resources(1000, 1), ownerUid: 'rs-1' })]);

  it('least allocated prefers the emptier node', () => {
    const state = new CycleState();
    expect(leastAllocated.score(pod, empty, state)).toBeGreaterThan(leastAllocated.score(pod, busy, state));
  });

  it('balanced allocation prefers even cpu and memory use', () => {
    const state = new CycleState();
    expect(balancedAllocation.score(pod, empty, state)).toBeGreaterThan(
      balancedAllocation.score(pod, busy, state),
    );
  });

  it('owner spread prefers nodes without replicas of the same owner, and ignores unowned pods', () => {
    const state = new CycleState();
    ownerSpread.preScore(pod, [empty, busy], state);
    expect(ownerSpread.score(pod, empty, state)).toBe(100);
    expect(ownerSpread.score(pod, busy, state)).toBe(0);
    const solo = testPod('solo');
    const soloState = new CycleState();
    ownerSpread.preScore(solo, [empty, busy], soloState);
    expect(ownerSpread.score(solo, busy, soloState)).toBe(0);
  });
});
