using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using O3Storage.Cluster.Security;
using O3Storage.Node.Transport;

namespace O3Storage.Node.Tests.Transport;

public sealed class TlsHandshakeProbeTests
{
    [Fact]
    public async Task TimesAMutualHandshake_WithTheNodesOwnCertificate_OverLoopback()
    {
        using ClusterTrust trust = NodeTrust();

        TimeSpan took = await TlsHandshakeProbe.MeasureAsync(trust, CancellationToken.None);

        // Here a handshake takes milliseconds; the usual Raft timeouts then hold (RaftTimingsTests).
        Assert.InRange(took, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task WhatIsTimed_IsTheWorksCpuTime_NotTheTimeItWaited()
    {
        // A node restarted on a busy board waits for a core during its handshakes: counting the wait made
        // it take an emulated board's slow Raft timeouts for as long as it ran (failover under load, bench/failover_bench.py).
        TimeSpan waited = await TlsHandshakeProbe.CpuTimeOnOwnThread(() => Thread.Sleep(300));
        Assert.InRange(waited, TimeSpan.Zero, TimeSpan.FromMilliseconds(100));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        TimeSpan worked = await TlsHandshakeProbe.CpuTimeOnOwnThread(() =>
        {
            while (clock.ElapsedMilliseconds < 100)
            {
                Thread.SpinWait(1000);
            }
        });
        Assert.True(worked > TimeSpan.Zero, "a thread that computes uses CPU time");
    }

    [Fact]
    public async Task AFailingEnd_IsAnError_NotAnotherCpuTime()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => TlsHandshakeProbe.CpuTimeOnOwnThread(() => throw new InvalidOperationException("refused")));
    }

    [Fact]
    public async Task AStopWhileMeasuring_IsACancellation()
    {
        using ClusterTrust trust = NodeTrust();
        using var stopped = new CancellationTokenSource();
        stopped.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => TlsHandshakeProbe.MeasureAsync(trust, stopped.Token));
    }

    /// <summary>A cluster CA and a node certificate of it, as a node holds them (ECDSA P-256).</summary>
    private static ClusterTrust NodeTrust()
    {
        using ECDsa caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=o3storage cluster CA test", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        X509Certificate2 authority = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        using ECDsa nodeKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var nodeRequest = new CertificateRequest("CN=192.0.2.7", nodeKey, HashAlgorithmName.SHA256);
        using X509Certificate2 signed = nodeRequest.Create(authority, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(30), RandomNumberGenerator.GetBytes(8));
        return new ClusterTrust(authority, signed.CopyWithPrivateKey(nodeKey), TimeProvider.System);
    }
}
