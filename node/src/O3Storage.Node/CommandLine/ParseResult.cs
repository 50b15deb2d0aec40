namespace O3Storage.Node.CommandLine;

/// <summary>What the command line asks for: run a node, print help or version, or a usage error.</summary>
public abstract record ParseResult
{
    private ParseResult()
    {
    }

    public sealed record Run(NodeOptions Options) : ParseResult;

    public sealed record ShowHelp : ParseResult;

    public sealed record ShowVersion : ParseResult;

    /// <summary><c>o3storage check|compact --data DIR [--device PATH]</c>: offline maintenance of a stopped node's store.</summary>
    public sealed record Maintain(string Command, string DataDirectory, string? DevicePath) : ParseResult;

    /// <summary><c>o3storage keys [--api-keys PATH]</c>: print each key's role and S3 access key id.</summary>
    public sealed record ListKeys(string ApiKeysPath) : ParseResult;

    /// <summary><c>o3storage boot-config FILE</c>: check an o3storage.txt and print its settings for the first-boot script.</summary>
    public sealed record CheckBootConfig(string Path) : ParseResult;

    /// <summary>One line, no trailing period, that says what is wrong and how to fix it.</summary>
    public sealed record Error(string Message) : ParseResult;
}
