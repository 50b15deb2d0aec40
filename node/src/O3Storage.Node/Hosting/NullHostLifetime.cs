using Microsoft.Extensions.Hosting;

namespace O3Storage.Node.Hosting;

/// <summary>
/// Replaces the console lifetime: NodeHost owns SIGTERM/SIGINT itself, because a leader must hand over
/// leadership while its HTTP endpoints still answer, before the web host stops.
/// </summary>
internal sealed class NullHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
