// S3's limits on what is stored beside an object: user metadata size and tag sets.
import { ObjectError } from './errors.js';

export const MAX_TAGS = 10;
export const MAX_TAG_KEY_LENGTH = 128;
export const MAX_TAG_VALUE_LENGTH = 256;

/** User metadata is measured as S3 does: the bytes of every name and value (headers arrive as Latin-1, a byte a character). */
export function checkUserMetadataSize(meta: Record<string, string>, maxBytes: number): void {
  let total = 0;
  for (const [k, v] of Object.entries(meta)) total += Buffer.byteLength(k, 'latin1') + Buffer.byteLength(v, 'latin1');
  if (total > maxBytes) {
    throw new ObjectError('MetadataTooLarge', `Your metadata headers are ${total} bytes; at most ${maxBytes} bytes are allowed.`, {
      Size: String(total),
      MaxSizeAllowed: String(maxBytes),
    });
  }
}

/**
 * Checks a tag set against S3's rules: at most 10 tags, keys up to 128 and values up to 256
 * characters, no key twice. With restrictions off only duplicates are refused.
 */
export function checkTags(tags: Array<[string, string]>, restrictionsEnabled: boolean): void {
  const seen = new Set<string>();
  for (const [k, v] of tags) {
    if (seen.has(k)) throw new ObjectError('InvalidTag', 'Cannot provide multiple Tags with the same key');
    seen.add(k);
    if (!restrictionsEnabled) continue;
    if (k.length === 0 || [...k].length > MAX_TAG_KEY_LENGTH) throw new ObjectError('InvalidTag', `The TagKey you have provided is invalid: it must be 1 to ${MAX_TAG_KEY_LENGTH} characters.`);
    if (k.toLowerCase().startsWith('aws:')) throw new ObjectError('InvalidTag', 'Your TagKey cannot be prefixed with aws:');
    if ([...v].length > MAX_TAG_VALUE_LENGTH) throw new ObjectError('InvalidTag', `The TagValue you have provided is too long: at most ${MAX_TAG_VALUE_LENGTH} characters.`);
  }
  if (restrictionsEnabled && tags.length > MAX_TAGS) throw new ObjectError('BadRequest', `Object tags cannot be greater than ${MAX_TAGS}`);
}

/** x-amz-tagging: a URL-encoded query string, `k1=v1&k2=v2`. */
export function parseTaggingHeader(header: string): Array<[string, string]> {
  const tags: Array<[string, string]> = [];
  if (header === '') return tags;
  for (const part of header.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    try {
      const k = decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, ' '));
      const v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
      tags.push([k, v]);
    } catch {
      throw new ObjectError('InvalidArgument', 'The header x-amz-tagging is not a valid URL-encoded query string.');
    }
  }
  return tags;
}
