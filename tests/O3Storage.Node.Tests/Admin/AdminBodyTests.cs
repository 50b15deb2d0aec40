using System.Text;
using O3Storage.Node.Admin;

namespace O3Storage.Node.Tests.Admin;

public sealed class AdminBodyTests
{
    private static readonly string[] s_fields = ["enabled", "reason"];

    private static AdminBody? Parse(string body, string? contentType, out AdminError? error) =>
        AdminBody.Parse(Encoding.UTF8.GetBytes(body), contentType, s_fields, out error);

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/x-www-form-urlencoded")] // curl -d without -H: the JSON as written, labelled form
    [InlineData(null)]
    public void TheGuidesJson_ParsesWhateverTheContentType(string? contentType)
    {
        AdminBody body = Parse("{\"enabled\": true, \"reason\": \"scheduled maintenance\"}", contentType, out AdminError? error)!;
        Assert.Null(error);
        Assert.Equal(true, body.Bool("enabled", out _));
        Assert.Equal("scheduled maintenance", body.String("reason", out _));
    }

    [Fact]
    public void FormFields_Parse()
    {
        AdminBody body = Parse("enabled=false&reason=disk+swap%21", "application/x-www-form-urlencoded", out _)!;
        Assert.Equal(false, body.Bool("enabled", out _));
        Assert.Equal("disk swap!", body.String("reason", out _));
    }

    [Fact]
    public void AnEmptyBody_HasNoFields()
    {
        AdminBody body = Parse("  \n", "application/json", out AdminError? error)!;
        Assert.Null(error);
        Assert.False(body.Has("enabled"));
    }

    [Theory]
    [InlineData("{\"enabled\": true,", "the body is not valid JSON")]
    [InlineData("[1, 2]", "the body must be a JSON object")]
    [InlineData("{\"enabled\": true, \"mode\": 1}", "unknown field 'mode'")]
    public void BadBodies_AreRefusedWithTheReason(string text, string expected)
    {
        Assert.Null(Parse(text, "application/json", out AdminError? error));
        Assert.Equal(expected, error!.Error);
        Assert.NotNull(error.Detail);
    }

    [Fact]
    public void ANumberTooLargeForADouble_IsATypeErrorNotACrash()
    {
        AdminBody body = Parse("{\"enabled\": 1e999}", "application/json", out AdminError? parseError)!;
        Assert.Null(parseError);
        Assert.Null(body.Bool("enabled", out AdminError? error));
        Assert.Equal("'enabled' must be true or false", error!.Error);
    }

    [Fact]
    public void AStringThatIsNotUtf8_IsRefusedNotACrash()
    {
        // Found by make fuzz: the JSON reader passes it, reading the string threw (a 500 on /admin/*).
        byte[] body = [.. "{\"reason\":\"a"u8, 0xE4, .. "\"}"u8];
        Assert.Null(AdminBody.Parse(body, "application/json", s_fields, out AdminError? error));
        Assert.Equal("the body is not valid JSON", error!.Error);
        Assert.Contains("not UTF-8", error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void AFieldOfTheWrongType_IsNamed()
    {
        AdminBody body = Parse("{\"enabled\": \"yes\"}", "application/json", out _)!;
        Assert.Null(body.Bool("enabled", out AdminError? error));
        Assert.Equal("'enabled' must be true or false", error!.Error);
        Assert.Equal("got the string \"yes\"", error.Detail);
    }
}
