// An agent's own heartbeat interval overrides the one the apiserver suggests at Register: with 1,000
// nodes every heartbeat is a Lease write, so large clusters renew less often (kubelet: every 10 s).
// Two hollow nodes against an apiserver that asks for 1 s: one follows it, one renews every 3 s.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { HollowNode, issueHollowNodeCertificates } from '@flotilla/node-agent';
import pino from 'pino';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { until } from '../support/eventually';

const runId = randomBytes(4).toString('hex');
const defaultName = `beat-${runId}-default`;
const slowName = `beat-${runId}-slow`;
const SLOW_INTERVAL_MS = 3000;
const logger = pino({ level: process.env['FLOTILLA_TEST_LOG'] ?? 'silent' });

interface LeaseObject {
  spec?: { renewTime?: string; holderIdentity?: string };
}

let plane: TestControlPlane;
const nodes: HollowNode[] = [];

beforeAll(async () => {
  plane = await startTestControlPlane('heartbeat', { nodeService: true, heartbeatIntervalSeconds: 1 });
});

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.close()));
  await plane?.stop();
});

async function renewTime(name: string): Promise<string | undefined> {
  const result = await plane.request(
    'GET',
    `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`,
  );
  if (result.status === 404) return undefined;
  if (result.status !== 200) throw new Error(`GET lease ${name}: ${result.status} ${result.text}`);
  return result.json<LeaseObject>().spec?.renewTime;
}

/** The Lease's successive renewTimes (server clock), polled until `count` distinct ones are seen. */
async function renewals(name: string, count: number): Promise<number[]> {
  const seen: string[] = [];
  await until(
    `${count} renewals of ${name}'s Lease`,
    async () => {
      const time = await renewTime(name);
      if (time !== undefined && seen.at(-1) !== time) seen.push(time);
      return seen.length >= count ? true : undefined;
    },
    60_000,
  );
  return seen.map((time) => Date.parse(time));
}

describe('heartbeat interval', () => {
  it("follows the apiserver's interval by default and the agent's own when given", async () => {
    const certificates = await issueHollowNodeCertificates({
      dir: join(plane.dir, 'hollow-pki'),
      caCertFile: plane.caFile,
      caKeyFile: plane.caKeyFile,
      nodeNames: [defaultName, slowName],
    });
    [defaultName, slowName].forEach((name, i) => {
      const tls = certificates.get(name);
      if (!tls) throw new Error(`no certificate for ${name}`);
      nodes.push(
        new HollowNode({
          name,
          apiserver: `127.0.0.1:${plane.grpcPort ?? 0}`,
          tls,
          address: `10.201.0.${i + 1}`,
          logger,
          ...(name === slowName ? { heartbeatIntervalMs: SLOW_INTERVAL_MS } : {}),
        }),
      );
    });
    await Promise.all(nodes.map((node) => node.start()));
    expect(nodes.map((node) => node.connection.registration?.heartbeatIntervalSeconds)).toEqual([1, 1]);

    const [fast, slow] = await Promise.all([renewals(defaultName, 5), renewals(slowName, 4)]);
    const gaps = (times: number[]): number[] => times.slice(1).map((time, i) => time - (times[i] ?? 0));
    // A timer never fires early; a late server write could shorten one gap, hence the margin.
    expect(Math.min(...gaps(slow))).toBeGreaterThanOrEqual(SLOW_INTERVAL_MS / 2);
    // The default node renews at the apiserver's 1 s: at least one gap well under the slow node's.
    expect(Math.min(...gaps(fast))).toBeLessThan(SLOW_INTERVAL_MS);
  }, 120_000);
});
