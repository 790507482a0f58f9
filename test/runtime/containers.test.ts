// The container runtime on real namespaces, mounts and processes: isolation, the security baseline
// Docker users expect, exit codes and logs. Needs root; fails with the reason otherwise.
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ContainerManager, resizeExec, type LogEntry } from '@flotilla/runtime';
import { until } from '../support/eventually';
import { containerTestBed, runToEnd, type ContainerTestBed } from './containers.fixture';

let bed: ContainerTestBed;
beforeAll(async () => {
  bed = await containerTestBed('containers');
});
afterAll(() => bed?.cleanup());

const sh = (script: string): string[] => ['/bin/sh', '-c', script];

describe('container isolation', () => {
  it('runs the command as PID 1 with its own hostname', async () => {
    const result = await runToEnd(bed.manager, {
      rootfsDir: bed.rootfs,
      hostname: 'box-one',
      command: sh('echo pid=$$; hostname'),
    });
    expect(result.stdout).toBe('pid=1\nbox-one\n');
    expect(execFileSync('hostname', { encoding: 'utf8' }).trim()).not.toBe('box-one');
  });

  it('does not see a SysV message queue created on the host', async () => {
    const queueId = execFileSync('ipcmk', ['-Q'], { encoding: 'utf8' }).match(/(\d+)/)?.[1] ?? '';
    try {
      expect(execFileSync('ipcs', ['-q'], { encoding: 'utf8' })).toContain(queueId);
      const result = await runToEnd(bed.manager, {
        rootfsDir: bed.rootfs,
        command: sh('cat /proc/sysvipc/msg'),
      });
      expect(result.stdout.trim().split('\n')).toHaveLength(1); // the header line only
    } finally {
      execFileSync('ipcrm', ['-q', queueId]);
    }
  });

  it('writes land in the container upper dir, never in the image', async () => {
    const result = await runToEnd(bed.manager, {
      rootfsDir: bed.rootfs,
      command: sh('echo written > /etc/new-file && rm /bin/vi && cat /etc/new-file'),
    });
    expect(result.stdout).toBe('written\n');
    const info = await bed.manager.inspect(result.id);
    expect(await readFile(join(info.rootfs.upperDir, 'etc', 'new-file'), 'utf8')).toBe('written\n');
    await expect(stat(join(bed.rootfs, 'etc', 'new-file'))).rejects.toThrow('ENOENT');
    expect((await stat(join(bed.rootfs, 'bin', 'vi'))).isFile()).toBe(true);
  });

  it('sees a fresh /proc with only its own processes and a /dev with the default devices', async () => {
    const result = await runToEnd(bed.manager, {
      rootfsDir: bed.rootfs,
      command: sh('ls /proc | grep -c "^[0-9]"; ls /dev | tr "\\n" " "'),
    });
    const [processCount, devices] = result.stdout.split('\n');
    expect(Number(processCount)).toBeLessThanOrEqual(3); // sh, ls, grep at most
    expect(devices?.trim().split(' ').sort()).toEqual(
      [
        'core',
        'fd',
        'full',
        'mqueue',
        'null',
        'ptmx',
        'pts',
        'random',
        'shm',
        'stderr',
        'stdin',
        'stdout',
        'tty',
        'urandom',
        'zero',
      ].sort(),
    );
  });
});

describe('container volumes', () => {
  it('binds host directories read-write and read-only, and refuses a target that climbs out', async () => {
    const shared = join(bed.root, 'shared');
    const readOnly = join(bed.root, 'read-only');
    await mkdir(shared);
    await mkdir(readOnly);
    await writeFile(join(readOnly, 'config'), 'from the host\n');
    const result = await runToEnd(bed.manager, {
      rootfsDir: bed.rootfs,
      volumes: [
        { source: shared, target: '/data', readOnly: false },
        { source: readOnly, target: '/etc/app', readOnly: true },
      ],
      command: sh(
        'echo written > /data/out; cat /etc/app/config; echo no > /etc/app/config 2>/dev/null || echo ro',
      ),
    });
    expect(result.stdout).toBe('from the host\nro\n');
    expect(await readFile(join(shared, 'out'), 'utf8')).toBe('written\n');
    expect(await readFile(join(readOnly, 'config'), 'utf8')).toBe('from the host\n');

    await expect(
      bed.manager.create({
        rootfsDir: bed.rootfs,
        volumes: [{ source: shared, target: '/x/../../etc', readOnly: false }],
        command: ['true'],
      }),
    ).rejects.toThrow('may not contain ".."');
  });
});

