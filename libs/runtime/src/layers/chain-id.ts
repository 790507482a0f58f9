// Chain IDs name a stack of layers (OCI image spec, "ChainID"): a layer's unpacked directory is only
// valid on top of exactly the layers below it, so it is keyed by the whole chain, not its own diffID.
import { createHash } from 'node:crypto';

export function chainIds(diffIds: readonly string[]): string[] {
  const chain: string[] = [];
  for (const diffId of diffIds) {
    assertDigest(diffId, 'diffID');
    const parent = chain[chain.length - 1];
    chain.push(
      parent === undefined
        ? diffId
        : `sha256:${createHash('sha256').update(`${parent} ${diffId}`).digest('hex')}`,
    );
  }
  return chain;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

export function assertDigest(value: string, what: string): void {
  if (!DIGEST.test(value)) {
    throw new Error(
      `${what} ${JSON.stringify(value)} is not a sha256 digest ("sha256:" and 64 lowercase hex digits)`,
    );
  }
}

export function digestHex(digest: string): string {
  assertDigest(digest, 'digest');
  return digest.slice('sha256:'.length);
}
