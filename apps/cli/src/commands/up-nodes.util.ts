// `flotilla up` node flags → node specs. Every node gets the defaults (--node-cpus, --node-memory) unless
// named with its own size: `--nodes 3 --node-memory 2Gi` gives node-1..node-3 with 1 CPU and 2Gi each;
// `--node big:2:4Gi --node small:500m:512Mi` gives exactly those two, in that order.
import { Quantity, QuantityError } from '@flotilla/api';

export interface NodeFlags {
  readonly nodes?: number;
  readonly nodeCpus?: string;
  readonly nodeMemory?: string;
  /** NAME[:CPUS[:MEMORY]], repeatable. */
  readonly node?: readonly string[];
}

export interface NodeSpec {
  readonly name: string;
  readonly cpuMillicores: number;
  readonly memoryBytes: number;
}

export const DEFAULT_NODE_CPUS = '1';
export const DEFAULT_NODE_MEMORY = '1Gi';
/** Below this a node cannot hold an agent and a pod. */
const MIN_NODE_MEMORY_BYTES = 64 * 1024 * 1024;

export function nodeSpecsFrom(flags: NodeFlags): NodeSpec[] {
  const cpus = flags.nodeCpus ?? DEFAULT_NODE_CPUS;
  const memory = flags.nodeMemory ?? DEFAULT_NODE_MEMORY;
  const named = flags.node ?? [];
  if (named.length > 0) {
    if (flags.nodes !== undefined && flags.nodes !== named.length) {
      throw new Error(
        `--nodes ${flags.nodes} disagrees with the ${named.length} --node flags; give one or the other`,
      );
    }
    const specs = named.map((text) => {
      const [name = '', nodeCpus, nodeMemory, ...rest] = text.split(':');
      if (rest.length > 0 || name === '') {
        throw new Error(
          `--node ${JSON.stringify(text)} must look like NAME[:CPUS[:MEMORY]], e.g. node-1:2:4Gi`,
        );
      }
      return spec(name, nodeCpus || cpus, nodeMemory || memory);
    });
    const names = new Set<string>();
    for (const { name } of specs) {
      if (names.has(name)) throw new Error(`--node ${name} is given twice; node names must differ`);
      names.add(name);
    }
    return specs;
  }
  const count = flags.nodes ?? 0;
  if (!Number.isInteger(count) || count < 0 || count > 50) {
    throw new Error(`--nodes ${String(flags.nodes)} must be a whole number from 0 to 50`);
  }
  return Array.from({ length: count }, (_, index) => spec(`node-${index + 1}`, cpus, memory));
}

function spec(name: string, cpus: string, memory: string): NodeSpec {
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) {
    throw new Error(
      `node name ${JSON.stringify(name)} must be a DNS label (lower-case letters, digits and "-")`,
    );
  }
  const cpuMillicores = Number(quantity(cpus, 'CPUS', '1, 1.5 or 500m').milliValue());
  if (cpuMillicores < 10) throw new Error(`node ${name}: ${cpus} CPUs is too little; give at least 10m`);
  const memoryBytes = Number(quantity(memory, 'MEMORY', '512Mi or 2Gi').value());
  if (memoryBytes < MIN_NODE_MEMORY_BYTES) {
    throw new Error(
      `node ${name}: ${memory} of memory is too little for an agent and a pod; give at least 64Mi`,
    );
  }
  return { name, cpuMillicores, memoryBytes };
}

function quantity(text: string, what: string, example: string): Quantity {
  try {
    const parsed = Quantity.parse(text);
    if (parsed.isNegative() || parsed.isZero()) throw new QuantityError(`${text} is not positive`);
    return parsed;
  } catch (error) {
    if (error instanceof QuantityError)
      throw new Error(`${what} ${JSON.stringify(text)} is not a quantity like ${example}`);
    throw error;
  }
}
