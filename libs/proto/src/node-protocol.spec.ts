import { Server, ServerCredentials, credentials, type ServerDuplexStream } from '@grpc/grpc-js';
import {
  AgentMessage,
  NodeServiceClient,
  NodeServiceService,
  RegisterRequest,
  ServerMessage,
  type NodeServiceServer,
} from './index';

describe('generated node protocol', () => {
  it('round-trips a message through its binary encoding', () => {
    const message: AgentMessage = {
      payload: {
        $case: 'metrics',
        value: {
          time: '2026-11-23T07:00:00.000000000Z',
          nodeCpuUsageNanoseconds: 12_345_678_901_234n,
          nodeMemoryWorkingSetBytes: 1n << 40n,
          pods: [{ namespace: 'web', name: 'web-1', uid: 'u1', containers: [] }],
        },
      },
    };
    const bytes = AgentMessage.encode(message).finish();
    expect(AgentMessage.decode(bytes)).toEqual(message);
  });

  it('round-trips the peer set and a released pod status', () => {
    const peers: ServerMessage = {
      payload: {
        $case: 'peers',
        value: { peers: [{ nodeName: 'node-1', internalIp: '10.0.0.1', podCidr: '10.88.1.0/24' }] },
      },
    };
    expect(ServerMessage.decode(ServerMessage.encode(peers).finish())).toEqual(peers);
    const status: AgentMessage = {
      payload: {
        $case: 'podStatus',
        value: { namespace: 'web', name: 'web-1', uid: 'u1', statusJson: Buffer.from('{}'), released: true },
      },
    };
    const decoded = AgentMessage.decode(AgentMessage.encode(status).finish());
    expect(decoded.payload?.$case === 'podStatus' && decoded.payload.value.released).toBe(true);
  });

  it('serves Register and a bidirectional Connect stream over grpc-js', async () => {
    const implementation: NodeServiceServer = {
      register: (call, callback) => {
        callback(null, {
          podCidr: `10.88.${call.request.nodeName === 'node-1' ? 1 : 2}.0/24`,
          heartbeatIntervalSeconds: 5,
          serviceCidr: '10.96.0.0/16',
          clusterDns: '',
          clusterCidr: '10.88.0.0/16',
        });
      },
      getObject: (call, callback) => {
        callback(null, { objectJson: Buffer.from(JSON.stringify({ kind: call.request.kind })) });
      },
      connect: (call: ServerDuplexStream<AgentMessage, ServerMessage>) => {
        call.on('data', (message: AgentMessage) => {
          if (message.payload?.$case === 'heartbeat') {
            call.write({ payload: { $case: 'fullSet', value: { pods: [] } } });
          }
        });
        call.on('end', () => call.end());
      },
    };
    const server = new Server();
    server.addService(NodeServiceService, implementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    const client = new NodeServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    try {
      const request: RegisterRequest = RegisterRequest.fromPartial({ nodeName: 'node-1' });
      const response = await new Promise((resolve, reject) =>
        client.register(request, (error, value) => (error ? reject(error) : resolve(value))),
      );
      expect(response).toMatchObject({ podCidr: '10.88.1.0/24', heartbeatIntervalSeconds: 5 });
      const object = await new Promise<Buffer>((resolve, reject) =>
        client.getObject({ kind: 'ConfigMap', namespace: 'web', name: 'settings' }, (error, value) =>
          error ? reject(error) : resolve(value.objectJson),
        ),
      );
      expect(JSON.parse(object.toString())).toEqual({ kind: 'ConfigMap' });

      const stream = client.connect();
      const first = new Promise<ServerMessage>((resolve) => stream.once('data', resolve));
      stream.write({ payload: { $case: 'heartbeat', value: { conditions: [], time: 'now' } } });
      expect((await first).payload?.$case).toBe('fullSet');
      stream.end();
    } finally {
      client.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    }
  });
});
