// Client-to-shim frames on a container's attach socket: a type byte, a 32-bit big-endian length and
// the payload. With a tty the shim sends the terminal's output back unframed; without one (run -i)
// the socket only carries stdin, and output is read from the log.
export const ATTACH_SOCKET_NAME = 'attach.sock';

const FRAME_STDIN = 0;
const FRAME_RESIZE = 1;
const FRAME_CLOSE_STDIN = 2;
/** The shim's per-client buffer holds 8 KiB; stay well inside it. */
const MAX_PAYLOAD = 4096;

function frame(type: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

export function encodeStdin(data: Buffer): Buffer {
  const frames: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += MAX_PAYLOAD) {
    frames.push(frame(FRAME_STDIN, data.subarray(offset, offset + MAX_PAYLOAD)));
  }
  return Buffer.concat(frames);
}

/** End of input: the shim closes the container's stdin (run -i without a tty), as a pipe's EOF. */
export function encodeCloseStdin(): Buffer {
  return frame(FRAME_CLOSE_STDIN, Buffer.alloc(0));
}

export function encodeResize(rows: number, columns: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt16BE(Math.max(0, Math.min(0xffff, Math.trunc(rows))), 0);
  payload.writeUInt16BE(Math.max(0, Math.min(0xffff, Math.trunc(columns))), 2);
  return frame(FRAME_RESIZE, payload);
}
