import { decodeContinue, encodeContinue } from './continue-token';
import { StoreError } from './store.types';

describe('continue tokens', () => {
  it('round-trips a position', () => {
    const position = { revision: 42, startAfterPrefix: 'default/web-7\u0000' };
    expect(decodeContinue(encodeContinue(position))).toEqual(position);
  });

  it.each([
    ['not base64 json', '!!!'],
    ['a number', Buffer.from('7').toString('base64url')],
    ['a wrong version', Buffer.from(JSON.stringify({ v: 2, rv: 3, start: 'a' })).toString('base64url')],
    ['a negative revision', Buffer.from(JSON.stringify({ v: 1, rv: -3, start: 'a' })).toString('base64url')],
    [
      'an escaping key',
      Buffer.from(JSON.stringify({ v: 1, rv: 3, start: '../secrets' })).toString('base64url'),
    ],
  ])('rejects %s as a bad request', (_label, token) => {
    let error: unknown;
    try {
      decodeContinue(token);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('BadRequest');
  });
});
