// The container state machine: created → running → stopped → removed, restartable from stopped.
// Every move the runtime makes goes through here, so an illegal one is refused with a reason
// before anything is touched.
import { ContainerError } from './container.error';
import type { ContainerStatus } from './container.types';

export type ContainerTransition = 'start' | 'stop' | 'kill' | 'remove' | 'exit';

const MOVES: Record<ContainerTransition, { from: readonly ContainerStatus[]; to: ContainerStatus }> = {
  start: { from: ['created', 'stopped'], to: 'running' },
  stop: { from: ['running'], to: 'stopped' },
  kill: { from: ['running'], to: 'stopped' },
  exit: { from: ['running'], to: 'stopped' },
  remove: { from: ['created', 'stopped'], to: 'removed' },
};

const ADVICE: Partial<Record<`${ContainerTransition}:${ContainerStatus}`, string>> = {
  'start:running': 'it is already running',
  'stop:created': 'it was never started; remove it instead',
  'stop:stopped': 'it has already stopped',
  'kill:created': 'it was never started',
  'kill:stopped': 'it is not running',
  'remove:running': 'stop it first, or remove it with --force',
};

/** The status after `transition`, or a ContainerError saying why the move is illegal. */
export function nextStatus(
  name: string,
  current: ContainerStatus,
  transition: ContainerTransition,
): ContainerStatus {
  const move = MOVES[transition];
  if (move.from.includes(current)) return move.to;
  if (current === 'removed') throw new ContainerError('NotFound', `container ${name} has been removed`);
  const advice =
    ADVICE[`${transition}:${current}`] ?? `only a ${move.from.join(' or ')} container can ${transition}`;
  throw new ContainerError('InvalidState', `cannot ${transition} container ${name} (${current}): ${advice}`);
}

export function canMove(current: ContainerStatus, transition: ContainerTransition): boolean {
  return MOVES[transition].from.includes(current);
}
