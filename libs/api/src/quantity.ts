// Kubernetes resource quantities ("100m", "1Gi", "1e3", ".5") held exactly.
//
// The value is kept as a bigint count of nano-units (10^-9), which is the finest precision Kubernetes
// keeps: anything finer is rounded up, as resource.Quantity does. No float ever touches a quantity, so
// "0.1" + "0.2" is exactly "300m" and "1.5Gi" is exactly 1610612736.
//
// Grammar (from k8s.io/apimachinery/pkg/api/resource):
//   quantity      ::= signedNumber suffix
//   signedNumber  ::= number | "+" number | "-" number
//   number        ::= digits | digits "." digits | digits "." | "." digits
//   suffix        ::= binarySI | decimalExponent | decimalSI
//   binarySI      ::= Ki | Mi | Gi | Ti | Pi | Ei
//   decimalSI     ::= n | u | m | "" | k | M | G | T | P | E
//   decimalExponent ::= "e" signedNumber | "E" signedNumber   (an integer)

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

const NANO = 1_000_000_000n;

const decimalSuffixes: ReadonlyMap<string, number> = new Map([
  ['n', -9],
  ['u', -6],
  ['m', -3],
  ['', 0],
  ['k', 3],
  ['M', 6],
  ['G', 9],
  ['T', 12],
  ['P', 15],
  ['E', 18],
]);

const binarySuffixes: ReadonlyMap<string, number> = new Map([
  ['Ki', 10],
  ['Mi', 20],
  ['Gi', 30],
  ['Ti', 40],
  ['Pi', 50],
  ['Ei', 60],
]);

// Exponents beyond this are rejected outright: a hostile "1e999999999" must not allocate a huge bigint.
const MAX_DECIMAL_EXPONENT = 36;
const QUANTITY_PATTERN = /^([+-]?)(\d*)(?:\.(\d*))?(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE]?)$/;

export class QuantityError extends Error {}

// Quantities are immutable and a cluster writes the same few strings ("100m", "64Mi") over and
// over, each parsed several times per pod (validation, defaults): BigInt arithmetic that a lookup
// replaces. Bounded, so hostile input cannot grow it without end.
const PARSED_LIMIT = 4096;
const parsed = new Map<string, Quantity>();

export class Quantity {
  private constructor(
    /** The value in units of 10^-9, rounded up (away from zero is not used: ceil, as Kubernetes). */
    readonly nanos: bigint,
    readonly format: QuantityFormat,
  ) {}

  static parse(input: string): Quantity {
    if (typeof input !== 'string' || input.length === 0 || input.length > 64) {
      throw new QuantityError(
        `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
      );
    }
    const known = parsed.get(input);
    if (known !== undefined) return known;
    const quantity = Quantity.parseUncached(input);
    if (parsed.size >= PARSED_LIMIT) parsed.clear();
    parsed.set(input, quantity);
    return quantity;
  }

  private static parseUncached(input: string): Quantity {
    const match = QUANTITY_PATTERN.exec(input.trim() === input ? input : '');
    const integerPart = match?.[2] ?? '';
    const fractionPart = match?.[3] ?? '';
    if (!match || (integerPart === '' && fractionPart === '')) {
      throw new QuantityError(
        `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
      );
    }
    const negative = match[1] === '-';
    const suffix = match[4] ?? '';

    // digits as an integer, scaled by 10^-fractionLength
    let mantissa = BigInt((integerPart + fractionPart).replace(/^0+(?=\d)/, '') || '0');
    let decimalExponent = -fractionPart.length;
    let binaryExponent = 0;
    let format: QuantityFormat;

    const binary = binarySuffixes.get(suffix);
    const decimal = decimalSuffixes.get(suffix);
    if (binary !== undefined) {
      binaryExponent = binary;
      format = 'BinarySI';
    } else if (decimal !== undefined) {
      decimalExponent += decimal;
      format = 'DecimalSI';
    } else {
      const exponent = Number(suffix.slice(1));
      if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > MAX_DECIMAL_EXPONENT) {
        throw new QuantityError(`quantity exponent out of range: ${input}`);
      }
      decimalExponent += exponent;
      format = 'DecimalExponent';
    }

