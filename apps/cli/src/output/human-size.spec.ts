import { humanSize } from './human-size';

describe('humanSize', () => {
  it.each([
    [0, '0B'],
    [512, '512B'],
    [4_870_000, '4.87MB'],
    [12_000_000, '12MB'],
    [12_345_678, '12.3MB'],
    [123_456_789, '123MB'],
    [1_234_567_890, '1.23GB'],
  ])('prints %d bytes as %s, as docker does', (bytes, printed) => {
    expect(humanSize(bytes)).toBe(printed);
  });
});
