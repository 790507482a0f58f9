// Every error the API returns is a Kubernetes Status with the code and reason clients switch on
// (kubectl prints `message`; client-go reads `reason` and `details`). Messages follow Kubernetes'
// wording so that what users search for matches.
import type { ResourceType, Status, StatusCause, StatusReason } from '@flotilla/api';

export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
    this.name = 'ApiError';
  }

  get code(): number {
    return this.status.code;
  }
}

function status(code: number, reason: StatusReason, message: string, details?: Status['details']): ApiError {
  return new ApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  });
}

/** `deployments.apps` for grouped resources, `pods` for core ones, as Kubernetes names them in errors. */
export function qualifiedResource(type: Pick<ResourceType, 'group' | 'plural'>): string {
  return type.group === '' ? type.plural : `${type.plural}.${type.group}`;
}

/** `Deployment.apps` or `Pod`, as Kubernetes names a kind in an Invalid error. */
function qualifiedKind(type: Pick<ResourceType, 'group' | 'kind'>): string {
  return type.group === '' ? type.kind : `${type.kind}.${type.group}`;
}

export const apiErrors = {
  badRequest: (message: string, causes?: StatusCause[]): ApiError =>
    status(400, 'BadRequest', message, causes ? { causes } : undefined),
  unauthorized: (): ApiError => status(401, 'Unauthorized', 'Unauthorized'),
  forbidden: (message: string): ApiError => status(403, 'Forbidden', message),
  notFound: (type: Pick<ResourceType, 'group' | 'plural'>, name: string): ApiError =>
    status(404, 'NotFound', `${qualifiedResource(type)} "${name}" not found`, {
      name,
      group: type.group,
      kind: type.plural,
    }),
  pathNotFound: (path: string): ApiError =>
    status(404, 'NotFound', `the server could not find the requested resource (${path})`),
  alreadyExists: (type: Pick<ResourceType, 'group' | 'plural'>, name: string): ApiError =>
    status(409, 'AlreadyExists', `${qualifiedResource(type)} "${name}" already exists`, {
      name,
      group: type.group,
      kind: type.plural,
    }),
  conflict: (type: Pick<ResourceType, 'group' | 'plural'>, name: string, why: string): ApiError =>
    status(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(type)} "${name}": ${why}`, {
      name,
      group: type.group,
      kind: type.plural,
    }),
  invalid: (type: Pick<ResourceType, 'group' | 'kind'>, name: string, causes: StatusCause[]): ApiError => {
    const described = causes.map((cause) =>
      cause.field ? `${cause.field}: ${cause.message ?? ''}` : (cause.message ?? ''),
    );
    const summary = described.length === 1 ? (described[0] ?? '') : `[${described.join(', ')}]`;
    return status(422, 'Invalid', `${qualifiedKind(type)} "${name}" is invalid: ${summary}`, {
      name,
      group: type.group,
      kind: type.kind,
      causes,
    });
  },
  gone: (message: string): ApiError => status(410, 'Gone', message),
  tooLarge: (message: string): ApiError => status(413, 'RequestEntityTooLarge', message),
  unsupportedMediaType: (contentType: string): ApiError =>
    status(
      415,
      'UnsupportedMediaType',
      (contentType.includes('protobuf')
        ? 'Flotilla speaks JSON and YAML, not protobuf (kubectl create <generator> sends protobuf: ' +
          'write the object as YAML and use `kubectl apply -f`). '
        : '') +
        `the body of the request was in an unknown format - accepted media types include: application/json, ` +
        `application/yaml, application/json-patch+json, application/merge-patch+json, ` +
        `application/strategic-merge-patch+json, application/apply-patch+yaml (got "${contentType}")`,
    ),
  methodNotAllowed: (method: string, what: string): ApiError =>
    status(405, 'MethodNotAllowed', `${method} is not supported on ${what}`),
  internal: (message: string): ApiError =>
    status(500, 'InternalError', `Internal error occurred: ${message}`),
  unavailable: (message: string): ApiError => status(503, 'ServiceUnavailable', message),
  timeout: (message: string): ApiError => status(504, 'Timeout', message),
};

export function successStatus(details?: Status['details']): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    ...(details ? { details } : {}),
    code: 200,
  };
}