describe('container network without a bridge', () => {
  it('has only its own loopback interface, and it is up', async () => {
    const result = await runToEnd(bed.manager, {
      rootfsDir: bed.rootfs,
      network: 'none',
      command: sh('ls /sys/class/net; cat /sys/class/net/lo/flags'),
    });
    expect(result.stdout).toBe('lo\n0x9\n');
  });
});

describe('container security baseline', () => {
  it('holds Docker default capabilities and no_new_privs', async () => {
    const result = await runToEnd(bed.manager, {
      rootfsDir: bed.rootfs,
      command: sh('grep -E "^(CapInh|CapEff|CapBnd|NoNewPrivs)" /proc/$$/status'),
    });
    expect(result.stdout.trim().split('\n')).toEqual([
      'CapInh:\t0000000000000000',
      'CapEff:\t00000000a80425fb',
      'CapBnd:\t00000000a80425fb',
      'NoNewPrivs:\t1',
    ]);
  });

  it('starts the program with only fds 0, 1 and 2 open', async () => {
    const info = await bed.manager.create({ rootfsDir: bed.rootfs, command: ['/bin/sleep', '1000'] });
    const running = await bed.manager.start(info.id);
    const pid = running.state.pid ?? 0;
    expect(pid).toBeGreaterThan(0);
    expect((await readdir(`/proc/${pid}/fd`)).sort()).toEqual(['0', '1', '2']);
    await bed.manager.stop(info.id, { timeoutSeconds: 0 });
  });

  it('drops every capability for a non-root user and looks the user up in the image', async () => {
    const result = await runToEnd(bed.manager, {
      rootfsDir: bed.rootfs,
      user: 'web',
      command: sh('id; grep CapEff /proc/$$/status; echo $HOME'),
    });
    expect(result.stdout).toBe(
      'uid=1000(web) gid=1000(web) groups=50(staff)\nCapEff:\t0000000000000000\n/home/web\n',
    );
  });

  it('masks Docker masked paths and makes /proc/sys and /sys read-only', async () => {
    const result = await runToEnd(bed.manager, {
      rootfsDir: bed.rootfs,
      command: sh(
        'cat /proc/timer_list | wc -c; ls /sys/firmware | wc -l; ' +
          'echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo proc-sys-ro; ' +
          'touch /sys/x 2>/dev/null || echo sys-ro',
      ),
    });
    expect(result.stdout).toBe('0\n0\nproc-sys-ro\nsys-ro\n');
  });

  it('refuses a WORKDIR that goes through /proc/self/fd', async () => {
    const info = await bed.manager.create({
      rootfsDir: bed.rootfs,
      workingDir: '/proc/self/fd/3',
      command: ['/bin/pwd'],
    });
    await expect(bed.manager.start(info.id)).rejects.toThrow(
      /did not start: working directory \/proc\/self\/fd\/3/,
    );
    expect((await bed.manager.inspect(info.id)).state.status).toBe('created');
  });

  it('keeps an image whose /dev and /dev/null are symlinks to host paths from writing on the host', async () => {
    const evil = join(bed.root, 'evil');
    const victim = join(bed.root, 'victim');
    await mkdir(victim);
    execFileSync('cp', ['-a', bed.rootfs, evil]);
    await rm(join(evil, 'dev'), { recursive: true });
    await symlink(victim, join(evil, 'dev'));
    const result = await runToEnd(bed.manager, {
      rootfsDir: evil,
      command: sh('echo hi > /dev/null; ls /dev/null'),
    });
    expect(result).toMatchObject({ exitCode: 0, stdout: '/dev/null\n' });
    expect(execFileSync('ls', ['-A', victim], { encoding: 'utf8' })).toBe('');

    const evilNull = join(bed.root, 'evil-null');
    execFileSync('cp', ['-a', bed.rootfs, evilNull]);
    await writeFile(join(victim, 'target'), 'untouched');
    await symlink(join(victim, 'target'), join(evilNull, 'dev', 'null'));
    const second = await runToEnd(bed.manager, {
      rootfsDir: evilNull,
      command: sh('echo overwritten > /dev/null; echo ok'),
    });
    expect(second.stdout).toBe('ok\n');
    expect(await readFile(join(victim, 'target'), 'utf8')).toBe('untouched');
  });

  it('runs a #!/proc/self/exe program without handing it anything on the host to overwrite', async () => {
    const evil = join(bed.root, 'evil-exe');
    execFileSync('cp', ['-a', bed.rootfs, evil]);
    await writeFile(join(evil, 'bin', 'evil'), '#!/proc/self/exe\n', { mode: 0o755 });
    const shimPath = join(__dirname, '..', '..', 'native', 'shim', 'flotilla-shim');
    const before = await readFile(shimPath);
    const result = await runToEnd(bed.manager, {
      rootfsDir: evil,
      command: sh('/bin/evil; readlink /proc/self/exe; echo done'),
    });
    expect(result.stdout).toContain('done');
    expect(result.stdout).not.toContain(shimPath);
    expect((await readFile(shimPath)).equals(before)).toBe(true);
  });
});

