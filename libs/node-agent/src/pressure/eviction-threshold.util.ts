// Hard eviction thresholds and the node pressure conditions they raise, as kubelet's eviction manager
// decides them: a signal is under pressure when what is available drops below its threshold (a
// quantity, or a percentage of the signal's capacity), and a condition stays True for the pressure
// transition period after the last observation that crossed, so a node hovering at the threshold does
// not flap between schedulable and tainted.
//
// Worked example, --eviction-hard memory.available<200Mi,nodefs.available<10%, transition period 30 s:
//   the memory limit is 512Mi and the working set 400Mi → memory.available 112Mi < 200Mi → met
//   the state dir's file system has 1Gi, 150Mi free → nodefs.available 150Mi ≥ 10 % of 1Gi (102.4Mi)
//   at 10:00:00 MemoryPressure=True (KubeletHasInsufficientMemory), DiskPressure=False
//   at 10:00:10 the working set falls to 100Mi (412Mi available): MemoryPressure stays True until
//   10:00:30, 30 s after the last crossing, then becomes False (KubeletHasSufficientMemory).
import { Quantity, QuantityError } from '@flotilla/api';

export const EVICTION_SIGNALS = [
  'memory.available',
  'nodefs.available',
  'nodefs.inodesFree',
  'imagefs.available',
  'imagefs.inodesFree',
  'pid.available',
] as const;
export type EvictionSignal = (typeof EVICTION_SIGNALS)[number];

export type PressureCondition = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';
export const PRESSURE_CONDITIONS: readonly PressureCondition[] = [
  'MemoryPressure',
  'DiskPressure',
  'PIDPressure',
];

/** Which condition a signal under pressure raises (kubelet's signalToNodeCondition). */
export const SIGNAL_CONDITION: Readonly<Record<EvictionSignal, PressureCondition>> = {
  'memory.available': 'MemoryPressure',
  'nodefs.available': 'DiskPressure',
  'nodefs.inodesFree': 'DiskPressure',
  'imagefs.available': 'DiskPressure',
  'imagefs.inodesFree': 'DiskPressure',
  'pid.available': 'PIDPressure',
};

export type ThresholdValue = { kind: 'quantity'; amount: number } | { kind: 'percentage'; percent: number };

export interface EvictionThreshold {
  signal: EvictionSignal;
  value: ThresholdValue;
  /** As the user wrote it, e.g. "memory.available<200Mi", for messages. */
  text: string;
}

/**
 * kubelet's default --eviction-hard on Linux, plus pid.available<5% (kubelet has no PID default, so
 * its PIDPressure never turns True unless configured; ours watches the node's PID budget out of the box).
 */
export const DEFAULT_EVICTION_HARD =
  'memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%,imagefs.inodesFree<5%,pid.available<5%';

export class EvictionThresholdError extends Error {
  override readonly name = 'EvictionThresholdError';
}

const EXAMPLE = 'e.g. --eviction-hard memory.available<200Mi,nodefs.available<5%';

function parseValue(statement: string, signal: EvictionSignal, raw: string): ThresholdValue {
  if (raw.endsWith('%')) {
    const number = raw.slice(0, -1);
    const percent = /^\d+(\.\d+)?$/.test(number) ? Number(number) : Number.NaN;
    if (Number.isNaN(percent) || percent > 100) {
      throw new EvictionThresholdError(
        `eviction threshold "${statement}": "${raw}" must be a percentage from 0% to 100% (${EXAMPLE})`,
      );
    }
    return { kind: 'percentage', percent };
  }
  let quantity: Quantity;
  try {
    quantity = Quantity.parse(raw);
  } catch (error) {
    if (!(error instanceof QuantityError)) throw error;
    throw new EvictionThresholdError(
      `eviction threshold "${statement}": "${raw}" is neither a quantity (100Mi, 5000) nor a percentage (10%) (${EXAMPLE})`,
    );
  }
  if (quantity.isNegative()) {
    throw new EvictionThresholdError(`eviction threshold "${statement}": ${signal} cannot be negative`);
  }
  return { kind: 'quantity', amount: Number(quantity.value()) };
}

/**
 * Parses kubelet's --eviction-hard syntax: comma-separated <signal><<value>. As in kubelet, a list
 * given replaces all the defaults (a signal left out is not watched), an empty list watches nothing,
 * and a zero value (0, 0%) switches its signal off.
 */
