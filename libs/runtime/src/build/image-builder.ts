// Builds an image from a Containerfile: each filesystem-changing step (COPY, ADD, RUN, WORKDIR of a
// missing directory) adds one layer, every other step only changes the config, and every step's result
// is cached by (parent image, instruction, content) so an unchanged build is all cache hits.
// RUN is executed through an injected RunStep, so the builder does not depend on how containers run.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { promises as fs } from 'node:fs';
import { join, posix } from 'node:path';
import { chainIds } from '../layers/chain-id';
import { resolveUser } from '../containers/container-user';
import type { ImageStore, StoredImage } from '../images/image.store';
import { storeLayer, writeImage, type StoredLayer } from '../images/image-writer';
import type { ContainerConfig } from '../images/oci.types';
import { SnapshotStore } from '../snapshots/snapshot.store';
import { lookupInImage, planCopy, type Ownership } from './build-context';
import { parseHealthcheck } from './healthcheck.util';
import { loadContextIgnore, type IgnoreMatcher } from './context-ignore';
import {
  ContainerfileError,
  expandText,
  expandWords,
  parseContainerfile,
  parseKeyValues,
  type Instruction,
} from './containerfile.parser';

export interface RunStepRequest {
  /** The image state to run on (registered in the store). */
  readonly image: StoredImage;
  readonly command: readonly string[];
  readonly env: readonly string[];
  readonly workingDir: string;
  readonly user?: string;
  readonly onOutput?: (line: string) => void;
}

export interface RunStepResult {
  /** The snapshot holding the step's changes (its upper dir is committed as the layer). */
  readonly snapshotKey: string;
  /** Frees the container and its snapshot once the layer is committed. */
  release(): Promise<void>;
}

/** Runs one RUN step in a container on the given image; rejects (after cleaning up) when the command fails. */
export interface RunStep {
  run(request: RunStepRequest): Promise<RunStepResult>;
}

export type BuildProgress =
  | {
      readonly kind: 'step';
      readonly stage: number;
      readonly step: number;
      readonly total: number;
      readonly instruction: string;
    }
  | { readonly kind: 'cached'; readonly imageId: string }
  | { readonly kind: 'output'; readonly line: string }
  | { readonly kind: 'step-done'; readonly imageId: string }
  | { readonly kind: 'done'; readonly imageId: string; readonly names: readonly string[] };

export interface BuildOptions {
  readonly store: ImageStore;
  readonly contextDir: string;
  /** The Containerfile's path; defaults to Containerfile, else Dockerfile, in the context. */
  readonly file?: string;
  readonly tags?: readonly string[];
  readonly buildArgs?: Readonly<Record<string, string>>;
  readonly runStep?: RunStep;
  /** Builds every step again instead of reusing cached results. */
  readonly noCache?: boolean;
  /** Stops at this stage (FROM ... AS name) instead of the last. */
  readonly target?: string;
  /** Fetches a FROM image that is not in the store (e.g. a registry pull); without it, missing is an error. */
  readonly resolveBase?: (reference: string) => Promise<StoredImage>;
  readonly onProgress?: (event: BuildProgress) => void;
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];
const execFileAsync = promisify(execFile);

interface Stage {
  readonly name?: string;
  image?: StoredImage;
  config: ContainerConfig;
  shell: string[];
  /** Build arguments declared in this stage, with their values. */
  readonly args: Map<string, string>;
  /** CMD was given in this stage (so a later ENTRYPOINT keeps it). */
  cmdSetHere?: boolean;
}

export class ImageBuilder {
  private readonly snapshots: SnapshotStore;
  private readonly cacheDir: string;
  private readonly stages: Stage[] = [];

  constructor(private readonly options: BuildOptions) {
    this.snapshots = new SnapshotStore(options.store);
    this.cacheDir = join(options.store.layout.root, 'build-cache');
  }

  async build(): Promise<StoredImage> {
    return this.options.store.withLease(() => this.buildUnderLease());
  }

