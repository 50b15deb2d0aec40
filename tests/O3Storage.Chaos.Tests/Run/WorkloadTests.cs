using System.Net;
using System.Net.Sockets;
using System.Text;
using O3Storage.Chaos.History;
using O3Storage.Chaos.Run;

namespace O3Storage.Chaos.Tests.Run;

/// <summary>How a client records what it learned, against a loopback server that misbehaves on cue.</summary>
public sealed class WorkloadTests
{
    [Fact]
    public async Task ADeleteTheServerReceived_ThenDiedBeforeAnswering_IsUnknown_NotFailed()
    {
        // The node reads the DELETE (and may commit it), then dies: its port refuses from then on. A client
        // that re-sends the request on a new connection sees "connection refused" and must not conclude
        // the DELETE was never sent (the first make chaos found this: .NET re-sends bodyless requests
        // when a reused connection closes before the answer).
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Task server = ServeAsync(listener);

        var workload = new Workload(["127.0.0.1"], "bucket", keys: 1, seed: 1, port);
        using HttpClient http = Workload.NewClient();
        Operation get = await workload.OneAsync(http, 1, "127.0.0.1", "key-0", OperationKind.Get, null);
        Operation delete = await workload.OneAsync(http, 1, "127.0.0.1", "key-0", OperationKind.Delete, null);
        await server;

        Assert.Equal(OperationOutcome.Ok, get.Outcome);
        Assert.Equal("x", get.Value);
        Assert.Equal(OperationOutcome.Unknown, delete.Outcome);
    }

    [Fact]
    public async Task ARefusedConnection_IsFailed()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var workload = new Workload(["127.0.0.1"], "bucket", keys: 1, seed: 1, port);
        using HttpClient http = Workload.NewClient();
        Operation put = await workload.OneAsync(http, 1, "127.0.0.1", "key-0", OperationKind.Put, "v");
        Assert.Equal(OperationOutcome.Failed, put.Outcome);
        Assert.Equal("v", put.Value);
    }

    /// <summary>Answers GETs with "x" on any connection; on a DELETE stops listening, then closes that connection unanswered.</summary>
    private static async Task ServeAsync(TcpListener listener)
    {
        var connections = new List<Task>();
        var deleted = new TaskCompletionSource();
        _ = Task.Run(async () =>
        {
            while (!deleted.Task.IsCompleted)
            {
                try
                {
                    Socket socket = await listener.AcceptSocketAsync();
                    lock (connections)
                    {
                        connections.Add(ConnectionAsync(socket, listener, deleted));
                    }
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
            }
        });
        await deleted.Task.WaitAsync(TimeSpan.FromSeconds(20));
    }

    private static async Task ConnectionAsync(Socket socket, TcpListener listener, TaskCompletionSource deleted)
    {
        using (socket)
        {
            var buffer = new byte[4096];
            var request = new StringBuilder();
            while (true)
            {
                int read = await socket.ReceiveAsync(buffer);
                if (read == 0)
                {
                    return;
                }

                request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                string text = request.ToString();
                if (!text.Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    continue;
                }

                request.Clear();
                if (text.StartsWith("DELETE", StringComparison.Ordinal))
                {
                    listener.Stop();
                    deleted.TrySetResult();
                    return; // closed without an answer
                }

                await socket.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"u8.ToArray());
            }
        }
    }
}