export function parseEvictionHard(text: string): EvictionThreshold[] {
  const thresholds: EvictionThreshold[] = [];
  const seen = new Set<string>();
  for (const part of text.split(',')) {
    const statement = part.trim();
    if (statement === '') continue;
    const match = /^([A-Za-z.]+)\s*([<>=!]+)\s*(.*)$/.exec(statement);
    if (!match) {
      throw new EvictionThresholdError(
        `eviction threshold "${statement}" is not <signal><<value> (${EXAMPLE})`,
      );
    }
    const [, name = '', operator = '', raw = ''] = match;
    if (!(EVICTION_SIGNALS as readonly string[]).includes(name)) {
      throw new EvictionThresholdError(
        `eviction threshold "${statement}": unknown signal "${name}"; use one of ${EVICTION_SIGNALS.join(', ')}`,
      );
    }
    const signal = name as EvictionSignal;
    if (operator !== '<') {
      throw new EvictionThresholdError(
        `eviction threshold "${statement}": only "<" is supported (${signal}<value: pressure when less is available)`,
      );
    }
    if (seen.has(signal)) {
      throw new EvictionThresholdError(`eviction threshold for ${signal} is given twice; keep one`);
    }
    seen.add(signal);
    if (raw.trim() === '') {
      throw new EvictionThresholdError(
        `eviction threshold "${statement}" has no value after "<" (${EXAMPLE})`,
      );
    }
    const value = parseValue(statement, signal, raw.trim());
    const zero = value.kind === 'quantity' ? value.amount === 0 : value.percent === 0;
    if (!zero) thresholds.push({ signal, value, text: statement });
  }
  return thresholds;
}

/** What one signal has left, and the total it is a share of (for percentage thresholds). */
export interface SignalObservation {
  available: number;
  capacity: number;
}

export type SignalObservations = Partial<Record<EvictionSignal, SignalObservation>>;

/** The threshold as an absolute amount against the observed capacity (kubelet's GetThresholdQuantity). */
export function thresholdAmount(value: ThresholdValue, capacity: number): number {
  return value.kind === 'quantity' ? value.amount : (capacity * value.percent) / 100;
}

/** The thresholds crossed now; a signal without an observation (not measurable here) never crosses. */
export function thresholdsMet(
  thresholds: readonly EvictionThreshold[],
  observations: SignalObservations,
): EvictionThreshold[] {
  return thresholds.filter((threshold) => {
    const observed = observations[threshold.signal];
    return observed !== undefined && observed.available < thresholdAmount(threshold.value, observed.capacity);
  });
}

/** memory.available: a limit minus the working set (usage without inactive file pages, which the kernel reclaims first). */
export function memoryAvailable(options: { limit: number; usage: number; inactiveFile: number }): number {
  const workingSet = Math.max(0, options.usage - options.inactiveFile);
  return options.limit - workingSet;
}

export interface PressureConditionStatus {
  type: PressureCondition;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

const WORDING: Readonly<
  Record<
    PressureCondition,
    { trueReason: string; trueMessage: string; falseReason: string; falseMessage: string }
  >
> = {
  MemoryPressure: {
    trueReason: 'KubeletHasInsufficientMemory',
    trueMessage: 'kubelet has insufficient memory available',
    falseReason: 'KubeletHasSufficientMemory',
    falseMessage: 'kubelet has sufficient memory available',
  },
  DiskPressure: {
    trueReason: 'KubeletHasDiskPressure',
    trueMessage: 'kubelet has disk pressure',
    falseReason: 'KubeletHasNoDiskPressure',
    falseMessage: 'kubelet has no disk pressure',
  },
  PIDPressure: {
    trueReason: 'KubeletHasInsufficientPID',
    trueMessage: 'kubelet has insufficient PID available',
    falseReason: 'KubeletHasSufficientPID',
    falseMessage: 'kubelet has sufficient PID available',
  },
};

/** The three pressure conditions with nothing under pressure. */
export function noPressureConditions(): PressureConditionStatus[] {
  return PRESSURE_CONDITIONS.map((type) => ({
    type,
    status: 'False',
    reason: WORDING[type].falseReason,
    message: WORDING[type].falseMessage,
  }));
}

export interface PressureState {
  /** When each condition was last seen crossing, in ms since the epoch. */
  lastObservedMs: Partial<Record<PressureCondition, number>>;
  /** The thresholds that raised each condition the last time it crossed (named in the message). */
  lastMet: Partial<Record<PressureCondition, string[]>>;
}

/**
 * The pressure conditions after one observation. The message names the thresholds crossed, but not the
 * observed figures: a message that changes every sample would rewrite the Node on every heartbeat.
 */
export function pressureConditions(options: {
  met: readonly EvictionThreshold[];
  state: PressureState;
  nowMs: number;
  transitionPeriodMs: number;
}): { conditions: PressureConditionStatus[]; state: PressureState } {
  const { met, state, nowMs, transitionPeriodMs } = options;
  const lastObservedMs = { ...state.lastObservedMs };
  const lastMet = { ...state.lastMet };
  for (const type of PRESSURE_CONDITIONS) {
    const crossing = met.filter((threshold) => SIGNAL_CONDITION[threshold.signal] === type);
    if (crossing.length > 0) {
      lastObservedMs[type] = nowMs;
      lastMet[type] = crossing.map((threshold) => threshold.text);
    }
  }
  const conditions = PRESSURE_CONDITIONS.map((type): PressureConditionStatus => {
    const observed = lastObservedMs[type];
    const wording = WORDING[type];
    if (observed !== undefined && nowMs - observed <= transitionPeriodMs) {
      return {
        type,
        status: 'True',
        reason: wording.trueReason,
        message: `${wording.trueMessage} (${(lastMet[type] ?? []).join(', ')})`,
      };
    }
    return { type, status: 'False', reason: wording.falseReason, message: wording.falseMessage };
  });
  return { conditions, state: { lastObservedMs, lastMet } };
}
