// Kubernetes' cross-field rules beyond what the DTOs express one field at a time, in the words of
// k8s.io/kubernetes/pkg/apis/*/validation: one handler per probe, one source per volume, toleration
// operators, Service IPs and ports, HPA metric sources and targets, deployment deadlines, taints.
import { isIP } from 'node:net';
import type { StatusCause } from '../meta/object.types';
import {
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
} from '../names';
import { at, describeValue, isJson, objectList, record, stringRecord, type Json } from './json-shape';

const invalid = (field: string, value: unknown, detail: string): StatusCause => ({
  reason: 'FieldValueInvalid',
  message: `Invalid value: ${describeValue(value)}: ${detail}`,
  field,
});
const required = (field: string, detail?: string): StatusCause => ({
  reason: 'FieldValueRequired',
  message: detail ? `Required value: ${detail}` : 'Required value',
  field,
});
const forbidden = (field: string, detail: string): StatusCause => ({
  reason: 'FieldValueForbidden',
  message: `Forbidden: ${detail}`,
  field,
});
const duplicate = (field: string, value: unknown): StatusCause => ({
  reason: 'FieldValueDuplicate',
  message: `Duplicate value: ${describeValue(value)}`,
  field,
});

/** Which of the named one-of fields are set (Kubernetes allows exactly one handler or source). */
function setMembers(object: Json, members: readonly string[]): string[] {
  return members.filter((member) => object[member] !== undefined && object[member] !== null);
}

/** The rule each kind's names follow: Namespace a label, Service a DNS-1035 label, the rest subdomains. */
export function nameRuleFor(kind: string): (name: string) => string[] {
  if (kind === 'Namespace') return isDns1123Label;
  if (kind === 'Service') return isDns1035Label;
  return isDns1123Subdomain;
}

/** ValidateObjectMeta beyond the name: generateName as a prefix, the namespace, annotation keys. */
export function objectMetaRuleCauses(kind: string, object: unknown): StatusCause[] {
  const causes: StatusCause[] = [];
  const metadata = record(at(object, 'metadata'));
  const generateName = metadata['generateName'];
  if (typeof generateName === 'string' && generateName !== '') {
    // A prefix may end in '-': the random suffix follows it (Kubernetes masks the trailing dash).
    const masked = generateName.endsWith('-') ? `${generateName.slice(0, -1)}a` : generateName;
    causes.push(
      ...nameRuleFor(kind)(masked).map((problem) => invalid('metadata.generateName', generateName, problem)),
    );
  }
  const namespace = metadata['namespace'];
  if (typeof namespace === 'string' && namespace !== '') {
    causes.push(
      ...isDns1123Label(namespace).map((problem) => invalid('metadata.namespace', namespace, problem)),
    );
  }
  for (const key of Object.keys(record(metadata['annotations']))) {
    causes.push(
      ...isQualifiedName(key.toLowerCase()).map((problem) => invalid('metadata.annotations', key, problem)),
    );
  }
  return causes;
}

/** Label-shaped maps outside metadata: nodeSelector, Service selector. */
export function labelMapCauses(value: unknown, field: string): StatusCause[] {
  return Object.entries(stringRecord(value)).flatMap(([key, label]) => [
    ...isQualifiedName(key).map((problem) => invalid(field, key, problem)),
    ...isValidLabelValue(label).map((problem) => invalid(`${field}[${key}]`, label, problem)),
  ]);
}

const HANDLERS = ['exec', 'httpGet', 'tcpSocket'] as const;
const VOLUME_SOURCES = ['emptyDir', 'hostPath', 'configMap', 'secret'] as const;
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const ENV_VAR_NAME_MESSAGE =
  "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";
const STANDARD_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);

function handlerCauses(handler: Json, field: string): StatusCause[] {
  const set = setMembers(handler, HANDLERS);
  if (set.length === 0) return [required(field, 'must specify a handler type')];
  return set
    .slice(1)
    .map((extra) => forbidden(`${field}.${extra}`, 'may not specify more than 1 handler type'));
}

function resourceNameCauses(resources: unknown, field: string): StatusCause[] {
  return Object.keys(record(resources))
    .filter((name) => !STANDARD_RESOURCES.has(name) && !name.startsWith('hugepages-') && !name.includes('/'))
    .map((name) => invalid(`${field}[${name}]`, name, 'must be a standard resource type or fully qualified'));
}

