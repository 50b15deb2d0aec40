using System.Net;
using O3Storage.Ctl.Api;

namespace O3Storage.Ctl.Tests;

/// <summary>A refused admin call becomes the node's own words and the exit code its status means (docs/o3ctl.md).</summary>
public sealed class NodeApiTests
{
    private static CtlException Failure(HttpStatusCode status, string body) =>
        NodeApi.Failure(new AdminReply(status, body, new Uri("http://10.0.0.1:8080/")), HttpMethod.Post, "/admin/x");

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, ExitCode.Usage)]
    [InlineData(HttpStatusCode.RequestEntityTooLarge, ExitCode.Usage)]
    [InlineData(HttpStatusCode.Unauthorized, ExitCode.NotAuthorized)]
    [InlineData(HttpStatusCode.Forbidden, ExitCode.NotAuthorized)]
    [InlineData(HttpStatusCode.NotFound, ExitCode.Refused)]
    [InlineData(HttpStatusCode.Conflict, ExitCode.Refused)]
    [InlineData(HttpStatusCode.ServiceUnavailable, ExitCode.Unreachable)]
    [InlineData(HttpStatusCode.MethodNotAllowed, ExitCode.NotSupported)]
    public void Failure_StatusMapsToExitCode_KeepingTheNodesErrorAndDetail(HttpStatusCode status, ExitCode expected)
    {
        CtlException e = Failure(status, """{"error": "snapshot s1 does not exist", "detail": "GET /admin/snapshots lists them"}""");
        Assert.Equal(expected, e.Code);
        Assert.Equal("snapshot s1 does not exist", e.Message);
        if (expected is not ExitCode.NotSupported)
        {
            Assert.StartsWith("GET /admin/snapshots lists them", e.Detail);
        }
    }

    [Fact]
    public void Failure_NoSuchAdminCall_IsAnOlderRelease()
    {
        CtlException e = Failure(HttpStatusCode.NotFound, """{"error": "no admin call POST /admin/x", "detail": "admin calls: ..."}""");
        Assert.Equal(ExitCode.NotSupported, e.Code);
        Assert.Contains("runs a release without POST /admin/x", e.Detail);
    }

    [Fact]
    public void Failure_NotJson_SaysWhoAnsweredWhat()
    {
        CtlException e = Failure(HttpStatusCode.BadGateway, "<html>proxy error</html>");
        Assert.Equal(ExitCode.Refused, e.Code);
        Assert.Equal("10.0.0.1:8080 answered 502 to POST /admin/x", e.Message);
    }

    [Fact]
    public void Failure_NotAuthorized_SaysWhereAKeyGoes()
    {
        CtlException e = Failure(HttpStatusCode.Forbidden, """{"error": "admin calls need an admin key", "detail": "send one as a bearer token"}""");
        Assert.Contains("--key, O3CTL_KEY or the config file", e.Detail);
    }
}
