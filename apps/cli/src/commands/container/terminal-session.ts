// `run -it`: this terminal in raw mode, relayed to the container's pty through the shim's attach
// socket, with window-size changes passed along. Ctrl-C is just a byte to the container's terminal.
import type { Socket } from 'node:net';
import { encodeResize, encodeStdin } from '@flotilla/runtime';

export function terminalSize(): { rows: number; columns: number } {
  return { rows: process.stdout.rows ?? 24, columns: process.stdout.columns ?? 80 };
}

export async function relayTerminal(terminal: Socket): Promise<void> {
  const stdin = process.stdin;
  const stdout = process.stdout;
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  const onInput = (data: Buffer): void => void terminal.write(encodeStdin(data));
  const onResize = (): void => void terminal.write(encodeResize(stdout.rows ?? 24, stdout.columns ?? 80));
  stdin.on('data', onInput);
  stdout.on('resize', onResize);
  terminal.on('data', (data: Buffer) => stdout.write(data));
  try {
    await new Promise<void>((resolve) => {
      terminal.once('close', () => resolve());
      terminal.once('error', () => resolve());
    });
  } finally {
    stdin.off('data', onInput);
    stdout.off('resize', onResize);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
  }
}
