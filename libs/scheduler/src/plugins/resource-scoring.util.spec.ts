import { infoFor, resources, testNode, testPod } from '../framework/scheduling.fixture';
import {
  balancedAllocationScore,
  leastAllocatedScore,
  spreadScore,
  usedFractions,
} from './resource-scoring.util';

describe('resource scoring arithmetic', () => {
  it('computes the worked example', () => {
    const node = testNode('n', { allocatable: resources(2000, 4, 110) });
    const fractions = usedFractions(
      testPod('p', { requests: resources(500, 0.5) }),
      infoFor(node, [testPod('a', { requests: resources(500, 0.5) })]),
    );
    expect(fractions).toEqual({ cpu: 0.5, memory: 0.25 });
    expect(leastAllocatedScore(fractions)).toBe(62);
    expect(balancedAllocationScore(fractions)).toBe(75);
  });

  it.each([
    [{ cpu: 0, memory: 0 }, 100, 100],
    [{ cpu: 1, memory: 1 }, 0, 100],
    [{ cpu: 1, memory: 0 }, 50, 0],
  ])('fractions %j score least=%d balanced=%d', (fractions, least, balanced) => {
    expect(leastAllocatedScore(fractions)).toBe(least);
    expect(balancedAllocationScore(fractions)).toBe(balanced);
  });

  it.each([
    [0, 0, 100],
    [0, 2, 100],
    [1, 2, 50],
    [2, 2, 0],
  ])('spread with %d here and at most %d elsewhere scores %d', (here, most, score) => {
    expect(spreadScore(here, most)).toBe(score);
  });

  it('treats a node with nothing allocatable as full', () => {
    const node = testNode('n', { allocatable: resources(0, 0, 0) });
    expect(usedFractions(testPod('p'), infoFor(node))).toEqual({ cpu: 1, memory: 1 });
  });
});
