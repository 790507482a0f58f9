import { status as GrpcStatus } from '@grpc/grpc-js';
import { NodePodsError } from '../pods/node-pods.types';
import { grpcCodeOf, podLogsRequestOf } from './agent-service.server';

const base = {
  namespace: 'web',
  pod: 'api-0',
  container: '',
  follow: false,
  previous: false,
  tailLines: -1n,
  sinceSeconds: 0n,
  timestamps: false,
};

describe('podLogsRequestOf', () => {
  it.each([
    { name: 'sentinels become absent fields', request: base, expected: { follow: false, previous: false } },
    {
      name: 'set fields pass through',
      request: {
        ...base,
        container: 'app',
        follow: true,
        tailLines: 10n,
        sinceSeconds: 300n,
        timestamps: true,
      },
      expected: {
        container: 'app',
        follow: true,
        previous: false,
        tailLines: 10,
        sinceSeconds: 300,
        timestamps: true,
      },
    },
    {
      name: 'zero tail lines means none, not all',
      request: { ...base, tailLines: 0n },
      expected: { tailLines: 0 },
    },
  ])('$name', ({ request, expected }) => {
    expect(podLogsRequestOf(request)).toEqual({
      namespace: 'web',
      pod: 'api-0',
      timestamps: false,
      follow: false,
      previous: false,
      ...expected,
    });
  });
});

describe('grpcCodeOf', () => {
  it.each([
    { error: new NodePodsError('NotFound', 'x'), code: GrpcStatus.NOT_FOUND },
    { error: new NodePodsError('BadRequest', 'x'), code: GrpcStatus.INVALID_ARGUMENT },
    { error: new NodePodsError('Conflict', 'x'), code: GrpcStatus.FAILED_PRECONDITION },
    { error: new NodePodsError('Internal', 'x'), code: GrpcStatus.INTERNAL },
    { error: new Error('disk on fire'), code: GrpcStatus.INTERNAL },
  ])('$error.message ($error.name) → $code', ({ error, code }) => {
    expect(grpcCodeOf(error)).toBe(code);
  });
});
