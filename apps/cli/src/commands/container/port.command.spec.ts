import type { PublishedPort } from '@flotilla/runtime';
import { formatPortLines, formatPortsColumn } from './port.command';

const ports: PublishedPort[] = [
  { hostPort: 32768, containerPort: 80, protocol: 'tcp' },
  { hostIp: '127.0.0.1', hostPort: 40000, containerPort: 53, protocol: 'udp' },
];

describe('container port', () => {
  it('lists every mapping as docker port does', () => {
    expect(formatPortLines(ports)).toEqual(['80/tcp -> 0.0.0.0:32768', '53/udp -> 127.0.0.1:40000']);
  });

  it('prints the host side of the one port asked for, tcp unless told', () => {
    expect(formatPortLines(ports, '80')).toEqual(['0.0.0.0:32768']);
    expect(formatPortLines(ports, '53/udp')).toEqual(['127.0.0.1:40000']);
    expect(formatPortLines(ports, '53')).toBeUndefined();
    expect(() => formatPortLines(ports, '80/sctp')).toThrow(/PRIVATE_PORT/);
  });

  it('shows the ports in ps, a port without a host port yet as its container port', () => {
    expect(formatPortsColumn([...ports, { hostPort: 0, containerPort: 443, protocol: 'tcp' }])).toBe(
      '0.0.0.0:32768->80/tcp, 127.0.0.1:40000->53/udp, 443/tcp',
    );
  });
});
