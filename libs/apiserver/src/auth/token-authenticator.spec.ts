import { TokenAuthenticator, TokenFileError, parseTokenFile } from './token-authenticator';

describe('token authentication', () => {
  const file = ['# comment', 'abc123,admin,admin,"system:masters,ops"', 'def456,bot,42', ''].join('\n');

  it('reads users and groups from kube-apiserver token file lines', () => {
    const users = parseTokenFile(file);
    expect(users.get('abc123')).toEqual({ name: 'admin', uid: 'admin', groups: ['system:masters', 'ops'] });
    expect(users.get('def456')).toEqual({ name: 'bot', uid: '42', groups: [] });
  });

  it.each([
    ['Bearer abc123', 'admin'],
    ['bearer def456', 'bot'],
    ['Bearer abc12', undefined],
    ['Bearer abc1234', undefined],
    ['Basic abc123', undefined],
    [undefined, undefined],
  ])('%j authenticates as %j', (header, expected) => {
    expect(TokenAuthenticator.fromText(file).authenticate(header)?.name).toBe(expected);
  });

  it('names the line of a malformed entry', () => {
    expect(() => parseTokenFile('ok,u,1\nbroken', 'tokens.csv')).toThrow(TokenFileError);
    expect(() => parseTokenFile('ok,u,1\nbroken', 'tokens.csv')).toThrow('tokens.csv:2');
  });
});
