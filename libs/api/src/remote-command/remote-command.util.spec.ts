import {
  CHANNEL_CLOSE,
  CHANNEL_STDOUT,
  decodeChannelFrame,
  decodeRemoteCommandStatus,
  decodeTerminalSize,
  encodeChannelFrame,
  encodeTerminalSize,
  errorStatus,
  exitCodeStatus,
  negotiateRemoteCommandProtocol,
} from './remote-command.util';

describe('channel frames', () => {
  it.each([
    { channel: CHANNEL_STDOUT, data: 'hi\n', bytes: [1, 104, 105, 10] },
    { channel: 0, data: '', bytes: [0] },
    { channel: CHANNEL_CLOSE, data: '\u0000', bytes: [255, 0] },
  ])('channel $channel with $data.length bytes', ({ channel, data, bytes }) => {
    const frame = encodeChannelFrame(channel, Buffer.from(data, 'latin1'));
    expect([...frame]).toEqual(bytes);
    const decoded = decodeChannelFrame(frame);
    expect(decoded?.channel).toBe(channel);
    expect(decoded?.data.toString('latin1')).toBe(data);
  });

  it('an empty message carries no channel', () => {
    expect(decodeChannelFrame(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('protocol negotiation', () => {
  it.each([
    { offered: ['v5.channel.k8s.io'], chosen: 'v5.channel.k8s.io' },
    { offered: ['v4.channel.k8s.io', 'v5.channel.k8s.io'], chosen: 'v5.channel.k8s.io' },
    { offered: [' v4.channel.k8s.io'], chosen: 'v4.channel.k8s.io' },
    { offered: ['channel.k8s.io', 'base64.channel.k8s.io'], chosen: undefined },
    { offered: [], chosen: undefined },
  ])('$offered → $chosen', ({ offered, chosen }) => {
    expect(negotiateRemoteCommandProtocol(offered)).toBe(chosen);
  });
});

describe('terminal size', () => {
  it('round-trips in client-go field names', () => {
    const encoded = encodeTerminalSize({ rows: 24, columns: 80 });
    expect(encoded.toString()).toBe('{"Width":80,"Height":24}');
    expect(decodeTerminalSize(encoded)).toEqual({ rows: 24, columns: 80 });
  });

  it.each(['not json', '{"Width":-1,"Height":2}', '{"Width":80}', '{"Width":1.5,"Height":2}', 'null'])(
    'refuses %s with the expected shape in the message',
    (text) => {
      expect(() => decodeTerminalSize(Buffer.from(text))).toThrow(/Width/);
    },
  );
});

describe('exit status', () => {
  it.each([
    { command: ['true'], code: 0, result: { exitCode: 0 } },
    { command: ['sh', '-c', 'exit 3'], code: 3, result: { exitCode: 3 } },
    { command: ['sleep', '9'], code: 137, result: { exitCode: 137 } },
  ])('$command exiting $code', ({ command, code, result }) => {
    const status = exitCodeStatus(command, code);
    expect(decodeRemoteCommandStatus(Buffer.from(JSON.stringify(status)))).toEqual(result);
  });

  it('words a non-zero exit as kubelet does', () => {
    expect(exitCodeStatus(['sh', '-c', 'exit 3'], 3)).toEqual({
      metadata: {},
      status: 'Failure',
      message:
        'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });

  it.each([
    { data: JSON.stringify(errorStatus('container "x" not found')), error: 'container "x" not found' },
    { data: '{"status":"Failure","reason":"NonZeroExitCode"}', error: /without the code/ },
    { data: 'garbage', error: /protocol error/ },
  ])('reports failures that are not exit codes: $data', ({ data, error }) => {
    const result = decodeRemoteCommandStatus(Buffer.from(data));
    expect('error' in result && result.error).toEqual(
      typeof error === 'string' ? error : expect.stringMatching(error),
    );
  });
});
