import { SelectorError } from './label-selector';
import { fieldValue, parseFieldSelector } from './field-selector';

describe('parseFieldSelector', () => {
  const pod = {
    metadata: { name: 'web-1', namespace: 'default' },
    spec: { nodeName: 'node-a' },
    status: { phase: 'Running' },
  };

  it.each([
    ['', true],
    ['metadata.name=web-1', true],
    ['metadata.name==web-2', false],
    ['metadata.namespace!=kube-system', true],
    ['spec.nodeName=node-a,status.phase=Running', true],
    ['spec.nodeName=', false],
    ['status.podIP=', true],
  ])('%j on a pod matches: %s', (selector, expected) => {
    expect(parseFieldSelector(selector, 'Pod').matches(pod)).toBe(expected);
  });

  it('rejects fields the kind cannot be selected by, naming the ones it can', () => {
    expect(() => parseFieldSelector('spec.nodeName=a', 'Service')).toThrow(SelectorError);
    expect(() => parseFieldSelector('spec.nodeName=a', 'Service')).toThrow(
      'field label not supported: spec.nodeName (Service can be selected by metadata.name, metadata.namespace)',
    );
  });

  it('rejects malformed terms', () => {
    expect(() => parseFieldSelector('metadata.name', 'Pod')).toThrow('expected FIELD=VALUE');
  });

  it('reads booleans and the event source component as strings', () => {
    expect(fieldValue({ spec: { unschedulable: true } }, 'spec.unschedulable')).toBe('true');
    expect(fieldValue({ source: { component: 'scheduler' } }, 'source')).toBe('scheduler');
  });
});
