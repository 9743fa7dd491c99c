// The Tagging document shared by object and bucket tagging actions.
import type { S3Request } from '../../s3/handler.js';
import { S3Error } from '../../s3/errors.js';
import { sendXml } from '../../s3/respond.js';
import { arrayOf, elementOf, readXmlBody, textOf, xmlDocument } from '../../s3/xml.js';
import { checkTags } from '../../objects/limits.js';
import type { Services } from './services.js';

const MAX_TAGGING_BYTES = 64 * 1024;

/** Reads and checks `<Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>`. */
export async function readTagging(r: S3Request, svc: Services): Promise<Array<[string, string]>> {
  return tagsOfDocument(await readXmlBody(r.req, MAX_TAGGING_BYTES), svc);
}

/** The checked tags of a parsed Tagging document (a request body, or a POST form's `tagging` field). */
export function tagsOfDocument(doc: Record<string, unknown>, svc: Services): Array<[string, string]> {
  const tagging = elementOf(doc, 'Tagging');
  const tagSet = tagging.TagSet === undefined ? {} : elementOf(tagging, 'TagSet');
  const tags = arrayOf(tagSet.Tag).map((t): [string, string] => {
    const key = textOf(t.Key);
    if (key === undefined) throw new S3Error('MalformedXML', 'Every Tag needs a Key.');
    return [key, textOf(t.Value) ?? ''];
  });
  checkTags(tags, svc.settings.taggingRestrictions);
  return tags;
}

export function sendTagging(r: S3Request, tags: Array<[string, string]>): void {
  sendXml(r, 200, xmlDocument('Tagging', { TagSet: { Tag: tags.map(([Key, Value]) => ({ Key, Value })) } }));
}

export function requireMetadataChanges(svc: Services): void {
  if (!svc.settings.metadataChangeEnabled) {
    throw new S3Error('NotImplemented', 'Changing tags is disabled on this worker (strata.underfs.xattr.change.enabled=false).');
  }
}
