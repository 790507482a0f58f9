// A CliIo that records output, for running the real program inside tests.
import type { CliIo } from '../cli-context';

export interface CapturedIo extends CliIo {
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly abort: () => void;
}

export function capturedIo(options: {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  readonly stdin?: string;
  readonly now?: Date;
}): CapturedIo {
  let out = '';
  let err = '';
  const controller = new AbortController();
  return {
    write: (text) => {
      out += text;
    },
    writeError: (text) => {
      err += text;
    },
    readStdin: () => Promise.resolve(options.stdin ?? ''),
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    signal: controller.signal,
    now: () => options.now ?? new Date(),
    stdout: () => out,
    stderr: () => err,
    abort: () => controller.abort(),
  };
}
