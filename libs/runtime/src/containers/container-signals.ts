// Signal names as users write them (SIGTERM, TERM, 15, sigkill) to numbers, validated up front so
// a typo in STOPSIGNAL fails at create rather than at stop.
import { constants } from 'node:os';
import { ContainerError } from './container.error';

const BY_NAME = constants.signals as Record<string, number | undefined>;

export function parseSignal(value: string): number {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const number = Number(trimmed);
    if (number >= 1 && number <= 64) return number;
  } else {
    const upper = trimmed.toUpperCase();
    const number = BY_NAME[upper.startsWith('SIG') ? upper : `SIG${upper}`];
    if (number !== undefined) return number;
  }
  throw new ContainerError(
    'InvalidSpec',
    `unknown signal "${value}": use a name like SIGTERM or a number from 1 to 64`,
  );
}