  private async buildUnderLease(): Promise<StoredImage> {
    const file = this.options.file ?? (await findContainerfile(this.options.contextDir));
    let source: string;
    try {
      source = await fs.readFile(file, 'utf8');
    } catch {
      throw new ContainerfileError(
        `cannot read ${file}; give the Containerfile with -f or put one in the build context`,
      );
    }
    const instructions = parseContainerfile(source);
    const buildArgs = new Map(Object.entries(this.options.buildArgs ?? {}));
    const globalArgs = new Map<string, string>();
    const stages = this.stages;
    stages.length = 0;
    let stage: Stage | undefined;
    const total = instructions.length;

    for (const [index, instruction] of instructions.entries()) {
      this.options.onProgress?.({
        kind: 'step',
        stage: Math.max(stages.length - 1, 0),
        step: index + 1,
        total,
        instruction: `${instruction.keyword} ${instruction.text}`,
      });
      if (instruction.keyword === 'FROM') {
        stage = await this.from(instruction, globalArgs, stages);
        stages.push(stage);
        if (stage.image !== undefined)
          this.options.onProgress?.({ kind: 'step-done', imageId: stage.image.id });
        continue;
      }
      if (stage === undefined) {
        if (instruction.keyword !== 'ARG')
          throw new ContainerfileError(
            `${instruction.keyword} before FROM; a Containerfile starts with FROM (only ARG may come first)`,
            instruction.line,
          );
        for (const [key, value] of parseKeyValues(instruction.text, 'ARG', instruction.line, globalArgs))
          globalArgs.set(key, buildArgs.get(key) ?? value);
        continue;
      }
      await this.step(stage, instruction, buildArgs, globalArgs);
      if (stage.image !== undefined)
        this.options.onProgress?.({ kind: 'step-done', imageId: stage.image.id });
    }

    const final =
      this.options.target === undefined
        ? stages.at(-1)
        : stages.find((candidate) => candidate.name === this.options.target);
    if (final === undefined)
      throw new ContainerfileError(
        `the Containerfile has no stage named ${JSON.stringify(this.options.target)}`,
      );
    let image = final.image;
    if (image === undefined) {
      // `FROM scratch` with only metadata: an image with no layers is still an image.
      image = await this.commitConfig(final, 'FROM scratch');
    }
    const named = await this.options.store.addImage(image.manifestDigest, this.options.tags ?? []);
    this.options.onProgress?.({ kind: 'done', imageId: named.id, names: this.options.tags ?? [] });
    return named;
  }

  private async from(
    instruction: Instruction,
    globalArgs: Map<string, string>,
    stages: readonly Stage[],
  ): Promise<Stage> {
    const words = expandWords(instruction.text, globalArgs, instruction.line).filter(
      (word) => !word.startsWith('--platform='),
    );
    if (words.length !== 1 && !(words.length === 3 && words[1]?.toUpperCase() === 'AS')) {
      throw new ContainerfileError(
        `FROM takes an image and an optional "AS name", got ${JSON.stringify(instruction.text)}`,
        instruction.line,
      );
    }
    const reference = words[0] as string;
    const name = words[2]?.toLowerCase();
    const base: Omit<Stage, 'image' | 'config'> = {
      ...(name === undefined ? {} : { name }),
      shell: [...DEFAULT_SHELL],
      args: new Map(),
    };
    if (reference === 'scratch') return { ...base, config: {} };
    const previous = stages.find((candidate) => candidate.name === reference.toLowerCase());
    if (previous !== undefined) {
      const image = previous.image ?? (await this.commitConfig(previous, `FROM ${reference}`));
      return { ...base, image, config: { ...previous.config }, shell: [...previous.shell] };
    }
    let image: StoredImage;
    try {
      image = await this.options.store.resolve(reference);
    } catch (error) {
      if (this.options.resolveBase === undefined) {
        throw new ContainerfileError(`FROM ${reference}: ${(error as Error).message}`, instruction.line);
      }
      image = await this.options.resolveBase(reference);
    }
    return { ...base, image, config: { ...(image.config.config ?? {}) } };
  }

