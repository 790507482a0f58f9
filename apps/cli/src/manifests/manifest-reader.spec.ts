import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManifestError, collectManifestFiles, parseManifests, readManifests } from './manifest-reader';

const DEPLOYMENT = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n';
const SERVICE = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n';

function thrownBy(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected the action to throw an Error');
}

describe('parseManifests', () => {
  it('reads multi-document YAML, skipping empty documents and expanding a List', () => {
    const text = [
      DEPLOYMENT,
      '---',
      '# only a comment',
      '---',
      'apiVersion: v1',
      'kind: List',
      'items:',
      '- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}',
      '- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}',
    ].join('\n');
    const manifests = parseManifests(text, 'app.yaml');
    expect(manifests.map((m) => `${m.object.kind}/${m.object.metadata.name ?? ''}`)).toEqual([
      'Deployment/web',
      'ConfigMap/a',
      'ConfigMap/b',
    ]);
    expect(manifests[0]?.origin).toBe('app.yaml:1');
    expect(manifests[1]?.origin).toBe('app.yaml:9 (items[0])');
  });

  it('points YAML syntax errors at file, line and column with the offending line', () => {
    const text = `${DEPLOYMENT}---\napiVersion: v1\nkind: Service\nmetadata: name: web\n`;
    const error = thrownBy(() => parseManifests(text, 'svc.yaml'));
    expect(error).toBeInstanceOf(ManifestError);
    expect(error.message).toMatch(/^svc\.yaml:8:11: Nested mappings are not allowed/);
    expect(error.message).toContain('\n  metadata: name: web\n            ^');
  });

  it('says which document lacks kind or a name', () => {
    expect(() => parseManifests(`${SERVICE}---\napiVersion: v1\nmetadata: {name: x}\n`, 'f.yaml')).toThrow(
      'f.yaml:6: kind is not set',
    );
    expect(() => parseManifests('apiVersion: v1\nkind: Pod\nmetadata: {}\n', 'f.yaml')).toThrow(
      'f.yaml:1: Pod has no metadata.name',
    );
    expect(() => parseManifests('- a\n- b\n', 'f.yaml')).toThrow('f.yaml:1: expected an object');
  });

  it('reads JSON manifests', () => {
    const manifests = parseManifests(
      JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }),
      'n.json',
    );
    expect(manifests[0]?.object.kind).toBe('Namespace');
  });

  it('refuses alias bombs', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ].join('\n');
    expect(() => parseManifests(bomb, 'bomb.yaml')).toThrow(/bomb\.yaml:1: .*alias/i);
  });
});

describe('collecting manifest files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-manifests-'));
    mkdirSync(join(dir, 'app', 'nested'), { recursive: true });
    writeFileSync(join(dir, 'app', 'b-service.yaml'), SERVICE);
    writeFileSync(join(dir, 'app', 'a-deployment.yml'), DEPLOYMENT);
    writeFileSync(join(dir, 'app', 'README.md'), '# not a manifest');
    writeFileSync(
      join(dir, 'app', 'nested', 'config.json'),
      '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}',
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("takes a directory's manifests in name order, and its subdirectories only with -R", () => {
    expect(collectManifestFiles(['app'], { cwd: dir, recursive: false })).toEqual([
      join('app', 'a-deployment.yml'),
      join('app', 'b-service.yaml'),
    ]);
    expect(collectManifestFiles(['app'], { cwd: dir, recursive: true })).toEqual([
      join('app', 'a-deployment.yml'),
      join('app', 'b-service.yaml'),
      join('app', 'nested', 'config.json'),
    ]);
  });

  it('explains missing paths, empty directories and a second stdin', () => {
    expect(() => collectManifestFiles(['nope.yaml'], { cwd: dir, recursive: false })).toThrow(
      'the path "nope.yaml" does not exist',
    );
    mkdirSync(join(dir, 'empty', 'deeper'), { recursive: true });
    writeFileSync(join(dir, 'empty', 'deeper', 'x.yaml'), SERVICE);
    expect(() => collectManifestFiles(['empty'], { cwd: dir, recursive: false })).toThrow('use -R');
    expect(() => collectManifestFiles(['-', '-'], { cwd: dir, recursive: false })).toThrow('only once');
  });

  it('reads stdin for "-" alongside files', async () => {
    const manifests = await readManifests({
      paths: ['app/a-deployment.yml', '-'],
      recursive: false,
      cwd: dir,
      readStdin: () => Promise.resolve(`${SERVICE}---\n${SERVICE.replace('name: web', 'name: other')}`),
    });
    expect(manifests.map((m) => m.origin)).toEqual(['app/a-deployment.yml:1', 'stdin:1', 'stdin:6']);
  });
});
