import { feasibleNodesToFind } from './feasible-nodes.util';

describe('feasibleNodesToFind', () => {
  it.each([
    [0, 0, 0],
    [80, 0, 80],
    [99, 0, 99],
    [100, 0, 100],
    [250, 0, 120],
    [1000, 0, 420],
    [5000, 0, 500],
    [10_000, 0, 500],
    [1000, 10, 100],
    [1000, 30, 300],
    [1000, 100, 1000],
    [150, 10, 100],
  ])('%i nodes at %i %% → %i', (nodes, percentage, expected) => {
    expect(feasibleNodesToFind(nodes, percentage)).toBe(expected);
  });
});
