import {
  ContainerfileError,
  expandText,
  expandWords,
  parseContainerfile,
  parseKeyValues,
} from './containerfile.parser';

describe('parseContainerfile', () => {
  it('joins continuations, drops comments, and tells JSON from shell form', () => {
    const instructions = parseContainerfile(
      [
        '# syntax=docker/dockerfile:1',
        'FROM busybox AS base',
        '',
        'RUN echo one \\',
        '  # a comment inside the continuation',
        '  && echo two',
        'CMD ["sh", "-c", "echo hi"]',
        'ENTRYPOINT [not json',
        'copy a b',
      ].join('\n'),
    );
    expect(instructions).toEqual([
      { keyword: 'FROM', text: 'busybox AS base', line: 2 },
      { keyword: 'RUN', text: 'echo one && echo two', line: 4 },
      { keyword: 'CMD', text: '["sh", "-c", "echo hi"]', json: ['sh', '-c', 'echo hi'], line: 7 },
      { keyword: 'ENTRYPOINT', text: '[not json', line: 8 },
      { keyword: 'COPY', text: 'a b', line: 9 },
    ]);
  });

  it('honours the escape directive', () => {
    expect(parseContainerfile('# escape=`\nFROM scratch\nCOPY a `\n  b')).toEqual([
      { keyword: 'FROM', text: 'scratch', line: 2 },
      { keyword: 'COPY', text: 'a b', line: 3 },
    ]);
  });

  it('names the line of an unknown instruction', () => {
    expect(() => parseContainerfile('FROM scratch\nFROB x')).toThrow(
      new ContainerfileError(
        'unknown instruction "FROB"; Flotilla supports FROM, RUN, CMD, LABEL, EXPOSE, ENV, ADD, COPY, ENTRYPOINT, USER, WORKDIR, ARG, STOPSIGNAL, SHELL, MAINTAINER, VOLUME, HEALTHCHECK',
        2,
      ),
    );
    expect(() => parseContainerfile('# only a comment\n')).toThrow(/no instructions/);
  });
});

describe('word expansion', () => {
  const vars = new Map([
    ['NAME', 'flotilla'],
    ['EMPTY', ''],
    ['SPACED', 'a b'],
  ]);

  it('expands $VAR, ${VAR}, defaults and alternatives, but not in single quotes or after \\$', () => {
    expect(
      expandWords(
        '$NAME ${NAME}-x ${MISSING:-fallback} ${EMPTY:-d} ${NAME:+set} ${MISSING:+never} \'$NAME\' \\$NAME "$SPACED"',
        vars,
      ),
    ).toEqual(
      ['flotilla', 'flotilla-x', 'fallback', 'd', 'set', '', '$NAME', '$NAME', 'a b'].filter(
        (word, index) => index !== 5,
      ),
    );
    expect(expandText('/srv/$NAME app', vars)).toBe('/srv/flotilla app');
  });

  it('rejects bad substitutions and open quotes with the line', () => {
    expect(() => expandWords('${NAME', vars, 3)).toThrow('line 3: unterminated ${');
    expect(() => expandWords('${NAME?x}', vars, 4)).toThrow(/bad substitution/);
    expect(() => expandWords('"open', vars, 5)).toThrow(/unterminated " quote/);
  });

  it('splits KEY=value pairs and the legacy ENV form', () => {
    expect(parseKeyValues('A=1 B="two words" C=$NAME', 'ENV', 1, vars)).toEqual([
      ['A', '1'],
      ['B', 'two words'],
      ['C', 'flotilla'],
    ]);
    expect(parseKeyValues('GREETING hello world', 'ENV', 1, vars)).toEqual([['GREETING', 'hello world']]);
    expect(parseKeyValues('VERSION', 'ARG', 1, vars)).toEqual([['VERSION', '']]);
    expect(() => parseKeyValues('=x', 'LABEL', 7, vars)).toThrow('line 7: LABEL expects KEY=value pairs');
  });
});
