import { ApiError } from '../http/api-error';
import { parsePodExecQuery, parsePodLogQuery, queryFlag } from './pod-proxy.query';

const now = new Date('2026-01-01T12:00:00Z');

function failure(run: () => unknown): { code: number; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected an ApiError');
}

describe('queryFlag (Kubernetes bool conversion)', () => {
  it.each([
    { value: undefined, flag: false },
    { value: 'true', flag: true },
    { value: '1', flag: true },
    { value: '', flag: true },
    { value: 'yes', flag: true },
    { value: 'false', flag: false },
    { value: 'FALSE', flag: false },
    { value: 'f', flag: false },
    { value: '0', flag: false },
  ])('follow=$value → $flag', ({ value, flag }) => {
    expect(queryFlag(value === undefined ? {} : { follow: value }, 'follow')).toBe(flag);
  });
});

describe('parsePodLogQuery', () => {
  it.each([
    { query: {}, parsed: { follow: false, previous: false, timestamps: false } },
    {
      query: {
        container: 'app',
        follow: 'true',
        previous: '1',
        timestamps: 'true',
        tailLines: '10',
        limitBytes: '500',
      },
      parsed: {
        container: 'app',
        follow: true,
        previous: true,
        timestamps: true,
        tailLines: 10,
        limitBytes: 500,
      },
    },
    {
      query: { tailLines: '0' },
      parsed: { follow: false, previous: false, timestamps: false, tailLines: 0 },
    },
    {
      query: { sinceSeconds: '300' },
      parsed: { follow: false, previous: false, timestamps: false, sinceSeconds: 300 },
    },
    // 11:55:00.5 is 299.5 s before noon: rounded up so the line at 11:55:00.5 is included.
    {
      query: { sinceTime: '2026-01-01T11:55:00.500Z' },
      parsed: { follow: false, previous: false, timestamps: false, sinceSeconds: 300 },
    },
    {
      query: { sinceTime: '2026-01-01T13:00:00Z' },
      parsed: { follow: false, previous: false, timestamps: false, sinceSeconds: 1 },
    },
    { query: { container: '' }, parsed: { follow: false, previous: false, timestamps: false } },
  ])('$query', ({ query, parsed }) => {
    expect(parsePodLogQuery(query, 'web', now)).toEqual(parsed);
  });

  it.each([
    {
      query: { tailLines: '-1' },
      code: 422,
      message: /tailLines: Invalid value: -1: must be greater than or equal to 0/,
    },
    {
      query: { limitBytes: '0' },
      code: 422,
      message: /limitBytes: Invalid value: 0: must be greater than 0/,
    },
    {
      query: { sinceSeconds: '0' },
      code: 422,
      message: /sinceSeconds: Invalid value: 0: must be greater than 0/,
    },
    {
      query: { sinceSeconds: '5', sinceTime: '2026-01-01T11:00:00Z' },
      code: 422,
      message: /at most one of `sinceTime` or `sinceSeconds` may be specified/,
    },
    { query: { tailLines: 'ten' }, code: 400, message: /tailLines: "ten" is not an integer/ },
    {
      query: { sinceTime: 'yesterday' },
      code: 400,
      message: /sinceTime: "yesterday" is not an RFC 3339 time/,
    },
  ])('refuses $query', ({ query, code, message }) => {
    const error = failure(() => parsePodLogQuery(query, 'web', now));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('names the pod in an Invalid error as Kubernetes does', () => {
    expect(failure(() => parsePodLogQuery({ tailLines: '-1' }, 'web', now)).message).toMatch(
      /^PodLogOptions "web" is invalid: /,
    );
  });
});

describe('parsePodExecQuery', () => {
  it.each([
    {
      query: { command: ['sh', '-c', 'exit 3'], stdout: 'true', stderr: 'true' },
      parsed: { command: ['sh', '-c', 'exit 3'], stdin: false, stdout: true, stderr: true, tty: false },
    },
    {
      query: { command: 'sh', container: 'app', stdin: 'true', stdout: 'true', tty: 'true' },
      parsed: { command: ['sh'], container: 'app', stdin: true, stdout: true, stderr: false, tty: true },
    },
  ])('$query', ({ query, parsed }) => {
    expect(parsePodExecQuery(query)).toEqual(parsed);
  });

  it.each([
    { query: { stdout: 'true' }, message: 'you must specify at least 1 command' },
    { query: { command: 'ls' }, message: 'you must specify at least 1 of stdin, stdout, stderr' },
  ])('refuses $query', ({ query, message }) => {
    expect(failure(() => parsePodExecQuery(query))).toEqual({ code: 400, message });
  });
});
