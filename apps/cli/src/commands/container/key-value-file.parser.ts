// Docker's --env-file and --label-file format, and --label: one KEY=VALUE a line, the value verbatim
// (no quotes, no expansion), blank lines and lines starting with "#" skipped. A bare KEY takes the
// caller's value in an env file (dropped when unset) and an empty value as a label.
import { CliError, EXIT_USAGE } from '../../cli-context';

interface FileEntry {
  key: string;
  /** Undefined for a bare KEY. */
  value?: string;
}

function readLines(text: string, file: string, flag: string): FileEntry[] {
  const entries: FileEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    // Docker trims only the left: trailing spaces belong to the value.
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    const equals = line.indexOf('=');
    const key = equals < 0 ? line : line.slice(0, equals);
    if (key === '' || /\s/.test(key)) {
      throw new CliError(
        `${flag} ${file} line ${index + 1}: "${key}" is not a name: a line is KEY=VALUE, KEY alone, or a # comment`,
        EXIT_USAGE,
      );
    }
    entries.push(equals < 0 ? { key } : { key, value: line.slice(equals + 1) });
  });
  return entries;
}

/** An --env-file's variables as NAME=value, in file order. */
export function parseEnvFile(
  text: string,
  options: { file: string; env: Readonly<Record<string, string | undefined>> },
): string[] {
  return readLines(text, options.file, '--env-file').flatMap(({ key, value }) => {
    if (value !== undefined) return [`${key}=${value}`];
    const inherited = options.env[key];
    return inherited === undefined ? [] : [`${key}=${inherited}`];
  });
}

/** A --label-file's labels, in file order (a later line of one key wins). */
export function parseLabelFile(text: string, file: string): Array<[string, string]> {
  return readLines(text, file, '--label-file').map(({ key, value }) => [key, value ?? '']);
}

/** `--label KEY=VALUE`, or `--label KEY` for an empty value. */
export function parseLabel(text: string): [string, string] {
  const equals = text.indexOf('=');
  const key = equals < 0 ? text : text.slice(0, equals);
  if (key === '' || /\s/.test(key)) {
    throw new CliError(`--label "${text}" must be KEY=VALUE (or KEY alone for an empty value)`, EXIT_USAGE);
  }
  return [key, equals < 0 ? '' : text.slice(equals + 1)];
}
