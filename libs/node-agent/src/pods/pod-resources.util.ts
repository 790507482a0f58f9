// Requests and limits as the kernel enforces them, with kubelet's arithmetic: a CPU request becomes
// a relative weight (shares = millicores * 1024 / 1000, at least 2), a CPU limit a CFS quota, a memory
// limit a hard cap. The pod's own cgroup carries the pod's totals: the sum over app containers, or the
// largest init container if that is bigger (init containers run one at a time, before the others).
//
// Worked example: containers a {requests cpu 250m, limits cpu 500m memory 64Mi} and
// b {requests cpu 100m, limits memory 32Mi}, init container i {limits cpu 1, memory 16Mi}:
//   a → shares 256, quota 500m, memory 64Mi;  b → shares 102, no quota, memory 32Mi
//   pod → shares max(256 + 102, 1024) = 1024 (i's request defaults to its limit),
//         cpu limit: b has none, so the app sum is unlimited and the pod gets no quota,
//         memory max(64Mi + 32Mi, 16Mi) = 96Mi.
import { Quantity, type Container, type PodSpec, type ResourceList } from '@flotilla/api';

export const MIN_SHARES = 2;
const SHARES_PER_CPU = 1024;

export interface ContainerCgroupLimits {
  cpuShares: number;
  /** Absent: no CPU cap. */
  cpuMillicores?: number;
  /** Absent: no memory cap. */
  memoryBytes?: number;
}

function quantityOf(list: ResourceList | undefined, name: string): Quantity | undefined {
  const value = list?.[name];
  if (value === undefined) return undefined;
  return Quantity.parse(String(value));
}

export function milliCpuToShares(milliCpu: number): number {
  if (milliCpu <= 0) return MIN_SHARES;
  return Math.max(MIN_SHARES, Math.floor((milliCpu * SHARES_PER_CPU) / 1000));
}

/** The request Kubernetes' defaulting gives: an explicit request, else the limit. */
function requestOf(container: Container, name: string): Quantity | undefined {
  return quantityOf(container.resources?.requests, name) ?? quantityOf(container.resources?.limits, name);
}

export function containerCgroupLimits(container: Container): ContainerCgroupLimits {
  const cpuRequest = requestOf(container, 'cpu');
  const cpuLimit = quantityOf(container.resources?.limits, 'cpu');
  const memoryLimit = quantityOf(container.resources?.limits, 'memory');
  return {
    cpuShares: milliCpuToShares(cpuRequest === undefined ? 0 : Number(cpuRequest.milliValue())),
    ...(cpuLimit !== undefined && !cpuLimit.isZero() ? { cpuMillicores: Number(cpuLimit.milliValue()) } : {}),
    ...(memoryLimit !== undefined && !memoryLimit.isZero()
      ? { memoryBytes: Number(memoryLimit.value()) }
      : {}),
  };
}

/** Sum over the app containers, or undefined when one of them is unlimited. */
function sumOrUnlimited(values: Array<number | undefined>): number | undefined {
  let total = 0;
  for (const value of values) {
    if (value === undefined) return undefined;
    total += value;
  }
  return total;
}

function maxOrUnlimited(left: number | undefined, right: number | undefined): number | undefined {
  return left === undefined || right === undefined ? undefined : Math.max(left, right);
}

export function podCgroupLimits(spec: PodSpec): ContainerCgroupLimits {
  const app = spec.containers.map(containerCgroupLimits);
  const init = (spec.initContainers ?? []).map(containerCgroupLimits);
  const requestMilli = (container: Container): number => {
    const request = requestOf(container, 'cpu');
    return request === undefined ? 0 : Number(request.milliValue());
  };
  const appRequest = spec.containers.reduce((total, container) => total + requestMilli(container), 0);
  const initRequest = Math.max(0, ...(spec.initContainers ?? []).map(requestMilli));
  let cpu = sumOrUnlimited(app.map((limits) => limits.cpuMillicores));
  let memory = sumOrUnlimited(app.map((limits) => limits.memoryBytes));
  for (const limits of init) {
    cpu = maxOrUnlimited(cpu, limits.cpuMillicores);
    memory = maxOrUnlimited(memory, limits.memoryBytes);
  }
  return {
    cpuShares: milliCpuToShares(Math.max(appRequest, initRequest)),
    ...(cpu !== undefined ? { cpuMillicores: cpu } : {}),
    ...(memory !== undefined ? { memoryBytes: memory } : {}),
  };
}

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** Kubernetes' GetPodQOS over cpu and memory of every container, init containers included. */
export function podQosClass(spec: PodSpec): QosClass {
  const containers = [...spec.containers, ...(spec.initContainers ?? [])];
  let anyRequestOrLimit = false;
  let guaranteed = true;
  for (const container of containers) {
    for (const name of ['cpu', 'memory']) {
      const request = quantityOf(container.resources?.requests, name);
      const limit = quantityOf(container.resources?.limits, name);
      if ((request && !request.isZero()) || (limit && !limit.isZero())) anyRequestOrLimit = true;
      // A request defaults to the limit; only an explicit different request breaks Guaranteed.
      if (limit === undefined || limit.isZero()) guaranteed = false;
      else if (request !== undefined && !request.equals(limit)) guaranteed = false;
    }
  }
  if (!anyRequestOrLimit) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
