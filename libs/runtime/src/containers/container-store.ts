// The state directory, shared by every process on the node (daemonless, like podman):
//   STATE/containers/ID/container.json   the record (spec, resolved process, status)
//   STATE/containers/ID/{shim.conf,shim.pid,init.pid,status,container.log,attach.sock,upper,work,rootfs}
//   STATE/container-names/NAME           the id owning NAME, created exclusively so names stay unique
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerError } from './container.error';
import type { ContainerRecord } from './container.types';
import { errnoCode } from '../shim/errno';
import { ensureSpreadDirectory } from '../storage/spread-directory';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const ID = /^[0-9a-f]{64}$/;

function readOptionalSync(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function isMissing(error: unknown): boolean {
  return errnoCode(error) === 'ENOENT';
}

export class ContainerStore {
  readonly containersDir: string;
  private readonly namesDir: string;

  constructor(readonly stateDir: string) {
    this.containersDir = join(stateDir, 'containers');
    this.namesDir = join(stateDir, 'container-names');
  }

  directoryOf(id: string): string {
    return join(this.containersDir, id);
  }

  newId(): string {
    return randomBytes(32).toString('hex');
  }

  /** Reserves the name for the id; a name someone else holds is a Conflict. */
  async claimName(name: string, id: string): Promise<void> {
    if (!NAME.test(name)) {
      throw new ContainerError(
        'InvalidSpec',
        `container name "${name}" is invalid: use letters, digits, "_", "." and "-", starting with a letter or digit`,
      );
    }
    mkdirSync(this.namesDir, { recursive: true });
    try {
      writeFileSync(join(this.namesDir, name), id, { flag: 'wx' });
    } catch (error: unknown) {
      if (errnoCode(error) === 'EEXIST') {
        const owner = (await readFile(join(this.namesDir, name), 'utf8').catch(() => '')).slice(0, 12);
        throw new ContainerError(
          'Conflict',
          `the name "${name}" is already used by container ${owner}: remove it or choose another name`,
        );
      }
      throw error;
    }
  }

  async releaseName(name: string): Promise<void> {
    await unlink(join(this.namesDir, name)).catch((error: unknown) => {
      if (!isMissing(error)) throw error;
    });
  }

  async create(record: ContainerRecord): Promise<void> {
    ensureSpreadDirectory(this.containersDir, { mode: 0o700 });
    mkdirSync(this.directoryOf(record.id), { recursive: true, mode: 0o700 });
    await this.save(record);
  }

  /**
   * Atomic replace: a concurrent reader sees the old record or the new one, never half. Not fsynced:
   * after a power loss the shim's own files (status, pid files) decide the state, and a record lost
   * with its container's processes is what a reboot leaves anyway. Synchronous: a few KiB into the
   * page cache cost less than two thread-pool round trips, on every start.
   */
  async save(record: ContainerRecord): Promise<void> {
    const path = join(this.directoryOf(record.id), 'container.json');
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(record, null, 2));
    renameSync(temporary, path);
  }

  async load(id: string): Promise<ContainerRecord | undefined> {
    try {
      return JSON.parse(
        readFileSync(join(this.directoryOf(id), 'container.json'), 'utf8'),
      ) as ContainerRecord;
    } catch (error: unknown) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async ids(): Promise<string[]> {
    try {
      return (await readdir(this.containersDir)).filter((entry) => ID.test(entry));
    } catch (error: unknown) {
      if (isMissing(error)) return [];
      throw error;
    }
  }

  /** A name, a full id or an unambiguous id prefix, as Docker accepts. */
  async resolve(reference: string): Promise<string> {
    // A full id is its own directory: no listing of every container to find it.
    if (ID.test(reference) && existsSync(this.directoryOf(reference))) return reference;
    const named = readOptionalSync(join(this.namesDir, reference));
    if (named && ID.test(named) && NAME.test(reference)) return named;
    if (/^[0-9a-f]+$/.test(reference)) {
      const matches = (await this.ids()).filter((id) => id.startsWith(reference));
      if (matches.length === 1 && matches[0] !== undefined) return matches[0];
      if (matches.length > 1) {
        throw new ContainerError(
          'Conflict',
          `"${reference}" matches ${matches.length} containers: give more of the id`,
        );
      }
    }
    throw new ContainerError(
      'NotFound',
      `no such container: ${reference} (see \`flotilla container ps -a\`)`,
    );
  }

  async delete(id: string): Promise<void> {
    await rm(this.directoryOf(id), { recursive: true, force: true });
  }
}
