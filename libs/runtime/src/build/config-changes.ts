// Dockerfile-style changes to an image's runtime config without a build: `container commit --change`
// ("CMD [...]", "ENV K=v", "EXPOSE 80", ...), with the same syntax and expansion as a Containerfile.
import type { ContainerConfig } from '../images/oci.types';
import {
  ContainerfileError,
  expandText,
  expandWords,
  parseContainerfile,
  parseKeyValues,
} from './containerfile.parser';

const ALLOWED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'USER', 'VOLUME', 'WORKDIR', 'STOPSIGNAL'];
const SHELL = ['/bin/sh', '-c'];

export function applyConfigChanges(config: ContainerConfig, changes: readonly string[]): ContainerConfig {
  let result: ContainerConfig = { ...config };
  for (const change of changes) {
    const [instruction] = parseContainerfile(change);
    if (instruction === undefined) continue;
    if (!ALLOWED.includes(instruction.keyword)) {
      throw new ContainerfileError(
        `--change "${change}": only ${ALLOWED.join(', ')} can be changed on commit`,
      );
    }
    const variables = new Map(
      (result.Env ?? []).map(
        (entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] as const,
      ),
    );
    const command = (): string[] =>
      instruction.json !== undefined ? [...instruction.json] : [...SHELL, instruction.text];
    switch (instruction.keyword) {
      case 'CMD':
        result = { ...result, Cmd: command() };
        break;
      case 'ENTRYPOINT':
        result = { ...result, Entrypoint: command() };
        break;
      case 'ENV': {
        const env = new Map(
          (result.Env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry] as const),
        );
        for (const [key, value] of parseKeyValues(instruction.text, 'ENV', 1, variables))
          env.set(key, `${key}=${value}`);
        result = { ...result, Env: [...env.values()] };
        break;
      }
      case 'LABEL': {
        const labels = { ...(result.Labels ?? {}) };
        for (const [key, value] of parseKeyValues(instruction.text, 'LABEL', 1, variables))
          labels[key] = value;
        result = { ...result, Labels: labels };
        break;
      }
      case 'EXPOSE': {
        const ports = { ...(result.ExposedPorts ?? {}) };
        for (const word of expandWords(instruction.text, variables)) {
          const match = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(word);
          if (match === null)
            throw new ContainerfileError(`--change "${change}": ${word} is not a port like 80 or 53/udp`);
          ports[`${Number(match[1])}/${(match[2] ?? 'tcp').toLowerCase()}`] = {};
        }
        result = { ...result, ExposedPorts: ports };
        break;
      }
      case 'VOLUME': {
        const paths = instruction.json ?? expandWords(instruction.text, variables);
        result = {
          ...result,
          Volumes: { ...(result.Volumes ?? {}), ...Object.fromEntries(paths.map((path) => [path, {}])) },
        };
        break;
      }
      case 'USER':
        result = { ...result, User: expandText(instruction.text, variables) };
        break;
      case 'WORKDIR':
        result = { ...result, WorkingDir: expandText(instruction.text, variables) };
        break;
      case 'STOPSIGNAL':
        result = { ...result, StopSignal: expandText(instruction.text, variables) };
        break;
    }
  }
  return result;
}
