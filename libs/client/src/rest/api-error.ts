// Every failed request surfaces as an ApiError carrying the server's Kubernetes Status, so callers
// branch on `reason`/`code` (NotFound, Conflict, Gone) rather than on message text.
import type { Status, StatusCause, StatusReason } from '@flotilla/api';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: number;
  readonly reason: StatusReason | undefined;
  readonly causes: readonly StatusCause[];

  constructor(readonly status: Status) {
    super(status.message ?? `request failed with HTTP ${status.code}`);
    this.code = status.code;
    this.reason = status.reason;
    this.causes = status.details?.causes ?? [];
  }

  /** Builds the error from any HTTP answer: a Status body when the server sent one, else a synthetic one. */
  static fromResponse(options: {
    readonly httpCode: number;
    readonly body: string;
    readonly request: string;
  }): ApiError {
    const parsed = tryParseStatus(options.body);
    if (parsed) return new ApiError(parsed);
    const text = options.body.trim().slice(0, 300);
    return new ApiError({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      code: options.httpCode,
      reason: reasonForCode(options.httpCode),
      message: `${options.request}: HTTP ${options.httpCode}${text === '' ? '' : `: ${text}`}`,
    });
  }
}

export function isApiError(error: unknown, reason?: StatusReason): error is ApiError {
  return error instanceof ApiError && (reason === undefined || error.reason === reason);
}

export function isNotFound(error: unknown): error is ApiError {
  return error instanceof ApiError && error.code === 404;
}

export function isGone(error: unknown): error is ApiError {
  return (
    error instanceof ApiError && (error.code === 410 || error.reason === 'Gone' || error.reason === 'Expired')
  );
}

export function isConflict(error: unknown): error is ApiError {
  return error instanceof ApiError && error.code === 409;
}

export function tryParseStatus(body: string): Status | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      (parsed as { kind?: unknown }).kind === 'Status' &&
      typeof (parsed as { code?: unknown }).code === 'number'
    ) {
      return parsed as Status;
    }
  } catch {
    // Not JSON: the caller builds a Status from the HTTP code instead.
  }
  return undefined;
}

function reasonForCode(code: number): StatusReason | undefined {
  const reasons: Record<number, StatusReason> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    405: 'MethodNotAllowed',
    406: 'NotAcceptable',
    409: 'Conflict',
    410: 'Gone',
    413: 'RequestEntityTooLarge',
    415: 'UnsupportedMediaType',
    422: 'Invalid',
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return reasons[code];
}
