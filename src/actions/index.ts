// The action table: one handler per S3 action, each in its own file named after the AWS operation.
import type { ActionHandler, ActionTable, S3Request } from '../s3/handler.js';
import type { ActionName } from '../s3/endpoint.js';
import type { Category } from '../s3/auth/policy.js';
import type { Services } from './shared/services.js';
import { checkExpectedBucketOwners } from './shared/expectedOwner.js';
import { createBucket } from './createBucket.js';
import { copyObject } from './copyObject.js';
import { createMultipartUpload } from './createMultipartUpload.js';
import { uploadPart } from './uploadPart.js';
import { uploadPartCopy } from './uploadPartCopy.js';
import { completeMultipartUpload } from './completeMultipartUpload.js';
import { abortMultipartUpload } from './abortMultipartUpload.js';
import { assumeRoleWithWebIdentity } from './assumeRoleWithWebIdentity.js';
import { listParts } from './listParts.js';
import { listMultipartUploads } from './listMultipartUploads.js';
import { deleteBucketTagging } from './deleteBucketTagging.js';
import { deleteObjectTagging } from './deleteObjectTagging.js';
import { getBucketTagging } from './getBucketTagging.js';
import { getObjectTagging } from './getObjectTagging.js';
import { putBucketTagging } from './putBucketTagging.js';
import { putObjectTagging } from './putObjectTagging.js';
import { deleteBucket } from './deleteBucket.js';
import { deleteObject } from './deleteObject.js';
import { deleteObjects } from './deleteObjects.js';
import { getBucketAcl } from './getBucketAcl.js';
import { getBucketLocation } from './getBucketLocation.js';
import { getBucketVersioning } from './getBucketVersioning.js';
import { getObject } from './getObject.js';
import { getObjectAcl } from './getObjectAcl.js';
import { getObjectAttributes } from './getObjectAttributes.js';
import { headBucket } from './headBucket.js';
import { headObject } from './headObject.js';
import { listBuckets } from './listBuckets.js';
import { listObjects } from './listObjects.js';
import { listObjectsV2 } from './listObjectsV2.js';
import { listObjectVersions } from './listObjectVersions.js';
import { notImplemented } from './notImplemented.js';
import { putBucketAcl } from './putBucketAcl.js';
import { putObject } from './putObject.js';
import { postObject } from './postObject.js';
import { putObjectAcl } from './putObjectAcl.js';

type Action = (r: S3Request, svc: Services) => Promise<void>;

const ACTIONS: Record<ActionName, Action> = {
  ListBuckets: listBuckets,
  HeadBucket: headBucket,
  CreateBucket: createBucket,
  DeleteBucket: deleteBucket,
  ListObjects: listObjects,
  ListObjectsV2: listObjectsV2,
  ListObjectVersions: listObjectVersions,
  GetBucketLocation: getBucketLocation,
  GetBucketVersioning: getBucketVersioning,
  GetBucketAcl: getBucketAcl,
  PutBucketAcl: putBucketAcl,
  GetBucketTagging: getBucketTagging,
  PutBucketTagging: putBucketTagging,
  DeleteBucketTagging: deleteBucketTagging,
  ListMultipartUploads: listMultipartUploads,
  DeleteObjects: deleteObjects,
  GetObject: getObject,
  HeadObject: headObject,
  PutObject: putObject,
  CopyObject: copyObject,
  DeleteObject: deleteObject,
  PostObject: postObject,
  GetObjectAcl: getObjectAcl,
  PutObjectAcl: putObjectAcl,
  GetObjectTagging: getObjectTagging,
  PutObjectTagging: putObjectTagging,
  DeleteObjectTagging: deleteObjectTagging,
  GetObjectAttributes: getObjectAttributes,
  CreateMultipartUpload: createMultipartUpload,
  UploadPart: uploadPart,
  UploadPartCopy: uploadPartCopy,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: abortMultipartUpload,
  ListParts: listParts,
  AssumeRoleWithWebIdentity: assumeRoleWithWebIdentity,
  Unsupported: notImplemented,
};

/** What each action does, for authorization (docs/security.md). */
export const ACTION_CATEGORIES: Record<ActionName, Category> = {
  ListBuckets: 'list',
  HeadBucket: 'read',
  CreateBucket: 'admin',
  DeleteBucket: 'admin',
  ListObjects: 'list',
  ListObjectsV2: 'list',
  ListObjectVersions: 'list',
  GetBucketLocation: 'read',
  GetBucketVersioning: 'read',
  GetBucketAcl: 'read',
  PutBucketAcl: 'admin',
  GetBucketTagging: 'read',
  PutBucketTagging: 'admin',
  DeleteBucketTagging: 'admin',
  ListMultipartUploads: 'list',
  DeleteObjects: 'write',
  GetObject: 'read',
  HeadObject: 'read',
  PutObject: 'write',
  CopyObject: 'write',
  DeleteObject: 'write',
  PostObject: 'write',
  GetObjectAcl: 'read',
  PutObjectAcl: 'write',
  GetObjectTagging: 'read',
  PutObjectTagging: 'write',
  DeleteObjectTagging: 'write',
  GetObjectAttributes: 'read',
  CreateMultipartUpload: 'write',
  UploadPart: 'write',
  UploadPartCopy: 'write',
  CompleteMultipartUpload: 'write',
  AbortMultipartUpload: 'write',
  ListParts: 'list',
  // No bucket: the policy lets it through; the ID token in it is the check.
  AssumeRoleWithWebIdentity: 'read',
  Unsupported: 'read',
};

export function buildActionTable(svc: Services): ActionTable {
  const table = {} as Record<ActionName, ActionHandler>;
  for (const [name, fn] of Object.entries(ACTIONS) as Array<[ActionName, Action]>) {
    table[name] = (r) => {
      checkExpectedBucketOwners(r, svc);
      return fn(r, svc);
    };
  }
  return table;
}
