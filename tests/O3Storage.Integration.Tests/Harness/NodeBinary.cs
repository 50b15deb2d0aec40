namespace O3Storage.Integration.Tests.Harness;

/// <summary>Finds the published native-AOT o3storage these tests run as real processes.</summary>
internal static class NodeBinary
{
    public static string Path { get; } = Locate();

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The "N+1" build of the rolling-update test (make publish-next-level-test).</summary>
    public static string NextLevelPath =>
        System.IO.Path.Combine(RepositoryRoot, "artifacts", "next-level-test", "o3storage") is var path && File.Exists(path)
            ? path
            : throw new InvalidOperationException($"no next-level test build at {path}: run 'make publish-next-level-test'");

    private static string Locate()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable("O3STORAGE_BINARY");
        string path = !string.IsNullOrEmpty(fromEnvironment)
            ? fromEnvironment
            : System.IO.Path.Combine(FindRepositoryRoot(), "artifacts", "linux-x64", "o3storage");
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"no o3storage binary at {path}: run 'make publish' (or set O3STORAGE_BINARY)");
        }

        return path;
    }

    private static string FindRepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "O3StorageOS.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"O3StorageOS.sln not found above {AppContext.BaseDirectory}");
    }
}
