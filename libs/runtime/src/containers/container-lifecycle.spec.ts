import { ContainerError } from './container.error';
import { canMove, nextStatus } from './container-lifecycle';

describe('container lifecycle', () => {
  it('walks created → running → stopped → running → stopped → removed', () => {
    let status = nextStatus('web', 'created', 'start');
    expect(status).toBe('running');
    status = nextStatus('web', status, 'stop');
    expect(status).toBe('stopped');
    status = nextStatus('web', status, 'start');
    expect(status).toBe('running');
    status = nextStatus('web', status, 'exit');
    expect(status).toBe('stopped');
    expect(nextStatus('web', status, 'remove')).toBe('removed');
  });

  it('removes a container that never started', () => {
    expect(nextStatus('web', 'created', 'remove')).toBe('removed');
  });

  it.each([
    ['created', 'stop', 'never started'],
    ['running', 'start', 'already running'],
    ['running', 'remove', '--force'],
    ['stopped', 'stop', 'already stopped'],
    ['stopped', 'kill', 'not running'],
  ] as const)('refuses %s → %s and says what to do', (from, transition, advice) => {
    expect(() => nextStatus('web', from, transition)).toThrow(advice);
    expect(canMove(from, transition)).toBe(false);
  });

  it('treats every move of a removed container as not found', () => {
    for (const transition of ['start', 'stop', 'kill', 'remove', 'exit'] as const) {
      try {
        nextStatus('web', 'removed', transition);
        throw new Error('expected a ContainerError');
      } catch (error: unknown) {
        expect(error).toBeInstanceOf(ContainerError);
        expect((error as ContainerError).code).toBe('NotFound');
      }
    }
  });
});
