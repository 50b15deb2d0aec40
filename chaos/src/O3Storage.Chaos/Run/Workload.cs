// Owns: the clients of a chaos run: each one issues PUT, GET and DELETE of small objects over a few keys,
// one at a time, to a node of its choosing, and records every operation with its invocation and
// completion times and what it learned.
// Assumes: every PUT writes a value no other writes (client and sequence in it), so a GET names the write
// it saw. A refused connection is a failure (nothing was sent); a timeout, a reset or a 5xx is unknown.
// A DELETE carries an empty body: .NET re-sends a request without one by itself when its connection
// closes before the answer, so a DELETE the node had received and committed came back as "connection
// refused" from the re-send and was recorded as never sent (seeds 22, 80 and 83 of the first make
// chaos). A request with a body is never re-sent. (A re-sent GET does no harm: a read has no effect.)
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using O3Storage.Chaos.History;

namespace O3Storage.Chaos.Run;

internal sealed class Workload(IReadOnlyList<string> nodeIps, string bucket, int keys, int seed, int port = 8080)
{
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(4);

    private readonly List<Operation> _history = [];
    private readonly long _origin = Stopwatch.GetTimestamp();
    private int _nextId;

    public IReadOnlyList<Operation> History
    {
        get
        {
            lock (_history)
            {
                return _history.OrderBy(o => o.Id).ToList();
            }
        }
    }

    public string Key(int index) => $"key-{index}";

    /// <summary>Runs <paramref name="clients"/> clients until <paramref name="token"/> ends.</summary>
    public Task RunAsync(int clients, CancellationToken token) =>
        Task.WhenAll(Enumerable.Range(1, clients).Select(c => ClientAsync(c, new Random(seed * 1000 + c), token)));

    private async Task ClientAsync(int client, Random random, CancellationToken token)
    {
        using HttpClient http = NewClient();
        int sequence = 0;
        while (!token.IsCancellationRequested)
        {
            string node = nodeIps[random.Next(nodeIps.Count)];
            string key = Key(random.Next(keys));
            int roll = random.Next(100);
            OperationKind kind = roll < 45 ? OperationKind.Get : roll < 90 ? OperationKind.Put : OperationKind.Delete;
            string? value = kind == OperationKind.Put ? $"c{client}-{++sequence}" : null;
            await OneAsync(http, client, node, key, kind, value).ConfigureAwait(false);
            await Task.Delay(random.Next(0, 30), CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>After the faults are healed: every key read through every node, one read at a time.</summary>
    public async Task FinalReadsAsync(int client)
    {
        using HttpClient http = NewClient();
        foreach (string node in nodeIps)
        {
            for (int k = 0; k < keys; k++)
            {
                await OneAsync(http, client, node, Key(k), OperationKind.Get, null).ConfigureAwait(false);
            }
        }
    }

    public static HttpClient NewClient() => new(new SocketsHttpHandler
    {
        ConnectTimeout = TimeSpan.FromSeconds(1),
        PooledConnectionLifetime = TimeSpan.FromSeconds(10),
        UseProxy = false,
    })
    { Timeout = RequestTimeout };

    private long Micros() => (long)Stopwatch.GetElapsedTime(_origin).TotalMicroseconds;

    public async Task<Operation> OneAsync(HttpClient http, int client, string node, string key, OperationKind kind, string? value)
    {
        string url = $"http://{node}:{port}/{bucket}/{key}";
        long invoked = Micros();
        OperationOutcome outcome;
        string? detail;
        string? seen = null;
        try
        {
            using var request = new HttpRequestMessage(kind switch { OperationKind.Put => HttpMethod.Put, OperationKind.Get => HttpMethod.Get, _ => HttpMethod.Delete }, url);
            if (value is not null)
            {
                request.Content = new StringContent(value);
            }
            else if (kind == OperationKind.Delete)
            {
                request.Content = new ByteArrayContent([]); // so it is never re-sent behind our back (above)
            }

            using HttpResponseMessage response = await http.SendAsync(request).ConfigureAwait(false);
            string body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            int status = (int)response.StatusCode;
            detail = $"{status} from {node}";
            if (response.IsSuccessStatusCode)
            {
                outcome = OperationOutcome.Ok;
                seen = kind == OperationKind.Get ? body : value;
            }
            else if (kind == OperationKind.Get && response.StatusCode == HttpStatusCode.NotFound && body.Contains("<Code>NoSuchKey</Code>", StringComparison.Ordinal))
            {
                outcome = OperationOutcome.Ok;
            }
            else
            {
                // A 5xx may come after the change was proposed (a lost leadership, a timeout waiting
                // for the commit): it may still take effect. Other refusals change nothing.
                outcome = status >= 500 ? OperationOutcome.Unknown : OperationOutcome.Failed;
                detail += ": " + (body.Length > 200 ? body[..200] : body);
            }
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
        {
            outcome = OperationOutcome.Failed;
            detail = $"connection refused by {node}";
        }
        // A raw SocketException: .NET's connect reads the peer's address and throws ENOTCONN when a node
        // (starting, or killed) reset the connection just after accepting it. Nothing was sent, but
        // "unknown" is never wrong.
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or SocketException)
        {
            outcome = OperationOutcome.Unknown;
            detail = $"{e.GetType().Name} from {node}: {e.Message}";
        }

        long completed = Micros();
        Operation operation;
        lock (_history)
        {
            operation = new Operation(_nextId++, client, key, kind, kind == OperationKind.Delete ? null : seen ?? (kind == OperationKind.Put ? value : null), invoked, completed, outcome, detail);
            _history.Add(operation);
        }

        return operation;
    }
}
