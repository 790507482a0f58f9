// Server-side printing, as kube-apiserver does it: when a client asks for `as=Table` (kubectl get
// always does), lists and objects go out as a meta.k8s.io/v1 Table with the same columns
// `flotilla get` prints, wide columns at priority 1 so `-o wide` shows them.
import type { KubeList, KubeObject, ResourceType } from '@flotilla/api';
import { resourceTable } from '@flotilla/printers';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** True when the Accept header asks for a Table (kubectl: `application/json;as=Table;v=v1;g=meta.k8s.io`). */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '')
    .split(',')
    .some((part) => /;\s*as=Table\b/.test(part) && /;\s*g=meta\.k8s\.io\b/.test(part));
}

export function includeObjectOf(value: string | undefined): IncludeObject {
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

function rowObject(object: KubeObject, include: IncludeObject): KubeObject | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return object;
  return { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: object.metadata ?? {} };
}

export function toTable(options: {
  type: ResourceType;
  objects: readonly KubeObject[];
  resourceVersion?: string;
  continueToken?: string;
  include: IncludeObject;
  now?: Date;
}): object {
  const now = options.now ?? new Date();
  const base = { now, withNamespace: false, withKind: false };
  const normal = resourceTable(options.type, [], { ...base, wide: false }).headers.length;
  const table = resourceTable(options.type, options.objects, { ...base, wide: true });
  const columnDefinitions = table.headers.map((header, index) => ({
    name: header === 'NAME' ? 'Name' : header.charAt(0) + header.slice(1).toLowerCase(),
    type: 'string',
    format: header === 'NAME' ? 'name' : '',
    description: '',
    priority: index < normal ? 0 : 1,
  }));
  const metadata: Record<string, string> = {};
  if (options.resourceVersion) metadata['resourceVersion'] = options.resourceVersion;
  if (options.continueToken) metadata['continue'] = options.continueToken;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions,
    rows: table.rows.map((cells, index) => {
      const object = options.objects[index];
      const row = object ? rowObject(object, options.include) : undefined;
      return row ? { cells, object: row } : { cells };
    }),
  };
}

export function listToTable(type: ResourceType, list: KubeList, include: IncludeObject): object {
  return toTable({
    type,
    objects: list.items,
    include,
    ...(list.metadata.resourceVersion ? { resourceVersion: list.metadata.resourceVersion } : {}),
    ...(list.metadata.continue ? { continueToken: list.metadata.continue } : {}),
  });
}
