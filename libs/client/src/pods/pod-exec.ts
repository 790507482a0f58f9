// A command in a pod's container through the apiserver (pods/exec), over the WebSocket subprotocol
// kubectl speaks (v5.channel.k8s.io, v4 as a fallback): stdin, stdout, stderr, terminal resizes, and
// the command's exit code read from the error channel.
import type { Readable, Writable } from 'node:stream';
import {
  CHANNEL_CLOSE,
  CHANNEL_ERROR,
  CHANNEL_RESIZE,
  CHANNEL_STDERR,
  CHANNEL_STDIN,
  CHANNEL_STDOUT,
  REMOTE_COMMAND_V4,
  REMOTE_COMMAND_V5,
  decodeChannelFrame,
  decodeRemoteCommandStatus,
  encodeChannelFrame,
  encodeTerminalSize,
  type RemoteCommandResult,
  type TerminalSize,
} from '@flotilla/api';
import WebSocket, { type RawData } from 'ws';
import { ApiError } from '../rest/api-error';
import { ConnectionError, type RestClient } from '../rest/rest-client';
import { podsType } from './pod-logs';

export interface PodExecOptions {
  readonly namespace?: string;
  readonly pod: string;
  readonly container?: string;
  readonly command: readonly string[];
  /** Sent to the command; its end closes the command's stdin. Absent: the command gets no stdin. */
  readonly stdin?: Readable;
  readonly stdout: Writable;
  /** Absent with a tty: the terminal carries both. */
  readonly stderr?: Writable;
  readonly tty?: boolean;
  /** The terminal's size at start (tty only). */
  readonly terminalSize?: TerminalSize;
  /** Called once with a function that sends a new size; returns what stops listening (tty only). */
  readonly onResize?: (send: (size: TerminalSize) => void) => () => void;
  readonly signal?: AbortSignal;
}

/** The exec URL: one `command` parameter per argument, in order, as kube-apiserver reads them. */
export function podExecPath(client: RestClient, options: PodExecOptions): string {
  const path = client.objectPath(podsType(), options.pod, {
    namespace: options.namespace,
    subresource: 'exec',
  });
  const params = new URLSearchParams();
  for (const argument of options.command) params.append('command', argument);
  if (options.container !== undefined) params.set('container', options.container);
  if (options.stdin) params.set('stdin', 'true');
  params.set('stdout', 'true');
  if (!options.tty) params.set('stderr', 'true');
  if (options.tty) params.set('tty', 'true');
  return `${path}?${params.toString()}`;
}

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Runs the command to its end and resolves with its exit code; rejects when it could not run. */
export function execInPod(client: RestClient, options: PodExecOptions): Promise<number> {
  if (options.command.length === 0) return Promise.reject(new Error('exec needs a command to run'));
  const connection = client.connection;
  const base = new URL(connection.server);
  const url = new URL(podExecPath(client, options), base);
  url.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  const headers: Record<string, string> = {};
  if (connection.token !== undefined && connection.token !== '')
    headers['Authorization'] = `Bearer ${connection.token}`;
  const socket = new WebSocket(url, [REMOTE_COMMAND_V5, REMOTE_COMMAND_V4], {
    headers,
    perMessageDeflate: false,
    ...(connection.ca ? { ca: connection.ca } : {}),
    ...(connection.clientCertificate ? { cert: connection.clientCertificate } : {}),
    ...(connection.clientKey ? { key: connection.clientKey } : {}),
    ...(connection.tlsServerName ? { servername: connection.tlsServerName } : {}),
    rejectUnauthorized: connection.insecureSkipTlsVerify !== true,
  });
  const described = `exec in pod ${options.pod}`;

  return new Promise<number>((resolve, reject) => {
    let result: RemoteCommandResult | undefined;
    let failure: Error | undefined;
    let stopResize: (() => void) | undefined;
    const send = (channel: number, data: Uint8Array): void => {
      if (socket.readyState === WebSocket.OPEN) socket.send(encodeChannelFrame(channel, data));
    };
    const onStdin = (chunk: Buffer | string): void =>
      send(CHANNEL_STDIN, typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    const onStdinEnd = (): void => {
      // v4 has no way to close one stream: the command keeps its stdin until the session ends.
      if (socket.protocol === REMOTE_COMMAND_V5) send(CHANNEL_CLOSE, Buffer.from([CHANNEL_STDIN]));
    };
    const onAbort = (): void => socket.close(1000);
    const cleanUp = (): void => {
      options.stdin?.off('data', onStdin);
      options.stdin?.off('end', onStdinEnd);
      options.stdin?.pause();
      stopResize?.();
      options.signal?.removeEventListener('abort', onAbort);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    socket.on('unexpected-response', (_request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        failure = ApiError.fromResponse({
          httpCode: response.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          request: described,
        });
        socket.terminate();
      });
    });
    socket.on('error', (error) => {
      failure ??= new ConnectionError(`${described} via ${base.origin} failed: ${error.message}`);
    });
    socket.on('open', () => {
      if (options.tty) {
        if (options.terminalSize) send(CHANNEL_RESIZE, encodeTerminalSize(options.terminalSize));
        stopResize = options.onResize?.((size) => send(CHANNEL_RESIZE, encodeTerminalSize(size)));
      }
      if (options.stdin) {
        options.stdin.on('data', onStdin);
        options.stdin.once('end', onStdinEnd);
        options.stdin.resume();
      }
    });
    socket.on('message', (message: RawData) => {
      const frame = decodeChannelFrame(asBuffer(message));
      if (!frame) return;
      switch (frame.channel) {
        case CHANNEL_STDOUT:
          options.stdout.write(frame.data);
          return;
        case CHANNEL_STDERR:
          (options.stderr ?? options.stdout).write(frame.data);
          return;
        case CHANNEL_ERROR:
          result = decodeRemoteCommandStatus(frame.data);
          return;
        default:
          return;
      }
    });
    socket.on('close', () => {
      cleanUp();
      if (failure) reject(failure);
      else if (result && 'exitCode' in result) resolve(result.exitCode);
      else if (result) reject(new Error(result.error));
      else if (options.signal?.aborted) reject(new Error(`${described}: interrupted`));
      else
        reject(
          new ConnectionError(`${described}: the connection closed before the command's exit status arrived`),
        );
    });
  });
}
