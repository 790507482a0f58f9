// One exec session: the client's WebSocket (v5/v4.channel.k8s.io) on one side, the agent's Exec gRPC
// stream on the other. Channel 0 becomes stdin, 4 resizes, 255 (v5) closes stdin; the agent's stdout
// and stderr go out on 1 and 2, and its exit code as a Status on 3 before a normal close, which is
// how kubectl learns the command's exit code.
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import {
  CHANNEL_CLOSE,
  CHANNEL_ERROR,
  CHANNEL_RESIZE,
  CHANNEL_STDERR,
  CHANNEL_STDIN,
  CHANNEL_STDOUT,
  REMOTE_COMMAND_V5,
  decodeChannelFrame,
  decodeTerminalSize,
  encodeChannelFrame,
  errorStatus,
  exitCodeStatus,
  type RemoteCommandStatus,
} from '@flotilla/api';
import type { AgentServiceClient, ExecOutput } from '@flotilla/proto';
import type { RawData, WebSocket } from 'ws';
import { apiErrorOfAgent } from './agent-dialer';
import type { PodExecQuery } from './pod-proxy.query';
import type { PodTarget } from './pod-target';

/** Output is held back from the agent while this much is still unsent to a slow client. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface PodExecBridgeOptions {
  socket: WebSocket;
  client: AgentServiceClient;
  target: PodTarget;
  endpoint: string;
  query: PodExecQuery;
  onClosed: () => void;
}

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export function bridgeExec(options: PodExecBridgeOptions): void {
  const { socket, client, target, query } = options;
  const v5 = socket.protocol === REMOTE_COMMAND_V5;
  const call = client.exec();
  let finished = false;
  let paused = false;

  const send = (channel: number, data: Uint8Array): void => {
    if (socket.readyState !== socket.OPEN) return;
    socket.send(encodeChannelFrame(channel, data), { binary: true }, () => {
      if (paused && socket.bufferedAmount < MAX_BUFFERED_BYTES / 2) {
        paused = false;
        call.resume();
      }
    });
    if (!paused && socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      paused = true;
      call.pause();
    }
  };
  const finish = (status: RemoteCommandStatus): void => {
    if (finished) return;
    finished = true;
    send(CHANNEL_ERROR, Buffer.from(JSON.stringify(status)));
    call.cancel();
    // A normal closure is what client-go reads as the end of every stream.
    if (socket.readyState === socket.OPEN) socket.close(1000);
  };

  call.write({
    payload: {
      $case: 'start',
      value: {
        namespace: target.namespace,
        pod: target.pod,
        container: target.container,
        command: query.command,
        tty: query.tty,
        stdin: query.stdin,
      },
    },
  });
  call.on('data', (output: ExecOutput) => {
    const payload = output.payload;
    switch (payload?.$case) {
      case 'stdout':
        if (query.stdout) send(CHANNEL_STDOUT, payload.value);
        return;
      case 'stderr':
        if (query.stderr) send(CHANNEL_STDERR, payload.value);
        return;
      case 'exitCode':
        finish(exitCodeStatus(query.command, payload.value));
        return;
      case 'error':
        finish(errorStatus(payload.value));
        return;
      default:
        return;
    }
  });
  call.on('error', (error: ServiceError) => {
    if (finished || error.code === GrpcStatus.CANCELLED) return;
    finish(
      errorStatus(apiErrorOfAgent(error, { nodeName: target.nodeName, endpoint: options.endpoint }).message),
    );
  });
  call.on('end', () =>
    finish(errorStatus(`the agent of node "${target.nodeName}" ended the exec session without an exit code`)),
  );

  socket.on('message', (message: RawData) => {
    const frame = decodeChannelFrame(asBuffer(message));
    if (!frame || finished) return;
    switch (frame.channel) {
      case CHANNEL_STDIN:
        if (query.stdin && frame.data.length > 0)
          call.write({ payload: { $case: 'stdin', value: frame.data } });
        return;
      case CHANNEL_RESIZE:
        try {
          const size = decodeTerminalSize(frame.data);
          call.write({ payload: { $case: 'resize', value: size } });
        } catch {
          // A malformed resize must not end the session; the terminal keeps its last size.
        }
        return;
      case CHANNEL_CLOSE:
        if (v5 && frame.data[0] === CHANNEL_STDIN)
          call.write({ payload: { $case: 'closeStdin', value: true } });
        return;
      default:
        return;
    }
  });
  socket.on('close', () => {
    if (!finished) {
      finished = true;
      // The client is gone: the agent closes the command's stdin and stops reading its output.
      call.cancel();
    }
    options.onClosed();
  });
  socket.on('error', () => socket.terminate());
}
