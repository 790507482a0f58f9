import { parseGroup, parsePasswd, resolveUserFrom } from './container-user';

const passwd = parsePasswd(
  'root:x:0:0:root:/root:/bin/sh\nweb:x:1000:1000::/home/web:/bin/sh\nbroken line\n',
);
const groups = parseGroup('root:x:0:\nweb:x:1000:\nstaff:x:50:web,other\n');

describe('resolving -u', () => {
  it('defaults to root', () => {
    expect(resolveUserFrom('0', passwd, groups)).toEqual({
      uid: 0,
      gid: 0,
      additionalGids: [],
      home: '/root',
    });
  });

  it('looks names up in the container files, with supplementary groups', () => {
    expect(resolveUserFrom('web', passwd, groups)).toEqual({
      uid: 1000,
      gid: 1000,
      additionalGids: [50],
      home: '/home/web',
    });
    expect(resolveUserFrom('web:staff', passwd, groups).gid).toBe(50);
  });

  it('accepts ids the image does not know', () => {
    expect(resolveUserFrom('4242:4343', passwd, groups)).toEqual({
      uid: 4242,
      gid: 4343,
      additionalGids: [],
      home: '/',
    });
  });

  it('explains unknown names and malformed specs', () => {
    expect(() => resolveUserFrom('nobody', passwd, groups)).toThrow("not in the container's /etc/passwd");
    expect(() => resolveUserFrom('web:wheel', passwd, groups)).toThrow("not in the container's /etc/group");
    expect(() => resolveUserFrom('web:', passwd, groups)).toThrow('must look like');
  });
});
