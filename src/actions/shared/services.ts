// What actions are given: the object service and the S3 settings from configuration.
import type { Readable } from 'node:stream';
import type { WriteConditions } from '../../objects/conditions.js';
import type { MultipartService } from '../../objects/multipart.js';
import type { ObjectService } from '../../objects/objectService.js';
import type { OidcVerifier } from '../../s3/auth/oidc.js';
import type { FormAuthenticator } from '../../s3/auth/postSignature.js';
import type { Identity } from '../../s3/auth/simple.js';
import type { S3Request } from '../../s3/handler.js';
import type { TemporaryCredentials } from '../../s3/auth/temporaryCredentials.js';

export interface S3Settings {
  /** Largest user metadata (names + values, bytes). */
  maxMetadataBytes: number;
  taggingRestrictions: boolean;
  /** Metadata and tags may change after an object is written (spec: underfs.xattr.change.enabled). */
  metadataChangeEnabled: boolean;
  region: string;
  /** Largest XML request body (DeleteObjects with 1000 keys fits). */
  maxXmlBytes: number;
}

export interface Services {
  objects: ObjectService;
  multipart: MultipartService;
  settings: S3Settings;
  /** STS AssumeRoleWithWebIdentity: present in OIDC mode only. */
  sts?: StsService;
  /** In a cluster: the owners of keys that a bucket-level request (DeleteObjects) changes. */
  cluster?: ClusterPeers;
  /** POST Object: the form names who acts, so the action authenticates and authorizes it itself. */
  forms: { authenticate: FormAuthenticator; authorize?: (r: S3Request) => void };
}

/** What a bucket-level action needs of the cluster to change keys that other workers own. */
export interface ClusterPeers {
  /** True when another worker serves `/bucket/key` now (its caches are the ones to keep right). */
  ownedElsewhere(bucket: string, key: string): boolean;
  /** DeleteObject of the key on the worker that serves it, acting as `user`; throws its S3 error. */
  deleteOnOwner(bucket: string, key: string, who: Pick<Identity, 'user' | 'groups'>, conditions: WriteConditions): Promise<void>;
  /** PutObject of the key on the worker that serves it, acting as `who`, the body streamed; its ETag. */
  putOnOwner(bucket: string, key: string, who: Pick<Identity, 'user' | 'groups'>, headers: Record<string, string>, body: Readable): Promise<string>;
}

export interface StsService {
  oidc: OidcVerifier;
  credentials: TemporaryCredentials;
  /** Lifetimes of issued credentials, seconds. */
  defaultSeconds: number;
  minSeconds: number;
  maxSeconds: number;
}
