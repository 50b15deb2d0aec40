"""What every boto3 compatibility test shares: clients for a running cluster, unique bucket names.

The cluster comes from the environment (S3CompatTests.cs starts a 3-node cluster with keys and runs
`python3 -m unittest discover tests/s3compat`):
  O3_ENDPOINTS   comma-separated node URLs, e.g. http://127.0.90.1:8080,http://127.0.90.2:8080
  O3_ACCESS_KEY, O3_SECRET_KEY   a read-write key
Clients are stock boto3 (Debian's python3-boto3), path-style, region us-east-1, no retries (a retry
would hide a refused request).
"""
import itertools
import os
import unittest
import uuid

import boto3
import botocore.config

ENDPOINTS = [e for e in os.environ.get("O3_ENDPOINTS", "").split(",") if e]
_counter = itertools.count()


def client(node=0, access_key=None, secret_key=None):
    """A boto3 S3 client on one node (node counts from 0; wraps around the endpoints)."""
    if not ENDPOINTS:
        raise unittest.SkipTest("O3_ENDPOINTS is not set: run through S3CompatTests (make test)")
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINTS[node % len(ENDPOINTS)],
        aws_access_key_id=access_key or os.environ["O3_ACCESS_KEY"],
        aws_secret_access_key=secret_key or os.environ["O3_SECRET_KEY"],
        region_name="us-east-1",
        config=botocore.config.Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def new_bucket(s3, prefix="compat"):
    """Creates a bucket with a name no other test uses, and returns the name."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}-{next(_counter)}"
    s3.create_bucket(Bucket=name)
    return name


def put_keys(s3, bucket, keys, body=b"x"):
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    return bucket


def error_code(call):
    """The S3 error code a refused call got (the test fails if it was not refused)."""
    try:
        call()
    except s3_errors() as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError("the call was not refused")


def s3_errors():
    import botocore.exceptions
    return botocore.exceptions.ClientError