function containerCauses(container: Json, field: string, init: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const value = container[probe];
    if (!isJson(value)) continue;
    if (init)
      causes.push(
        forbidden(`${field}.${probe}`, 'may not be set for init containers without restartPolicy=Always'),
      );
    else causes.push(...handlerCauses(value, `${field}.${probe}`));
  }
  const lifecycle = record(container['lifecycle']);
  if (init && container['lifecycle'] !== undefined) {
    causes.push(
      forbidden(`${field}.lifecycle`, 'may not be set for init containers without restartPolicy=Always'),
    );
  } else {
    for (const hook of ['postStart', 'preStop']) {
      if (isJson(lifecycle[hook]))
        causes.push(...handlerCauses(lifecycle[hook], `${field}.lifecycle.${hook}`));
    }
  }
  objectList(container['env']).forEach((env, index) => {
    const where = `${field}.env[${index}]`;
    const name = env['name'];
    if (typeof name === 'string' && !ENV_VAR_NAME.test(name))
      causes.push(invalid(`${where}.name`, name, ENV_VAR_NAME_MESSAGE));
    const valueFrom = env['valueFrom'];
    if (isJson(valueFrom)) {
      if (typeof env['value'] === 'string' && env['value'] !== '') {
        causes.push(invalid(`${where}.valueFrom`, '', 'may not be specified when `value` is not empty'));
      }
      const sources = setMembers(valueFrom, [
        'configMapKeyRef',
        'secretKeyRef',
        'fieldRef',
        'resourceFieldRef',
      ]);
      if (sources.length === 0)
        causes.push(
          invalid(
            `${where}.valueFrom`,
            '',
            'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`',
          ),
        );
      if (sources.length > 1)
        causes.push(
          invalid(`${where}.valueFrom`, '', 'may not have more than one field specified at a time'),
        );
    }
  });
  const mountPaths = new Set<string>();
  objectList(container['volumeMounts']).forEach((mount, index) => {
    const mountPath = mount['mountPath'];
    if (typeof mountPath !== 'string') return;
    if (mountPath === '') causes.push(required(`${field}.volumeMounts[${index}].mountPath`));
    else if (mountPaths.has(mountPath))
      causes.push(invalid(`${field}.volumeMounts[${index}].mountPath`, mountPath, 'must be unique'));
    mountPaths.add(mountPath);
  });
  const resources = record(container['resources']);
  causes.push(...resourceNameCauses(resources['requests'], `${field}.resources.requests`));
  causes.push(...resourceNameCauses(resources['limits'], `${field}.resources.limits`));
  return causes;
}

function tolerationCauses(toleration: Json, field: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const key = toleration['key'];
  const operator = toleration['operator'] ?? 'Equal';
  if (typeof key === 'string' && key !== '') {
    causes.push(...isQualifiedName(key).map((problem) => invalid(`${field}.key`, key, problem)));
  } else if (operator !== 'Exists') {
    causes.push(
      invalid(
        `${field}.operator`,
        operator,
        'operator must be Exists when `key` is empty, which means "match all values and all keys"',
      ),
    );
  }
  if (operator === 'Exists' && typeof toleration['value'] === 'string' && toleration['value'] !== '') {
    causes.push(invalid(`${field}.operator`, toleration, "value must be empty when `operator` is 'Exists'"));
  }
  if (
    toleration['tolerationSeconds'] !== undefined &&
    toleration['tolerationSeconds'] !== null &&
    toleration['effect'] !== 'NoExecute'
  ) {
    causes.push(
      invalid(
        `${field}.effect`,
        toleration['effect'] ?? '',
        "effect must be 'NoExecute' when `tolerationSeconds` is set",
      ),
    );
  }
  return causes;
}

