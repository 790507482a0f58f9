// Names inside a layer are untrusted. Policy (same outcome as Docker for real images, stricter for
// hostile ones): a leading "/" or "./" is dropped, so absolute names land under the layer root as GNU tar
// and Docker place them; any ".." component is refused outright rather than resolved, because no
// legitimate layer needs one and resolving it is where escapes hide.
import { LayerError } from './layer.error';

/** The entry's path relative to the layer root as components; [] is the root itself. */
export function entryComponents(name: string, what = 'entry'): string[] {
  if (name.includes('\0'))
    throw new LayerError('path-traversal', `${what} ${JSON.stringify(name)} contains a NUL byte`);
  const components = name.split('/').filter((part) => part !== '' && part !== '.');
  if (components.includes('..')) {
    throw new LayerError(
      'path-traversal',
      `${what} ${JSON.stringify(name)} contains "..": layer paths must stay inside the layer; the archive is hostile or was built wrongly`,
    );
  }
  for (const component of components) {
    if (Buffer.byteLength(component) > 255) {
      throw new LayerError(
        'malformed-tar',
        `${what} ${JSON.stringify(name)} has a component longer than 255 bytes`,
      );
    }
  }
  return components;
}

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
/** Other AUFS metadata (".wh..wh.plnk", ".wh..wh.aufs") that Docker also ignores. */
export const AUFS_META_PREFIX = '.wh..wh.';

export type WhiteoutKind =
  | { readonly kind: 'none' }
  | { readonly kind: 'opaque' }
  | { readonly kind: 'aufs-meta' }
  | { readonly kind: 'whiteout'; readonly target: string };

/** Classifies a path's last component as a plain name, a whiteout of a sibling, or an opaque marker. */
export function classifyWhiteout(basename: string, entryName: string): WhiteoutKind {
  if (!basename.startsWith(WHITEOUT_PREFIX)) return { kind: 'none' };
  if (basename === OPAQUE_WHITEOUT) return { kind: 'opaque' };
  if (basename.startsWith(AUFS_META_PREFIX)) return { kind: 'aufs-meta' };
  const target = basename.slice(WHITEOUT_PREFIX.length);
  if (target === '' || target === '.' || target === '..') {
    throw new LayerError(
      'invalid-whiteout',
      `whiteout ${JSON.stringify(entryName)} names ${JSON.stringify(target)}, which is not a file it could delete: the archive is hostile or corrupt`,
    );
  }
  return { kind: 'whiteout', target };
}
