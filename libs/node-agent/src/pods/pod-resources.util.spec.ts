import type { Container, PodSpec } from '@flotilla/api';
import {
  containerCgroupLimits,
  milliCpuToShares,
  podCgroupLimits,
  podQosClass,
  type ContainerCgroupLimits,
  type QosClass,
} from './pod-resources.util';

function container(
  name: string,
  requests?: Record<string, string>,
  limits?: Record<string, string>,
): Container {
  return {
    name,
    image: 'busybox',
    ...(requests || limits
      ? { resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } }
      : {}),
  };
}

describe('milliCpuToShares', () => {
  it.each([
    [0, 2],
    [1, 2],
    [100, 102],
    [250, 256],
    [1000, 1024],
    [2500, 2560],
  ])('%d millicores → %d shares', (milli, shares) => {
    expect(milliCpuToShares(milli)).toBe(shares);
  });
});

describe('containerCgroupLimits', () => {
  it.each<[string, Container, ContainerCgroupLimits]>([
    ['best effort', container('a'), { cpuShares: 2 }],
    ['request only', container('a', { cpu: '250m', memory: '64Mi' }), { cpuShares: 256 }],
    [
      'limits only (the request defaults to the limit)',
      container('a', undefined, { cpu: '500m', memory: '64Mi' }),
      { cpuShares: 512, cpuMillicores: 500, memoryBytes: 64 * 1024 * 1024 },
    ],
    [
      'both',
      container('a', { cpu: '100m' }, { cpu: '1', memory: '1G' }),
      { cpuShares: 102, cpuMillicores: 1000, memoryBytes: 1_000_000_000 },
    ],
  ])('%s', (_label, input, expected) => {
    expect(containerCgroupLimits(input)).toEqual(expected);
  });
});

describe('podCgroupLimits (the worked example and its edges)', () => {
  const Mi = 1024 * 1024;
  it.each<[string, PodSpec, ContainerCgroupLimits]>([
    [
      'the worked example',
      {
        containers: [
          container('a', { cpu: '250m' }, { cpu: '500m', memory: '64Mi' }),
          container('b', { cpu: '100m' }, { memory: '32Mi' }),
        ],
        initContainers: [container('i', undefined, { cpu: '1', memory: '16Mi' })],
      },
      { cpuShares: 1024, memoryBytes: 96 * Mi },
    ],
    [
      'all limited: sums',
      {
        containers: [
          container('a', undefined, { cpu: '500m', memory: '64Mi' }),
          container('b', undefined, { cpu: '250m', memory: '32Mi' }),
        ],
      },
      { cpuShares: 768, cpuMillicores: 750, memoryBytes: 96 * Mi },
    ],
    [
      'a bigger init container wins',
      {
        containers: [container('a', undefined, { cpu: '100m', memory: '16Mi' })],
        initContainers: [container('i', undefined, { cpu: '2', memory: '128Mi' })],
      },
      { cpuShares: 2048, cpuMillicores: 2000, memoryBytes: 128 * Mi },
    ],
    ['best effort pod', { containers: [container('a'), container('b')] }, { cpuShares: 2 }],
  ])('%s', (_label, spec, expected) => {
    expect(podCgroupLimits(spec)).toEqual(expected);
  });
});

describe('podQosClass', () => {
  it.each<[string, Container[], QosClass]>([
    ['nothing set', [container('a')], 'BestEffort'],
    ['limits only', [container('a', undefined, { cpu: '1', memory: '1Gi' })], 'Guaranteed'],
    [
      'equal requests',
      [container('a', { cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })],
      'Guaranteed',
    ],
    ['smaller request', [container('a', { cpu: '500m' }, { cpu: '1', memory: '1Gi' })], 'Burstable'],
    ['memory limit only', [container('a', undefined, { memory: '1Gi' })], 'Burstable'],
    [
      'one of two unset',
      [container('a', undefined, { cpu: '1', memory: '1Gi' }), container('b')],
      'Burstable',
    ],
  ])('%s', (_label, containers, expected) => {
    expect(podQosClass({ containers })).toBe(expected);
  });
});
