// One probe attempt, as kubelet's prober makes it: exec runs the command in the container (exit 0
// passes), httpGet asks the pod's address from the node (a status from 200 to 399 passes), tcpSocket
// opens a connection. Each attempt is bounded by timeoutSeconds; a timeout is a failure.
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Container, IntOrString, Probe } from '@flotilla/api';

export type ProbeOutcome = { ok: true } | { ok: false; message: string };

export interface ProbeTarget {
  container: Container;
  /** The pod's address (the node's for hostNetwork pods). */
  host: string;
  /** Runs a command in the container (ContainerManager.exec through the engine). */
  exec(command: string[]): Promise<ChildProcess>;
}

/** A named port resolves through the container's ports, as Kubernetes does. */
export function resolvePort(port: IntOrString, container: Container): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = container.ports?.find((candidate) => candidate.name === port);
  if (!named) throw new Error(`port "${port}" is not a named port of container ${container.name}`);
  return named.containerPort;
}

function withTimeout(
  timeoutMs: number,
  attempt: (settle: (outcome: ProbeOutcome) => void, onTimeout: (cancel: () => void) => void) => void,
): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let done = false;
    let cancel: () => void = () => undefined;
    const settle = (outcome: ProbeOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      cancel();
      settle({ ok: false, message: `probe timed out after ${timeoutMs / 1000}s` });
    }, timeoutMs);
    try {
      attempt(settle, (registered) => (cancel = registered));
    } catch (error) {
      settle({ ok: false, message: (error as Error).message });
    }
  });
}

function execProbe(command: string[], target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  return withTimeout(timeoutMs, (settle, onTimeout) => {
    target.exec(command).then(
      (child) => {
        onTimeout(() => child.kill('SIGKILL'));
        let output = '';
        const keep = (chunk: Buffer): void => {
          if (output.length < 1024) output += chunk.toString();
        };
        child.stdout?.on('data', keep);
        child.stderr?.on('data', keep);
        child.stdin?.end();
        child.once('error', (error) => settle({ ok: false, message: error.message }));
        child.once('close', (code, signal) =>
          settle(
            code === 0
              ? { ok: true }
              : {
                  ok: false,
                  message: `command ${JSON.stringify(command)} exited with ${code ?? `signal ${signal ?? '?'}`}: ${output.trim()}`,
                },
          ),
        );
      },
      (error: unknown) => settle({ ok: false, message: (error as Error).message }),
    );
  });
}

function httpProbe(
  probe: NonNullable<Probe['httpGet']>,
  target: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeOutcome> {
  return withTimeout(timeoutMs, (settle, onTimeout) => {
    const port = resolvePort(probe.port, target.container);
    const host = probe.host ?? target.host;
    const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.32', accept: '*/*' };
    for (const header of probe.httpHeaders ?? []) headers[header.name.toLowerCase()] = header.value;
    const send = probe.scheme === 'HTTPS' ? httpsRequest : request;
    const req = send(
      {
        host,
        port,
        path: probe.path ?? '/',
        method: 'GET',
        headers,
        // kubelet does not verify the certificate of an HTTPS probe.
        ...(probe.scheme === 'HTTPS' ? { rejectUnauthorized: false } : {}),
      },
      (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        settle(
          status >= 200 && status < 400
            ? { ok: true }
            : { ok: false, message: `HTTP probe failed with statuscode: ${status}` },
        );
      },
    );
    onTimeout(() => req.destroy());
    req.once('error', (error) =>
      settle({ ok: false, message: `Get "http://${host}:${port}${probe.path ?? '/'}": ${error.message}` }),
    );
    req.end();
  });
}

function tcpProbe(
  probe: NonNullable<Probe['tcpSocket']>,
  target: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeOutcome> {
  return withTimeout(timeoutMs, (settle, onTimeout) => {
    const port = resolvePort(probe.port, target.container);
    const host = probe.host ?? target.host;
    const socket = connect({ host, port });
    onTimeout(() => socket.destroy());
    socket.once('connect', () => {
      socket.destroy();
      settle({ ok: true });
    });
    socket.once('error', (error) =>
      settle({ ok: false, message: `dial tcp ${host}:${port}: ${error.message}` }),
    );
  });
}

export function runProbe(probe: Probe, target: ProbeTarget): Promise<ProbeOutcome> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.exec?.command) return execProbe(probe.exec.command, target, timeoutMs);
  if (probe.httpGet) return httpProbe(probe.httpGet, target, timeoutMs);
  if (probe.tcpSocket) return tcpProbe(probe.tcpSocket, target, timeoutMs);
  return Promise.resolve({ ok: false, message: 'the probe has no exec, httpGet or tcpSocket handler' });
}
