// Static bearer tokens from a file in kube-apiserver's --token-auth-file format:
//   token,user,uid,"group1,group2"
// Comparison is constant-time so a token cannot be guessed byte by byte from response timings.
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface UserInfo {
  name: string;
  uid: string;
  groups: string[];
}

export class TokenFileError extends Error {}

/** Splits one CSV line, honouring double-quoted fields (which may contain commas). */
function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let index = 0; index < line.length; index++) {
    const char = line[index];
    if (quoted) {
      if (char === '"' && line[index + 1] === '"') {
        current += '"';
        index++;
      } else if (char === '"') quoted = false;
      else current += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      fields.push(current);
      current = '';
    } else current += char;
  }
  if (quoted) throw new TokenFileError('unterminated quote');
  fields.push(current);
  return fields.map((field) => field.trim());
}

export function parseTokenFile(text: string, source = 'token file'): Map<string, UserInfo> {
  const users = new Map<string, UserInfo>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    let fields: string[];
    try {
      fields = splitCsvLine(line);
    } catch (error) {
      throw new TokenFileError(`${source}:${index + 1}: ${(error as Error).message}`);
    }
    const [token, name, uid, groups] = fields;
    if (!token || !name || uid === undefined) {
      throw new TokenFileError(`${source}:${index + 1}: expected token,user,uid[,"group1,group2"]`);
    }
    users.set(token, {
      name,
      uid,
      groups: (groups ?? '')
        .split(',')
        .map((group) => group.trim())
        .filter((group) => group !== ''),
    });
  });
  return users;
}

export class TokenAuthenticator {
  private constructor(private readonly users: ReadonlyMap<string, UserInfo>) {}

  static fromFile(path: string): TokenAuthenticator {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new TokenFileError(`cannot read --token-auth-file ${path}: ${(error as Error).message}`);
    }
    return new TokenAuthenticator(parseTokenFile(text, path));
  }

  static fromText(text: string): TokenAuthenticator {
    return new TokenAuthenticator(parseTokenFile(text));
  }

  /** The user for an Authorization header value, or undefined (the caller answers 401). */
  authenticate(authorization: string | undefined): UserInfo | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    const presented = match?.[1];
    if (!presented) return undefined;
    const presentedBytes = Buffer.from(presented);
    let found: UserInfo | undefined;
    for (const [token, user] of this.users) {
      const tokenBytes = Buffer.from(token);
      if (tokenBytes.length === presentedBytes.length && timingSafeEqual(tokenBytes, presentedBytes))
        found = user;
    }
    return found;
  }
}
