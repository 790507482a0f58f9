// The query parameters of pods/log (PodLogOptions) and pods/exec (PodExecOptions), read and validated
// as kube-apiserver does: the same names, the same boolean rules, the same messages.
import type { StatusCause } from '@flotilla/api';
import { apiErrors } from '../http/api-error';
import { queryValue, type Query } from '../resources/request-options';

export interface PodLogQuery {
  container?: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  /** Absent: every line. */
  tailLines?: number;
  /** Absent: from the start; sinceTime is turned into seconds here. */
  sinceSeconds?: number;
  /** Absent: no limit. */
  limitBytes?: number;
}

export interface PodExecQuery {
  container?: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/**
 * Kubernetes' conversion of a query value to bool: absent is false, "0", "f" and "false" (any case)
 * are false, and anything else, the empty string included, is true.
 */
export function queryFlag(query: Query, name: string): boolean {
  const value = queryValue(query, name);
  if (value === undefined) return false;
  return !['0', 'f', 'false'].includes(value.toLowerCase());
}

function queryInteger(query: Query, name: string): number | undefined {
  const value = queryValue(query, name);
  if (value === undefined || value === '') return undefined;
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw apiErrors.badRequest(`${name}: "${value}" is not an integer`);
  }
  return Number(value);
}

function nonEmpty(query: Query, name: string): string | undefined {
  const value = queryValue(query, name);
  return value === undefined || value === '' ? undefined : value;
}

/** Parses and validates PodLogOptions; `now` resolves sinceTime to whole seconds back from now. */
export function parsePodLogQuery(query: Query, podName: string, now: Date): PodLogQuery {
  const tailLines = queryInteger(query, 'tailLines');
  const limitBytes = queryInteger(query, 'limitBytes');
  let sinceSeconds = queryInteger(query, 'sinceSeconds');
  const sinceTime = nonEmpty(query, 'sinceTime');
  const causes: StatusCause[] = [];
  const invalid = (field: string, value: number, message: string): void => {
    causes.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${value}: ${message}` });
  };
  if (tailLines !== undefined && tailLines < 0)
    invalid('tailLines', tailLines, 'must be greater than or equal to 0');
  if (limitBytes !== undefined && limitBytes < 1) invalid('limitBytes', limitBytes, 'must be greater than 0');
  if (sinceSeconds !== undefined && sinceSeconds < 1)
    invalid('sinceSeconds', sinceSeconds, 'must be greater than 0');
  if (sinceSeconds !== undefined && sinceTime !== undefined) {
    causes.push({
      reason: 'FieldValueForbidden',
      field: '',
      message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified',
    });
  }
  if (causes.length > 0) throw apiErrors.invalid({ group: '', kind: 'PodLogOptions' }, podName, causes);
  if (sinceTime !== undefined) {
    const time = Date.parse(sinceTime);
    if (!/^\d{4}-\d\d-\d\dT/.test(sinceTime) || Number.isNaN(time)) {
      throw apiErrors.badRequest(
        `sinceTime: "${sinceTime}" is not an RFC 3339 time such as 2024-05-01T10:00:00Z`,
      );
    }
    // A time in the future asks for nothing yet; one second back is the closest the agent can express.
    sinceSeconds = Math.max(1, Math.ceil((now.getTime() - time) / 1000));
  }
  const container = nonEmpty(query, 'container');
  return {
    ...(container !== undefined ? { container } : {}),
    follow: queryFlag(query, 'follow'),
    previous: queryFlag(query, 'previous'),
    timestamps: queryFlag(query, 'timestamps'),
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
    ...(limitBytes !== undefined ? { limitBytes } : {}),
  };
}

/** Parses PodExecOptions: repeated `command` parameters in order, and the streams asked for. */
export function parsePodExecQuery(query: Query): PodExecQuery {
  const raw = query['command'];
  const command = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (command.length === 0) throw apiErrors.badRequest('you must specify at least 1 command');
  const options = {
    stdin: queryFlag(query, 'stdin'),
    stdout: queryFlag(query, 'stdout'),
    stderr: queryFlag(query, 'stderr'),
    tty: queryFlag(query, 'tty'),
  };
  if (!options.stdin && !options.stdout && !options.stderr) {
    throw apiErrors.badRequest('you must specify at least 1 of stdin, stdout, stderr');
  }
  const container = nonEmpty(query, 'container');
  return { ...(container !== undefined ? { container } : {}), command, ...options };
}
