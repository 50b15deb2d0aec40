using O3Storage.Node.S3;

namespace O3Storage.Node.Tests.S3;

/// <summary>docs/s3.md's table of every S3 operation, held to the router, so the table cannot drift from what the node answers.</summary>
public sealed class S3OperationTableTests
{
    /// <summary>The table's names (S3's) for operations the router names otherwise.</summary>
    private static readonly Dictionary<string, S3Operation> s_aliases = new(StringComparer.Ordinal) { ["ListObjects"] = S3Operation.ListObjectsV1 };

    private static List<(string Name, string Support)> Table()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "O3StorageOS.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException($"no O3StorageOS.sln above {AppContext.BaseDirectory}");
        }

        string text = File.ReadAllText(Path.Combine(root, "docs", "s3.md"));
        int start = text.IndexOf("## Every operation", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/s3.md has no '## Every operation' section");
        int end = text.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return [.. text[start..(end < 0 ? text.Length : end)].Split('\n')
            .Where(line => line.StartsWith("| ", StringComparison.Ordinal) && !line.StartsWith("| operation", StringComparison.Ordinal) && !line.StartsWith("| ---", StringComparison.Ordinal))
            .Select(line => line.Split('|', StringSplitOptions.TrimEntries))
            .Select(cells => (cells[1], cells[2]))];
    }

    private static S3Operation? Routed(string name) =>
        s_aliases.TryGetValue(name, out S3Operation alias) ? alias
        : Enum.TryParse(name, out S3Operation operation) && operation != S3Operation.NotImplemented ? operation
        : null;

    [Fact]
    public void EveryRowSaysSupportedPartialOrNot_OnceEach()
    {
        List<(string Name, string Support)> rows = Table();
        Assert.True(rows.Count > 40, $"only {rows.Count} rows read from the table");
        Assert.All(rows, row => Assert.Contains(row.Support, new[] { "supported", "partial", "not" }));
        Assert.Equal(rows.Count, rows.Select(r => r.Name).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void WhatTheTableCallsNot_TheNodeDoesNotRoute_AndTheRestItDoes()
    {
        foreach ((string name, string support) in Table())
        {
            Assert.True((support == "not") == (Routed(name) is null), $"docs/s3.md says {name} is '{support}', but the router {(Routed(name) is null ? "has no such operation" : "routes it")}");
        }
    }

    [Fact]
    public void EveryOperationTheNodeRoutes_IsInTheTable()
    {
        HashSet<S3Operation> documented = [.. Table().Where(r => r.Support != "not").Select(r => Routed(r.Name)).OfType<S3Operation>()];
        foreach (S3Operation operation in Enum.GetValues<S3Operation>().Where(o => o != S3Operation.NotImplemented))
        {
            Assert.True(documented.Contains(operation), $"the node routes {operation}, and docs/s3.md's table of every operation does not list it as supported or partial");
        }
    }
}