  private variables(stage: Stage): Map<string, string> {
    const variables = new Map(stage.args);
    for (const entry of stage.config.Env ?? []) {
      const equals = entry.indexOf('=');
      if (equals > 0) variables.set(entry.slice(0, equals), entry.slice(equals + 1));
    }
    return variables;
  }

  private async step(
    stage: Stage,
    instruction: Instruction,
    buildArgs: Map<string, string>,
    globalArgs: Map<string, string>,
  ): Promise<void> {
    const line = instruction.line;
    const variables = this.variables(stage);
    const config = stage.config;
    switch (instruction.keyword) {
      case 'ARG':
        for (const [key, value] of parseKeyValues(instruction.text, 'ARG', line, variables)) {
          stage.args.set(key, buildArgs.get(key) ?? (value !== '' ? value : (globalArgs.get(key) ?? '')));
        }
        return;
      case 'ENV': {
        const env = new Map(
          (config.Env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry] as const),
        );
        for (const [key, value] of parseKeyValues(instruction.text, 'ENV', line, variables))
          env.set(key, `${key}=${value}`);
        stage.config = { ...config, Env: [...env.values()] };
        break;
      }
      case 'LABEL': {
        const labels = { ...(config.Labels ?? {}) };
        for (const [key, value] of parseKeyValues(instruction.text, 'LABEL', line, variables))
          labels[key] = value;
        stage.config = { ...config, Labels: labels };
        break;
      }
      case 'MAINTAINER':
        stage.config = {
          ...config,
          Labels: { ...(config.Labels ?? {}), maintainer: expandText(instruction.text, variables, line) },
        };
        break;
      case 'USER':
        stage.config = {
          ...config,
          User: requireValue(expandText(instruction.text, variables, line), 'USER', line),
        };
        break;
      case 'HEALTHCHECK':
        // Kept in the image config, as Docker does; it takes no variables (Docker expands none here).
        stage.config = { ...config, Healthcheck: parseHealthcheck(instruction.text, line) };
        break;
      case 'STOPSIGNAL':
        stage.config = {
          ...config,
          StopSignal: requireValue(expandText(instruction.text, variables, line), 'STOPSIGNAL', line),
        };
        break;
      case 'EXPOSE': {
        const ports = { ...(config.ExposedPorts ?? {}) };
        for (const word of expandWords(instruction.text, variables, line)) {
          const match = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(word);
          if (match === null || Number(match[1]) > 65535 || Number(match[1]) === 0) {
            throw new ContainerfileError(
              `EXPOSE ${word}: give a port 1-65535 with an optional /tcp or /udp`,
              line,
            );
          }
          ports[`${Number(match[1])}/${(match[2] ?? 'tcp').toLowerCase()}`] = {};
        }
        stage.config = { ...config, ExposedPorts: ports };
        break;
      }
      case 'VOLUME': {
        const paths = instruction.json ?? expandWords(instruction.text, variables, line);
        stage.config = {
          ...config,
          Volumes: { ...(config.Volumes ?? {}), ...Object.fromEntries(paths.map((path) => [path, {}])) },
        };
        break;
      }
      case 'CMD':
        stage.config = { ...config, Cmd: this.command(stage, instruction) };
        break;
      case 'ENTRYPOINT':
        // As Docker: a new ENTRYPOINT drops a CMD inherited from the base image.
        stage.config = {
          ...config,
          Entrypoint: this.command(stage, instruction),
          ...(stage.cmdSetHere ? {} : { Cmd: null }),
        };
        break;
      case 'SHELL':
        if (instruction.json === undefined || instruction.json.length === 0)
          throw new ContainerfileError('SHELL must be a JSON array, e.g. SHELL ["/bin/bash", "-c"]', line);
        stage.shell = [...instruction.json];
        return;
      case 'WORKDIR':
        await this.workdir(stage, instruction, variables);
        return;
      case 'COPY':
      case 'ADD':
        await this.copy(stage, instruction, variables);
        return;
      case 'RUN':
        await this.run(stage, instruction);
        return;
      default:
        throw new ContainerfileError(`${instruction.keyword} is not supported after FROM`, line);
    }
    if (instruction.keyword === 'CMD') stage.cmdSetHere = true;
    await this.cachedStep(stage, instruction, '', async () =>
      this.commitConfig(stage, `${instruction.keyword} ${instruction.text}`),
    );
  }

  private command(stage: Stage, instruction: Instruction): string[] {
    return instruction.json !== undefined ? [...instruction.json] : [...stage.shell, instruction.text];
  }

  private async workdir(
    stage: Stage,
    instruction: Instruction,
    variables: Map<string, string>,
  ): Promise<void> {
    const value = requireValue(
      expandText(instruction.text, variables, instruction.line),
      'WORKDIR',
      instruction.line,
    );
    const path = posix.resolve(stage.config.WorkingDir || '/', value);
    stage.config = { ...stage.config, WorkingDir: path };
    const lowerDirs = await this.lowerDirs(stage);
    const relative = path.replace(/^\/+/, '');
    if (relative === '' || (await lookupInImage(lowerDirs, relative))?.isDirectory()) {
      await this.cachedStep(stage, instruction, path, async () =>
        this.commitConfig(stage, `WORKDIR ${path}`),
      );
      return;
    }
    // A missing working directory is made, as Docker does, in a layer of its own.
    const plan = {
      members: [] as Array<{
        entry: { name: string; type: 'directory'; mode: number; mtime: number; uid?: number; gid?: number };
      }>,
    };
    const components = relative.split('/');
    for (let depth = 1; depth <= components.length; depth++) {
      const part = components.slice(0, depth).join('/');
      const existing = await lookupInImage(lowerDirs, part);
      plan.members.push({
        entry: existing?.isDirectory()
          ? {
              name: `${part}/`,
              type: 'directory',
              mode: existing.mode & 0o7777,
              uid: existing.uid,
              gid: existing.gid,
              mtime: Math.floor(existing.mtimeMs / 1000),
            }
          : { name: `${part}/`, type: 'directory', mode: 0o755, mtime: 0 },
      });
    }
    await this.cachedStep(stage, instruction, `mkdir ${path}`, async () => {
      const layer = await storeLayer(this.options.store, plan.members);
      return this.commitLayer(stage, layer, `WORKDIR ${path}`);
    });
  }

  private async copy(stage: Stage, instruction: Instruction, variables: Map<string, string>): Promise<void> {
    const line = instruction.line;
    const words =
      instruction.json !== undefined ? [...instruction.json] : expandWords(instruction.text, variables, line);
    let owner: Ownership | undefined;
    let mode: number | undefined;
    let from: string | undefined;
    while (words[0]?.startsWith('--')) {
      const flag = words.shift() as string;
      if (flag.startsWith('--chown=')) {
        const spec = flag.slice('--chown='.length);
        owner = /^\d+(:\d+)?$/.test(spec)
          ? { uid: Number(spec.split(':')[0]), gid: Number(spec.split(':')[1] ?? spec.split(':')[0]) }
          : await resolveUser(spec, await this.lowerDirs(stage)).catch((error: unknown) => {
              throw new ContainerfileError(
                `${instruction.keyword} ${flag}: ${(error as Error).message}`,
                line,
              );
            });
      } else if (flag.startsWith('--chmod=')) {
        const text = flag.slice('--chmod='.length);
        if (!/^[0-7]{3,4}$/.test(text))
          throw new ContainerfileError(`${flag}: give an octal mode such as 0755`, line);
        mode = parseInt(text, 8);
      } else if (flag.startsWith('--from=') && instruction.keyword === 'COPY') {
        from = flag.slice('--from='.length);
      } else {
        throw new ContainerfileError(
          `${instruction.keyword} does not know the flag ${flag} (supported: --chown, --chmod, and --from for COPY)`,
          line,
        );
      }
    }
    if (words.length < 2)
      throw new ContainerfileError(
        `${instruction.keyword} needs at least one source and a destination`,
        line,
      );
    const destinationText = words.pop() as string;
    const destination = posix.isAbsolute(destinationText)
      ? destinationText
      : `${posix.resolve(stage.config.WorkingDir || '/', destinationText)}${destinationText.endsWith('/') ? '/' : ''}`;
    const copy = async (sourceRoot: string | undefined): Promise<StoredLayer> => {
      const plan = await planCopy({
        contextDir: this.options.contextDir,
        ...(sourceRoot === undefined ? {} : { sourceRoot }),
        sources: words,
        destination,
        lowerDirs: await this.lowerDirs(stage),
        ...(owner === undefined ? {} : { owner }),
        ...(mode === undefined ? {} : { mode }),
        extractArchives: instruction.keyword === 'ADD',
        ...(sourceRoot === undefined ? { ignore: await this.contextIgnore() } : {}),
        line,
      });
      // File bodies are read while the layer is written, so the source must stay mounted until then.
      return storeLayer(this.options.store, plan.members);
    };
    const layer =
      from === undefined
        ? await copy(undefined)
        : await this.withMountedImage(await this.fromSource(from, line), copy);
    // The layer's diffID is the content digest the cache key needs, so the layer is made first.
    await this.cachedStep(stage, instruction, layer.diffId, async () =>
      this.commitLayer(stage, layer, `${instruction.keyword} ${instruction.text}`),
    );
  }

  /** COPY --from=NAME: an earlier stage (by name or index), else an image. */
  private async fromSource(from: string, line: number): Promise<StoredImage> {
    const stage = /^\d+$/.test(from)
      ? this.stages[Number(from)]
      : this.stages.find((candidate) => candidate.name === from.toLowerCase());
    if (stage !== undefined) {
      if (stage.image === undefined)
        throw new ContainerfileError(`COPY --from=${from}: that stage has no files yet`, line);
      return stage.image;
    }
    try {
      return await this.options.store.resolve(from);
    } catch (error) {
      if (this.options.resolveBase === undefined)
        throw new ContainerfileError(
          `COPY --from=${from}: no such stage, and ${(error as Error).message}`,
          line,
        );
      return this.options.resolveBase(from);
    }
  }

  /** Mounts the image's root read-only-in-practice (a throw-away upper dir) for the duration of `work`. */
  private async withMountedImage<T>(image: StoredImage, work: (root: string) => Promise<T>): Promise<T> {
    const key = `build-from-${randomBytes(8).toString('hex')}`;
    const rootfs = await this.snapshots.prepare({ key, image });
    try {
      await execFileAsync('mount', [
        '-t',
        'overlay',
        'overlay',
        '-o',
        rootfs.mount.options.join(','),
        rootfs.mount.target,
      ]);
      try {
        return await work(rootfs.mount.target);
      } finally {
        await execFileAsync('umount', [rootfs.mount.target]);
      }
    } finally {
      await this.snapshots.remove(key);
    }
  }

  private async run(stage: Stage, instruction: Instruction): Promise<void> {
    const line = instruction.line;
    const runStep = this.options.runStep;
    if (runStep === undefined)
      throw new ContainerfileError(
        'RUN needs a container runtime, and this build was started without one',
        line,
      );
    const flag = instruction.json === undefined ? /^--([a-z-]+)/.exec(instruction.text)?.[1] : undefined;
    if (flag !== undefined) {
      throw new ContainerfileError(
        `RUN --${flag} (a BuildKit extension) is not supported; write the step without it`,
        line,
      );
    }
    const command = this.command(stage, instruction);
    // Build arguments reach RUN as environment variables, below ENV of the same name (as Docker).
    const env = new Map<string, string>();
    for (const [key, value] of stage.args) env.set(key, `${key}=${value}`);
    for (const entry of stage.config.Env ?? []) env.set(entry.slice(0, entry.indexOf('=')), entry);
    const workingDir = stage.config.WorkingDir || '/';
    const key = JSON.stringify({
      command,
      env: [...env.values()],
      workingDir,
      user: stage.config.User ?? '',
    });
    await this.cachedStep(stage, instruction, key, async () => {
      const base = stage.image ?? (await this.commitConfig(stage, 'FROM scratch'));
      if (base.manifest.layers.length === 0)
        throw new ContainerfileError('RUN needs a base image with a shell; FROM scratch has none', line);
      const result = await runStep.run({
        image: base,
        command,
        env: [...env.values()],
        workingDir,
        ...(stage.config.User ? { user: stage.config.User } : {}),
        onOutput: (text) => this.options.onProgress?.({ kind: 'output', line: text }),
      });
      try {
        return await this.snapshots.commit({
          key: result.snapshotKey,
          config: stage.config,
          createdBy: `RUN ${instruction.text}`,
          intermediate: true,
        });
      } finally {
        await result.release();
      }
    });
  }

  private ignoreMatcher: Promise<IgnoreMatcher> | undefined;

  private contextIgnore(): Promise<IgnoreMatcher> {
    return (this.ignoreMatcher ??= loadContextIgnore(this.options.contextDir));
  }

  private async lowerDirs(stage: Stage): Promise<string[]> {
    if (stage.image === undefined) return [];
    const records = await this.options.store.unpack(stage.image);
    return records.map((record) => this.options.store.layers.diffDirectory(record.chainId)).reverse();
  }

  private commitConfig(stage: Stage, createdBy: string): Promise<StoredImage> {
    return writeImage(this.options.store, {
      ...(stage.image === undefined ? {} : { base: stage.image }),
      config: stage.config,
      history: { created_by: createdBy },
      intermediate: true,
    });
  }

  private commitLayer(
    stage: Stage,
    layer: Awaited<ReturnType<typeof storeLayer>>,
    createdBy: string,
  ): Promise<StoredImage> {
    return writeImage(this.options.store, {
      ...(stage.image === undefined ? {} : { base: stage.image }),
      layer,
      config: stage.config,
      history: { created_by: createdBy },
      intermediate: true,
    });
  }

  /**
   * Reuses the result of an identical earlier step (same parent image, same instruction, same content)
   * when its image is still in the store; otherwise runs `make` and remembers the result.
   */
  private async cachedStep(
    stage: Stage,
    instruction: Instruction,
    content: string,
    make: () => Promise<StoredImage>,
  ): Promise<void> {
    const parent = stage.image?.manifestDigest ?? `scratch:${JSON.stringify(stage.config)}`;
    const key = createHash('sha256')
      .update(JSON.stringify([parent, instruction.keyword, instruction.text, content, stage.config]))
      .digest('hex');
    const entry = join(this.cacheDir, key);
    if (!this.options.noCache) {
      const cached = await fs.readFile(entry, 'utf8').catch(() => undefined);
      if (cached !== undefined && (await this.options.store.blobs.has(cached.trim()))) {
        try {
          const image = await this.options.store.readImage(cached.trim());
          if (await this.complete(image)) {
            // Re-registered in case GC or an untag dropped it from the index.
            stage.image = await this.options.store.addImage(image.manifestDigest, [], { intermediate: true });
            this.options.onProgress?.({ kind: 'cached', imageId: image.id });
            return;
          }
        } catch {
          // a damaged cache entry is simply a miss
        }
      }
    }
    stage.image = await make();
    await fs.mkdir(this.cacheDir, { recursive: true });
    await fs.writeFile(entry, `${stage.image.manifestDigest}\n`);
  }

  private async complete(image: StoredImage): Promise<boolean> {
    for (const descriptor of [image.manifest.config, ...image.manifest.layers]) {
      if (!(await this.options.store.blobs.has(descriptor.digest))) return false;
    }
    return chainIds(image.config.rootfs.diff_ids).length === image.manifest.layers.length;
  }
}

function requireValue(value: string, keyword: string, line: number): string {
  if (value.trim() === '') throw new ContainerfileError(`${keyword} needs a value`, line);
  return value;
}

async function findContainerfile(contextDir: string): Promise<string> {
  for (const name of ['Containerfile', 'Dockerfile']) {
    const path = join(contextDir, name);
    if (
      await fs
        .stat(path)
        .then((stat) => stat.isFile())
        .catch(() => false)
    )
      return path;
  }
  throw new ContainerfileError(`no Containerfile or Dockerfile in ${contextDir}; give one with -f`);
}
