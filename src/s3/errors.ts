// The one S3 error type and the one table of codes, statuses and default messages.
// Every layer below s3/ throws domain errors; toS3Error() maps them here, and
// s3/respond.ts is the only place that renders an error onto the wire.
import { fromStorage, ObjectError } from '../objects/errors.js';

export const ERROR_TABLE = {
  AccessDenied: [403, 'Access Denied'],
  AuthorizationHeaderMalformed: [400, 'The authorization header is malformed.'],
  AuthorizationQueryParametersError: [400, 'Error parsing the X-Amz-Credential parameter.'],
  BadRequest: [400, 'Bad Request'],
  BadDigest: [400, 'The Content-MD5 you specified did not match what we received.'],
  BucketAlreadyExists: [409, 'The requested bucket name is not available.'],
  BucketAlreadyOwnedByYou: [409, 'Your previous request to create the named bucket succeeded and you already own it.'],
  BucketNotEmpty: [409, 'The bucket you tried to delete is not empty.'],
  ExpectationFailed: [417, 'The Expect header names an expectation this server cannot meet; only 100-continue is supported.'],
  EntityTooLarge: [400, 'Your proposed upload exceeds the maximum allowed object size.'],
  EntityTooSmall: [400, 'Your proposed upload is smaller than the minimum allowed object size.'],
  IncompleteBody: [400, 'You did not provide the number of bytes specified by the Content-Length HTTP header.'],
  InternalError: [500, 'We encountered an internal error. Please try again.'],
  InvalidAccessKeyId: [403, 'The AWS Access Key Id you provided does not exist in our records.'],
  InvalidArgument: [400, 'Invalid Argument'],
  InvalidBucketName: [400, 'The specified bucket is not valid.'],
  InvalidDigest: [400, 'The Content-MD5 you specified is not valid.'],
  InvalidPolicyDocument: [400, 'The content of the form does not meet the conditions specified in the policy document.'],
  IncorrectNumberOfFilesInPostRequest: [400, 'POST requires exactly one file upload per request.'],
  InvalidPart: [400, 'One or more of the specified parts could not be found.'],
  InvalidPartOrder: [400, 'The list of parts was not in ascending order.'],
  InvalidPartNumber: [416, 'The requested partnumber is not satisfiable'],
  InvalidRange: [416, 'The requested range is not satisfiable'],
  InvalidRequest: [400, 'Invalid Request'],
  InvalidURI: [400, "Couldn't parse the specified URI."],
  InvalidStorageClass: [400, 'The storage class you specified is not valid.'],
  TemporaryRedirect: [307, 'Please re-send this request to the specified temporary endpoint.'],
  InvalidToken: [400, 'The provided token is malformed or otherwise invalid.'],
  ExpiredToken: [400, 'The provided token has expired.'],
  InvalidTag: [400, 'The tag provided was not a valid tag.'],
  InvalidObjectState: [403, 'The operation is not valid for the current state of the object.'],
  KeyTooLongError: [400, 'Your key is too long.'],
  MalformedPOSTRequest: [400, 'The body of your POST request is not well-formed multipart/form-data.'],
  MalformedXML: [400, 'The XML you provided was not well-formed or did not validate against our published schema.'],
  MaxPostPreDataLengthExceededError: [400, 'Your POST request fields preceding the upload file were too large.'],
  MetadataTooLarge: [400, 'Your metadata headers exceed the maximum allowed metadata size.'],
  MethodNotAllowed: [405, 'The specified method is not allowed against this resource.'],
  MissingContentLength: [411, 'You must provide the Content-Length HTTP header.'],
  MissingRequestBodyError: [400, 'Request Body is empty.'],
  MissingSecurityHeader: [400, 'Your request is missing a required header.'],
  NoSuchBucket: [404, 'The specified bucket does not exist.'],
  NoSuchKey: [404, 'The specified key does not exist.'],
  NoSuchVersion: [404, 'The specified version does not exist.'],
  NoSuchUpload: [404, 'The specified multipart upload does not exist.'],
  NoSuchTagSet: [404, 'The TagSet does not exist.'],
  NoSuchBucketPolicy: [404, 'The bucket policy does not exist.'],
  NotImplemented: [501, 'A header or query you provided requested a function that is not implemented.'],
  NotModified: [304, 'Not Modified'],
  PreconditionFailed: [412, 'At least one of the preconditions you specified did not hold.'],
  RequestHeaderSectionTooLarge: [400, 'Your request header section exceeds the maximum allowed size.'],
  RequestTimeTooSkewed: [403, 'The difference between the request time and the current time is too large.'],
  RequestTimeout: [400, 'Your socket connection to the server was not read from or written to within the timeout period.'],
  ServiceUnavailable: [503, 'Please reduce your request rate.'],
  SignatureDoesNotMatch: [403, 'The request signature we calculated does not match the signature you provided.'],
  SlowDown: [503, 'Please reduce your request rate.'],
  XAmzContentChecksumMismatch: [400, 'The provided checksum does not match the data that was received.'],
  XAmzContentSHA256Mismatch: [400, "The provided 'x-amz-content-sha256' header does not match what was computed."],
  InvalidEncryptionAlgorithmError: [400, 'The encryption request you specified is not valid.'],
  ObjectNameConflict: [409, 'An object and a folder of the same name cannot both exist on this mount.'],
  InvalidObjectName: [400, 'The object key is not valid on this mount.'],
  // STS (AssumeRoleWithWebIdentity); rendered as STS's <ErrorResponse> when the error says so.
  ExpiredTokenException: [400, 'Token has expired.'],
  IDPCommunicationError: [400, 'The request could not be fulfilled because the identity provider (IDP) that was asked to verify the incoming identity token could not be reached.'],
  InvalidAction: [400, 'The action or operation requested is invalid.'],
  InvalidIdentityToken: [400, 'The web identity token that was passed could not be validated.'],
  InvalidParameterValue: [400, 'An invalid or out-of-range value was supplied for the input parameter.'],
  MissingAction: [400, 'The request is missing an action or a required parameter.'],
  MissingParameter: [400, 'A required parameter for the specified action is not supplied.'],
  ValidationError: [400, 'The input fails to satisfy the constraints specified by an AWS service.'],
} as const satisfies Record<string, readonly [number, string]>;

