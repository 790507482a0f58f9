// The real process behind CliIo: stdout/stderr, stdin read once, Ctrl-C as an abort signal.
import type { CliIo } from './cli-context';

export function processIo(): CliIo {
  const controller = new AbortController();
  process.once('SIGINT', () => {
    controller.abort();
    // A second Ctrl-C means "now", even if something ignores the abort.
    process.once('SIGINT', () => process.exit(130));
  });
  let stdin: Promise<string> | undefined;
  return {
    write: (text) => void process.stdout.write(text),
    writeError: (text) => void process.stderr.write(text),
    readStdin: () => (stdin ??= readAll(process.stdin)),
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
    now: () => new Date(),
  };
}

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer | string) =>
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk),
    );
    stream.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.once('error', reject);
  });
}
