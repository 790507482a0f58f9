// .containerignore / .dockerignore: which build-context files COPY and ADD never see. Docker's rules:
// patterns are relative to the context, "*" and "?" stay within one path component, "**" spans any
// number, "!" re-includes, the last matching pattern wins, and a pattern that matches a directory
// matches everything under it.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

export type IgnoreMatcher = (relativePath: string) => boolean;

interface IgnorePattern {
  readonly negated: boolean;
  readonly regex: RegExp;
}

export function compileIgnore(text: string): IgnoreMatcher {
  const patterns: IgnorePattern[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    let line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    if (negated) line = line.slice(1).trim();
    line = line.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
    if (line === '' || line === '.') continue;
    patterns.push({ negated, regex: globToRegex(line) });
  }
  if (patterns.length === 0) return () => false;
  return (relativePath) => {
    const components = relativePath.split('/').filter((part) => part !== '' && part !== '.');
    const prefixes = components.map((_, index) => components.slice(0, index + 1).join('/'));
    let ignored = false;
    for (const pattern of patterns) {
      if (prefixes.some((prefix) => pattern.regex.test(prefix))) ignored = !pattern.negated;
    }
    return ignored;
  };
}

function globToRegex(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index] as string;
    if (char === '*' && pattern[index + 1] === '*') {
      // "**/" matches zero or more directories; a trailing "**" matches everything below.
      if (pattern[index + 2] === '/') {
        source += '(?:.*/)?';
        index += 2;
      } else {
        source += '.*';
        index += 1;
      }
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '\\' && index + 1 < pattern.length) source += escapeRegex(pattern[++index] as string);
    else source += escapeRegex(char);
  }
  return new RegExp(`^${source}$`);
}

function escapeRegex(char: string): string {
  return /[.+^${}()|[\]\\]/.test(char) ? `\\${char}` : char;
}

/** The context's ignore file (.containerignore first, as podman; then .dockerignore), if any. */
export async function loadContextIgnore(contextDir: string): Promise<IgnoreMatcher> {
  for (const name of ['.containerignore', '.dockerignore']) {
    try {
      return compileIgnore(await fs.readFile(join(contextDir, name), 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return () => false;
}
