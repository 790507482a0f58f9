// core/v1 ConfigMap and Secret.
import type { ObjectMeta } from '../meta/object.types';

export interface ConfigMap {
  apiVersion?: 'v1';
  kind?: 'ConfigMap';
  metadata: ObjectMeta;
  data?: Record<string, string>;
  /** Values are base64 in JSON. */
  binaryData?: Record<string, string>;
  immutable?: boolean;
}

export interface Secret {
  apiVersion?: 'v1';
  kind?: 'Secret';
  metadata: ObjectMeta;
  /** Values are base64 in JSON. */
  data?: Record<string, string>;
  /** Write-only convenience: merged into data (plain text) when the secret is stored. */
  stringData?: Record<string, string>;
  /** "Opaque", "kubernetes.io/tls", "kubernetes.io/dockerconfigjson" and so on. */
  type?: string;
  immutable?: boolean;
}
