"""S3 buckets as storages, through boto3 (the optional extra: pip install labeldesk[s3]).

Only this module imports boto3, and only when an S3 storage is used. Errors from the bucket
become one 400 with S3's own words.
"""

from desktop.core.errors import ValidationError

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 60


def _boto():
    try:
        import boto3
        import botocore.config
        import botocore.exceptions
    except ImportError:
        raise ValidationError("S3 storages need boto3, which is not installed. Install it with "
                              "`pip install labeldesk[s3]` (or `pip install boto3`).") from None
    return boto3, botocore


def client(doc):
    boto3, botocore = _boto()
    options = {"config": botocore.config.Config(connect_timeout=CONNECT_TIMEOUT,
                                                read_timeout=READ_TIMEOUT,
                                                retries={"max_attempts": 3},
                                                signature_version="s3v4")}
    for key, option in (("aws_access_key_id", "aws_access_key_id"),
                        ("aws_secret_access_key", "aws_secret_access_key"),
                        ("aws_session_token", "aws_session_token"),
                        ("region_name", "region_name"), ("s3_endpoint", "endpoint_url")):
        if doc.get(key):
            options[option] = doc[key]
    try:
        return boto3.client("s3", **options)
    except Exception as e:  # bad endpoint URL, unknown region, ...
        raise ValidationError(f"Can't use this S3 configuration: {e}") from None


def errors():
    """The exceptions a bucket call may raise (for `except`)."""
    _, botocore = _boto()
    return (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)


def folder_prefix(prefix):
    prefix = (prefix or "").strip("/")
    return prefix + "/" if prefix else ""


def validate(doc):
    """Label Studio's connection check: the bucket answers a listing under the prefix."""
    if not doc.get("bucket"):
        raise ValidationError({"bucket": ["This field is required."]})
    s3 = client(doc)
    try:
        s3.list_objects_v2(Bucket=doc["bucket"], Prefix=folder_prefix(doc.get("prefix")),
                           MaxKeys=1)
    except errors() as e:
        raise ValidationError(f"Can't connect to S3 bucket {doc['bucket']!r}: {e}") from None


def list_keys(doc, regex=None, recursive=True):
    """The object keys under the prefix (Label Studio's regex_filter on the key), sorted."""
    s3 = client(doc)
    options = {"Bucket": doc["bucket"], "Prefix": folder_prefix(doc.get("prefix"))}
    if not recursive:
        options["Delimiter"] = "/"
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(**options):
        for item in page.get("Contents", ()):
            key = item["Key"]
            if key.endswith("/"):
                continue
            if regex is not None and not regex.match(key):
                continue
            keys.append(key)
    return sorted(keys)


def read(doc, key, s3=None):
    s3 = s3 or client(doc)
    return s3.get_object(Bucket=doc["bucket"], Key=key)["Body"].read()


def put(doc, key, data, s3=None):
    s3 = s3 or client(doc)
    options = {"Bucket": doc["bucket"], "Key": key, "Body": data}
    if doc.get("aws_sse_kms_key_id"):
        options.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=doc["aws_sse_kms_key_id"])
    s3.put_object(**options)


def delete(doc, key, s3=None):
    s3 = s3 or client(doc)
    s3.delete_object(Bucket=doc["bucket"], Key=key)


def presigned_url(doc, bucket, key):
    ttl = doc.get("presign_ttl") or 1
    return client(doc).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=int(ttl) * 60)


def stream(doc, bucket, key):
    """(bytes, content type) of one object, for storages that don't presign."""
    answer = client(doc).get_object(Bucket=bucket, Key=key)
    return answer["Body"].read(), answer.get("ContentType") or "application/octet-stream"
