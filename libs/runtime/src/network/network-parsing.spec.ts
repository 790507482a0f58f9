import { broadcastOf, formatIpv4, gatewayOf, parseIpv4, parseSubnet, subnetWithin } from './ipv4';
import { iptablesBaseRules, iptablesPortRules } from './iptables.forwarder';
import { addPortsCommand, bridgeRuleset, deletePortsCommand } from './nft-ruleset';
import { parsePublishedElements } from './nftables.forwarder';
import { checkPortConflicts, exposedPortMappings, parsePortMapping } from './port-mapping';

describe('IPv4 subnets', () => {
  it('round-trips addresses and finds gateway and broadcast', () => {
    expect(formatIpv4(parseIpv4('10.88.0.1'))).toBe('10.88.0.1');
    expect(formatIpv4(parseIpv4('255.255.255.255'))).toBe('255.255.255.255');
    const subnet = parseSubnet('10.88.0.0/16');
    expect(formatIpv4(gatewayOf(subnet))).toBe('10.88.0.1');
    expect(formatIpv4(broadcastOf(subnet))).toBe('10.88.255.255');
  });

  it('rejects bad addresses and subnets with the fix', () => {
    expect(() => parseIpv4('10.88.0.256')).toThrow(/not an IPv4 address/);
    expect(() => parseIpv4('010.1.1.1')).toThrow(/not an IPv4 address/);
    expect(() => parseSubnet('10.88.0.1/16')).toThrow(/did you mean 10\.88\.0\.0\/16/);
    expect(() => parseSubnet('10.88.0.0/31')).toThrow(/prefix from \/8 to \/30/);
    expect(() => parseSubnet('10.88.0.0')).toThrow(/must look like/);
  });
});

describe('port mappings', () => {
  it('parses docker -p forms', () => {
    expect(parsePortMapping('8080:80')).toEqual({ hostPort: 8080, containerPort: 80, protocol: 'tcp' });
    expect(parsePortMapping('5353:53/udp')).toEqual({ hostPort: 5353, containerPort: 53, protocol: 'udp' });
    expect(parsePortMapping('127.0.0.1:8080:80')).toEqual({
      hostIp: '127.0.0.1',
      hostPort: 8080,
      containerPort: 80,
      protocol: 'tcp',
    });
    // 0.0.0.0 is every address, as with no address at all.
    expect(parsePortMapping('0.0.0.0:53:53/udp')).toEqual({
      hostPort: 53,
      containerPort: 53,
      protocol: 'udp',
    });
  });

  it('leaves the host port to be chosen (0) when it is left out, as docker does', () => {
    expect(parsePortMapping('80')).toEqual({ hostPort: 0, containerPort: 80, protocol: 'tcp' });
    expect(parsePortMapping('53/udp')).toEqual({ hostPort: 0, containerPort: 53, protocol: 'udp' });
    expect(parsePortMapping('0:80')).toEqual({ hostPort: 0, containerPort: 80, protocol: 'tcp' });
    expect(parsePortMapping('127.0.0.1::80')).toEqual({
      hostIp: '127.0.0.1',
      hostPort: 0,
      containerPort: 80,
      protocol: 'tcp',
    });
  });

  it("reads an image's exposed ports as mappings to free host ports", () => {
    expect(exposedPortMappings(['80/tcp', '53/udp', '8080'])).toEqual([
      { hostPort: 0, containerPort: 80, protocol: 'tcp' },
      { hostPort: 0, containerPort: 53, protocol: 'udp' },
      { hostPort: 0, containerPort: 8080, protocol: 'tcp' },
    ]);
    expect(() => exposedPortMappings(['80/sctp'])).toThrow(/exposes "80\/sctp"/);
  });

  it('lets several ports wait for a free host port without calling them overlapping', () => {
    expect(() => checkPortConflicts([parsePortMapping('80'), parsePortMapping('81')])).not.toThrow();
  });

  it.each(['::80', '8080:65536', 'a:b', '1:2/sctp', 'localhost:80:80', '1.2.3:80:80', '::1:80:80', ''])(
    'rejects %j',
    (spec) => {
      expect(() => parsePortMapping(spec)).toThrow(/-p/);
    },
  );

  it('refuses one host port twice but allows tcp and udp side by side', () => {
    expect(() =>
      checkPortConflicts([parsePortMapping('53:53/udp'), parsePortMapping('53:53/tcp')]),
    ).not.toThrow();
    expect(() => checkPortConflicts([parsePortMapping('80:80'), parsePortMapping('80:81')])).toThrow(
      /overlaps/,
    );
  });

  it.each([
    ['127.0.0.1:80:80', '10.0.0.1:80:80', false],
    ['127.0.0.1:80:80', '127.0.0.1:80:81', true],
    ['127.0.0.1:80:80', '80:81', true],
    ['80:80', '127.0.0.1:80:80/udp', false],
  ])('%s and %s overlap: %s', (a, b, overlap) => {
    const check = (): void => checkPortConflicts([parsePortMapping(a), parsePortMapping(b)]);
    if (overlap) expect(check).toThrow(/overlaps/);
    else expect(check).not.toThrow();
  });
});

