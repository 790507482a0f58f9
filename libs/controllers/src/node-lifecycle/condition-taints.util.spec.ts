import { conditionTaintKeys, reconcileConditionTaints, type NodeTaint } from './condition-taints.util';

const NOW = '2026-11-23T16:00:00Z';
const EARLIER = '2026-11-23T15:00:00Z';
const healthy = [
  { type: 'Ready', status: 'True' },
  { type: 'MemoryPressure', status: 'False' },
  { type: 'DiskPressure', status: 'False' },
  { type: 'PIDPressure', status: 'False' },
];
const withStatus = (type: string, status: string): Array<{ type: string; status: string }> =>
  healthy.map((condition) => (condition.type === type ? { type, status } : condition));

describe('conditionTaintKeys', () => {
  it.each([
    ['healthy', healthy, []],
    ['memory pressure', withStatus('MemoryPressure', 'True'), ['node.kubernetes.io/memory-pressure']],
    ['disk pressure', withStatus('DiskPressure', 'True'), ['node.kubernetes.io/disk-pressure']],
    ['pid pressure', withStatus('PIDPressure', 'True'), ['node.kubernetes.io/pid-pressure']],
    ['not ready', withStatus('Ready', 'False'), ['node.kubernetes.io/not-ready']],
    // Unknown readiness is the heartbeat logic's (unreachable:NoExecute), not a NoSchedule taint here.
    ['unknown readiness', withStatus('Ready', 'Unknown'), []],
    ['pressure Unknown', withStatus('MemoryPressure', 'Unknown'), []],
    ['no conditions yet', [], []],
  ])('%s → %j', (_name, conditions, expected) => {
    expect(conditionTaintKeys(conditions)).toEqual(expected);
  });
});

describe('reconcileConditionTaints', () => {
  const owner: NodeTaint = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };
  const unreachable: NodeTaint = {
    key: 'node.kubernetes.io/unreachable',
    effect: 'NoExecute',
    timeAdded: EARLIER,
  };
  const memory = (timeAdded: string): NodeTaint => ({
    key: 'node.kubernetes.io/memory-pressure',
    effect: 'NoSchedule',
    timeAdded,
  });
  const disk: NodeTaint = {
    key: 'node.kubernetes.io/disk-pressure',
    effect: 'NoSchedule',
    timeAdded: EARLIER,
  };

  it.each<[string, NodeTaint[], Array<{ type: string; status: string }>, NodeTaint[] | undefined]>([
    ['healthy and untainted: no write', [owner], healthy, undefined],
    ['the worked example', [disk, owner], withStatus('MemoryPressure', 'True'), [owner, memory(NOW)]],
    [
      'already tainted: no write, timeAdded kept',
      [memory(EARLIER)],
      withStatus('MemoryPressure', 'True'),
      undefined,
    ],
    ['pressure over: the taint goes', [owner, memory(EARLIER)], healthy, [owner]],
    ['the unreachable NoExecute taint is not ours', [unreachable], healthy, undefined],
    [
      'a NoExecute taint with a managed key is not ours either',
      [{ key: 'node.kubernetes.io/memory-pressure', effect: 'NoExecute' }],
      healthy,
      undefined,
    ],
  ])('%s', (_name, taints, conditions, expected) => {
    expect(reconcileConditionTaints({ taints, conditions, now: NOW })).toEqual(expected);
  });
});
