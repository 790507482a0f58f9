// What follows a verb on kubectl's command line: "deploy web api", "deploy/web svc/web", "deploy,svc",
// or "all"; turned into resource types and names.
import {
  RESOURCE_TYPES,
  resolveResourceName,
  resourceTypeForKind,
  type KubeObject,
  type ResourceType,
} from '@flotilla/api';
import { CliError, EXIT_USAGE } from '../cli-context';

export interface ResourceSelection {
  readonly type: ResourceType;
  /** Empty means "all objects of the type" (subject to selectors). */
  readonly names: readonly string[];
}

export function resolveType(name: string): ResourceType {
  const type = resolveResourceName(name);
  if (!type) {
    const known = RESOURCE_TYPES.map((t) =>
      t.shortNames[0] ? `${t.plural} (${t.shortNames[0]})` : t.plural,
    ).join(', ');
    throw new CliError(`the server doesn't have a resource type "${name}"; known types: ${known}`);
  }
  return type;
}

export function typeOfObject(object: KubeObject, origin: string): ResourceType {
  const type = resourceTypeForKind(object.apiVersion, object.kind);
  if (!type) {
    const kinds = RESOURCE_TYPES.map(
      (t) => `${t.kind} (${t.group === '' ? t.version : `${t.group}/${t.version}`})`,
    ).join(', ');
    throw new CliError(
      `${origin}: no kind "${object.kind}" is served in version "${object.apiVersion}"; flotilla serves ${kinds}`,
    );
  }
  return type;
}

export function parseResourceArgs(args: readonly string[]): ResourceSelection[] {
  const [first, ...rest] = args;
  if (first === undefined) {
    throw new CliError(
      'say which resource type to act on, e.g. `pods`, `deploy web` or `deploy/web` (types: see `flotilla get --help`)',
      EXIT_USAGE,
    );
  }
  if (first.includes('/')) {
    return args.map((arg) => {
      const slash = arg.indexOf('/');
      if (slash <= 0 || slash === arg.length - 1) {
        throw new CliError(
          `"${arg}": when one argument is TYPE/NAME, all must be (there is no need to give the type separately)`,
          EXIT_USAGE,
        );
      }
      return { type: resolveType(arg.slice(0, slash)), names: [arg.slice(slash + 1)] };
    });
  }
  const types = first
    .split(',')
    .flatMap((name) =>
      name === 'all' ? RESOURCE_TYPES.filter((t) => t.categories.includes('all')) : [resolveType(name)],
    );
  if (rest.length > 0 && types.length > 1) {
    throw new CliError(
      'names can follow only one resource type; use TYPE/NAME arguments to mix types',
      EXIT_USAGE,
    );
  }
  return types.map((type) => ({ type, names: rest }));
}
