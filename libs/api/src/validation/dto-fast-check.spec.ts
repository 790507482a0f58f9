// The compiled check must agree with class-validator: never "valid" where class-validator finds an
// error, and "valid" for every object class-validator accepts (else the fast path buys nothing).
// Checked on valid manifests of several kinds and on every single-field mutation of them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import 'reflect-metadata';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync } from 'class-validator';
import { parseAllDocuments } from 'yaml';
import { applyDefaults } from '../defaults/apply-defaults';
import { ConfigMapDto, NamespaceDto, NodeDto, SecretDto, ServiceDto } from './cluster.dto';
import { passesDtoChecks } from './dto-fast-check';
import { PodDto } from './pod.dto';
import { DeploymentDto, ReplicaSetDto } from './workload.dto';

type Json = Record<string, unknown>;

const DTOS: Record<string, ClassConstructor<object>> = {
  Pod: PodDto,
  Deployment: DeploymentDto,
  ReplicaSet: ReplicaSetDto,
  Service: ServiceDto,
  Namespace: NamespaceDto,
  ConfigMap: ConfigMapDto,
  Secret: SecretDto,
  Node: NodeDto,
};

const podSpec = {
  containers: [
    {
      name: 'web',
      image: 'flotilla/busybox:latest',
      command: ['httpd', '-f'],
      ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
      env: [
        { name: 'MODE', value: 'prod' },
        { name: 'KEY', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
      ],
      envFrom: [{ configMapRef: { name: 'cfg' } }],
      resources: { requests: { cpu: '100m', memory: '32Mi' }, limits: { cpu: 1, memory: '64Mi' } },
      livenessProbe: {
        httpGet: { path: '/healthz', port: 'http', httpHeaders: [{ name: 'a', value: 'b' }] },
      },
      readinessProbe: { tcpSocket: { port: 8080 } },
      volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
    },
  ],
  volumes: [{ name: 'scratch', emptyDir: {} }],
  nodeSelector: { disk: 'ssd' },
  tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }],
};

const CORPUS: Json[] = [
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-0', namespace: 'default', labels: { app: 'web' }, annotations: { a: 'b' } },
    spec: podSpec,
  },
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: podSpec },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web' },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { a: 'b' } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } },
];

function shippedManifests(): Json[] {
  const directory = join(__dirname, '..', '..', '..', '..', 'manifests', 'web');
  return readdirSync(directory)
    .filter((file) => /\.ya?ml$/.test(file))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(directory, file), 'utf8')).map(
        (document) => document.toJS() as Json,
      ),
    )
    .filter((object) => object !== null && DTOS[String(object['kind'])] !== undefined);
}

const REPLACEMENTS: unknown[] = [
  [{}],
  [{ zzUnknownField: 1 }],
  undefined,
  null,
  12345,
  -1,
  1.5,
  'text',
  '',
  true,
  {},
  [],
  [1],
  ['x'],
  { a: 1 },
];

/** Every object that differs from `object` in one place: a value replaced, removed, or a key added. */
function mutations(object: unknown): unknown[] {
  const variants: unknown[] = [];
  const visit = (value: unknown, rebuild: (replacement: unknown) => unknown): void => {
    for (const replacement of REPLACEMENTS) variants.push(rebuild(replacement));
    if (Array.isArray(value)) {
      value.forEach((item, index) =>
        visit(item, (replacement) => rebuild(value.map((other, at) => (at === index ? replacement : other)))),
      );
    } else if (typeof value === 'object' && value !== null) {
      variants.push(rebuild({ ...value, zzUnknownField: 'x' }));
      // JSON.parse makes these own keys; plainToInstance drops them, the fast check refuses them.
      for (const key of ['__proto__', 'constructor']) {
        const copy = { ...value };
        Object.defineProperty(copy, key, {
          value: 'x',
          enumerable: true,
          writable: true,
          configurable: true,
        });
        variants.push(rebuild(copy));
      }
      for (const [key, item] of Object.entries(value)) {
        visit(item, (replacement) => rebuild({ ...value, [key]: replacement }));
      }
    }
  };
  visit(object, (replacement) => replacement);
  return variants.filter(
    (variant) => typeof variant === 'object' && variant !== null && !Array.isArray(variant),
  );
}

function classValidatorAccepts(instance: object): boolean {
  return (
    validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false })
      .length === 0
  );
}

const originals = [...CORPUS, ...shippedManifests()].flatMap((object) => {
  const kind = String(object['kind']);
  return [object, applyDefaults(kind, object) as Json];
});

describe('passesDtoChecks agrees with class-validator', () => {
  it.each(
    originals.map(
      (object) => [`${String(object['kind'])} ${JSON.stringify(object).length}`, object] as const,
    ),
  )('a valid %s passes the fast check', (_name, object) => {
    const dto = DTOS[String(object['kind'])] ?? Object;
    expect(classValidatorAccepts(plainToInstance(dto, object))).toBe(true);
    expect(passesDtoChecks(dto, object)).toBe(true);
  });

  it.each(originals.map((object) => [String(object['kind']), object] as const))(
    'every single-field mutation of a %s gets the same verdict from both',
    (kind, object) => {
      const disagreements: string[] = [];
      let invalid = 0;
      for (const variant of mutations(object)) {
        const dto = DTOS[kind] ?? Object;
        const fast = passesDtoChecks(dto, variant as object) === true;
        let slow: boolean;
        try {
          slow = classValidatorAccepts(plainToInstance(dto, variant));
        } catch {
          // class-transformer throws on an own "constructor" key inside a map (a label named
          // "constructor"): nothing to compare with. The fast check judges such maps by their rules.
          continue;
        }
        if (!slow) invalid++;
        // Never "valid" where class-validator finds an error; "valid" wherever it finds none, except
        // for the keys plainToInstance silently drops, which the fast check leaves to the libraries.
        const text = JSON.stringify(variant);
        const dropsKeys = /"(__proto__|constructor)":/.test(text);
        if (fast ? !slow : slow && !dropsKeys) {
          disagreements.push(`${text}: class-validator ${slow}, fast ${fast}`);
        }
      }
      expect(disagreements).toEqual([]);
      // The mutations really exercise the error side.
      expect(invalid).toBeGreaterThan(10);
    },
  );
});
