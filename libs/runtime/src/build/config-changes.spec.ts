import { applyConfigChanges } from './config-changes';

describe('applyConfigChanges', () => {
  it('applies Dockerfile-style changes on top of a config', () => {
    const result = applyConfigChanges({ Env: ['PATH=/bin', 'HOME=/root'], Cmd: ['sh'] }, [
      'CMD ["/app", "--serve"]',
      'ENTRYPOINT /entry.sh',
      'ENV MODE=prod PATH=$PATH:/app',
      'EXPOSE 8080 53/udp',
      'LABEL team=infra',
      'USER www-data',
      'WORKDIR /srv',
      'STOPSIGNAL SIGINT',
      'VOLUME ["/data"]',
    ]);
    expect(result).toEqual({
      Env: ['PATH=/bin:/app', 'HOME=/root', 'MODE=prod'],
      Cmd: ['/app', '--serve'],
      Entrypoint: ['/bin/sh', '-c', '/entry.sh'],
      ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
      Labels: { team: 'infra' },
      User: 'www-data',
      WorkingDir: '/srv',
      StopSignal: 'SIGINT',
      Volumes: { '/data': {} },
    });
  });

  it('refuses instructions that would need a build', () => {
    expect(() => applyConfigChanges({}, ['RUN rm -rf /'])).toThrow(
      '--change "RUN rm -rf /": only CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL can be changed on commit',
    );
    expect(() => applyConfigChanges({}, ['EXPOSE http'])).toThrow(/http is not a port/);
  });
});
