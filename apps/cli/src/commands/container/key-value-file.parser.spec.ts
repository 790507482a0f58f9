import { CliError } from '../../cli-context';
import { parseEnvFile, parseLabel, parseLabelFile } from './key-value-file.parser';

describe('--env-file', () => {
  const env = { HOME: '/root', SHELL: '/bin/bash' };

  it('reads KEY=VALUE lines verbatim, skips comments and blank lines, and takes a bare KEY from the caller', () => {
    const text = [
      '# settings',
      'GREETING=hello world ',
      '',
      '  INDENTED=yes',
      'QUOTED="kept"',
      'EMPTY=',
      'EQUALS=a=b',
      'HOME',
      'UNSET_IN_CALLER',
      '\t# indented comment',
    ].join('\n');
    expect(parseEnvFile(text, { file: 'app.env', env })).toEqual([
      'GREETING=hello world ',
      'INDENTED=yes',
      'QUOTED="kept"',
      'EMPTY=',
      'EQUALS=a=b',
      'HOME=/root',
    ]);
  });

  it('refuses a line whose name has spaces or is missing, naming the line, as a usage error', () => {
    expect(() => parseEnvFile('A=1\nBAD NAME=2\n', { file: 'app.env', env })).toThrow(
      /--env-file app\.env line 2: "BAD NAME"/,
    );
    const thrown = (() => {
      try {
        parseEnvFile('=value', { file: 'x', env });
      } catch (error: unknown) {
        return error;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(CliError);
    expect((thrown as CliError).exitCode).toBe(2);
  });
});

describe('labels', () => {
  it('reads a label file, a bare key as an empty value', () => {
    expect(parseLabelFile('# owner\ncom.example.team=web\ncom.example.beta\r\n', 'labels')).toEqual([
      ['com.example.team', 'web'],
      ['com.example.beta', ''],
    ]);
  });

  it('parses --label KEY=VALUE and --label KEY', () => {
    expect(parseLabel('tier=front=end')).toEqual(['tier', 'front=end']);
    expect(parseLabel('beta')).toEqual(['beta', '']);
    expect(() => parseLabel('=x')).toThrow(/KEY=VALUE/);
  });
});