describe('nftables ruleset', () => {
  const ruleset = bridgeRuleset({ table: 'flotilla', bridge: 'flot0', subnet: parseSubnet('10.88.0.0/16') });

  it('masquerades only onto our bridge and only from loopback or our own subnet', () => {
    const masquerades = ruleset.split('\n').filter((line) => line.includes('masquerade'));
    expect(masquerades).toEqual([
      '    oifname "flot0" ip saddr 127.0.0.0/8 masquerade',
      '    oifname "flot0" ip saddr 10.88.0.0/16 ip daddr 10.88.0.0/16 ct status dnat masquerade',
    ]);
  });

  it('never forwards container traffic out of the subnet', () => {
    expect(ruleset).toContain('iifname "flot0" ip daddr != 10.88.0.0/16 drop');
    // Except replies to connections opened towards a container (node ports, published ports).
    expect(ruleset).toContain('iifname "flot0" ct direction reply accept');
  });

  it('DNATs only traffic for local addresses, from outside and from the host, address-bound ports first', () => {
    expect(
      ruleset.match(/fib daddr type local dnat ip to meta l4proto \. th dport map @published_ports/g),
    ).toHaveLength(2);
    const bound =
      'fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @published_address_ports';
    expect(ruleset.split(bound)).toHaveLength(3);
    expect(ruleset.indexOf(bound)).toBeLessThan(ruleset.indexOf('map @published_ports'));
  });

  it('adds and deletes port elements by protocol and host port', () => {
    const mappings = [parsePortMapping('8080:80'), parsePortMapping('5353:53/udp')];
    expect(addPortsCommand('t', mappings, '10.88.0.2')).toBe(
      'add element ip t published_ports { tcp . 8080 : 10.88.0.2 . 80, udp . 5353 : 10.88.0.2 . 53 }\n',
    );
    expect(deletePortsCommand('t', mappings)).toBe(
      'delete element ip t published_ports { tcp . 8080, udp . 5353 }\n',
    );
  });

  it('keeps address-bound ports in their own map, keyed by address', () => {
    const mappings = [parsePortMapping('8080:80'), parsePortMapping('127.0.0.1:9090:90')];
    expect(addPortsCommand('t', mappings, '10.88.0.2')).toBe(
      'add element ip t published_ports { tcp . 8080 : 10.88.0.2 . 80 }\n' +
        'add element ip t published_address_ports { 127.0.0.1 . tcp . 9090 : 10.88.0.2 . 90 }\n',
    );
    expect(deletePortsCommand('t', [parsePortMapping('127.0.0.1:9090:90')])).toBe(
      'delete element ip t published_address_ports { 127.0.0.1 . tcp . 9090 }\n',
    );
  });

  it('reads both maps back from nft list output', () => {
    const listing = [
      'table ip t {',
      '\tmap published_ports {',
      '\t\ttype inet_proto . inet_service : ipv4_addr . inet_service',
      '\t\telements = { tcp . 8080 : 10.88.0.2 . 80 }',
      '\t}',
      '\tmap published_address_ports {',
      '\t\telements = { 127.0.0.1 . udp . 5353 : 10.88.0.3 . 53 }',
      '\t}',
      '}',
    ].join('\n');
    expect(parsePublishedElements(listing)).toEqual([
      { protocol: 'tcp', hostPort: 8080, containerPort: 80 },
      { hostIp: '127.0.0.1', protocol: 'udp', hostPort: 5353, containerPort: 53 },
    ]);
  });
});

