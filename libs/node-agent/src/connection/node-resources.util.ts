// What a node registers as capacity (from the cgroup the agent runs in) and as allocatable (capacity
// minus the reserve for the system and the agent itself, kubelet's --system-reserved), as Kubernetes
// quantities: cpu in cores or millicores, memory in Ki as kubelet reports it.
//
// Worked example: a cgroup limited to 1.5 CPUs and 2 GiB, reserve cpu 100m and memory 256Mi, 110
// pods → capacity cpu "1500m", memory "2097152Ki", pods "110"; allocatable cpu "1400m", memory
// "1835008Ki", pods "110".
import { Quantity } from '@flotilla/api';
import type { Resources } from '@flotilla/proto';

export interface NodeReserve {
  /** A quantity such as "100m" (default none). */
  cpu?: string;
  /** A quantity such as "256Mi" (default none). */
  memory?: string;
}

export class ReserveError extends Error {
  override readonly name = 'ReserveError';
}

function memoryQuantity(bytes: bigint): string {
  // Kubelet's unit: whole Ki where exact, bytes otherwise.
  return bytes % 1024n === 0n ? `${bytes / 1024n}Ki` : String(bytes);
}

function parseReserve(what: string, value: string | undefined): Quantity {
  if (value === undefined || value === '') return Quantity.zero();
  let quantity: Quantity;
  try {
    quantity = Quantity.parse(value);
  } catch {
    throw new ReserveError(
      `--reserved-${what} "${value}" is not a quantity such as ${what === 'cpu' ? '"100m" or "1"' : '"256Mi" or "1Gi"'}`,
    );
  }
  if (quantity.isNegative()) throw new ReserveError(`--reserved-${what} "${value}" must not be negative`);
  return quantity;
}

export function nodeResources(options: {
  cpuMillicores: number;
  memoryBytes: number;
  reserve: NodeReserve;
  maxPods: number;
}): {
  capacity: Resources;
  allocatable: Resources;
  /** The same allocatable as numbers, for the node-level cgroup the pod engine sizes. */
  allocatableAmounts: { cpuMillicores: number; memoryBytes: number };
} {
  const cpu = Quantity.fromMilli(options.cpuMillicores);
  const memoryBytes = BigInt(options.memoryBytes);
  const reservedCpu = parseReserve('cpu', options.reserve.cpu);
  const reservedMemory = parseReserve('memory', options.reserve.memory);
  const allocatableCpu = cpu.sub(reservedCpu);
  // Memory is counted in whole bytes; a fractional reserve rounds up, never over-promising.
  const allocatableMemory = memoryBytes - reservedMemory.value();
  if (allocatableCpu.isNegative() || allocatableCpu.isZero()) {
    throw new ReserveError(
      `--reserved-cpu ${reservedCpu.toString()} leaves no CPU of the node's ${cpu.toString()}: lower it`,
    );
  }
  if (allocatableMemory <= 0n) {
    throw new ReserveError(
      `--reserved-memory ${reservedMemory.toString()} leaves no memory of the node's ${memoryQuantity(memoryBytes)}: lower it`,
    );
  }
  const pods = String(options.maxPods);
  const allocatableMillicores = allocatableCpu.milliValue();
  return {
    allocatableAmounts: {
      cpuMillicores: Number(allocatableMillicores),
      memoryBytes: Number(allocatableMemory),
    },
    capacity: { cpu: cpu.toString(), memory: memoryQuantity(memoryBytes), pods, ephemeralStorage: '' },
    allocatable: {
      cpu: Quantity.fromMilli(allocatableMillicores).toString(),
      memory: memoryQuantity(allocatableMemory),
      pods,
      ephemeralStorage: '',
    },
  };
}
