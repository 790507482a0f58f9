import { CliError } from '../cli-context';
import { parseResourceArgs } from './resource-args';

const summary = (args: string[]): string[] =>
  parseResourceArgs(args).map((s) => `${s.type.plural}:${s.names.join('+')}`);

describe('parseResourceArgs', () => {
  it('accepts a type with names, TYPE/NAME pairs, comma lists and all', () => {
    expect(summary(['deploy', 'web', 'api'])).toEqual(['deployments:web+api']);
    expect(summary(['deploy/web', 'svc/web'])).toEqual(['deployments:web', 'services:web']);
    expect(summary(['po,svc'])).toEqual(['pods:', 'services:']);
    expect(summary(['all'])).toEqual([
      'pods:',
      'services:',
      'deployments:',
      'replicasets:',
      'horizontalpodautoscalers:',
    ]);
  });

  it('rejects mixed forms and unknown types with what to do instead', () => {
    expect(() => parseResourceArgs([])).toThrow(CliError);
    expect(() => parseResourceArgs(['deploy/web', 'svc'])).toThrow('all must be');
    expect(() => parseResourceArgs(['po,svc', 'web'])).toThrow('use TYPE/NAME');
    expect(() => parseResourceArgs(['widgets'])).toThrow(
      /doesn't have a resource type "widgets"; known types: namespaces \(ns\)/,
    );
  });
});