export type S3ErrorCode = keyof typeof ERROR_TABLE;

export class S3Error extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;
  /** Extra XML elements inside <Error> (e.g. ArgumentName, ArgumentValue). */
  readonly fields: Record<string, string>;
  /** Extra response headers (e.g. Allow on 405, x-amz-... on redirects). */
  readonly headers: Record<string, string>;
  /** Answered by the STS action: rendered as STS's <ErrorResponse>, not S3's <Error>. */
  readonly sts: boolean;

  constructor(
    code: S3ErrorCode,
    message?: string,
    extra: { fields?: Record<string, string>; headers?: Record<string, string>; sts?: boolean } = {},
  ) {
    const [status, defaultMessage] = ERROR_TABLE[code];
    super(message ?? defaultMessage);
    this.name = 'S3Error';
    this.code = code;
    this.status = status;
    this.fields = extra.fields ?? {};
    this.headers = extra.headers ?? {};
    this.sts = extra.sts ?? false;
  }
}

/** Any thrown value as an error of the STS API (same code and message, STS's document). */
export function toStsError(e: unknown): S3Error {
  const s = toS3Error(e);
  return s.sts ? s : new S3Error(s.code, s.message, { fields: s.fields, headers: s.headers, sts: true });
}

export function isS3Error(e: unknown): e is S3Error {
  return e instanceof S3Error;
}

/** Maps any thrown value (domain errors, Node system errors) to an S3Error. */
export function toS3Error(e: unknown): S3Error {
  if (e instanceof S3Error) return e;
  const domain = fromStorage(e);
  if (domain instanceof ObjectError) return new S3Error(domain.code, domain.message || undefined, { fields: domain.fields });
  const err = e as NodeJS.ErrnoException | undefined;
  switch (err?.code) {
    case 'ENOENT':
      return new S3Error('NoSuchKey');
    case 'EACCES':
    case 'EPERM':
      return new S3Error('AccessDenied', 'The under-storage refused access to this path.');
    case 'ENOSPC':
    case 'EDQUOT':
      return new S3Error('ServiceUnavailable', 'The under-storage is out of space.');
    case 'ENAMETOOLONG':
      return new S3Error('KeyTooLongError');
    case 'ENOTDIR':
    case 'EISDIR':
    case 'EEXIST':
    case 'ENOTEMPTY':
      return new S3Error('ObjectNameConflict');
    case 'ERR_STREAM_PREMATURE_CLOSE':
    case 'ECONNABORTED':
      // The client stopped sending before the body was complete.
      return new S3Error('IncompleteBody');
    case 'ECONNREFUSED':
    case 'ETIMEDOUT':
    case 'ECONNRESET':
      return new S3Error('ServiceUnavailable', 'The under-storage could not be reached.');
    default:
      return new S3Error('InternalError');
  }
}
