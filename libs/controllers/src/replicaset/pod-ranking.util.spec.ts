import type { Pod, PodPhase } from '@flotilla/api';
import { POD_DELETION_COST_ANNOTATION, podsToDelete } from './pod-ranking.util';

interface Shape {
  node?: string;
  phase?: PodPhase;
  readySince?: string;
  restarts?: number;
  created?: string;
  cost?: string;
}

function pod(name: string, shape: Shape): Pod {
  return {
    metadata: {
      name,
      creationTimestamp: `2026-11-23T10:00:${shape.created ?? '00'}Z`,
      ...(shape.cost ? { annotations: { [POD_DELETION_COST_ANNOTATION]: shape.cost } } : {}),
    },
    spec: { containers: [{ name: 'c' }], ...(shape.node ? { nodeName: shape.node } : {}) },
    status: {
      phase: shape.phase ?? 'Pending',
      conditions: shape.readySince
        ? [{ type: 'Ready', status: 'True', lastTransitionTime: `2026-11-23T10:01:${shape.readySince}Z` }]
        : [{ type: 'Ready', status: 'False' }],
      containerStatuses: [
        { name: 'c', ready: true, restartCount: shape.restarts ?? 0, image: 'i', imageID: 'i' },
      ],
    },
  };
}

const running = (node: string, extra: Shape = {}): Shape => ({
  node,
  phase: 'Running',
  readySince: '00',
  ...extra,
});

describe('podsToDelete', () => {
  it.each([
    {
      rule: 'unscheduled before scheduled',
      pods: [pod('scheduled', { node: 'n1' }), pod('unscheduled', {})],
      first: 'unscheduled',
    },
    {
      rule: 'Pending before Unknown before Running',
      pods: [
        pod('running', { node: 'n1', phase: 'Running' }),
        pod('unknown', { node: 'n1', phase: 'Unknown' }),
        pod('pending', { node: 'n1', phase: 'Pending' }),
      ],
      first: 'pending,unknown,running',
    },
    {
      rule: 'not ready before ready',
      pods: [pod('ready', running('n1')), pod('not-ready', { node: 'n1', phase: 'Running' })],
      first: 'not-ready',
    },
    {
      rule: 'lower deletion cost first',
      pods: [pod('costly', running('n1', { cost: '100' })), pod('cheap', running('n1', { cost: '-5' }))],
      first: 'cheap',
    },
    {
      rule: 'doubled-up nodes first',
      pods: [pod('alone', running('n1')), pod('crowded-a', running('n2')), pod('crowded-b', running('n2'))],
      first: 'crowded-a,crowded-b,alone',
    },
    {
      rule: 'ready more recently first',
      pods: [
        pod('long-ready', running('n1', { readySince: '00' })),
        pod('just-ready', running('n2', { readySince: '30' })),
      ],
      first: 'just-ready',
    },
    {
      rule: 'more restarts first',
      pods: [pod('stable', running('n1')), pod('flappy', running('n2', { restarts: 3 }))],
      first: 'flappy',
    },
    {
      rule: 'newer first',
      pods: [pod('old', running('n1', { created: '00' })), pod('new', running('n2', { created: '40' }))],
      first: 'new',
    },
    {
      rule: 'the example in the header',
      pods: [
        pod('steady', running('n1')),
        pod('restarting', running('n2', { restarts: 3 })),
        pod('pending', {}),
      ],
      first: 'pending,restarting',
    },
  ])('$rule', ({ pods, first }) => {
    const order = first.split(',');
    expect(podsToDelete({ pods, count: order.length }).map((p) => p.metadata.name)).toEqual(order);
  });

  it('counts co-location over the related pods when given', () => {
    const mine = [pod('a', running('n1')), pod('b', running('n2'))];
    const sibling = pod('sibling', running('n2'));
    expect(podsToDelete({ pods: mine, count: 1, related: [...mine, sibling] })[0]?.metadata.name).toBe('b');
  });

  it('returns no more than there are, and nothing for a count of 0', () => {
    const pods = [pod('a', {}), pod('b', {})];
    expect(podsToDelete({ pods, count: 5 })).toHaveLength(2);
    expect(podsToDelete({ pods, count: 0 })).toEqual([]);
  });
});
