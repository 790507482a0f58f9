// A container's environment as kubelet builds it: envFrom sources first (ConfigMap or Secret keys,
// with a prefix), then env entries in order, each value expanded with $(NAME) references to what came
// before; command and args are then expanded against the finished environment. ConfigMaps and Secrets
// are looked up in objects the caller fetched already, so this stays pure.
//
// Worked example: env [A=x, B=$(A)-y, C=$$(A), D=$(NOPE)] gives A=x, B=x-y, C=$(A), D=$(NOPE);
// args ["echo", "$(B)"] become ["echo", "x-y"].
import { Quantity, type ConfigMap, type Container, type Pod, type Secret } from '@flotilla/api';

export type ReferencedKind = 'ConfigMap' | 'Secret';

export interface ObjectReference {
  kind: ReferencedKind;
  name: string;
}

/** A container cannot be configured (kubelet's CreateContainerConfigError); the message says why. */
export class ContainerConfigError extends Error {
  override readonly name = 'ContainerConfigError';
}

export interface EnvContext {
  pod: Pod;
  nodeName: string;
  podIP?: string;
  hostIP?: string;
  /** Fetched ConfigMaps and Secrets by kind and name; absent: not found. */
  objects: ReadonlyMap<string, ConfigMap | Secret>;
  /** Node allocatable, the value of a resourceFieldRef to a limit the container does not set. */
  allocatable?: { cpuMillicores?: number; memoryBytes?: number };
}

export function objectKey(kind: ReferencedKind, name: string): string {
  return `${kind}/${name}`;
}

/** Kubernetes' expansion.Expand: $(NAME) from vars, $$ escapes, anything unknown is left as written. */
export function expandVars(input: string, vars: ReadonlyMap<string, string>): string {
  let output = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    output += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    if (next === '$') {
      output += '$';
      cursor += 1;
    } else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close === -1) {
        output += '$(';
        cursor += 1;
      } else {
        const name = input.slice(cursor + 2, close);
        output += vars.get(name) ?? `$(${name})`;
        cursor = close;
      }
    } else {
      output += `$${next ?? ''}`;
      cursor += 1;
    }
    checkpoint = cursor + 1;
  }
  return output + input.slice(checkpoint);
}

/** The ConfigMaps and Secrets a container's environment needs (for the caller to fetch). */
export function referencedObjects(container: Container): ObjectReference[] {
  const found = new Map<string, ObjectReference>();
  const add = (kind: ReferencedKind, name: string | undefined): void => {
    if (name) found.set(objectKey(kind, name), { kind, name });
  };
  for (const source of container.envFrom ?? []) {
    add('ConfigMap', source.configMapRef?.name);
    add('Secret', source.secretRef?.name);
  }
  for (const entry of container.env ?? []) {
    add('ConfigMap', entry.valueFrom?.configMapKeyRef?.name);
    add('Secret', entry.valueFrom?.secretKeyRef?.name);
  }
  return [...found.values()];
}

/** The object's data as text: ConfigMap data and binaryData, Secret data (base64) decoded. */
export function objectData(kind: ReferencedKind, object: ConfigMap | Secret): Map<string, Buffer> {
  const data = new Map<string, Buffer>();
  if (kind === 'ConfigMap') {
    const configMap = object as ConfigMap;
    for (const [key, value] of Object.entries(configMap.data ?? {}))
      data.set(key, Buffer.from(value, 'utf8'));
    for (const [key, value] of Object.entries(configMap.binaryData ?? {}))
      data.set(key, Buffer.from(value, 'base64'));
  } else {
    const secret = object as Secret;
    for (const [key, value] of Object.entries(secret.data ?? {})) data.set(key, Buffer.from(value, 'base64'));
    for (const [key, value] of Object.entries(secret.stringData ?? {}))
      data.set(key, Buffer.from(value, 'utf8'));
  }
  return data;
}

function lookup(context: EnvContext, kind: ReferencedKind, name: string): Map<string, Buffer> | undefined {
  const object = context.objects.get(objectKey(kind, name));
  return object === undefined ? undefined : objectData(kind, object);
}

function notFound(kind: ReferencedKind, name: string): ContainerConfigError {
  return new ContainerConfigError(`${kind === 'ConfigMap' ? 'configmap' : 'secret'} "${name}" not found`);
}

const LABEL_PATH = /^metadata\.(labels|annotations)\['(.+)'\]$/;

