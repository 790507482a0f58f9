// A small, bounded HTTP load for "zero failed requests" tests: a few workers, each sending one request
// at a time on a fresh connection (keep-alive off, so every request is a new connection through the
// service rules and a backend that is gone cannot hide behind a kept socket), counting outcomes by
// status code or error code and remembering the first failures with when and where they happened.
import { request } from 'node:http';

export interface LoadTarget {
  host: string;
  port: number;
  path?: string;
}

export interface HttpLoadOptions {
  /** Where each request goes; called per request, so a test can rotate over every node. */
  target: () => LoadTarget;
  /** Requests in flight at once (default 3). */
  concurrency?: number;
  /** A request without a complete answer by then counts as the error "timeout" (default 5 s). */
  timeoutMs?: number;
  /** Each worker waits this long between its requests (default 20 ms), keeping the load bounded. */
  pauseMs?: number;
  /** Stops by itself after this many requests (default: until stop()). */
  maxRequests?: number;
}

export interface LoadFailure {
  /** Milliseconds since the load started. */
  atMs: number;
  target: string;
  outcome: string;
}

export interface HttpLoadReport {
  total: number;
  /** 2xx answers. */
  succeeded: number;
  failed: number;
  /** "200", "503", or an error code: "ECONNREFUSED", "ECONNRESET", "timeout". */
  outcomes: Record<string, number>;
  /** Successful answers by their first line (e.g. the version a backend says it runs). */
  bodies: Record<string, number>;
  /** The first 100 failures. */
  failures: LoadFailure[];
}

export interface RunningHttpLoad {
  /** What has been counted so far (a copy). */
  report(): HttpLoadReport;
  /** Lets the requests in flight finish, then returns the final counts. */
  stop(): Promise<HttpLoadReport>;
}

type Outcome = { ok: true; status: number; firstLine: string } | { ok: false; outcome: string };

function once(target: LoadTarget, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const outgoing = request(
      {
        host: target.host,
        port: target.port,
        path: target.path ?? '/',
        method: 'GET',
        agent: false,
        headers: { connection: 'close' },
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          // Only the start of the body is kept: the first line is all a test looks at.
          if (size < 4096) chunks.push(chunk);
          size += chunk.length;
        });
        response.on('error', (error: NodeJS.ErrnoException) =>
          finish({ ok: false, outcome: error.code ?? error.message }),
        );
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          const firstLine = Buffer.concat(chunks).toString('utf8').split('\n')[0]?.trim().slice(0, 80) ?? '';
          if (status >= 200 && status < 300) finish({ ok: true, status, firstLine });
          else finish({ ok: false, outcome: String(status) });
        });
      },
    );
    outgoing.on('timeout', () => {
      outgoing.destroy();
      finish({ ok: false, outcome: 'timeout' });
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, outcome: error.code ?? error.message }),
    );
    outgoing.end();
  });
}

export function startHttpLoad(options: HttpLoadOptions): RunningHttpLoad {
  const concurrency = options.concurrency ?? 3;
  const timeoutMs = options.timeoutMs ?? 5000;
  const pauseMs = options.pauseMs ?? 20;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new Error(`concurrency ${concurrency} must be a whole number from 1 to 64`);
  }
  const started = Date.now();
  const counts: HttpLoadReport = {
    total: 0,
    succeeded: 0,
    failed: 0,
    outcomes: {},
    bodies: {},
    failures: [],
  };
  let stopping = false;
  let issued = 0;

  const record = (target: LoadTarget, outcome: Outcome): void => {
    counts.total++;
    const key = outcome.ok ? String(outcome.status) : outcome.outcome;
    counts.outcomes[key] = (counts.outcomes[key] ?? 0) + 1;
    if (outcome.ok) {
      counts.succeeded++;
      counts.bodies[outcome.firstLine] = (counts.bodies[outcome.firstLine] ?? 0) + 1;
      return;
    }
    counts.failed++;
    if (counts.failures.length < 100) {
      counts.failures.push({
        atMs: Date.now() - started,
        target: `${target.host}:${target.port}${target.path ?? '/'}`,
        outcome: outcome.outcome,
      });
    }
  };

  const worker = async (): Promise<void> => {
    while (!stopping && (options.maxRequests === undefined || issued < options.maxRequests)) {
      issued++;
      const target = options.target();
      record(target, await once(target, timeoutMs));
      if (pauseMs > 0 && !stopping) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };
  const workers = Promise.all(Array.from({ length: concurrency }, () => worker()));

  const snapshot = (): HttpLoadReport => ({
    ...counts,
    outcomes: { ...counts.outcomes },
    bodies: { ...counts.bodies },
    failures: [...counts.failures],
  });
  return {
    report: snapshot,
    stop: async () => {
      stopping = true;
      await workers;
      return snapshot();
    },
  };
}

/** Rotates over targets: every node's NodePort in turn. */
export function roundRobin(targets: readonly LoadTarget[]): () => LoadTarget {
  if (targets.length === 0) throw new Error('roundRobin needs at least one target');
  let next = 0;
  return () => {
    const target = targets[next % targets.length] as LoadTarget;
    next++;
    return target;
  };
}
