// User namespaces for containers (podman's --userns/--uidmap/--gidmap, Docker's userns-remap): which
// host ids a container's ids are, and, for `--userns=auto`, a range of host ids no other container
// of this node holds. Ranges come from the "flotilla" entries of /etc/subuid and /etc/subgid, as
// podman's come from "containers", or from DEFAULT_SUBORDINATE_RANGE when there is none.
import { mkdirSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../shim/errno';
import { ContainerError } from './container.error';

/** Container ids [containerId, containerId + size) are host ids [hostId, hostId + size). */
export interface IdMapping {
  containerId: number;
  hostId: number;
  size: number;
}

/** The maps a container's user namespace gets; what /proc/PID/uid_map and gid_map hold. */
export interface UserNamespaceMaps {
  uidMappings: IdMapping[];
  gidMappings: IdMapping[];
}

/**
 * What `run` asks for: `auto` (a free range of AUTO_RANGE_SIZE ids) or explicit maps
 * (--uidmap/--gidmap). `--userns=host`, the default, is no request.
 */
export type UserNamespaceRequest = { mode: 'auto' } | ({ mode: 'map' } & UserNamespaceMaps);

/** The entry looked up in /etc/subuid and /etc/subgid. */
export const SUBORDINATE_ID_OWNER = 'flotilla';
/**
 * Used when /etc/subuid (or subgid) has no "flotilla" line: host ids 100000..1148575, sixteen
 * containers of 65536 ids. Write `flotilla:START:COUNT` lines to both files to choose others (and keep
 * them apart from your users' rootless ranges).
 */
export const DEFAULT_SUBORDINATE_RANGE = { start: 100_000, size: 1_048_576 } as const;
/** 65536 ids per auto container: all of 0..65535, so images with nobody (65534) files work. */
export const AUTO_RANGE_SIZE = 65_536;
/** The kernel takes at most 340 lines per map (Linux 4.15+). */
const MAX_MAP_LINES = 340;
const MAX_ID = 4_294_967_295;

/** `--uidmap 0:100000:65536`: CONTAINER_ID:HOST_ID:SIZE, podman's order. */
export function parseIdMapping(text: string, flag: string): IdMapping {
  const parts = text.split(':');
  const numbers = parts.map((part) => (/^\d+$/.test(part) ? Number(part) : NaN));
  const [containerId, hostId, size] = numbers;
  if (
    parts.length !== 3 ||
    containerId === undefined ||
    hostId === undefined ||
    size === undefined ||
    !numbers.every(Number.isSafeInteger) ||
    size < 1 ||
    containerId + size > MAX_ID ||
    hostId + size > MAX_ID
  ) {
    throw new ContainerError(
      'InvalidSpec',
      `${flag} "${text}" must be CONTAINER_ID:HOST_ID:SIZE with whole numbers and a size of at least 1, e.g. 0:100000:65536`,
    );
  }
  return { containerId, hostId, size };
}

function overlaps(a: { start: number; size: number }, b: { start: number; size: number }): boolean {
  return a.start < b.start + b.size && b.start < a.start + a.size;
}

/** Rejects maps the kernel would refuse: overlapping ranges on either side, or too many lines. */
export function validateMaps(maps: UserNamespaceMaps): void {
  for (const [kind, mappings] of [
    ['uid', maps.uidMappings],
    ['gid', maps.gidMappings],
  ] as const) {
    if (mappings.length === 0 || mappings.length > MAX_MAP_LINES) {
      throw new ContainerError(
        'InvalidSpec',
        `a user namespace needs 1 to ${MAX_MAP_LINES} ${kind} mappings`,
      );
    }
    mappings.forEach((mapping, index) => {
      for (const other of mappings.slice(index + 1)) {
        const side = overlaps(
          { start: mapping.containerId, size: mapping.size },
          { start: other.containerId, size: other.size },
        )
          ? 'container'
          : overlaps({ start: mapping.hostId, size: mapping.size }, { start: other.hostId, size: other.size })
            ? 'host'
            : undefined;
        if (side !== undefined) {
          throw new ContainerError(
            'InvalidSpec',
            `${kind} mappings ${formatMapping(mapping)} and ${formatMapping(other)} overlap on the ${side} side`,
          );
        }
      }
    });
  }
}

export function formatMapping(mapping: IdMapping): string {
  return `${mapping.containerId}:${mapping.hostId}:${mapping.size}`;
}

/** The host id of a container id, or undefined when the map leaves it out. */
export function hostIdOf(mappings: readonly IdMapping[], containerId: number): number | undefined {
  const mapping = mappings.find(
    (entry) => containerId >= entry.containerId && containerId < entry.containerId + entry.size,
  );
  return mapping === undefined ? undefined : mapping.hostId + (containerId - mapping.containerId);
}

/** The container id of a host id, or undefined when the map does not reach it (e.g. host root). */
export function containerIdOf(mappings: readonly IdMapping[], hostId: number): number | undefined {
  const mapping = mappings.find((entry) => hostId >= entry.hostId && hostId < entry.hostId + entry.size);
  return mapping === undefined ? undefined : mapping.containerId + (hostId - mapping.hostId);
}

/**
 * Host owners back to the container's, for what it wrote (commit): ids the map does not reach
 * stay as they are (overlay's whiteouts belong to host root and carry no meaning).
 */
export function containerOwners(
  maps: UserNamespaceMaps,
): (owner: { uid: number; gid: number }) => { uid: number; gid: number } {
  return ({ uid, gid }) => ({
    uid: containerIdOf(maps.uidMappings, uid) ?? uid,
    gid: containerIdOf(maps.gidMappings, gid) ?? gid,
  });
}

/** uid_map/gid_map content: "CONTAINER HOST SIZE" per line, written in one write(2) by the shim. */
export function renderIdMap(mappings: readonly IdMapping[]): string {
  return mappings.map((m) => `${m.containerId} ${m.hostId} ${m.size}`).join('\n');
}

/** The first "NAME:START:COUNT" range for name in an /etc/subuid-style file, or undefined. */
export function subordinateRange(
  text: string,
  name: string = SUBORDINATE_ID_OWNER,
): { start: number; size: number } | undefined {
  for (const line of text.split('\n')) {
    const [owner, start, count] = line.trim().split(':');
    if (owner !== name || !/^\d+$/.test(start ?? '') || !/^\d+$/.test(count ?? '')) continue;
    if (Number(count) > 0) return { start: Number(start), size: Number(count) };
  }
  return undefined;
}

function readRange(file: string): { start: number; size: number } {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (error: unknown) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
  return subordinateRange(text) ?? DEFAULT_SUBORDINATE_RANGE;
}

export interface AutoRangeOptions {
  /** Where claims live: one file per claimed host start, holding the container id. */
  claimsDir: string;
  containerId: string;
  /** Whether a container still exists: a claim of one that does not is stale and reused. */
  exists(containerId: string): boolean;
  /** Default /etc/subuid and /etc/subgid. */
  subuidFile?: string;
  subgidFile?: string;
}

/**
 * `--userns=auto`: the first slot of AUTO_RANGE_SIZE ids, in both subordinate ranges, that no
 * container holds. A slot is claimed by creating its file exclusively, so two containers created at once
 * never share one; releaseAutoRange frees it when the container is removed.
 */
export function claimAutoRange(options: AutoRangeOptions): UserNamespaceMaps {
  const uids = readRange(options.subuidFile ?? '/etc/subuid');
  const gids = readRange(options.subgidFile ?? '/etc/subgid');
  const size = AUTO_RANGE_SIZE;
  const slots = Math.floor(Math.min(uids.size, gids.size) / size);
  if (slots < 1) {
    throw new ContainerError(
      'InvalidSpec',
      `--userns=auto needs ${size} ids, more than the subordinate ranges hold (uids ${uids.start}:${uids.size}, gids ${gids.start}:${gids.size}); add larger "${SUBORDINATE_ID_OWNER}:START:COUNT" lines to /etc/subuid and /etc/subgid`,
    );
  }
  mkdirSync(options.claimsDir, { recursive: true });
  for (let slot = 0; slot < slots; slot++) {
    const claim = join(options.claimsDir, String(slot));
    if (!tryClaim(claim, options)) continue;
    const offset = slot * size;
    return {
      uidMappings: [{ containerId: 0, hostId: uids.start + offset, size }],
      gidMappings: [{ containerId: 0, hostId: gids.start + offset, size }],
    };
  }
  throw new ContainerError(
    'Conflict',
    `every --userns=auto range of ${size} ids is in use (${slots} in uids ${uids.start}:${uids.size}); remove a container or add larger "${SUBORDINATE_ID_OWNER}" lines to /etc/subuid and /etc/subgid`,
  );
}

function tryClaim(claim: string, options: AutoRangeOptions): boolean {
  try {
    writeFileSync(claim, options.containerId, { flag: 'wx' });
    return true;
  } catch (error: unknown) {
    if (errnoCode(error) !== 'EEXIST') throw error;
  }
  if (options.exists(readFileSync(claim, 'utf8').trim())) return false;
  // Its container is gone (removed by a crash mid-way): the slot is free again.
  unlinkSync(claim);
  return tryClaim(claim, options);
}

/** Frees the auto range a container claimed, if any. */
export function releaseAutoRange(claimsDir: string, containerId: string): void {
  for (const slot of safeReaddir(claimsDir)) {
    const claim = join(claimsDir, slot);
    try {
      if (readFileSync(claim, 'utf8').trim() === containerId) unlinkSync(claim);
    } catch (error: unknown) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (error: unknown) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
}
