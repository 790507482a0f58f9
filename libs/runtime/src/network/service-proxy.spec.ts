import { iptablesServiceRules } from './iptables-services';
import { ServiceProxy, serviceRuleset, type ServiceRule } from './service-proxy';

const web: ServiceRule = {
  name: 'web/frontend:http',
  protocol: 'tcp',
  clusterIp: '10.96.0.10',
  port: 80,
  nodePort: 30080,
  backends: [
    { ip: '10.88.0.2', port: 8080 },
    { ip: '10.88.1.7', port: 8080 },
  ],
};

describe('service rules', () => {
  it('dispatches the virtual IP and the node port to one chain that picks a backend at random', () => {
    const ruleset = serviceRuleset('svc', [web]);
    expect(ruleset).toContain('ip daddr 10.96.0.10 tcp dport 80 jump svc_0 comment "web/frontend:http"');
    expect(ruleset).toContain(
      'fib daddr type local tcp dport 30080 meta mark set meta mark | 0x00004000 jump svc_0',
    );
  });

  it('masquerades node-port connections only, so a backend on another node answers through this one', () => {
    const ruleset = serviceRuleset('svc', [web]);
    expect(ruleset.split('\n').filter((line) => line.includes('masquerade'))).toEqual([
      '    meta mark & 0x00004000 == 0x00004000 masquerade',
    ]);
    expect(ruleset).not.toMatch(/ip daddr 10.96.0.10 .*mark set/);
    expect(ruleset).toContain(
      'meta l4proto tcp dnat ip to numgen random mod 2 map { 0 : 10.88.0.2 . 8080, 1 : 10.88.1.7 . 8080 }',
    );
  });

  it('replaces the whole table in one transaction', () => {
    const lines = serviceRuleset('svc', [web]).split('\n');
    expect(lines.slice(0, 3)).toEqual(['table ip svc', 'delete table ip svc', 'table ip svc {']);
  });

  it('refuses connections to a service without ready backends instead of letting them hang', () => {
    const ruleset = serviceRuleset('svc', [{ ...web, backends: [] }]);
    expect(ruleset).toContain('ip daddr 10.96.0.10 tcp dport 80 reject with tcp reset');
    expect(ruleset).not.toContain('jump svc_0');
  });

  it('keeps odd service names out of the nft syntax', () => {
    expect(serviceRuleset('svc', [{ ...web, name: 'x" ; flush ruleset' }])).toContain(
      'comment "x____flush_ruleset"',
    );
  });

  it('rejects a bad set before touching the kernel', async () => {
    const proxy = new ServiceProxy({ table: 'svc' });
    await expect(proxy.sync([web, { ...web, name: 'again', clusterIp: '10.96.0.11' }])).rejects.toThrow(
      /node port 30080\/tcp is taken/,
    );
    await expect(proxy.sync([{ ...web, clusterIp: '10.96.0.300' }])).rejects.toThrow(/not an IPv4 address/);
    await expect(proxy.sync([{ ...web, clusterIp: undefined, nodePort: undefined }])).rejects.toThrow(
      /neither a cluster IP nor a node port/,
    );
    await expect(proxy.sync([{ ...web, backends: [{ ip: '10.88.0.2', port: 0 }] }])).rejects.toThrow(
      /backend port/,
    );
  });
});

describe('iptables service rules', () => {
  it('splits new connections evenly with a statistic cascade ending in an unconditional DNAT', () => {
    const three: ServiceRule = {
      ...web,
      backends: [
        { ip: '10.88.0.2', port: 80 },
        { ip: '10.88.0.3', port: 80 },
        { ip: '10.88.0.4', port: 80 },
      ],
    };
    const lines = iptablesServiceRules('svc', [three]).split('\n');
    expect(lines.filter((line) => line.startsWith('-A SVC-S0'))).toEqual([
      '-A SVC-S0 -p tcp -m statistic --mode random --probability 0.3333333333 -j DNAT --to-destination 10.88.0.2:80',
      '-A SVC-S0 -p tcp -m statistic --mode random --probability 0.5000000000 -j DNAT --to-destination 10.88.0.3:80',
      '-A SVC-S0 -p tcp -j DNAT --to-destination 10.88.0.4:80',
    ]);
    expect(lines).toContain('-A SVC-SVC -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j SVC-S0');
    expect(lines).toContain('-A SVC-SVC -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 30080 -j SVC-S0');
    // Node-port connections are marked first, then masqueraded on the way out.
    expect(lines).toContain(
      '-A SVC-SVC -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 30080 -j MARK --set-xmark 0x4000/0x4000',
    );
    expect(lines).toContain('-A SVC-MASQ -m mark --mark 0x4000/0x4000 -j MASQUERADE');
  });

  it('rejects for empty services and deletes chains an earlier sync left', () => {
    const text = iptablesServiceRules('svc', [{ ...web, backends: [] }], ['SVC-S4']);
    expect(text).toContain(
      '-A SVC-REJ -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j REJECT --reject-with tcp-reset',
    );
    expect(text).toContain(':SVC-S4 - [0:0]');
    expect(text).toContain('-X SVC-S4');
  });
});
