import { applyDefaults } from './apply-defaults';
import { MEMORY_PRESSURE_TAINT, isBestEffort, withMemoryPressureToleration } from './pod-tolerations.util';

const TOLERATION = { key: MEMORY_PRESSURE_TAINT, operator: 'Exists', effect: 'NoSchedule' };
const container = (resources?: object): object => ({
  name: 'c',
  image: 'busybox',
  ...(resources ? { resources } : {}),
});

describe('isBestEffort', () => {
  it.each([
    ['no resources', { containers: [container()] }, true],
    ['zero requests', { containers: [container({ requests: { cpu: '0', memory: '0' } })] }, true],
    [
      'only ephemeral storage',
      { containers: [container({ requests: { 'ephemeral-storage': '1Gi' } })] },
      true,
    ],
    ['a memory request', { containers: [container({ requests: { memory: '64Mi' } })] }, false],
    ['a cpu limit', { containers: [container({ limits: { cpu: '100m' } })] }, false],
    [
      'an init container request',
      { containers: [container()], initContainers: [container({ requests: { cpu: '1' } })] },
      false,
    ],
    ['an unparsable amount', { containers: [container({ requests: { memory: 'lots' } })] }, false],
  ])('%s → %s', (_name, spec, expected) => {
    expect(isBestEffort(spec)).toBe(expected);
  });
});

describe('withMemoryPressureToleration', () => {
  it.each([
    ['BestEffort: nothing added', { containers: [container()] }, undefined],
    ['Burstable: added', { containers: [container({ requests: { memory: '64Mi' } })] }, [TOLERATION]],
    [
      "kept after the user's own",
      {
        containers: [container({ limits: { cpu: '1' } })],
        tolerations: [{ key: 'gpu', operator: 'Exists' }],
      },
      [{ key: 'gpu', operator: 'Exists' }, TOLERATION],
    ],
    [
      'already tolerated by key',
      {
        containers: [container({ limits: { cpu: '1' } })],
        tolerations: [{ key: MEMORY_PRESSURE_TAINT, operator: 'Exists' }],
      },
      [{ key: MEMORY_PRESSURE_TAINT, operator: 'Exists' }],
    ],
    [
      'already tolerated by a toleration of everything',
      { containers: [container({ limits: { cpu: '1' } })], tolerations: [{ operator: 'Exists' }] },
      [{ operator: 'Exists' }],
    ],
    [
      'a NoExecute toleration of the key does not count',
      {
        containers: [container({ limits: { cpu: '1' } })],
        tolerations: [{ key: MEMORY_PRESSURE_TAINT, operator: 'Exists', effect: 'NoExecute' }],
      },
      [{ key: MEMORY_PRESSURE_TAINT, operator: 'Exists', effect: 'NoExecute' }, TOLERATION],
    ],
  ])('%s', (_name, spec, expected) => {
    expect(withMemoryPressureToleration(spec)['tolerations']).toEqual(expected);
  });

  it('is applied to pods by applyDefaults, never to templates', () => {
    const spec = { containers: [container({ requests: { memory: '64Mi' } })] };
    const pod = applyDefaults('Pod', { spec });
    expect(pod.spec).toMatchObject({ tolerations: [TOLERATION] });
    const deployment = applyDefaults('Deployment', { spec: { template: { spec } } });
    expect(deployment.spec.template.spec).not.toHaveProperty('tolerations');
  });
});
