import { Quantity } from '@flotilla/api';
import { ReserveError, nodeResources } from './node-resources.util';

describe('nodeResources', () => {
  it.each([
    // cpu m, memory bytes, reserve, capacity cpu/memory, allocatable cpu/memory
    [1500, 2 * 1024 ** 3, { cpu: '100m', memory: '256Mi' }, '1500m', '2097152Ki', '1400m', '1835008Ki'],
    [2000, 2 * 1024 ** 3, {}, '2', '2097152Ki', '2', '2097152Ki'],
    [4000, 8 * 1024 ** 3, { cpu: '1', memory: '1Gi' }, '4', '8388608Ki', '3', '7340032Ki'],
    [2000, 1000, { memory: '100' }, '2', '1000', '2', '900'],
    [2000, 4096, { cpu: '0.5', memory: '1k' }, '2', '4Ki', '1500m', '3096'],
  ])(
    '%sm and %s bytes with reserve %j',
    (cpuMillicores, memoryBytes, reserve, capCpu, capMemory, allocCpu, allocMemory) => {
      const resources = nodeResources({ cpuMillicores, memoryBytes, reserve, maxPods: 110 });
      expect(resources.capacity).toEqual({
        cpu: capCpu,
        memory: capMemory,
        pods: '110',
        ephemeralStorage: '',
      });
      expect(resources.allocatable).toEqual({
        cpu: allocCpu,
        memory: allocMemory,
        pods: '110',
        ephemeralStorage: '',
      });
      expect(resources.allocatableAmounts).toEqual({
        cpuMillicores: Number(Quantity.parse(allocCpu).milliValue()),
        memoryBytes: Number(Quantity.parse(allocMemory).value()),
      });
    },
  );

  it.each([
    [{ cpu: 'lots' }, '--reserved-cpu "lots" is not a quantity'],
    [{ memory: '-1Gi' }, 'must not be negative'],
    [{ cpu: '2' }, "leaves no CPU of the node's 2: lower it"],
    [{ memory: '3Gi' }, "leaves no memory of the node's 2097152Ki: lower it"],
  ])('refuses reserve %j', (reserve, message) => {
    const attempt = (): unknown =>
      nodeResources({ cpuMillicores: 2000, memoryBytes: 2 * 1024 ** 3, reserve, maxPods: 110 });
    expect(attempt).toThrow(ReserveError);
    expect(attempt).toThrow(message);
  });
});