/** ValidatePodSpec's rules for the fields we have, for a pod or a template at `path`. */
export function podSpecRuleCauses(spec: unknown, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const podSpec = record(spec);
  objectList(podSpec['volumes']).forEach((volume, index) => {
    const where = `${path}.volumes[${index}]`;
    const sources = setMembers(volume, VOLUME_SOURCES);
    if (sources.length === 0) causes.push(required(where, 'must specify a volume type'));
    sources
      .slice(1)
      .forEach((extra) =>
        causes.push(forbidden(`${where}.${extra}`, 'may not specify more than 1 volume type')),
      );
  });
  objectList(podSpec['initContainers']).forEach((container, index) =>
    causes.push(...containerCauses(container, `${path}.initContainers[${index}]`, true)),
  );
  const hostPorts = new Set<string>();
  objectList(podSpec['containers']).forEach((container, index) => {
    const where = `${path}.containers[${index}]`;
    causes.push(...containerCauses(container, where, false));
    objectList(container['ports']).forEach((port, portIndex) => {
      if (typeof port['hostPort'] !== 'number' || port['hostPort'] === 0) return;
      const hostPort = `${port['hostPort']}/${typeof port['protocol'] === 'string' ? port['protocol'] : 'TCP'}`;
      if (hostPorts.has(hostPort)) causes.push(duplicate(`${where}.ports[${portIndex}].hostPort`, hostPort));
      hostPorts.add(hostPort);
    });
  });
  objectList(podSpec['tolerations']).forEach((toleration, index) =>
    causes.push(...tolerationCauses(toleration, `${path}.tolerations[${index}]`)),
  );
  const nodeName = podSpec['nodeName'];
  if (typeof nodeName === 'string' && nodeName !== '') {
    causes.push(
      ...isDns1123Subdomain(nodeName).map((problem) => invalid(`${path}.nodeName`, nodeName, problem)),
    );
  }
  causes.push(...labelMapCauses(podSpec['nodeSelector'], `${path}.nodeSelector`));
  if (podSpec['dnsPolicy'] === 'None') {
    causes.push(required(`${path}.dnsConfig`, 'must provide `dnsConfig` when `dnsPolicy` is None'));
  }
  return causes;
}

export function deploymentRuleCauses(object: unknown): StatusCause[] {
  const deadline = at(object, 'spec', 'progressDeadlineSeconds');
  const minReady = at(object, 'spec', 'minReadySeconds');
  if (typeof deadline === 'number' && typeof minReady === 'number' && deadline <= minReady) {
    return [invalid('spec.progressDeadlineSeconds', deadline, 'must be greater than minReadySeconds')];
  }
  return [];
}

/** ValidateService's rules on IPs, ports and the ExternalName type. */
export function serviceRuleCauses(object: unknown): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = record(at(object, 'spec'));
  const type = typeof spec['type'] === 'string' ? spec['type'] : 'ClusterIP';
  const clusterIP = spec['clusterIP'];
  if (typeof clusterIP === 'string' && clusterIP !== '' && clusterIP !== 'None' && isIP(clusterIP) === 0) {
    causes.push(
      invalid('spec.clusterIP', clusterIP, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'),
    );
  }
  if (clusterIP === 'None' && (type === 'NodePort' || type === 'LoadBalancer')) {
    causes.push(
      invalid('spec.clusterIP', clusterIP, "may not be set to 'None' for LoadBalancer or NodePort services"),
    );
  }
  if (type === 'ExternalName') {
    const externalName = spec['externalName'];
    if (typeof externalName !== 'string' || externalName === '') causes.push(required('spec.externalName'));
    else
      causes.push(
        ...isDns1123Subdomain(externalName).map((problem) =>
          invalid('spec.externalName', externalName, problem),
        ),
      );
    if (typeof clusterIP === 'string' && clusterIP !== '') {
      causes.push(forbidden('spec.clusterIP', 'may not be set for ExternalName services'));
    }
  }
  const seenPorts = new Set<string>();
  const seenNodePorts = new Set<string>();
  objectList(spec['ports']).forEach((port, index) => {
    const protocol = typeof port['protocol'] === 'string' ? port['protocol'] : 'TCP';
    if (typeof port['port'] === 'number') {
      const key = `${port['port']}/${protocol}`;
      if (seenPorts.has(key))
        causes.push(duplicate(`spec.ports[${index}]`, { port: port['port'], protocol }));
      seenPorts.add(key);
    }
    if (typeof port['nodePort'] === 'number' && port['nodePort'] !== 0) {
      const key = `${port['nodePort']}/${protocol}`;
      if (seenNodePorts.has(key)) causes.push(duplicate(`spec.ports[${index}].nodePort`, port['nodePort']));
      seenNodePorts.add(key);
    }
  });
  causes.push(...labelMapCauses(spec['selector'], 'spec.selector'));
  return causes;
}