describe('iptables fallback rules', () => {
  const options = { table: 'flotilla', bridge: 'flot0', subnet: parseSubnet('10.88.0.0/16') };

  it('mirrors the nftables table: DNAT for local addresses, masquerade only onto the bridge', () => {
    const rules = iptablesBaseRules(options).split('\n');
    expect(rules.filter((rule) => rule.includes('MASQUERADE'))).toEqual([
      '-A FLOTILLA-POST -o flot0 -s 127.0.0.0/8 -j MASQUERADE',
      '-A FLOTILLA-POST -o flot0 -s 10.88.0.0/16 -d 10.88.0.0/16 -m conntrack --ctstate DNAT -j MASQUERADE',
    ]);
    expect(rules).toContain('-A PREROUTING -m addrtype --dst-type LOCAL -j FLOTILLA-DNAT');
    expect(rules).toContain('-A OUTPUT -m addrtype --dst-type LOCAL -j FLOTILLA-DNAT');
    expect(rules).toContain('-A FLOTILLA-FWD -i flot0 ! -d 10.88.0.0/16 -j DROP');
    expect(rules).toContain('-A FLOTILLA-FWD -i flot0 -m conntrack --ctdir REPLY -j ACCEPT');
  });

  it('adds and deletes one DNAT rule per mapping in one restore', () => {
    expect(iptablesPortRules('flotilla', '-A', [parsePortMapping('8080:80')], '10.88.0.2')).toBe(
      '*nat\n-A FLOTILLA-DNAT -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.88.0.2:80\nCOMMIT\n',
    );
    expect(iptablesPortRules('flotilla', '-D', [parsePortMapping('127.0.0.1:8080:80')], '10.88.0.2')).toBe(
      '*nat\n-D FLOTILLA-DNAT -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.88.0.2:80\nCOMMIT\n',
    );
  });
});

describe('cluster CIDR', () => {
  it('knows when one subnet lies inside another', () => {
    expect(subnetWithin(parseSubnet('10.88.3.0/24'), parseSubnet('10.88.0.0/16'))).toBe(true);
    expect(subnetWithin(parseSubnet('10.88.0.0/16'), parseSubnet('10.88.0.0/16'))).toBe(true);
    expect(subnetWithin(parseSubnet('10.88.0.0/15'), parseSubnet('10.88.0.0/16'))).toBe(false);
    expect(subnetWithin(parseSubnet('10.89.0.0/24'), parseSubnet('10.88.0.0/16'))).toBe(false);
  });

  it('lets containers reach the whole cluster range and nothing past it', () => {
    const ruleset = bridgeRuleset({
      table: 'flotilla',
      bridge: 'flot0',
      subnet: parseSubnet('10.88.1.0/24'),
      clusterCidr: parseSubnet('10.88.0.0/16'),
    });
    expect(ruleset).toContain('iifname "flot0" ip daddr != 10.88.0.0/16 drop');
    // Hairpin masquerade stays inside this node's own subnet.
    expect(ruleset).toContain('ip saddr 10.88.1.0/24 ip daddr 10.88.1.0/24 ct status dnat masquerade');
  });
});
