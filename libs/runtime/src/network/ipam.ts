// Address management for one bridge network: a JSON file in the state dir maps each allocated address
// to its owner (a container id), read and rewritten under a lock so concurrent processes never hand
// out the same address. The network address, the gateway (the bridge) and broadcast are never given.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withFileLock } from './file-lock';
import {
  broadcastOf,
  formatIpv4,
  formatSubnet,
  gatewayOf,
  parseIpv4,
  parseSubnet,
  type Ipv4Subnet,
} from './ipv4';
import { NetworkError } from './network.types';

interface IpamFile {
  subnet: string;
  /** address → owner */
  allocations: Record<string, string>;
}

export interface IpamOptions {
  /** The directory holding ipam.json and its lock. */
  directory: string;
  subnet: string;
}

interface QueuedChange {
  mutate: (allocations: Record<string, string>) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class Ipam {
  private readonly queued: QueuedChange[] = [];
  /** Cleared in the same turn as the last round settles, so a caller woken by it starts a new one. */
  private draining = false;
  private readonly subnet: Ipv4Subnet;
  private readonly file: string;
  private readonly lockFile: string;

  constructor(private readonly options: IpamOptions) {
    this.subnet = parseSubnet(options.subnet);
    this.file = join(options.directory, 'ipam.json');
    this.lockFile = join(options.directory, 'ipam.lock');
  }

  /** The owner's address: the one it already has, else the lowest free one. */
  allocate(owner: string): Promise<string> {
    return this.change((allocations) => {
      const existing = Object.entries(allocations).find(([, holder]) => holder === owner);
      if (existing) return existing[0];
      const gateway = gatewayOf(this.subnet);
      for (let address = gateway + 1; address < broadcastOf(this.subnet); address++) {
        const text = formatIpv4(address);
        if (allocations[text] === undefined) {
          allocations[text] = owner;
          return text;
        }
      }
      throw new NetworkError(
        `no free address left in ${formatSubnet(this.subnet)} (${Object.keys(allocations).length} in use); remove stopped containers or use a larger subnet`,
      );
    });
  }

  /** Frees every address of the owner; releasing twice is fine. */
  release(owner: string): Promise<void> {
    return this.change((allocations) => {
      for (const [address, holder] of Object.entries(allocations)) {
        if (holder === owner) delete allocations[address];
      }
    });
  }

  /** address → owner, as persisted. */
  async list(): Promise<Map<string, string>> {
    return new Map(Object.entries((await this.read()).allocations));
  }

  private async read(): Promise<IpamFile> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT')
        return { subnet: this.options.subnet, allocations: {} };
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new NetworkError(
        `${this.file} is not JSON; fix or remove it (running containers keep their addresses)`,
      );
    }
    const state = parsed as Partial<IpamFile>;
    if (
      typeof state.allocations !== 'object' ||
      state.allocations === null ||
      typeof state.subnet !== 'string'
    ) {
      throw new NetworkError(`${this.file} does not hold a subnet and allocations; fix or remove it`);
    }
    if (state.subnet !== this.options.subnet) {
      throw new NetworkError(
        `${this.file} belongs to subnet ${state.subnet}, not ${this.options.subnet}; a network keeps its subnet — remove the network to change it`,
      );
    }
    for (const address of Object.keys(state.allocations)) parseIpv4(address);
    return { subnet: state.subnet, allocations: state.allocations };
  }

  /**
   * Read-modify-write under the lock. Changes asked for while one is being written are applied
   * together in the next round (one lock, one read, one write for all of them): a node agent starting
   * thirty pods at once otherwise queues thirty rounds of eight file operations each behind one
   * another, seconds on a busy machine.
   */
  private change<T>(mutate: (allocations: Record<string, string>) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queued.push({
        mutate,
        resolve: (value) => resolve(value as T),
        reject,
      });
      if (!this.draining) {
        this.draining = true;
        void this.drain();
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queued.length > 0) {
      const round = this.queued.splice(0);
      try {
        await mkdir(this.options.directory, { recursive: true });
        const outcomes = await withFileLock(this.lockFile, async () => {
          const state = await this.read();
          const results = round.map((change): Outcome => {
            try {
              return { ok: true, value: change.mutate(state.allocations) };
            } catch (error) {
              return { ok: false, error };
            }
          });
          if (results.some((result) => result.ok)) {
            // Write-then-rename: a crash mid-write must not leave a truncated file behind.
            const temporary = `${this.file}.${process.pid}.tmp`;
            await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`);
            await rename(temporary, this.file);
          }
          return results;
        });
        round.forEach((change, index) => {
          const outcome = outcomes[index];
          if (outcome?.ok) change.resolve(outcome.value);
          else change.reject(outcome?.error);
        });
      } catch (error) {
        for (const change of round) change.reject(error);
      }
    }
    this.draining = false;
  }
}