    mantissa *= 2n ** BigInt(binaryExponent);
    // Convert mantissa × 10^decimalExponent to nanos, rounding up what is finer than a nano.
    const shift = decimalExponent + 9;
    let nanos: bigint;
    if (shift >= 0) {
      nanos = mantissa * 10n ** BigInt(shift);
    } else {
      const divisor = 10n ** BigInt(-shift);
      nanos = mantissa / divisor + (mantissa % divisor === 0n ? 0n : 1n);
    }
    return new Quantity(negative ? -nanos : nanos, format);
  }

  static fromNanos(nanos: bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(nanos, format);
  }

  static fromMilli(milli: bigint | number, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(milli) * 1_000_000n, format);
  }

  static fromInteger(value: bigint | number, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(value) * NANO, format);
  }

  static zero(format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(0n, format);
  }

  isNegative(): boolean {
    return this.nanos < 0n;
  }

  isZero(): boolean {
    return this.nanos === 0n;
  }

  /** The value in thousandths, rounded up: what Kubernetes' MilliValue() returns. */
  milliValue(): bigint {
    return ceilDiv(this.nanos, 1_000_000n);
  }

  /** The value as an integer, rounded up: what Kubernetes' Value() returns. */
  value(): bigint {
    return ceilDiv(this.nanos, NANO);
  }

  add(other: Quantity): Quantity {
    return new Quantity(this.nanos + other.nanos, this.format);
  }

  sub(other: Quantity): Quantity {
    return new Quantity(this.nanos - other.nanos, this.format);
  }

  cmp(other: Quantity): -1 | 0 | 1 {
    return this.nanos < other.nanos ? -1 : this.nanos > other.nanos ? 1 : 0;
  }

  equals(other: Quantity): boolean {
    return this.nanos === other.nanos;
  }

  /** Canonical form, as Kubernetes serialises it: "1000m" → "1", "1536Mi" stays, "0.5" → "500m". */
  toString(): string {
    const sign = this.nanos < 0n ? '-' : '';
    const abs = this.nanos < 0n ? -this.nanos : this.nanos;
    if (abs === 0n) return '0';

    if (this.format === 'BinarySI' && abs % NANO === 0n) {
      const units = abs / NANO;
      if (units >= 1024n) {
        let best: [string, number] | undefined;
        for (const [suffix, exponent] of binarySuffixes) {
          if (units % 2n ** BigInt(exponent) === 0n) best = [suffix, exponent];
        }
        if (best) return `${sign}${units / 2n ** BigInt(best[1])}${best[0]}`;
      }
      // Kubernetes falls back to decimal notation for binary values it cannot write exactly with a binary suffix.
    }

    // Largest power of 1000 (from 10^-9 to 10^18) that divides the value exactly.
    let exponent = -9;
    let mantissa = abs;
    while (exponent < 18 && mantissa % 1000n === 0n) {
      mantissa /= 1000n;
      exponent += 3;
    }
    if (this.format === 'DecimalExponent') {
      return exponent === 0 ? `${sign}${mantissa}` : `${sign}${mantissa}e${exponent}`;
    }
    const suffix = [...decimalSuffixes].find(([, e]) => e === exponent)?.[0] ?? '';
    return `${sign}${mantissa}${suffix}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

function ceilDiv(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  return numerator % denominator > 0n ? quotient + 1n : quotient;
}

/** Parses without throwing, for validators that collect every error. */
export function tryParseQuantity(input: unknown): Quantity | undefined {
  if (typeof input !== 'string') return undefined;
  try {
    return Quantity.parse(input);
  } catch {
    return undefined;
  }
}
