// Turns `-f` arguments (files, directories, `-R`, `-` for stdin) into objects, with every YAML or
// shape error pointing at file:line:column so the user can go straight to it.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative, resolve } from 'node:path';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { KubeObject } from '@flotilla/api';

export const STDIN_PATH = '-';
const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
// Aliases can expand exponentially ("billion laughs"); real manifests use a handful at most.
const MAX_ALIAS_EXPANSIONS = 100;

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

export interface Manifest {
  readonly object: KubeObject;
  /** "path:line" of the document, for messages about this object. */
  readonly origin: string;
}

export interface ManifestFileOptions {
  readonly cwd: string;
  readonly recursive: boolean;
}

/** Expands directories into the manifest files they hold (sorted, so apply order is stable). */
export function collectManifestFiles(paths: readonly string[], options: ManifestFileOptions): string[] {
  if (paths.length === 0)
    throw new ManifestError('no manifests given: pass -f FILE, -f DIRECTORY or -f - for stdin');
  const files: string[] = [];
  for (const path of paths) {
    if (path === STDIN_PATH) {
      files.push(STDIN_PATH);
      continue;
    }
    if (/^https?:\/\//.test(path)) {
      throw new ManifestError(
        `${path}: reading manifests from URLs is not supported; download it and pass the file`,
      );
    }
    const absolute = resolve(options.cwd, path);
    let stats;
    try {
      stats = statSync(absolute);
    } catch {
      throw new ManifestError(`the path "${path}" does not exist`);
    }
    if (stats.isDirectory()) {
      const found = walkDirectory(absolute, options.recursive);
      if (found.length === 0) {
        throw new ManifestError(
          `${path} holds no .yaml, .yml or .json files${options.recursive ? '' : ' (use -R to include subdirectories)'}`,
        );
      }
      files.push(...found.map((file) => relativeIfInside(options.cwd, file)));
    } else {
      files.push(path);
    }
  }
  if (files.filter((file) => file === STDIN_PATH).length > 1) {
    throw new ManifestError('stdin (-f -) can be given only once');
  }
  return files;
}

/** Parses one file's documents; empty documents are skipped and `kind: List` is expanded. */
export function parseManifests(text: string, source: string): Manifest[] {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter });
  if (!Array.isArray(documents)) return [];
  const manifests: Manifest[] = [];
  for (const document of documents) {
    const firstError = document.errors[0];
    if (firstError) {
      const position = firstError.linePos?.[0];
      const where = position ? `${source}:${position.line}:${position.col}` : source;
      throw new ManifestError(`${where}: ${firstSentence(firstError.message)}${snippet(text, position)}`);
    }
    const startLine = lineCounter.linePos(contentStart(document)).line;
    const origin = `${source}:${startLine}`;
    const value = toPlain(document, origin);
    if (value === null || value === undefined) continue;
    manifests.push(...toManifests(value, origin));
  }
  return manifests;
}

/** Reads every file (and stdin once) and returns their objects in order. */
export async function readManifests(options: {
  readonly paths: readonly string[];
  readonly recursive: boolean;
  readonly cwd: string;
  readonly readStdin: () => Promise<string>;
}): Promise<Manifest[]> {
  const files = collectManifestFiles(options.paths, options);
  const manifests: Manifest[] = [];
  for (const file of files) {
    const text = file === STDIN_PATH ? await options.readStdin() : readText(resolve(options.cwd, file), file);
    manifests.push(...parseManifests(text, file === STDIN_PATH ? 'stdin' : file));
  }
  if (manifests.length === 0) {
    throw new ManifestError(
      `no objects found in ${files.map((f) => (f === STDIN_PATH ? 'stdin' : f)).join(', ')}`,
    );
  }
  return manifests;
}

function toManifests(value: unknown, origin: string): Manifest[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ManifestError(
      `${origin}: expected an object with apiVersion, kind and metadata, found ${describe(value)}`,
    );
  }
  const record = value as Record<string, unknown>;
  if (record['kind'] === 'List' && Array.isArray(record['items'])) {
    return record['items'].flatMap((item: unknown, index) =>
      toManifests(item, `${origin} (items[${index}])`),
    );
  }
  const apiVersion = record['apiVersion'];
  const kind = record['kind'];
  const metadata = record['metadata'];
  if (typeof apiVersion !== 'string' || apiVersion === '')
    throw new ManifestError(`${origin}: apiVersion is not set`);
  if (typeof kind !== 'string' || kind === '') throw new ManifestError(`${origin}: kind is not set`);
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new ManifestError(`${origin}: ${kind} has no metadata (it needs at least metadata.name)`);
  }
  const name = (metadata as Record<string, unknown>)['name'];
  if (typeof name !== 'string' || name === '')
    throw new ManifestError(`${origin}: ${kind} has no metadata.name`);
  return [{ object: record as KubeObject, origin }];
}

function toPlain(document: Document.Parsed, origin: string): unknown {
  try {
    return document.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS });
  } catch (error) {
    throw new ManifestError(`${origin}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function contentStart(document: Document.Parsed): number {
  const contents = document.contents as { range?: readonly number[] } | null;
  return contents?.range?.[0] ?? document.range[0];
}

function firstSentence(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

function snippet(text: string, position: { line: number; col: number } | undefined): string {
  if (!position) return '';
  const line = text.split('\n')[position.line - 1];
  if (line === undefined || line.trim() === '') return '';
  return `\n  ${line}\n  ${' '.repeat(Math.max(0, position.col - 1))}^`;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function readText(file: string, shown: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ManifestError(
      `cannot read ${shown}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function walkDirectory(directory: string, recursive: boolean): string[] {
  const files: string[] = [];
  const entries = readdirSync(directory, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  );
  for (const entry of entries) {
    const full = join(directory, entry.name);
    if (entry.isDirectory()) {
      if (recursive) files.push(...walkDirectory(full, true));
    } else if (MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
      files.push(full);
    }
  }
  return files;
}

function relativeIfInside(cwd: string, file: string): string {
  const shown = relative(cwd, file);
  return shown.startsWith('..') ? file : shown;
}
