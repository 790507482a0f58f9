// One Exec call: the first message starts the command through NodePods, later ones carry stdin,
// resizes and the stdin close; output flows back as it comes, then the exit code. The apiserver
// going away (cancel) closes the command's stdin and stops reading its output.
import type { Readable } from 'node:stream';
import { status as GrpcStatus, type ServerDuplexStream } from '@grpc/grpc-js';
import type { ExecInput, ExecOutput, ExecStart } from '@flotilla/proto';
import type { NodePods, PodExecSession } from '../pods/node-pods.types';

/**
 * After the command exits, output still in its pipes is forwarded for this long; a background child
 * that inherited stdout would otherwise hold the call open for as long as it runs.
 */
const DRAIN_AFTER_EXIT_MS = 1_000;

export interface ExecRelayOptions {
  pods: NodePods;
  call: ServerDuplexStream<ExecInput, ExecOutput>;
}

export class ExecRelay {
  private started = false;
  private aborted = false;
  private session: PodExecSession | undefined;
  private readonly pending: ExecInput[] = [];
  private stdinClosed = false;

  constructor(private readonly options: ExecRelayOptions) {}

  run(): void {
    const { call } = this.options;
    call.on('data', (input: ExecInput) => this.onInput(input));
    // The client half-closed its side: no more stdin will come.
    call.on('end', () => this.closeStdin());
    call.on('cancelled', () => this.abort());
    call.on('error', () => this.abort());
  }

  /** Stops relaying: the command loses its stdin and its output is no longer read. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.release();
  }

  private release(): void {
    this.closeStdin();
    this.session?.stdout.destroy();
    this.session?.stderr?.destroy();
  }

  private onInput(input: ExecInput): void {
    const payload = input.payload;
    if (!this.started) {
      if (payload?.$case !== 'start') {
        this.fail('the first message of an Exec call must be start (namespace, pod, container, command)');
        return;
      }
      this.started = true;
      void this.start(payload.value);
      return;
    }
    if (this.session) this.apply(input);
    else this.pending.push(input);
  }

  private apply(input: ExecInput): void {
    const payload = input.payload;
    const session = this.session;
    if (!payload || !session) return;
    switch (payload.$case) {
      case 'stdin':
        if (!this.stdinClosed) session.stdin?.write(payload.value);
        return;
      case 'resize':
        session.resize({ rows: payload.value.rows, columns: payload.value.columns });
        return;
      case 'closeStdin':
        this.closeStdin();
        return;
      case 'start':
        this.fail('start was already sent on this Exec call; open a new call for another command');
        return;
    }
  }

  private closeStdin(): void {
    if (this.stdinClosed) return;
    this.stdinClosed = true;
    this.session?.stdin?.end();
  }

  private fail(details: string): void {
    this.options.call.emit('error', { code: GrpcStatus.INVALID_ARGUMENT, details });
  }

  private send(output: ExecOutput): boolean {
    return this.options.call.write(output);
  }

  private async start(start: ExecStart): Promise<void> {
    const { call, pods } = this.options;
    let session: PodExecSession;
    try {
      session = await pods.exec({
        namespace: start.namespace,
        pod: start.pod,
        ...(start.container !== '' ? { container: start.container } : {}),
        command: start.command,
        tty: start.tty,
        stdin: start.stdin,
      });
    } catch (error) {
      // Reported in-band, as kubelet reports exec failures on the error stream after the upgrade.
      this.send({
        payload: { $case: 'error', value: error instanceof Error ? error.message : String(error) },
      });
      call.end();
      return;
    }
    this.session = session;
    session.stdin?.on('error', () => undefined);
    if (this.stdinClosed) session.stdin?.end();
    if (this.aborted) {
      this.release();
      return;
    }
    const outputs: Readable[] = [session.stdout, ...(session.stderr ? [session.stderr] : [])];
    const forward = (stream: Readable, kind: 'stdout' | 'stderr'): void => {
      stream.on('data', (chunk: Buffer | string) => {
        const value = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        const more = this.send({
          payload: kind === 'stdout' ? { $case: 'stdout', value } : { $case: 'stderr', value },
        });
        if (!more) outputs.forEach((output) => output.pause());
      });
    };
    call.on('drain', () => outputs.forEach((output) => output.resume()));
    forward(session.stdout, 'stdout');
    if (session.stderr) forward(session.stderr, 'stderr');
    for (const input of this.pending.splice(0)) this.apply(input);

    const drained = Promise.all(outputs.map((output) => ended(output)));
    const outcome = await session.exited.then(
      (exitCode): ExecOutput['payload'] => ({ $case: 'exitCode', value: exitCode }),
      (error: unknown): ExecOutput['payload'] => ({
        $case: 'error',
        value: `the command's exit status is unknown: ${error instanceof Error ? error.message : String(error)}`,
      }),
    );
    await Promise.race([drained, delay(DRAIN_AFTER_EXIT_MS)]);
    if (this.aborted) return;
    this.send({ payload: outcome });
    call.end();
  }
}

function ended(stream: Readable): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
