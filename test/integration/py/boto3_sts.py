# boto3 against Strata's STS: AssumeRoleWithWebIdentity on an explicit STS client (Debian's
# botocore 1.29 cannot point STS at a custom endpoint by configuration), then, with --s3, S3 calls
# signed with the temporary credentials. Prints one JSON document.
import json
import sys

import boto3
import botocore
from botocore.config import Config

url, token, expired, foreign = sys.argv[1:5]
use_s3 = '--s3' in sys.argv
sts = boto3.client('sts', endpoint_url=url, region_name='us-east-1')
role = 'arn:aws:iam::000000000000:role/strata-reader'

r = sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName='boto3-session', WebIdentityToken=token, DurationSeconds=900)
c = r['Credentials']
out = {
    'creds': {'AccessKeyId': c['AccessKeyId'], 'SecretAccessKey': c['SecretAccessKey'], 'SessionToken': c['SessionToken'], 'Expiration': c['Expiration'].isoformat()},
    'subject': r['SubjectFromWebIdentityToken'],
    'audience': r['Audience'],
    'provider': r['Provider'],
    'arn': r['AssumedRoleUser']['Arn'],
    'requestId': r['ResponseMetadata']['RequestId'],
    'errors': {},
}
for name, tok in [('expired', expired), ('foreign', foreign)]:
    try:
        sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName='boto3-session', WebIdentityToken=tok)
        out['errors'][name] = 'none'
    except botocore.exceptions.ClientError as e:
        out['errors'][name] = [e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode'], e.response['Error'].get('Type', '')]

if use_s3:
    s3 = boto3.client('s3', endpoint_url=url, region_name='us-east-1', aws_access_key_id=c['AccessKeyId'],
                      aws_secret_access_key=c['SecretAccessKey'], aws_session_token=c['SessionToken'],
                      config=Config(s3={'addressing_style': 'path'}))
    s3.put_object(Bucket='data', Key='from-boto3/hello.txt', Body=b'hello from boto3')
    out['get'] = s3.get_object(Bucket='data', Key='from-boto3/hello.txt')['Body'].read().decode()
    out['list'] = [o['Key'] for o in s3.list_objects_v2(Bucket='data', Prefix='from-boto3/').get('Contents', [])]
    bad = boto3.client('s3', endpoint_url=url, region_name='us-east-1', aws_access_key_id=c['AccessKeyId'],
                       aws_secret_access_key=c['SecretAccessKey'], aws_session_token=c['SessionToken'][:-4] + 'AAAA',
                       config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
    try:
        bad.list_objects_v2(Bucket='data')
        out['tampered'] = 'none'
    except botocore.exceptions.ClientError as e:
        out['tampered'] = e.response['Error']['Code']
print(json.dumps(out))
