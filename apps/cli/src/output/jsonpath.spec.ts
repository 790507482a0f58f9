import { JsonPathError, renderJsonPath } from './jsonpath';

const service = {
  metadata: { name: 'web', labels: { 'app.kubernetes.io/name': 'web', tier: 'front' } },
  spec: {
    ports: [
      { name: 'http', port: 80, nodePort: 30080 },
      { name: 'admin', port: 9000 },
    ],
  },
};

const pods = {
  kind: 'List',
  items: [
    {
      metadata: { name: 'a' },
      status: { podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
    },
    {
      metadata: { name: 'b' },
      status: { podIP: '10.0.0.2', conditions: [{ type: 'Ready', status: 'False' }] },
    },
  ],
};

describe('renderJsonPath', () => {
  it('reads fields, indexes, quoted keys and escaped dots', () => {
    expect(renderJsonPath('{.spec.ports[0].nodePort}', service)).toBe('30080');
    expect(renderJsonPath('{.spec.ports[-1].name}', service)).toBe('admin');
    expect(renderJsonPath("{.metadata.labels['app.kubernetes.io/name']}", service)).toBe('web');
    expect(renderJsonPath('{.metadata.labels.app\\.kubernetes\\.io/name}', service)).toBe('web');
    expect(renderJsonPath('port={.spec.ports[*].port}', service)).toBe('port=80 9000');
    expect(renderJsonPath('{$.metadata.labels}', service)).toBe(
      '{"app.kubernetes.io/name":"web","tier":"front"}',
    );
  });

  it('prints nothing for missing fields', () => {
    expect(renderJsonPath('[{.spec.clusterIP}]', service)).toBe('[]');
  });

  it('ranges over lists with literals and filters by field value', () => {
    expect(renderJsonPath('{range .items[*]}{.metadata.name}{"\\t"}{.status.podIP}{"\\n"}{end}', pods)).toBe(
      'a\t10.0.0.1\nb\t10.0.0.2\n',
    );
    expect(renderJsonPath('{.items[*].status.conditions[?(@.type=="Ready")].status}', pods)).toBe(
      'True False',
    );
    expect(renderJsonPath('{.items[?(@.status.podIP=="10.0.0.2")].metadata.name}', pods)).toBe('b');
  });

  it('explains malformed templates', () => {
    expect(() => renderJsonPath('{.a', {})).toThrow(JsonPathError);
    expect(() => renderJsonPath('{range .items[*]}{.x}', {})).toThrow('needs a matching {end}');
    expect(() => renderJsonPath('{.a[x]}', {})).toThrow('"[x]" is not an index');
  });
});
