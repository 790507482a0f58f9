// A watch answer is one JSON object per line over a chunked response; chunks split lines anywhere,
// including inside multi-byte UTF-8 characters, so bytes are buffered until a newline arrives.
import { StringDecoder } from 'node:string_decoder';

export class JsonLinesDecoder {
  private readonly text = new StringDecoder('utf8');
  private pending = '';

  /** Returns the complete lines' values; a trailing partial line waits for the next chunk. */
  push(chunk: Buffer | string): unknown[] {
    this.pending += typeof chunk === 'string' ? chunk : this.text.write(chunk);
    const values: unknown[] = [];
    let newline = this.pending.indexOf('\n');
    while (newline !== -1) {
      const line = this.pending.slice(0, newline).trim();
      this.pending = this.pending.slice(newline + 1);
      if (line !== '') values.push(parseLine(line));
      newline = this.pending.indexOf('\n');
    }
    return values;
  }

  /** At the end of the stream, a last line without a newline still counts. */
  end(): unknown[] {
    const line = (this.pending + this.text.end()).trim();
    this.pending = '';
    return line === '' ? [] : [parseLine(line)];
  }
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`the watch stream sent a line that is not JSON: ${line.slice(0, 200)}`);
  }
}
