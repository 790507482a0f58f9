import { RestClient } from '../rest/rest-client';
import { podExecPath } from './pod-exec';

describe('podExecPath', () => {
  const client = new RestClient({ server: 'https://127.0.0.1:6443', namespace: 'shop' });
  afterAll(() => client.close());
  const stdout = process.stdout;

  it.each([
    {
      name: 'one command parameter per argument, stdout and stderr',
      options: { pod: 'web', command: ['sh', '-c', 'exit 3'], stdout },
      path: '/api/v1/namespaces/shop/pods/web/exec?command=sh&command=-c&command=exit+3&stdout=true&stderr=true',
    },
    {
      name: 'a tty merges stderr; stdin and the container when asked',
      options: {
        pod: 'web',
        namespace: 'other',
        container: 'app',
        command: ['sh'],
        stdin: process.stdin,
        tty: true,
        stdout,
      },
      path: '/api/v1/namespaces/other/pods/web/exec?command=sh&container=app&stdin=true&stdout=true&tty=true',
    },
  ])('$name', ({ options, path }) => {
    expect(podExecPath(client, options)).toBe(path);
  });
});
