namespace O3Storage.Node.Hosting;

/// <summary>An operating error that stops the node before it serves: printed as one line, exit code 1.</summary>
public sealed class StartupException(string message) : Exception(message);
