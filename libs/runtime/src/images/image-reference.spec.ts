import { familiarReference, normaliseReference, parseReference, ReferenceError } from './image-reference';

describe('image references', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['flotilla/busybox:1.36', 'docker.io/flotilla/busybox:1.36', 'flotilla/busybox:1.36'],
    ['localhost:5000/app', 'localhost:5000/app:latest', 'localhost:5000/app:latest'],
    ['127.0.0.1:5000/team/app:v1', '127.0.0.1:5000/team/app:v1', '127.0.0.1:5000/team/app:v1'],
    [
      `busybox@sha256:${'a'.repeat(64)}`,
      `docker.io/library/busybox@sha256:${'a'.repeat(64)}`,
      `busybox@sha256:${'a'.repeat(64)}`,
    ],
    ['index.docker.io/library/alpine:3', 'docker.io/library/alpine:3', 'alpine:3'],
  ])('normalises %s', (text, stored, familiar) => {
    expect(normaliseReference(text)).toBe(stored);
    expect(familiarReference(parseReference(text))).toBe(familiar);
  });

  it.each([
    ['', /empty/],
    ['Busybox', /lowercase/],
    ['busybox:bad tag', /tag/],
    ['busybox@sha256:abc', /digest/],
    ['a//b', /lowercase letters/],
    ['../etc', /not a valid registry host/],
  ])('rejects %j with a clear message', (text, message) => {
    expect(() => parseReference(text)).toThrow(ReferenceError);
    expect(() => parseReference(text)).toThrow(message);
  });
});
