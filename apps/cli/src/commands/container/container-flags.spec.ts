import {
  EXIT_RUN_REFUSED,
  parseBlkioWeight,
  parseCpus,
  parseDeviceBps,
  parseDeviceIops,
  parseEnv,
  parseMemory,
  parsePublish,
  parseRestartPolicy,
  parseUserNamespace,
  parseVolume,
} from './container-flags';
import { CliError } from '../../cli-context';

function exitCodeOf(parse: () => unknown): number | string {
  try {
    parse();
    return 'accepted';
  } catch (error: unknown) {
    return error instanceof CliError ? error.exitCode : String(error);
  }
}

describe('container flags', () => {
  it('parses memory sizes as Docker does', () => {
    expect(parseMemory('64m')).toBe(64 * 1024 * 1024);
    expect(parseMemory('1g')).toBe(1024 ** 3);
    expect(parseMemory('1.5G')).toBe(1.5 * 1024 ** 3);
    expect(() => parseMemory('12q')).toThrow('use forms like 64m');
    expect(() => parseMemory('1k')).toThrow('at least 6m');
  });

  it("parses device rates with Docker's units and refuses bad ones with exit 125", () => {
    expect(parseDeviceBps('/dev/sda:1mb', '--device-read-bps')).toEqual({ path: '/dev/sda', rate: 1048576 });
    expect(parseDeviceBps('/dev/loop3:512k', '--device-write-bps')).toEqual({
      path: '/dev/loop3',
      rate: 524288,
    });
    expect(parseDeviceBps('/dev/sda:4096', 'f').rate).toBe(4096);
    expect(parseDeviceBps('/dev/sda:1GiB', 'f').rate).toBe(1024 ** 3);
    expect(parseDeviceBps('/dev/sda:0', 'f').rate).toBe(0);
    expect(parseDeviceIops('/dev/sda:100', '--device-read-iops')).toEqual({ path: '/dev/sda', rate: 100 });
    const refusals: Array<() => unknown> = [
      () => parseDeviceBps('/dev/sda:-1mb', '--device-read-bps'),
      () => parseDeviceBps('/dev/sda:1xb', '--device-read-bps'),
      () => parseDeviceBps('/dev/sda', '--device-read-bps'),
      () => parseDeviceBps('sda:1mb', '--device-read-bps'),
      () => parseDeviceIops('/dev/sda:1.5', '--device-write-iops'),
      () => parseDeviceIops('/dev/sda:1k', '--device-write-iops'),
      () => parseBlkioWeight('5'),
      () => parseBlkioWeight('1001'),
      () => parseBlkioWeight('-10'),
    ];
    expect(refusals.map(exitCodeOf)).toEqual(refusals.map(() => EXIT_RUN_REFUSED));
    expect(() => parseDeviceBps('/dev/sda:1xb', '--device-read-bps')).toThrow(/invalid rate.*kb, mb or gb/);
    expect(parseBlkioWeight('0')).toBeUndefined();
    expect(parseBlkioWeight('500')).toBe(500);
  });

  it("parses --userns and podman's --uidmap/--gidmap, one alone standing for both", () => {
    expect(parseUserNamespace({})).toBeUndefined();
    expect(parseUserNamespace({ userns: 'host' })).toBeUndefined();
    expect(parseUserNamespace({ userns: 'auto' })).toEqual({ mode: 'auto' });
    const root = { containerId: 0, hostId: 100000, size: 65536 };
    expect(parseUserNamespace({ uidmap: ['0:100000:65536'] })).toEqual({
      mode: 'map',
      uidMappings: [root],
      gidMappings: [root],
    });
    expect(parseUserNamespace({ uidmap: ['0:100000:65536'], gidmap: ['0:200000:10'] })).toMatchObject({
      gidMappings: [{ containerId: 0, hostId: 200000, size: 10 }],
    });
    // FLOTILLA_USERNS=auto is the node's default, as Docker's userns-remap; --userns=host and maps override it.
    expect(parseUserNamespace({}, 'auto')).toEqual({ mode: 'auto' });
    expect(parseUserNamespace({ userns: 'host' }, 'auto')).toBeUndefined();
    expect(parseUserNamespace({ uidmap: ['0:100000:65536'] }, 'auto')).toMatchObject({ mode: 'map' });
    expect(parseUserNamespace({}, '')).toBeUndefined();
    const refusals: Array<() => unknown> = [
      () => parseUserNamespace({}, 'remap'),
      () => parseUserNamespace({ userns: 'keep-id' }),
      () => parseUserNamespace({ userns: 'auto', uidmap: ['0:1:1'] }),
      () => parseUserNamespace({ uidmap: ['0:1'] }),
      () => parseUserNamespace({ gidmap: ['x:1:1'] }),
    ];
    expect(refusals.map(exitCodeOf)).toEqual(refusals.map(() => EXIT_RUN_REFUSED));
    expect(() => parseUserNamespace({ uidmap: ['0:1'] })).toThrow(
      /--uidmap "0:1" must be CONTAINER_ID:HOST_ID:SIZE/,
    );
  });

  it('parses --cpus into millicores', () => {
    expect(parseCpus('1.5')).toBe(1500);
    expect(parseCpus('0.25')).toBe(250);
    expect(() => parseCpus('-1')).toThrow('at least 0.01');
    expect(() => parseCpus('lots')).toThrow('--cpus "lots"');
  });

  it('parses --restart as docker run does, refusing with 125', () => {
    expect(parseRestartPolicy('no')).toEqual({ name: 'no' });
    expect(parseRestartPolicy('always')).toEqual({ name: 'always' });
    expect(parseRestartPolicy('unless-stopped')).toEqual({ name: 'unless-stopped' });
    expect(parseRestartPolicy('on-failure')).toEqual({ name: 'on-failure' });
    expect(parseRestartPolicy('on-failure:3')).toEqual({ name: 'on-failure', maximumRetryCount: 3 });
    for (const text of ['always:3', 'sometimes', 'on-failure:-1', 'on-failure:x', '']) {
      expect(exitCodeOf(() => parseRestartPolicy(text))).toBe(EXIT_RUN_REFUSED);
    }
  });

  it('parses -p and -v', () => {
    expect(parsePublish('8080:80')).toEqual({ hostPort: 8080, containerPort: 80, protocol: 'tcp' });
    expect(parsePublish('53:53/udp')).toEqual({ hostPort: 53, containerPort: 53, protocol: 'udp' });
    expect(parsePublish('127.0.0.1:8080:80')).toEqual({
      hostIp: '127.0.0.1',
      hostPort: 8080,
      containerPort: 80,
      protocol: 'tcp',
    });
    expect(parsePublish('80')).toEqual({ hostPort: 0, containerPort: 80, protocol: 'tcp' });
    expect(() => parsePublish('::80')).toThrow('[[hostIp:][hostPort]:]containerPort');
    expect(() => parsePublish('70000:80')).toThrow('1 to 65535');
    expect(() => parsePublish('example.com:80:80')).toThrow('IPv4 address');
    expect(parseVolume('/srv/data:/data:ro')).toEqual({
      source: '/srv/data',
      target: '/data',
      readOnly: true,
    });
    expect(parseVolume('/srv:/srv')).toEqual({ source: '/srv', target: '/srv', readOnly: false });
    expect(() => parseVolume('data:/data')).toThrow('both paths absolute');
    expect(() => parseVolume('/a:/b:rx')).toThrow('[:ro]');
  });

  it('takes -e NAME from the caller environment', () => {
    expect(parseEnv('A=1', {})).toBe('A=1');
    expect(parseEnv('HOME', { HOME: '/root' })).toBe('HOME=/root');
    expect(parseEnv('UNSET', {})).toBeUndefined();
    expect(() => parseEnv('=x', {})).toThrow('needs a variable name');
  });
});
