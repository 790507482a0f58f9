import { planPeerRoutes } from './peer-routes.util';

const peer = (nodeName: string, podCidr: string, internalIp: string) => ({ nodeName, podCidr, internalIp });

describe('planPeerRoutes', () => {
  const installed = new Map([
    ['10.244.1.0/24', '10.0.0.2'],
    ['10.244.2.0/24', '10.0.0.3'],
  ]);

  it.each([
    [
      'the worked example',
      [
        peer('a', '10.244.0.0/24', '10.0.0.1'),
        peer('b', '10.244.1.0/24', '10.0.0.2'),
        peer('c', '10.244.2.0/24', '10.0.0.9'),
        peer('d', '10.244.3.0/24', '10.0.0.4'),
      ],
      {
        add: [
          { subnet: '10.244.2.0/24', via: '10.0.0.9' },
          { subnet: '10.244.3.0/24', via: '10.0.0.4' },
        ],
        remove: [],
      },
    ],
    [
      'peers gone',
      [peer('a', '10.244.0.0/24', '10.0.0.1'), peer('b', '10.244.1.0/24', '10.0.0.2')],
      { add: [], remove: ['10.244.2.0/24'] },
    ],
    ['no peers', [], { add: [], remove: ['10.244.1.0/24', '10.244.2.0/24'] }],
    [
      'a peer without a range yet',
      [peer('b', '', '10.0.0.2')],
      { add: [], remove: ['10.244.1.0/24', '10.244.2.0/24'] },
    ],
  ])('%s', (_case, peers, expected) => {
    expect(planPeerRoutes({ nodeName: 'a', installed, peers })).toEqual(expected);
  });
});