export function fieldRefValue(fieldPath: string, context: EnvContext): string {
  const { pod } = context;
  const labelMatch = LABEL_PATH.exec(fieldPath);
  if (labelMatch) {
    const map = labelMatch[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations;
    return map?.[labelMatch[2] ?? ''] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? 'default';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return pod.spec.nodeName ?? context.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      return context.podIP ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return context.hostIP ?? '';
    default:
      throw new ContainerConfigError(`unsupported fieldRef ${JSON.stringify(fieldPath)}`);
  }
}

function resourceFieldValue(
  container: Container,
  resource: string,
  divisorText: string | number | undefined,
  context: EnvContext,
): string {
  const [kind, name] = resource.split('.');
  if ((kind !== 'limits' && kind !== 'requests') || (name !== 'cpu' && name !== 'memory')) {
    throw new ContainerConfigError(`unsupported resourceFieldRef ${JSON.stringify(resource)}`);
  }
  const list = kind === 'limits' ? container.resources?.limits : container.resources?.requests;
  let value = list?.[name] !== undefined ? Quantity.parse(String(list[name])) : undefined;
  if (value === undefined && kind === 'limits') {
    const allocatable =
      name === 'cpu' ? context.allocatable?.cpuMillicores : context.allocatable?.memoryBytes;
    if (allocatable !== undefined)
      value = name === 'cpu' ? Quantity.fromMilli(allocatable) : Quantity.fromInteger(allocatable);
  }
  if (value === undefined) return '0';
  const divisor = Quantity.parse(String(divisorText ?? '1'));
  if (divisor.isZero()) throw new ContainerConfigError(`resourceFieldRef ${resource} has a zero divisor`);
  const quotient = value.nanos / divisor.nanos + (value.nanos % divisor.nanos === 0n ? 0n : 1n);
  return quotient.toString();
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** The container's environment as NAME=value entries, in kubelet's order and precedence. */
export function containerEnv(container: Container, context: EnvContext): string[] {
  const vars = new Map<string, string>();
  for (const source of container.envFrom ?? []) {
    const kind: ReferencedKind = source.configMapRef ? 'ConfigMap' : 'Secret';
    const reference = source.configMapRef ?? source.secretRef;
    if (!reference) continue;
    const data = lookup(context, kind, reference.name);
    if (data === undefined) {
      if (reference.optional) continue;
      throw notFound(kind, reference.name);
    }
    for (const [key, value] of data) {
      const name = `${source.prefix ?? ''}${key}`;
      // kubelet skips keys that are no valid variable names (and records an event).
      if (ENV_NAME.test(name)) vars.set(name, value.toString('utf8'));
    }
  }
  for (const entry of container.env ?? []) {
    const from = entry.valueFrom;
    if (from === undefined) {
      vars.set(entry.name, expandVars(entry.value ?? '', vars));
      continue;
    }
    const keyRef = from.configMapKeyRef ?? from.secretKeyRef;
    if (keyRef) {
      const kind: ReferencedKind = from.configMapKeyRef ? 'ConfigMap' : 'Secret';
      const data = lookup(context, kind, keyRef.name);
      if (data === undefined) {
        if (keyRef.optional) continue;
        throw notFound(kind, keyRef.name);
      }
      const value = data.get(keyRef.key);
      if (value === undefined) {
        if (keyRef.optional) continue;
        const namespace = context.pod.metadata.namespace ?? 'default';
        throw new ContainerConfigError(
          `couldn't find key ${keyRef.key} in ${kind} ${namespace}/${keyRef.name}`,
        );
      }
      vars.set(entry.name, value.toString('utf8'));
    } else if (from.fieldRef) {
      vars.set(entry.name, fieldRefValue(from.fieldRef.fieldPath, context));
    } else if (from.resourceFieldRef) {
      const target = from.resourceFieldRef.containerName
        ? [...context.pod.spec.containers, ...(context.pod.spec.initContainers ?? [])].find(
            (candidate) => candidate.name === from.resourceFieldRef?.containerName,
          )
        : container;
      if (!target) {
        throw new ContainerConfigError(
          `resourceFieldRef names container ${JSON.stringify(from.resourceFieldRef.containerName)}, which the pod does not have`,
        );
      }
      vars.set(
        entry.name,
        resourceFieldValue(target, from.resourceFieldRef.resource, from.resourceFieldRef.divisor, context),
      );
    }
  }
  return [...vars].map(([name, value]) => `${name}=${value}`);
}

/** command and args with $(NAME) expanded against the container's environment. */
export function expandCommand(
  words: readonly string[] | undefined,
  env: readonly string[],
): string[] | undefined {
  if (words === undefined) return undefined;
  const vars = new Map<string, string>();
  for (const entry of env) {
    const equals = entry.indexOf('=');
    vars.set(entry.slice(0, equals), entry.slice(equals + 1));
  }
  return words.map((word) => expandVars(word, vars));
}
