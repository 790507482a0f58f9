import type { KubeObject } from '@flotilla/api';
import { ApiError, apiErrors } from '../http/api-error';
import { bindingTarget, boundPod } from './pod-binding';

const podType = { group: '', plural: 'pods' };
const conflict = (why: string): ApiError => apiErrors.conflict(podType, 'web-1', why);
const now = new Date('2026-11-23T18:00:00.500Z');

function pod(extra: { spec?: object; status?: object; metadata?: object } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'default', resourceVersion: '7', ...extra.metadata },
    spec: { containers: [{ name: 'web', image: 'busybox' }], ...extra.spec },
    ...(extra.status ? { status: extra.status } : {}),
  } as KubeObject;
}

function causesOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    const status = (error as ApiError).status;
    expect(status.code).toBe(422);
    return status.details?.causes;
  }
  throw new Error('expected a 422');
}

describe('bindingTarget', () => {
  it.each([
    [{ target: { kind: 'Node', name: 'node-1' } }, 'node-1'],
    [{ target: { name: 'node-1.example' } }, 'node-1.example'],
    [{ target: { kind: '', name: 'n' } }, 'n'],
  ])('takes the node of %j', (body, node) => {
    expect(bindingTarget(body, 'web-1')).toBe(node);
  });

  it.each([
    [{}, [{ reason: 'FieldValueRequired', field: 'target.name' }]],
    [{ target: { name: '' } }, [{ reason: 'FieldValueRequired', field: 'target.name' }]],
    [{ target: { name: 7 } }, [{ reason: 'FieldValueRequired', field: 'target.name' }]],
    [{ target: { name: 'Node_1' } }, [{ reason: 'FieldValueInvalid', field: 'target.name' }]],
    [
      { target: { kind: 'Pod', name: 'node-1' } },
      [{ reason: 'FieldValueNotSupported', field: 'target.kind' }],
    ],
  ])('refuses %j with 422 naming the field', (body, expected) => {
    expect(causesOf(() => bindingTarget(body, 'web-1'))).toEqual(
      expected.map((cause) => expect.objectContaining(cause)),
    );
  });

  it('refuses a body that is not an object', () => {
    expect(causesOf(() => bindingTarget(null, 'web-1'))).toHaveLength(1);
  });
});

describe('boundPod', () => {
  it('sets the node and PodScheduled=True and leaves everything else as stored', () => {
    const live = pod({ metadata: { generation: 1 }, status: { phase: 'Pending' } });
    const bound = boundPod({ live, nodeName: 'node-1', now, conflict }) as KubeObject & {
      spec: { nodeName?: string; containers: unknown[] };
      status: { phase?: string; conditions: unknown[] };
    };
    expect(bound.spec.nodeName).toBe('node-1');
    expect(bound.spec.containers).toBe(
      (live as unknown as { spec: { containers: unknown[] } }).spec.containers,
    );
    expect(bound.metadata).toBe(live.metadata);
    expect(bound.status).toEqual({
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'True',
          lastProbeTime: null,
          lastTransitionTime: '2026-11-23T18:00:00Z',
        },
      ],
    });
    expect((live as { spec?: { nodeName?: string } }).spec?.nodeName).toBeUndefined();
  });

  it("replaces the scheduler's PodScheduled=False in place and keeps the other conditions", () => {
    const unschedulable = {
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message: '0/3 nodes are available: 3 Insufficient memory.',
      lastTransitionTime: '2026-11-23T17:00:00Z',
    };
    const other = { type: 'Example', status: 'True' };
    const bound = boundPod({
      live: pod({ status: { conditions: [other, unschedulable] } }),
      nodeName: 'node-2',
      now,
      conflict,
    }) as KubeObject & { status: { conditions: unknown[] } };
    expect(bound.status.conditions).toEqual([
      other,
      {
        type: 'PodScheduled',
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime: '2026-11-23T18:00:00Z',
      },
    ]);
  });

  it('keeps an existing PodScheduled=True with its transition time', () => {
    const scheduled = { type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-11-23T17:00:00Z' };
    const bound = boundPod({
      live: pod({ status: { conditions: [scheduled] } }),
      nodeName: 'n',
      now,
      conflict,
    });
    expect((bound as { status?: { conditions?: unknown[] } }).status?.conditions).toEqual([scheduled]);
  });

  it.each([
    [pod({ spec: { nodeName: 'node-9' } }), 'is already assigned to node "node-9"'],
    [pod({ metadata: { deletionTimestamp: '2026-11-23T17:00:00Z' } }), 'the pod is being deleted'],
  ])('answers 409 when the pod cannot be bound (%#)', (live, why) => {
    expect(() => boundPod({ live, nodeName: 'node-1', now, conflict })).toThrow(why);
    try {
      boundPod({ live, nodeName: 'node-1', now, conflict });
    } catch (error) {
      expect((error as ApiError).status.code).toBe(409);
    }
  });
});