const METRIC_SOURCES: Readonly<Record<string, string>> = {
  Resource: 'resource',
  Pods: 'pods',
  Object: 'object',
  External: 'external',
};
const TARGET_FIELDS: Readonly<Record<string, string>> = {
  Utilization: 'averageUtilization',
  Value: 'value',
  AverageValue: 'averageValue',
};

function metricTargetCauses(target: unknown, field: string): StatusCause[] {
  const targetType = at(target, 'type');
  const needed = typeof targetType === 'string' ? TARGET_FIELDS[targetType] : undefined;
  if (!needed || !isJson(target) || (target[needed] !== undefined && target[needed] !== null)) return [];
  return [required(`${field}.${needed}`, `must be set when the target type is ${String(targetType)}`)];
}

/** ValidateHorizontalPodAutoscalerSpec (v2): target reference, metric sources and targets, behavior. */
export function hpaRuleCauses(object: unknown): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = record(at(object, 'spec'));
  for (const part of ['kind', 'name']) {
    if (at(spec, 'scaleTargetRef', part) === '') causes.push(required(`spec.scaleTargetRef.${part}`));
  }
  objectList(spec['metrics']).forEach((metric, index) => {
    const where = `spec.metrics[${index}]`;
    const type = metric['type'];
    const source = typeof type === 'string' ? METRIC_SOURCES[type] : undefined;
    if (!source) return;
    if (!isJson(metric[source]))
      causes.push(required(`${where}.${source}`, 'must populate information for the given metric source'));
    for (const other of Object.values(METRIC_SOURCES)) {
      if (other !== source && metric[other] !== undefined && metric[other] !== null) {
        causes.push(forbidden(`${where}.${other}`, 'must populate the given metric source only'));
      }
    }
    causes.push(...metricTargetCauses(at(metric, source, 'target'), `${where}.${source}.target`));
  });
  for (const direction of ['scaleUp', 'scaleDown']) {
    const policies = at(spec, 'behavior', direction, 'policies');
    if (Array.isArray(policies) && policies.length === 0) {
      causes.push(required(`spec.behavior.${direction}.policies`, 'must specify at least one Policy'));
    }
  }
  return causes;
}

/** Node taints unique by key and effect, keys qualified names; the pod CIDR a CIDR. */
export function nodeRuleCauses(object: unknown): StatusCause[] {
  const causes: StatusCause[] = [];
  const seen = new Set<string>();
  objectList(at(object, 'spec', 'taints')).forEach((taint, index) => {
    const key = taint['key'];
    if (typeof key !== 'string') return;
    causes.push(...isQualifiedName(key).map((problem) => invalid(`spec.taints[${index}].key`, key, problem)));
    const pair = `${key}:${String(taint['effect'])}`;
    if (seen.has(pair)) causes.push(duplicate(`spec.taints[${index}]`, { key, effect: taint['effect'] }));
    seen.add(pair);
  });
  const podCIDR = at(object, 'spec', 'podCIDR');
  if (typeof podCIDR === 'string' && podCIDR !== '') {
    const [address, bits, ...rest] = podCIDR.split('/');
    const family = isIP(address ?? '');
    const prefix = Number(bits);
    if (family === 0 || rest.length > 0 || !/^\d+$/.test(bits ?? '') || prefix > (family === 4 ? 32 : 128)) {
      causes.push(
        invalid('spec.podCIDR', podCIDR, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'),
      );
    }
  }
  return causes;
}

/** Endpoints: each address a valid IP, and ports named when there are several. */
export function endpointsRuleCauses(object: unknown): StatusCause[] {
  const causes: StatusCause[] = [];
  objectList(at(object, 'subsets')).forEach((subset, index) => {
    for (const list of ['addresses', 'notReadyAddresses']) {
      objectList(subset[list]).forEach((address, addressIndex) => {
        const ip = address['ip'];
        if (typeof ip === 'string' && isIP(ip) === 0) {
          causes.push(
            invalid(
              `subsets[${index}].${list}[${addressIndex}].ip`,
              ip,
              'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
            ),
          );
        }
      });
    }
    const ports = objectList(subset['ports']);
    if (ports.length > 1) {
      ports.forEach((port, portIndex) => {
        if (typeof port['name'] !== 'string' || port['name'] === '')
          causes.push(required(`subsets[${index}].ports[${portIndex}].name`));
      });
    }
  });
  return causes;
}
