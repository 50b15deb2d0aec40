using O3Storage.Node.Auth;
using O3Storage.Node.S3;

namespace O3Storage.Node.Tests.S3;

public sealed class S3RouteTests
{
    [Theory]
    [InlineData("GET", "/", "", false, S3Operation.ListBuckets, "", "")]
    [InlineData("PUT", "/photos", "", false, S3Operation.CreateBucket, "photos", "")]
    [InlineData("PUT", "/photos/", "", false, S3Operation.CreateBucket, "photos", "")]
    [InlineData("PUT", "/photos", "X-Amz-Algorithm,X-Amz-Credential,X-Amz-Date,X-Amz-Expires,X-Amz-SignedHeaders,X-Amz-Signature", false, S3Operation.CreateBucket, "photos", "")]
    [InlineData("HEAD", "/photos", "", false, S3Operation.HeadBucket, "photos", "")]
    [InlineData("DELETE", "/photos", "", false, S3Operation.DeleteBucket, "photos", "")]
    [InlineData("GET", "/photos", "location", false, S3Operation.GetBucketLocation, "photos", "")]
    [InlineData("GET", "/photos", "list-type,prefix,delimiter,encoding-type", false, S3Operation.ListObjectsV2, "photos", "")]
    [InlineData("GET", "/photos", "prefix,marker,max-keys", false, S3Operation.ListObjectsV1, "photos", "")]
    [InlineData("GET", "/photos", "uploads", false, S3Operation.ListMultipartUploads, "photos", "")]
    [InlineData("GET", "/photos", "versions,prefix,key-marker,version-id-marker,encoding-type", false, S3Operation.ListObjectVersions, "photos", "")]
    [InlineData("GET", "/photos", "versioning", false, S3Operation.GetBucketVersioning, "photos", "")]
    [InlineData("POST", "/photos", "delete", false, S3Operation.DeleteObjects, "photos", "")]
    [InlineData("PUT", "/photos/2026/a b.jpg", "", false, S3Operation.PutObject, "photos", "2026/a b.jpg")]
    [InlineData("PUT", "/photos/copy.jpg", "", true, S3Operation.CopyObject, "photos", "copy.jpg")]
    [InlineData("GET", "/photos/a.jpg", "", false, S3Operation.GetObject, "photos", "a.jpg")]
    [InlineData("GET", "/photos/a.jpg", "response-content-type,X-Amz-Signature", false, S3Operation.GetObject, "photos", "a.jpg")]
    [InlineData("GET", "/photos/a.jpg", "tagging", false, S3Operation.GetObjectTagging, "photos", "a.jpg")]
    [InlineData("HEAD", "/photos/a.jpg", "", false, S3Operation.HeadObject, "photos", "a.jpg")]
    [InlineData("DELETE", "/photos/a.jpg", "", false, S3Operation.DeleteObject, "photos", "a.jpg")]
    [InlineData("POST", "/photos/big.iso", "uploads", false, S3Operation.CreateMultipartUpload, "photos", "big.iso")]
    [InlineData("PUT", "/photos/big.iso", "partNumber,uploadId", false, S3Operation.UploadPart, "photos", "big.iso")]
    [InlineData("PUT", "/photos/big.iso", "partNumber,uploadId", true, S3Operation.UploadPartCopy, "photos", "big.iso")]
    [InlineData("POST", "/photos/big.iso", "uploadId", false, S3Operation.CompleteMultipartUpload, "photos", "big.iso")]
    [InlineData("DELETE", "/photos/big.iso", "uploadId", false, S3Operation.AbortMultipartUpload, "photos", "big.iso")]
    [InlineData("GET", "/photos/big.iso", "uploadId,max-parts", false, S3Operation.ListParts, "photos", "big.iso")]
    [InlineData("GET", "/photos/a//b/", "", false, S3Operation.GetObject, "photos", "a//b/")]
    public void Requests_MapToTheirOperation(string method, string path, string query, bool copySource, S3Operation expected, string bucket, string key)
    {
        string[] names = query.Length == 0 ? [] : query.Split(',');
        Assert.Equal(new S3Route(expected, bucket, key), S3Route.Parse(method, path, names, copySource));
    }

    [Theory]
    [InlineData("GET", "/photos", "acl")]
    [InlineData("PUT", "/photos", "versioning")]
    [InlineData("DELETE", "/photos", "versions")]
    [InlineData("PUT", "/photos/a.jpg", "tagging")]
    [InlineData("GET", "/photos/a.jpg", "acl")]
    [InlineData("DELETE", "/photos", "cors")]
    [InlineData("POST", "/", "")]
    [InlineData("PATCH", "/photos/a.jpg", "")]
    public void UnsupportedSubresourcesAndMethods_AreNotImplemented_NeverAPlainOperation(string method, string path, string query) =>
        Assert.Equal(S3Operation.NotImplemented, S3Route.Parse(method, path, query.Length == 0 ? [] : [query], false).Operation);

    [Fact]
    public void ReadOnlyKeys_OnlyRead_OtherRolesDoEverything()
    {
        S3Operation[] reads = [S3Operation.ListBuckets, S3Operation.HeadBucket, S3Operation.GetBucketLocation, S3Operation.ListObjectsV1, S3Operation.ListObjectsV2, S3Operation.ListMultipartUploads, S3Operation.GetObject, S3Operation.HeadObject, S3Operation.ListParts, S3Operation.GetObjectTagging, S3Operation.ListObjectVersions, S3Operation.GetBucketVersioning];
        foreach (S3Operation operation in Enum.GetValues<S3Operation>())
        {
            Assert.Equal(reads.Contains(operation), S3Route.Allows(ApiRole.ReadOnly, operation));
            Assert.True(S3Route.Allows(ApiRole.ReadWrite, operation));
            Assert.True(S3Route.Allows(ApiRole.Admin, operation));
        }
    }
}
