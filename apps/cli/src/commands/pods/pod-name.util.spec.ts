import { CliError } from '../../cli-context';
import { podNameOf } from './pod-name.util';

describe('podNameOf', () => {
  it.each([
    { argument: 'web-0', name: 'web-0' },
    { argument: 'pod/web-0', name: 'web-0' },
    { argument: 'pods/web-0', name: 'web-0' },
    { argument: 'PO/web-0', name: 'web-0' },
  ])('$argument → $name', ({ argument, name }) => {
    expect(podNameOf(argument)).toBe(name);
  });

  it.each([
    { argument: 'deploy/web', message: /only pods can be named here, not deploy/ },
    { argument: 'pod/', message: /names no pod/ },
  ])('refuses $argument', ({ argument, message }) => {
    expect(() => podNameOf(argument)).toThrow(CliError);
    expect(() => podNameOf(argument)).toThrow(message);
  });
});
