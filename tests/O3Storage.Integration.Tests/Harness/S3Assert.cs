using System.Net;
using Amazon.S3;

namespace O3Storage.Integration.Tests.Harness;

internal static class S3Assert
{
    /// <summary>The S3 error code and status a refused SDK call got.</summary>
    public static async Task<(string Code, HttpStatusCode Status)> CodeOf(Func<Task> call)
    {
        AmazonS3Exception error = await Assert.ThrowsAnyAsync<AmazonS3Exception>(call);
        return (error.ErrorCode, error.StatusCode);
    }
}
