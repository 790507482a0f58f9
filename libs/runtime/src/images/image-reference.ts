// Image references in Docker's grammar: [registry[:port]/]path[:tag][@sha256:digest]. Names are stored
// fully qualified ("docker.io/library/busybox:latest") and shown in Docker's familiar form ("busybox:latest").
export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';

export interface ImageReference {
  /** Registry host with optional port: "docker.io", "localhost:5000". */
  readonly registry: string;
  /** Repository path inside the registry: "library/busybox". */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

export class ReferenceError extends Error {
  override readonly name = 'ReferenceError';
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;

export function parseReference(text: string): ImageReference {
  const fail = (why: string): never => {
    throw new ReferenceError(
      `invalid image reference ${JSON.stringify(text)}: ${why} (expected [registry/]name[:tag][@sha256:digest], e.g. busybox:1.36)`,
    );
  };
  if (text === '' || text.length > 1024) fail('empty or too long');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) fail('the digest must be sha256: followed by 64 lowercase hex digits');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag))
      fail(`the tag ${JSON.stringify(tag)} may only contain letters, digits, "_", "." and "-" (up to 128)`);
  }
  const components = rest.split('/');
  let registry = DEFAULT_REGISTRY;
  const first = components[0] ?? '';
  if (
    components.length > 1 &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())
  ) {
    if (!HOST.test(first)) fail(`${JSON.stringify(first)} is not a valid registry host`);
    registry = first;
    components.shift();
  }
  if (components.length === 0 || components.some((component) => !PATH_COMPONENT.test(component))) {
    fail(
      'repository names use lowercase letters, digits and single separators (".", "_", "__", "-") between "/"',
    );
  }
  if (registry === DEFAULT_REGISTRY && components.length === 1) components.unshift('library');
  if (registry === 'index.docker.io') registry = DEFAULT_REGISTRY;
  return {
    registry,
    repository: components.join('/'),
    ...(tag === undefined && digest === undefined ? { tag: DEFAULT_TAG } : tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

/** "docker.io/library/busybox:latest", the form names are stored in. */
export function formatReference(reference: ImageReference): string {
  return `${reference.registry}/${reference.repository}${reference.tag === undefined ? '' : `:${reference.tag}`}${reference.digest === undefined ? '' : `@${reference.digest}`}`;
}

/** The repository as users write it: "busybox", "flotilla/busybox", "localhost:5000/app". */
export function familiarRepository(reference: Pick<ImageReference, 'registry' | 'repository'>): string {
  if (reference.registry !== DEFAULT_REGISTRY) return `${reference.registry}/${reference.repository}`;
  return reference.repository.startsWith('library/') && reference.repository.split('/').length === 2
    ? reference.repository.slice('library/'.length)
    : reference.repository;
}

export function familiarReference(reference: ImageReference): string {
  return `${familiarRepository(reference)}${reference.tag === undefined ? '' : `:${reference.tag}`}${reference.digest === undefined ? '' : `@${reference.digest}`}`;
}

/** Normalises a user's reference to its stored form. */
export function normaliseReference(text: string): string {
  return formatReference(parseReference(text));
}
