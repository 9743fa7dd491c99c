// The XML request decoder: entities as XML defines them, whatever client wrote the document.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseXml } from '../../../src/s3/xml.js';

test('numeric character references are decoded (Go clients write ETag quotes as &#34;)', () => {
  const doc = parseXml('<CompleteMultipartUpload><Part><ETag>&#34;f571a4cf&#34;</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>');
  const parts = (doc.CompleteMultipartUpload as { Part: Array<{ ETag: string }> }).Part;
  assert.equal(parts[0].ETag, '"f571a4cf"');
  assert.equal((parseXml('<K>&#x22;a&#x22; &#8364;</K>') as { K: string }).K, '"a" €');
});

test('the five XML entities are decoded once; HTML-only entities are not XML and stay as written', () => {
  assert.equal((parseXml('<K>&lt;&gt;&amp;&quot;&apos; &amp;lt;</K>') as { K: string }).K, `<>&"' &lt;`);
  assert.equal((parseXml('<K>a&nbsp;b</K>') as { K: string }).K, 'a&nbsp;b');
});
