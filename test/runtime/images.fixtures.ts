// Crafted image archives for the image tests: small, deterministic and built with our own tar writer,
// in the three layouts the loader accepts.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { tarToBuffer, type MemberToWrite } from '@flotilla/runtime';

export const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export interface FixtureImage {
  readonly layers: Array<{ tar: Buffer; blob: Buffer }>;
  readonly config: Buffer;
  readonly manifest: Buffer;
}

export async function fixtureImage(
  layerMembers: MemberToWrite[][],
  cmd: string[] = ['/bin/sh'],
): Promise<FixtureImage> {
  const layers: Array<{ tar: Buffer; blob: Buffer }> = [];
  for (const members of layerMembers) {
    const tar = await tarToBuffer(members);
    layers.push({ tar, blob: gzipSync(tar) });
  }
  const config = Buffer.from(
    JSON.stringify({
      created: '2024-01-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: cmd, Env: ['PATH=/bin'] },
      rootfs: { type: 'layers', diff_ids: layers.map((layer) => sha256(layer.tar)) },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256(config),
        size: config.length,
      },
      layers: layers.map((layer) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: sha256(layer.blob),
        size: layer.blob.length,
      })),
    }),
  );
  return { layers, config, manifest };
}

const blobName = (data: Buffer): string => `blobs/sha256/${sha256(data).slice(7)}`;
const file = (name: string, body: Buffer): MemberToWrite => ({ entry: { name, type: 'file' }, body });

/** An OCI archive; `dockerManifest` adds Docker 25+'s manifest.json beside it. */
export async function ociArchive(
  image: FixtureImage,
  name: string | undefined,
  options: { dockerManifest?: boolean; refNameOnly?: string } = {},
): Promise<Buffer> {
  const annotations =
    name !== undefined
      ? { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': 'latest' }
      : options.refNameOnly !== undefined
        ? { 'org.opencontainers.image.ref.name': options.refNameOnly }
        : undefined;
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: sha256(image.manifest),
        size: image.manifest.length,
        ...(annotations ? { annotations } : {}),
      },
    ],
  };
  const members: MemberToWrite[] = [
    file('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')),
    file('index.json', Buffer.from(JSON.stringify(index))),
  ];
  if (options.dockerManifest) {
    members.push(
      file(
        'manifest.json',
        Buffer.from(
          JSON.stringify([
            {
              Config: blobName(image.config),
              RepoTags: ['docker25/app:v1'],
              Layers: image.layers.map((layer) => blobName(layer.blob)),
            },
          ]),
        ),
      ),
    );
  }
  for (const blob of [image.manifest, image.config, ...image.layers.map((layer) => layer.blob)])
    members.push(file(blobName(blob), blob));
  return tarToBuffer(members);
}

/** The legacy `docker save` layout: manifest.json, <id>.json config, <id>/layer.tar (uncompressed), a symlinked duplicate. */
export async function legacyDockerArchive(image: FixtureImage, repoTags: string[]): Promise<Buffer> {
  const configName = `${sha256(image.config).slice(7)}.json`;
  const members: MemberToWrite[] = [file(configName, image.config)];
  const layerPaths: string[] = [];
  for (const [position, layer] of image.layers.entries()) {
    const id = sha256(Buffer.from(`layer-${position}`)).slice(7);
    members.push({ entry: { name: `${id}/`, type: 'directory' } });
    members.push(file(`${id}/VERSION`, Buffer.from('1.0')));
    members.push(file(`${id}/layer.tar`, layer.tar));
    layerPaths.push(`${id}/layer.tar`);
  }
  members.push(
    file(
      'manifest.json',
      Buffer.from(JSON.stringify([{ Config: configName, RepoTags: repoTags, Layers: layerPaths }])),
    ),
  );
  members.push(file('repositories', Buffer.from('{}')));
  return tarToBuffer(members);
}
