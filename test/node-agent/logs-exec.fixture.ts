// A small, genuinely separate NodePods for the logs/exec path while the real pod engine lands
// elsewhere: each container's log is a real file (followed by polling it), and exec runs a real
// process on this host (under `script` when a terminal is asked for). It records what reached it, so
// tests can check that query parameters, stdin closes and resizes travel end to end.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  NodePodsError,
  type NodePods,
  type NodeUsageSample,
  type PodExecRequest,
  type PodExecSession,
  type PodLogsRequest,
  type PodStatusReport,
} from '@flotilla/node-agent';

export interface FakePodSpec {
  namespace: string;
  name: string;
  containers: string[];
}

/** Quotes one argument for `sh -c`. */
function shellQuote(argument: string): string {
  return `'${argument.replace(/'/g, `'\\''`)}'`;
}

export class FileLogsProcessExecPods implements NodePods {
  readonly logRequests: PodLogsRequest[] = [];
  readonly execRequests: PodExecRequest[] = [];
  readonly resizes: { rows: number; columns: number }[] = [];
  /** Follows whose underlying read is still running. */
  openFollows = 0;
  private readonly pods = new Map<string, FakePodSpec>();

  constructor(private readonly dir: string) {}

  addPod(spec: FakePodSpec): void {
    this.pods.set(`${spec.namespace}/${spec.name}`, spec);
    for (const container of spec.containers)
      mkdirSync(this.containerDir(spec, container), { recursive: true });
  }

  logFile(namespace: string, pod: string, container: string, previous = false): string {
    const spec = this.pods.get(`${namespace}/${pod}`);
    if (!spec) throw new Error(`no pod ${namespace}/${pod} in the fixture`);
    return join(this.containerDir(spec, container), previous ? 'previous.log' : 'current.log');
  }

  async logs(request: PodLogsRequest): Promise<Readable> {
    this.logRequests.push(request);
    const container = this.resolve(request.namespace, request.pod, request.container);
    const file = this.logFile(request.namespace, request.pod, container, request.previous);
    if (!existsSync(file)) {
      throw new NodePodsError(
        'BadRequest',
        request.previous
          ? `previous terminated container "${container}" in pod "${request.pod}" not found`
          : `container "${container}" in pod "${request.pod}" is waiting to start: ContainerCreating`,
      );
    }
    let text = readFileSync(file, 'utf8');
    let offset = Buffer.byteLength(text);
    if (request.tailLines !== undefined) {
      const lines = text.split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      const kept = request.tailLines === 0 ? [] : lines.slice(-request.tailLines);
      text = kept.map((line) => `${line}\n`).join('');
    }
    if (!request.follow) return Readable.from([Buffer.from(text)]);
    let timer: NodeJS.Timeout | undefined;
    this.openFollows += 1;
    const stream = new Readable({
      read() {},
      destroy: (error, callback) => {
        if (timer) clearInterval(timer);
        timer = undefined;
        this.openFollows -= 1;
        callback(error);
      },
    });
    if (text !== '') stream.push(Buffer.from(text));
    timer = setInterval(() => {
      const size = statSync(file).size;
      if (size <= offset) return;
      const fd = openSync(file, 'r');
      const buffer = Buffer.alloc(size - offset);
      readSync(fd, buffer, 0, buffer.length, offset);
      closeSync(fd);
      offset = size;
      stream.push(buffer);
    }, 50);
    return stream;
  }

  async exec(request: PodExecRequest): Promise<PodExecSession> {
    this.execRequests.push(request);
    const container = this.resolve(request.namespace, request.pod, request.container);
    const spec = this.pods.get(`${request.namespace}/${request.pod}`);
    if (!spec) throw new NodePodsError('NotFound', `pod "${request.pod}" not found on this node`);
    const [file, ...args] = request.command;
    if (file === undefined) throw new NodePodsError('BadRequest', 'no command given');
    const child = request.tty
      ? spawn('script', ['-qfec', request.command.map(shellQuote).join(' '), '/dev/null'], {
          cwd: this.containerDir(spec, container),
          stdio: 'pipe',
        })
      : spawn(file, args, { cwd: this.containerDir(spec, container), stdio: 'pipe' });
    const exited = new Promise<number>((resolve, reject) => {
      child.once('error', (error) =>
        reject(new NodePodsError('BadRequest', `cannot run ${file}: ${error.message}`)),
      );
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
    });
    // A command that cannot start fails the exec call itself, as a runtime refuses it.
    await Promise.race([new Promise((resolve) => child.once('spawn', resolve)), exited]);
    if (!request.stdin) child.stdin.end();
    return {
      ...(request.stdin ? { stdin: child.stdin } : {}),
      stdout: child.stdout,
      ...(request.tty ? {} : { stderr: child.stderr }),
      resize: (size) => this.resizes.push(size),
      exited,
    };
  }

  replaceDesired(): void {}
  upsertDesired(): void {}
  removeDesired(): void {}
  onStatus(): () => void {
    return () => undefined;
  }
  currentStatuses(): PodStatusReport[] {
    return [];
  }
  async usage(): Promise<NodeUsageSample> {
    return { time: new Date().toISOString(), nodeCpuUsageNanos: 0n, nodeMemoryWorkingSetBytes: 0, pods: [] };
  }
  async close(): Promise<void> {}

  private containerDir(spec: FakePodSpec, container: string): string {
    return join(this.dir, spec.namespace, spec.name, container);
  }

  private resolve(namespace: string, pod: string, container: string | undefined): string {
    const spec = this.pods.get(`${namespace}/${pod}`);
    if (!spec) throw new NodePodsError('NotFound', `pod "${pod}" not found on this node`);
    const name = container ?? (spec.containers.length === 1 ? spec.containers[0] : undefined);
    if (name === undefined || !spec.containers.includes(name)) {
      throw new NodePodsError('BadRequest', `container ${container ?? '(none)'} is not valid for pod ${pod}`);
    }
    return name;
  }
}
