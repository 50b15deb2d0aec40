"""Listings as boto3 asks for them: EncodingType=url (botocore's default, and asked for explicitly),
prefix and delimiter edge cases, continuation tokens, owners, ListObjectVersions on a bucket without
versioning. Expected values are S3's, from Ceph's s3-tests where it has the case."""
import unittest

from common import client, error_code, new_bucket, put_keys

ODD_KEYS = ["dir one/a+b.txt", "100%/p%20q", "line\nbreak.txt", "carriage\rreturn", "ünïcødé/日本語.txt",
            "plus+and space/x y", "tilde~/-_.txt", "a/b/c", "amp&lt<>\"'.txt", "semi;colon=eq?q#h"]


def keys(response):
    return [o["Key"] for o in response.get("Contents", [])]


def prefixes(response):
    return [p["Prefix"] for p in response.get("CommonPrefixes", [])]


class Listing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = client(0)

    def test_explicit_url_encoding_is_s3s(self):
        # s3-tests test_bucket_list(v2)_encoding_basic: botocore does not decode what the caller asked for.
        bucket = put_keys(self.s3, new_bucket(self.s3), ["foo+1/bar", "foo/bar/xyzzy", "quux ab/thud", "asdf+b"])
        for response in (self.s3.list_objects_v2(Bucket=bucket, Delimiter="/", EncodingType="url"),
                         self.s3.list_objects(Bucket=bucket, Delimiter="/", EncodingType="url")):
            self.assertEqual(response["Delimiter"], "/")
            self.assertEqual(keys(response), ["asdf%2Bb"])
            self.assertEqual(prefixes(response), ["foo%2B1/", "foo/", "quux%20ab/"])
            self.assertEqual(response["EncodingType"], "url")

    def test_odd_keys_come_back_exactly_through_botocores_own_encoding(self):
        bucket = put_keys(client(1), new_bucket(self.s3), ODD_KEYS)
        for operation in ("list_objects_v2", "list_objects"):
            listed = [k for page in self.s3.get_paginator(operation).paginate(Bucket=bucket, PaginationConfig={"PageSize": 3}) for k in keys(page)]
            self.assertEqual(sorted(listed), sorted(ODD_KEYS), operation)
        for key in ODD_KEYS:  # each listed key names its object
            self.assertEqual(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read(), b"x")
        under = self.s3.list_objects_v2(Bucket=bucket, Prefix="plus+and space/", Delimiter="/")
        self.assertEqual(keys(under), ["plus+and space/x y"])
        after = self.s3.list_objects_v2(Bucket=bucket, StartAfter="line\nbreak.txt")
        self.assertEqual(keys(after), sorted(k for k in ODD_KEYS if k.encode() > b"line\nbreak.txt"))
        self.assertEqual(after["StartAfter"], "line\nbreak.txt")

    def test_an_empty_continuation_token_lists_from_the_start(self):
        # s3-tests test_bucket_listv2_continuationtoken_empty
        bucket = put_keys(self.s3, new_bucket(self.s3), ["bar", "baz", "foo", "quxx"])
        response = self.s3.list_objects_v2(Bucket=bucket, ContinuationToken="")
        self.assertEqual(response["ContinuationToken"], "")
        self.assertEqual(keys(response), ["bar", "baz", "foo", "quxx"])
        self.assertFalse(response["IsTruncated"])

    def test_continuation_tokens_resume_and_foreign_ones_are_refused(self):
        bucket = put_keys(self.s3, new_bucket(self.s3), ["bar", "baz", "foo", "quxx"])
        first = self.s3.list_objects_v2(Bucket=bucket, MaxKeys=1)
        second = self.s3.list_objects_v2(Bucket=bucket, ContinuationToken=first["NextContinuationToken"])
        self.assertEqual(second["ContinuationToken"], first["NextContinuationToken"])
        self.assertEqual(keys(second), ["baz", "foo", "quxx"])
        self.assertEqual(error_code(lambda: self.s3.list_objects_v2(Bucket=bucket, ContinuationToken="bm90LW91cnM")), ("InvalidArgument", 400))

    def test_delimiter_and_prefix_edge_cases(self):
        bucket = put_keys(self.s3, new_bucket(self.s3), ["bar", "baz", "cab", "foo"])
        empty = self.s3.list_objects(Bucket=bucket, Delimiter="")  # s3-tests test_bucket_list_delimiter_empty
        self.assertNotIn("Delimiter", empty)
        self.assertEqual(keys(empty), ["bar", "baz", "cab", "foo"])
        alt = self.s3.list_objects(Bucket=bucket, Delimiter="a")  # test_bucket_list_delimiter_alt
        self.assertEqual(keys(alt), ["foo"])
        self.assertEqual(prefixes(alt), ["ba", "ca"])
        missing = self.s3.list_objects(Bucket=bucket, Delimiter="/", Prefix="d")  # test_bucket_list_delimiter_prefix_not_exist
        self.assertEqual((keys(missing), prefixes(missing)), ([], []))
        paged = self.s3.list_objects(Bucket=bucket, Delimiter="a", MaxKeys=1)  # v1 NextMarker only with a delimiter
        self.assertEqual((prefixes(paged), paged["NextMarker"], paged["IsTruncated"]), (["ba"], "ba", True))
        rest = self.s3.list_objects(Bucket=bucket, Delimiter="a", Marker=paged["NextMarker"])
        self.assertEqual((keys(rest), prefixes(rest)), (["foo"], ["ca"]))
        self.assertEqual(self.s3.list_objects(Bucket=bucket)["MaxKeys"], 1000)  # test_bucket_list_maxkeys_none
        self.assertEqual(error_code(lambda: self.s3.list_objects(Bucket=bucket, EncodingType="base64")), ("InvalidArgument", 400))

    def test_owners_in_v1_always_and_in_v2_when_asked(self):
        # s3-tests test_bucket_listv2_fetchowner_notempty / _defaultempty, test_bucket_list_return_data
        bucket = put_keys(self.s3, new_bucket(self.s3), ["a"])
        self.assertNotIn("Owner", self.s3.list_objects_v2(Bucket=bucket)["Contents"][0])
        self.assertIn("ID", self.s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]["Owner"])
        self.assertIn("ID", self.s3.list_objects(Bucket=bucket)["Contents"][0]["Owner"])

    def test_object_versions_of_a_bucket_without_versioning(self):
        bucket = put_keys(self.s3, new_bucket(self.s3), ODD_KEYS)
        pages = list(self.s3.get_paginator("list_object_versions").paginate(Bucket=bucket, PaginationConfig={"PageSize": 4}))
        versions = [v for page in pages for v in page.get("Versions", [])]
        self.assertEqual(sorted(v["Key"] for v in versions), sorted(ODD_KEYS))
        self.assertTrue(all(v["VersionId"] == "null" and v["IsLatest"] for v in versions))
        self.assertEqual([m for page in pages for m in page.get("DeleteMarkers", [])], [])
        self.assertGreater(len(pages), 2)
        self.assertNotIn("Status", self.s3.get_bucket_versioning(Bucket=bucket))
        folders = self.s3.list_object_versions(Bucket=bucket, Delimiter="/", Prefix="dir one/")
        self.assertEqual([v["Key"] for v in folders["Versions"]], ["dir one/a+b.txt"])
        self.assertEqual(error_code(lambda: self.s3.list_object_versions(Bucket=bucket, VersionIdMarker="null")), ("InvalidArgument", 400))

    def test_a_bucket_emptied_through_its_version_listing_can_be_deleted(self):
        # What cleanup scripts and Terraform's force_destroy do: delete every version listed, then the bucket.
        bucket = put_keys(self.s3, new_bucket(self.s3), ODD_KEYS)
        for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            objects = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", [])]
            if objects:
                result = self.s3.delete_objects(Bucket=bucket, Delete={"Objects": objects})
                self.assertEqual(result.get("Errors", []), [])
        self.s3.delete_bucket(Bucket=bucket)
        self.assertEqual(error_code(lambda: self.s3.head_bucket(Bucket=bucket))[1], 404)

    def test_version_ids_other_than_null_name_nothing(self):
        # A bucket without versioning keeps one version of each object, "null": a delete naming another
        # version must not delete the object, and a read of another version is NoSuchVersion.
        bucket = put_keys(self.s3, new_bucket(self.s3), ["kept", "gone"])
        other = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"
        self.s3.delete_object(Bucket=bucket, Key="kept", VersionId=other)
        result = self.s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "kept", "VersionId": other}, {"Key": "gone", "VersionId": "null"}]})
        self.assertEqual(result.get("Errors", []), [])
        self.assertEqual(keys(self.s3.list_objects_v2(Bucket=bucket)), ["kept"])
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="kept", VersionId="null")["Body"].read(), b"x")
        self.assertEqual(error_code(lambda: self.s3.get_object(Bucket=bucket, Key="kept", VersionId=other)), ("NoSuchVersion", 404))
        self.assertEqual(error_code(lambda: self.s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "kept", "VersionId": other}))[0], "NoSuchVersion")


if __name__ == "__main__":
    unittest.main()
