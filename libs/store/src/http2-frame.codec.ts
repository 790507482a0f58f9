// HTTP/2 framing (RFC 9113 section 4) for the etcd client's connection: the 9-octet frame header,
// the few frames a client writes, and a reader that cuts a byte stream into frames without copying
// unless a frame straddles two reads.

export const FRAME_HEADER_BYTES = 9;
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FrameType = {
  Data: 0x0,
  Headers: 0x1,
  Priority: 0x2,
  RstStream: 0x3,
  Settings: 0x4,
  PushPromise: 0x5,
  Ping: 0x6,
  Goaway: 0x7,
  WindowUpdate: 0x8,
  Continuation: 0x9,
} as const;

export const FrameFlag = {
  EndStream: 0x1,
  Ack: 0x1,
  EndHeaders: 0x4,
  Padded: 0x8,
  Priority: 0x20,
} as const;

export const Setting = {
  HeaderTableSize: 0x1,
  EnablePush: 0x2,
  MaxConcurrentStreams: 0x3,
  InitialWindowSize: 0x4,
  MaxFrameSize: 0x5,
  MaxHeaderListSize: 0x6,
} as const;

export const ErrorCode = {
  NoError: 0x0,
  ProtocolError: 0x1,
  FlowControlError: 0x3,
  FrameSizeError: 0x6,
  Cancel: 0x8,
  CompressionError: 0x9,
} as const;

/** RFC 9113 6.9.1 and 6.5.2: the largest flow-control window. */
export const MAX_WINDOW = 0x7fffffff;
export const DEFAULT_WINDOW = 65_535;
export const DEFAULT_MAX_FRAME_SIZE = 16_384;

/** Writes a frame header at `offset` of `target`. */
export function writeFrameHeader(
  target: Buffer,
  offset: number,
  frame: { length: number; type: number; flags: number; streamId: number },
): void {
  target[offset] = (frame.length >>> 16) & 0xff;
  target[offset + 1] = (frame.length >>> 8) & 0xff;
  target[offset + 2] = frame.length & 0xff;
  target[offset + 3] = frame.type;
  target[offset + 4] = frame.flags;
  target.writeUInt32BE(frame.streamId & MAX_WINDOW, offset + 5);
}

/** A whole frame: header and payload in one buffer. */
export function encodeFrame(type: number, flags: number, streamId: number, payload?: Buffer): Buffer {
  const length = payload?.length ?? 0;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  writeFrameHeader(frame, 0, { length, type, flags, streamId });
  payload?.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

export function encodeSettings(settings: ReadonlyArray<[id: number, value: number]>): Buffer {
  const payload = Buffer.allocUnsafe(6 * settings.length);
  settings.forEach(([id, value], index) => {
    payload.writeUInt16BE(id, 6 * index);
    payload.writeUInt32BE(value, 6 * index + 2);
  });
  return encodeFrame(FrameType.Settings, 0, 0, payload);
}

export function encodeWindowUpdate(streamId: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment & MAX_WINDOW, 0);
  return encodeFrame(FrameType.WindowUpdate, 0, streamId, payload);
}

export function encodeRstStream(streamId: number, code: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(code, 0);
  return encodeFrame(FrameType.RstStream, 0, streamId, payload);
}

export function encodeGoaway(lastStreamId: number, code: number): Buffer {
  const payload = Buffer.allocUnsafe(8);
  payload.writeUInt32BE(lastStreamId & MAX_WINDOW, 0);
  payload.writeUInt32BE(code, 4);
  return encodeFrame(FrameType.Goaway, 0, 0, payload);
}

export function decodeSettings(payload: Buffer): Array<[id: number, value: number]> {
  const settings: Array<[number, number]> = [];
  for (let offset = 0; offset + 6 <= payload.length; offset += 6) {
    settings.push([payload.readUInt16BE(offset), payload.readUInt32BE(offset + 2)]);
  }
  return settings;
}

/** A frame violates the protocol in a way that ends the connection (RFC 9113 5.4.1). */
export class Http2ConnectionError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'Http2ConnectionError';
  }
}

/**
 * The payload without its padding (RFC 9113 6.1 and 6.2: a Pad Length octet first, that many
 * octets last), for DATA and HEADERS with the PADDED flag; `skip` more octets follow the pad length
 * (HEADERS' priority fields).
 */
export function unpadded(payload: Buffer, flags: number, skip = 0): Buffer {
  if ((flags & FrameFlag.Padded) === 0) return skip === 0 ? payload : payload.subarray(skip);
  const padding = payload[0] ?? 0;
  if (1 + skip + padding > payload.length) {
    throw new Http2ConnectionError(ErrorCode.ProtocolError, 'padding longer than the frame');
  }
  return payload.subarray(1 + skip, payload.length - padding);
}

export type FrameHandler = (type: number, flags: number, streamId: number, payload: Buffer) => void;

/** Cuts received bytes into frames; a frame cut across reads waits for its rest. */
export class FrameReader {
  private pending: Buffer | undefined;

  constructor(private readonly maxFrameSize = DEFAULT_MAX_FRAME_SIZE) {}

  push(chunk: Buffer, onFrame: FrameHandler): void {
    let data = chunk;
    if (this.pending) {
      data = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let offset = 0;
    while (data.length - offset >= FRAME_HEADER_BYTES) {
      const length = ((data[offset] ?? 0) << 16) | ((data[offset + 1] ?? 0) << 8) | (data[offset + 2] ?? 0);
      if (length > this.maxFrameSize) {
        throw new Http2ConnectionError(
          ErrorCode.FrameSizeError,
          `a ${length}-octet frame exceeds the ${this.maxFrameSize} allowed`,
        );
      }
      const end = offset + FRAME_HEADER_BYTES + length;
      if (end > data.length) break;
      onFrame(
        data[offset + 3] ?? 0,
        data[offset + 4] ?? 0,
        data.readUInt32BE(offset + 5) & MAX_WINDOW,
        data.subarray(offset + FRAME_HEADER_BYTES, end),
      );
      offset = end;
    }
    if (offset < data.length) this.pending = data.subarray(offset);
  }
}
