// Incremental HTTP/1.1 response parsing for the keep-alive load client: bytes go in as the socket
// delivers them (any split), whole responses come out with their complete bodies. Bodies framed by
// Content-Length, by chunked transfer coding, or (no framing) by the end of the connection.

export interface HttpResponse {
  status: number;
  /** Lower-case names; a repeated header keeps its last value. */
  headers: Map<string, string>;
  body: Buffer;
  /** The server closes the connection after this response (Connection: close, or HTTP/1.0). */
  closes: boolean;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const LINE_END = Buffer.from('\r\n');
/** A response head larger than this is refused rather than buffered without bound. */
const MAX_HEAD_BYTES = 64 * 1024;

export class HttpResponseError extends Error {}

type BodyFraming =
  | { kind: 'length'; remaining: number }
  | { kind: 'chunked'; state: 'size' | 'data' | 'data-end' | 'trailer'; remaining: number }
  | { kind: 'until-close' };

interface Pending {
  status: number;
  headers: Map<string, string>;
  closes: boolean;
  parts: Buffer[];
  framing: BodyFraming;
}

export class HttpResponseParser {
  private buffered: Buffer = Buffer.alloc(0);
  private pending: Pending | undefined;

  /**
   * Parses what `chunk` completes. `noBody` says the request was a HEAD (its answer never has a body).
   * Throws HttpResponseError on bytes that are not an HTTP/1.1 response.
   */
  push(chunk: Buffer, noBody = false): HttpResponse[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const done: HttpResponse[] = [];
    for (;;) {
      if (!this.pending) {
        const head = this.buffered.indexOf(HEAD_END);
        if (head < 0) {
          if (this.buffered.length > MAX_HEAD_BYTES) throw new HttpResponseError('response head too large');
          return done;
        }
        const pending = parseHead(this.buffered.toString('latin1', 0, head), noBody);
        this.buffered = this.buffered.subarray(head + HEAD_END.length);
        // 1xx answers are interim: the real response follows on the same connection.
        if (pending.status < 200) continue;
        this.pending = pending;
      }
      if (!this.readBody(this.pending)) return done;
      const { status, headers, closes, parts } = this.pending;
      this.pending = undefined;
      done.push({
        status,
        headers,
        closes,
        body: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts),
      });
    }
  }

  /** The connection ended: a body delimited by the close is complete; anything else was cut short. */
  end(): HttpResponse | undefined {
    const pending = this.pending;
    if (pending?.framing.kind === 'until-close') {
      this.pending = undefined;
      pending.parts.push(this.buffered);
      this.buffered = Buffer.alloc(0);
      return {
        status: pending.status,
        headers: pending.headers,
        closes: true,
        body: Buffer.concat(pending.parts),
      };
    }
    if (pending || this.buffered.length > 0)
      throw new HttpResponseError('the connection closed mid-response');
    return undefined;
  }

  /** Moves body bytes from the buffer into `pending`; true once the body is complete. */
  private readBody(pending: Pending): boolean {
    const framing = pending.framing;
    if (framing.kind === 'until-close') {
      if (this.buffered.length > 0) pending.parts.push(this.buffered);
      this.buffered = Buffer.alloc(0);
      return false;
    }
    if (framing.kind === 'length') {
      const take = Math.min(framing.remaining, this.buffered.length);
      if (take > 0) pending.parts.push(this.buffered.subarray(0, take));
      this.buffered = this.buffered.subarray(take);
      framing.remaining -= take;
      return framing.remaining === 0;
    }
    for (;;) {
      if (framing.state === 'data') {
        const take = Math.min(framing.remaining, this.buffered.length);
        if (take > 0) pending.parts.push(this.buffered.subarray(0, take));
        this.buffered = this.buffered.subarray(take);
        framing.remaining -= take;
        if (framing.remaining > 0) return false;
        framing.state = 'data-end';
      }
      const line = this.buffered.indexOf(LINE_END);
      if (line < 0) return false;
      const text = this.buffered.toString('latin1', 0, line);
      this.buffered = this.buffered.subarray(line + LINE_END.length);
      if (framing.state === 'data-end') {
        if (text !== '') throw new HttpResponseError('a chunk is longer than its size');
        framing.state = 'size';
      } else if (framing.state === 'size') {
        const size = parseInt(text.split(';')[0]?.trim() ?? '', 16);
        if (!Number.isSafeInteger(size) || size < 0) throw new HttpResponseError(`bad chunk size "${text}"`);
        if (size === 0) framing.state = 'trailer';
        else {
          framing.state = 'data';
          framing.remaining = size;
        }
      } else if (text === '') {
        // The empty line after the (ignored) trailer fields ends the body.
        return true;
      }
    }
  }
}

function parseHead(text: string, noBody: boolean): Pending {
  const lines = text.split('\r\n');
  const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? '');
  if (!statusLine) throw new HttpResponseError(`not an HTTP/1.x status line: ${JSON.stringify(lines[0])}`);
  const status = Number(statusLine[2]);
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HttpResponseError(`bad header line ${JSON.stringify(line)}`);
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const connection = headers.get('connection')?.toLowerCase();
  const closes = connection === 'close' || (statusLine[1] === '0' && connection !== 'keep-alive');
  const parts: Buffer[] = [];
  if (noBody || status < 200 || status === 204 || status === 304) {
    return { status, headers, closes, parts, framing: { kind: 'length', remaining: 0 } };
  }
  const coding = headers.get('transfer-encoding')?.toLowerCase();
  if (coding !== undefined && coding !== 'identity') {
    if (coding.split(',').pop()?.trim() !== 'chunked') {
      throw new HttpResponseError(`unsupported transfer-encoding "${coding}"`);
    }
    return { status, headers, closes, parts, framing: { kind: 'chunked', state: 'size', remaining: 0 } };
  }
  const length = headers.get('content-length');
  if (length === undefined) return { status, headers, closes: true, parts, framing: { kind: 'until-close' } };
  const remaining = Number(length);
  if (!/^\d+$/.test(length) || !Number.isSafeInteger(remaining)) {
    throw new HttpResponseError(`bad content-length "${length}"`);
  }
  return { status, headers, closes, parts, framing: { kind: 'length', remaining } };
}
