// What actions are given: the object service and the S3 settings from configuration.
import type { MultipartService } from '../../objects/multipart.js';
import type { ObjectService } from '../../objects/objectService.js';
import type { OidcVerifier } from '../../s3/auth/oidc.js';
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
}

export interface StsService {
  oidc: OidcVerifier;
  credentials: TemporaryCredentials;
  /** Lifetimes of issued credentials, seconds. */
  defaultSeconds: number;
  minSeconds: number;
  maxSeconds: number;
}