describe('container lifecycle', () => {
  it('records exit codes and signals', async () => {
    expect((await runToEnd(bed.manager, { rootfsDir: bed.rootfs, command: sh('exit 7') })).exitCode).toBe(7);
    const sleeper = await bed.manager.create({ rootfsDir: bed.rootfs, command: ['/bin/sleep', '1000'] });
    await bed.manager.start(sleeper.id);
    await bed.manager.kill(sleeper.id, 'KILL');
    expect(await bed.manager.wait(sleeper.id)).toMatchObject({ exitCode: 137, signal: 9, oomKilled: false });
    const missing = await bed.manager.create({ rootfsDir: bed.rootfs, command: ['/no/such/program'] });
    await expect(bed.manager.start(missing.id)).rejects.toThrow(
      'executable file not found: /no/such/program',
    );
  });

  it('lists an exited autoRemove container no more, removing it when no shim did (no exit command here)', async () => {
    const info = await bed.manager.create({ rootfsDir: bed.rootfs, command: sh('exit 0'), autoRemove: true });
    await bed.manager.start(info.id);
    await bed.manager.wait(info.id);
    await until('the shim of the exited container to end', async () => {
      const shim = Number((await readFile(join(info.directory, 'shim.pid'), 'utf8')).split(' ')[0]);
      return !existsSync(`/proc/${shim}`);
    });
    expect((await bed.manager.list({ all: true })).map((listed) => listed.id)).not.toContain(info.id);
    await expect(bed.manager.inspect(info.id)).rejects.toThrow('no such container');
  });

  it('starts the same way when the shim is spawned directly instead of through the resident launcher', async () => {
    const direct = new ContainerManager({ stateDir: bed.stateDir, residentLauncher: false });
    const result = await runToEnd(direct, { rootfsDir: bed.rootfs, command: sh('echo pid=$$; exit 3') });
    expect(result).toMatchObject({ stdout: 'pid=1\n', exitCode: 3 });
    await expect(
      direct.start((await direct.create({ rootfsDir: bed.rootfs, command: ['/no/such'] })).id),
    ).rejects.toThrow('executable file not found: /no/such');
  });

  it('stops with the stop signal, then SIGKILL once the grace period is over', async () => {
    const polite = await bed.manager.create({
      rootfsDir: bed.rootfs,
      command: sh('trap "echo got-term; exit 0" TERM; echo trap-set; while true; do sleep 0.1; done'),
    });
    await bed.manager.start(polite.id);
    // SIGTERM before the shell has set its trap would be ignored (PID 1 without a handler): wait for it.
    for (let attempt = 0; attempt < 100; attempt++) {
      const lines: string[] = [];
      for await (const entry of await bed.manager.logs(polite.id)) lines.push(entry.content);
      if (lines.includes('trap-set')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const stopped = await bed.manager.stop(polite.id, { timeoutSeconds: 30 });
    expect(stopped.state.exit?.exitCode).toBe(0);

    // PID 1 without a handler ignores SIGTERM: only the SIGKILL after the grace period ends it.
    const stubborn = await bed.manager.create({ rootfsDir: bed.rootfs, command: ['/bin/sleep', '1000'] });
    await bed.manager.start(stubborn.id);
    const killed = await bed.manager.stop(stubborn.id, { timeoutSeconds: 1 });
    expect(killed.state.exit).toMatchObject({ exitCode: 137, signal: 9 });
    await expect(bed.manager.stop(stubborn.id)).rejects.toThrow('already stopped');
    await expect(bed.manager.start(stubborn.id)).resolves.toMatchObject({ restartCount: 1 });
    await expect(bed.manager.remove(stubborn.id)).rejects.toThrow('--force');
    await bed.manager.remove(stubborn.id, { force: true });
    await expect(bed.manager.inspect(stubborn.id)).rejects.toThrow('no such container');
  });

  it('keeps logs with timestamps after exit, with tail and since', async () => {
    const result = await runToEnd(bed.manager, {
      rootfsDir: bed.rootfs,
      command: sh('echo one; echo two >&2; echo three'),
    });
    const entries: LogEntry[] = [];
    for await (const entry of await bed.manager.logs(result.id)) entries.push(entry);
    // Each stream keeps its order; how the two interleave depends on which pipe the shim reads first.
    const lines = (stream: string): string[] =>
      entries.filter((entry) => entry.stream === stream).map((entry) => entry.content);
    expect(lines('stdout')).toEqual(['one', 'three']);
    expect(lines('stderr')).toEqual(['two']);
    for (const entry of entries) expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const tail: string[] = [];
    for await (const entry of await bed.manager.logs(result.id, { tail: 1 })) tail.push(entry.content);
    expect(tail).toEqual([entries[2]?.content]);
    const since = [];
    for await (const entry of await bed.manager.logs(result.id, { since: new Date(Date.now() + 60_000) }))
      since.push(entry);
    expect(since).toEqual([]);
  });

  it('follows logs of a running container until it exits', async () => {
    const info = await bed.manager.create({
      rootfsDir: bed.rootfs,
      command: sh('for i in 1 2 3; do echo line$i; sleep 0.2; done'),
    });
    await bed.manager.start(info.id);
    const lines = [];
    for await (const entry of await bed.manager.logs(info.id, { follow: true })) lines.push(entry.content);
    expect(lines).toEqual(['line1', 'line2', 'line3']);
  });

  it('keeps running after the process that started it exits, and another process can stop it', async () => {
    const info = await bed.manager.create({
      rootfsDir: bed.rootfs,
      name: `survivor-${process.pid}`,
      command: ['/bin/sleep', '1000'],
    });
    // A separate Node process starts the shim the way the manager does, then exits.
    const launcher = `
      const { spawn } = require('node:child_process');
      const child = spawn(process.argv[1], ['run', process.argv[2], '3'], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
      let text = '';
      child.stdio[3].on('data', (d) => (text += d));
      child.stdio[3].on('end', () => { process.stdout.write(text); process.exit(text.includes('started') ? 0 : 1); });`;
    const shimPath = join(__dirname, '..', '..', 'native', 'shim', 'flotilla-shim');
    // The manager writes shim.conf when it starts a container; start it once to get one, then stop.
    await bed.manager.start(info.id);
    await bed.manager.stop(info.id, { timeoutSeconds: 0 });
    await rm(join(info.directory, 'status'));
    const exitCode = await new Promise<number | null>((resolve) => {
      spawn(process.execPath, ['-e', launcher, shimPath, info.directory], { stdio: 'inherit' }).on(
        'exit',
        resolve,
      );
    });
    expect(exitCode).toBe(0);
    const running = await bed.manager.inspect(info.name);
    expect(running.state.status).toBe('running');
    const shimPid = Number((await readFile(join(info.directory, 'shim.pid'), 'utf8')).split(' ')[0]);
    const parent = (await readFile(`/proc/${shimPid}/stat`, 'utf8')).split(') ')[1]?.split(' ')[1];
    expect(Number(parent)).not.toBe(process.pid);
    const stopped = await bed.manager.stop(info.name, { timeoutSeconds: 0 });
    expect(stopped.state.status).toBe('stopped');
  });

  it('execs into the running container in the same namespaces', async () => {
    const info = await bed.manager.create({
      rootfsDir: bed.rootfs,
      hostname: 'exec-box',
      command: ['/bin/sleep', '1000'],
    });
    await bed.manager.start(info.id);
    const child = await bed.manager.exec(info.id, {
      args: sh('hostname; echo $$; ps -o pid,comm | grep -c sleep; grep CapEff /proc/$$/status'),
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    const [hostname, pid, sleepers, caps] = output.trim().split('\n');
    expect(hostname).toBe('exec-box');
    expect(Number(pid)).toBeGreaterThan(1);
    expect(sleepers).toBe('1');
    expect(caps).toBe('CapEff:\t00000000a80425fb');
    await bed.manager.stop(info.id, { timeoutSeconds: 0 });
  });

  it("gives exec -t a terminal from the container's own devpts, with resizes and job control", async () => {
    const info = await bed.manager.create({ rootfsDir: bed.rootfs, command: ['/bin/sleep', '1000'] });
    await bed.manager.start(info.id);
    try {
      // An interactive shell: with a controlling terminal of its own it keeps job control on. The job is
      // killed with SIGKILL: an interactive shell ignores SIGTERM, and so does its child until exec.
      const child = await bed.manager.exec(info.id, { args: ['/bin/sh', '-i'], tty: true, resizable: true });
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      await until('the shell prompt', async () => output.includes('#'));
      resizeExec(child, { rows: 33, columns: 101 });
      child.stdin?.write('tty; stty size; sleep 600 & jobs; kill -9 %1; wait; echo done; exit 3\n');
      expect(await closed).toBe(3);
      expect(output).toMatch(/\/dev\/pts\/\d+\r?\n/);
      expect(output).not.toContain('not a tty');
      expect(output).toContain('33 101');
      expect(output).toMatch(/\[1\]\+? +Running +sleep 600/);
      expect(output).not.toContain('job control turned off');
      expect(output).toContain('done');
    } finally {
      await bed.manager.stop(info.id, { timeoutSeconds: 0 });
    }
  });

  it("refuses exec -t when the container's /dev/pts is no longer a devpts", async () => {
    const info = await bed.manager.create({ rootfsDir: bed.rootfs, command: ['/bin/sleep', '1000'] });
    await bed.manager.start(info.id);
    try {
      // As a hostile container could arrange with enough privilege: a plain directory over /dev/pts
      // with a ptmx of its choosing. Done from the host, into the container's mount namespace.
      const init = Number((await readFile(join(info.directory, 'init.pid'), 'utf8')).split(' ')[0]);
      execFileSync('nsenter', [
        '-t',
        String(init),
        '-m',
        'sh',
        '-c',
        'mount -t tmpfs fake /dev/pts && touch /dev/pts/ptmx',
      ]);
      const child = await bed.manager.exec(info.id, {
        args: ['/bin/sh', '-c', 'tty'],
        tty: true,
        resizable: true,
      });
      let errors = '';
      child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code).not.toBe(0);
      expect(errors).toContain("the container's /dev/pts is not a devpts file system");
    } finally {
      await bed.manager.stop(info.id, { timeoutSeconds: 0 });
    }
  });
});
