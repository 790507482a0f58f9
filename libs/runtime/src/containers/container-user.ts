// `-u` / USER: uid, uid:gid, name or name:group, with names looked up in the container's own
// /etc/passwd and /etc/group (never the host's), as Docker does.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerError } from './container.error';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

async function readFirst(lowerDirs: readonly string[], relative: string): Promise<string> {
  for (const dir of lowerDirs) {
    try {
      return await readFile(join(dir, relative), 'utf8');
    } catch {
      // Not in this layer: try the next one down.
    }
  }
  return '';
}

export function parsePasswd(text: string): PasswdEntry[] {
  return text
    .split('\n')
    .map((line) => line.split(':'))
    .filter((fields) => fields.length >= 7 && /^\d+$/.test(fields[2] ?? '') && /^\d+$/.test(fields[3] ?? ''))
    .map(([name = '', , uid = '', gid = '', , home = '/']) => ({
      name,
      uid: Number(uid),
      gid: Number(gid),
      home,
    }));
}

export function parseGroup(text: string): GroupEntry[] {
  return text
    .split('\n')
    .map((line) => line.split(':'))
    .filter((fields) => fields.length >= 4 && /^\d+$/.test(fields[2] ?? ''))
    .map(([name = '', , gid = '', members = '']) => ({
      name,
      gid: Number(gid),
      members: members.split(',').filter(Boolean),
    }));
}

const NUMERIC = /^\d+$/;

export function resolveUserFrom(spec: string, passwd: PasswdEntry[], groups: GroupEntry[]): ResolvedUser {
  const [userPart = '', groupPart] = spec.split(':');
  if (userPart === '' || (groupPart !== undefined && groupPart === '')) {
    throw new ContainerError('InvalidSpec', `user "${spec}" must look like name, uid, name:group or uid:gid`);
  }
  const entry = NUMERIC.test(userPart)
    ? passwd.find((candidate) => candidate.uid === Number(userPart))
    : passwd.find((candidate) => candidate.name === userPart);
  if (!entry && !NUMERIC.test(userPart)) {
    throw new ContainerError(
      'InvalidSpec',
      `user "${userPart}" is not in the container's /etc/passwd: use a numeric uid or add the user to the image`,
    );
  }
  const uid = entry ? entry.uid : Number(userPart);
  let gid = entry ? entry.gid : 0;
  if (groupPart !== undefined) {
    if (NUMERIC.test(groupPart)) gid = Number(groupPart);
    else {
      const group = groups.find((candidate) => candidate.name === groupPart);
      if (!group) {
        throw new ContainerError(
          'InvalidSpec',
          `group "${groupPart}" is not in the container's /etc/group: use a numeric gid or add the group to the image`,
        );
      }
      gid = group.gid;
    }
  }
  for (const id of [uid, gid]) {
    if (id > 0xfffffffe)
      throw new ContainerError('InvalidSpec', `id ${id} in user "${spec}" is out of range`);
  }
  const additionalGids = entry
    ? groups
        .filter((group) => group.members.includes(entry.name) && group.gid !== gid)
        .map((group) => group.gid)
    : [];
  return { uid, gid, additionalGids, home: entry?.home ?? '/' };
}

export async function resolveUser(
  spec: string | undefined,
  lowerDirs: readonly string[],
): Promise<ResolvedUser> {
  const [passwd, groups] = await Promise.all([
    readFirst(lowerDirs, 'etc/passwd').then(parsePasswd),
    readFirst(lowerDirs, 'etc/group').then(parseGroup),
  ]);
  return resolveUserFrom(spec === undefined || spec === '' ? '0' : spec, passwd, groups);
}
