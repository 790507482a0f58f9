// Kubernetes' remote-command WebSocket subprotocols (apimachinery's remotecommand and wsstream), shared
// by the apiserver that serves pods/exec and the clients that speak to it, so both ends frame bytes
// the same way kubectl does.
//
// Every binary message starts with one byte naming its channel; the rest is that channel's data.
// Worked example: stdout "hi\n" travels as [1, 104, 105, 10]; in v5 the client closing its stdin
// sends [255, 0]; a resize to 80x24 is channel 4 with the JSON {"Width":80,"Height":24}.

export const REMOTE_COMMAND_V5 = 'v5.channel.k8s.io';
export const REMOTE_COMMAND_V4 = 'v4.channel.k8s.io';
/** What a server accepts, best first; v5 adds the close signal (255) that half-closes stdin. */
export const REMOTE_COMMAND_PROTOCOLS: readonly string[] = [REMOTE_COMMAND_V5, REMOTE_COMMAND_V4];

export const CHANNEL_STDIN = 0;
export const CHANNEL_STDOUT = 1;
export const CHANNEL_STDERR = 2;
/** The server's final word: a metav1.Status as JSON, with the exit code when it is not 0. */
export const CHANNEL_ERROR = 3;
export const CHANNEL_RESIZE = 4;
/** v5 only: the data is one byte, the channel the sender has finished writing. */
export const CHANNEL_CLOSE = 255;

export interface ChannelFrame {
  channel: number;
  data: Buffer;
}

export interface TerminalSize {
  rows: number;
  columns: number;
}

/** The Status sent on the error channel, as kubelet writes it (no kind, no code). */
export interface RemoteCommandStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

/** The outcome a client reads from the error channel. */
export type RemoteCommandResult = { exitCode: number } | { error: string };

export function encodeChannelFrame(channel: number, data: Uint8Array = new Uint8Array(0)): Buffer {
  const frame = Buffer.allocUnsafe(data.length + 1);
  frame[0] = channel;
  frame.set(data, 1);
  return frame;
}

/** Undefined for an empty message, which carries no channel and is ignored as kube-apiserver does. */
export function decodeChannelFrame(message: Buffer): ChannelFrame | undefined {
  const channel = message[0];
  if (channel === undefined) return undefined;
  return { channel, data: message.subarray(1) };
}

/** The first protocol of ours the client offered, or undefined when there is none in common. */
export function negotiateRemoteCommandProtocol(offered: readonly string[]): string | undefined {
  const trimmed = offered.map((protocol) => protocol.trim());
  return REMOTE_COMMAND_PROTOCOLS.find((ours) => trimmed.includes(ours));
}

export function encodeTerminalSize(size: TerminalSize): Buffer {
  return Buffer.from(JSON.stringify({ Width: size.columns, Height: size.rows }));
}

/** Reads client-go's TerminalSize JSON; throws with what was wrong so the caller can report it. */
export function decodeTerminalSize(data: Buffer): TerminalSize {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    throw new Error(
      `a resize message must be JSON like {"Width":80,"Height":24}, got ${data.toString('utf8')}`,
    );
  }
  const { Width: columns, Height: rows } = (parsed ?? {}) as { Width?: unknown; Height?: unknown };
  const dimension = (value: unknown): value is number =>
    typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff;
  if (!dimension(columns) || !dimension(rows)) {
    throw new Error(
      `a resize message needs integer Width and Height between 0 and 65535, got ${data.toString('utf8')}`,
    );
  }
  return { rows, columns };
}

/** What kubelet reports when a command ends: Success for 0, NonZeroExitCode with an ExitCode cause otherwise. */
export function exitCodeStatus(command: readonly string[], exitCode: number): RemoteCommandStatus {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** A failure that is not the command's own exit (the container is gone, the runtime refused). */
export function errorStatus(message: string): RemoteCommandStatus {
  return { metadata: {}, status: 'Failure', message };
}

/** Reads the error channel's Status the way client-go does; anything unreadable is an error. */
export function decodeRemoteCommandStatus(data: Buffer): RemoteCommandResult {
  let status: Partial<RemoteCommandStatus>;
  try {
    status = JSON.parse(data.toString('utf8')) as Partial<RemoteCommandStatus>;
  } catch {
    return { error: `error stream protocol error: ${data.toString('utf8')}` };
  }
  if (status.status === 'Success') return { exitCode: 0 };
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((candidate) => candidate.reason === 'ExitCode');
    const code = Number(cause?.message);
    if (Number.isInteger(code)) return { exitCode: code };
    return { error: `the server reported a non-zero exit code without the code: ${status.message ?? ''}` };
  }
  return { error: status.message ?? 'the command failed without a message' };
}
