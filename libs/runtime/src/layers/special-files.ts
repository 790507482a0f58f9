// Node.js has no mknod(2) or setxattr(2), so device nodes, fifos, overlay whiteouts and extended
// attributes are made by coreutils' mknod and attr's setfattr — in one helper process per layer, not one
// per file. Every path handed to them was resolved and checked by the extractor first, inside a
// directory no one else can reach until extraction succeeds.
import { spawn } from 'node:child_process';
import { LayerError } from './layer.error';

export interface SpecialNode {
  readonly path: string;
  readonly type: 'char' | 'block' | 'fifo';
  readonly mode: number;
  readonly major: number;
  readonly minor: number;
}

export interface XattrWrite {
  readonly path: string;
  readonly name: string;
  readonly value: Buffer;
}

// One shell loop over argument quintuples keeps paths out of the script text entirely.
const MKNOD_LOOP = `
while [ $# -gt 0 ]; do
  if [ "$2" = p ]; then mknod -m "$3" -- "$1" p || exit 1
  else mknod -m "$3" -- "$1" "$2" "$4" "$5" || exit 1
  fi
  shift 5
done`;

/** Argument lists stay well under the kernel's limit by going in batches. */
const NODES_PER_BATCH = 2000;

export async function makeSpecialNodes(nodes: readonly SpecialNode[]): Promise<void> {
  for (let start = 0; start < nodes.length; start += NODES_PER_BATCH) {
    const args: string[] = [];
    for (const node of nodes.slice(start, start + NODES_PER_BATCH)) {
      const kind = node.type === 'char' ? 'c' : node.type === 'block' ? 'b' : 'p';
      args.push(node.path, kind, (node.mode & 0o7777).toString(8), String(node.major), String(node.minor));
    }
    await runHelper('sh', ['-c', MKNOD_LOOP, 'flotilla-mknod', ...args], undefined, {
      what: 'creating device nodes and overlay whiteouts',
      hint: 'this needs root (CAP_MKNOD); run as root or use an image without whiteouts and device files',
    });
  }
}

export async function writeXattrs(writes: readonly XattrWrite[]): Promise<void> {
  if (writes.length === 0) return;
  // setfattr's --restore reads getfattr's dump format; names are quoted with octal escapes.
  const dump = writes
    .map((write) => `# file: ${quotePath(write.path)}\n${write.name}=0s${write.value.toString('base64')}\n\n`)
    .join('');
  await runHelper('setfattr', ['-h', '--restore=-'], dump, {
    what: 'setting extended attributes',
    hint: "install Debian's attr package (bash scripts/setup.sh does) and extract onto a file system with xattr support",
  });
}

function quotePath(path: string): string {
  let quoted = '';
  for (const byte of Buffer.from(path, 'utf8')) {
    quoted +=
      byte <= 0x20 || byte >= 0x7f || byte === 0x5c
        ? `\\${byte.toString(8).padStart(3, '0')}`
        : String.fromCharCode(byte);
  }
  return quoted;
}

interface HelperContext {
  readonly what: string;
  readonly hint: string;
}

function runHelper(
  command: string,
  args: readonly string[],
  input: string | undefined,
  context: HelperContext,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      if (stderr.length < 4000) stderr += text;
    });
    child.on('error', (error) =>
      reject(
        new LayerError(
          'helper-failed',
          `${context.what} failed: cannot run ${command} (${error.message}); ${context.hint}`,
        ),
      ),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new LayerError(
            'helper-failed',
            `${context.what} failed: ${stderr.trim() || `${command} exited with ${code}`}; ${context.hint}`,
          ),
        );
    });
    child.stdin.on('error', () => undefined); // the exit status reports the real failure
    child.stdin.end(input ?? '');
  });
}
