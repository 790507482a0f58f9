// Who is on the other end of a node connection: the CommonName of its client certificate, which the
// cluster CA issued as "system:node:<nodeName>" (Kubernetes' node identity), so a node may only speak
// for itself.
//
// Worked example: CN "system:node:node-a" is node-a; CN "admin" or "system:node:" is no node.
export const NODE_USER_PREFIX = 'system:node:';

export function nodeNameOf(commonName: string | readonly string[] | undefined): string | undefined {
  const names = typeof commonName === 'string' ? [commonName] : (commonName ?? []);
  // A certificate with several CNs is ambiguous: no identity rather than a guess.
  if (names.length !== 1) return undefined;
  const [name] = names;
  if (!name?.startsWith(NODE_USER_PREFIX)) return undefined;
  const nodeName = name.slice(NODE_USER_PREFIX.length);
  return nodeName === '' ? undefined : nodeName;
}
