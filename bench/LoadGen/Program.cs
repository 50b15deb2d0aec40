// The load generator behind bench/object_bench.py and bench/swift_bench.py: the same client code against
// any S3 server (o3storage, Swift's s3api: PUT/GET of /BUCKET/KEY, ListObjectsV2 pages) and etcd (its
// HTTP gateway, /v3/kv/put and /v3/kv/range, values base64 in JSON as the gateway requires), so the
// systems are measured by one yardstick.
//   o3-loadgen --target s3|etcd --endpoints http://a,http://b --op put|get|list|mkbucket --clients 64
//              --size 4096 --keys 10000 --seconds 10 [--bucket bench] [--ca ca-cert.pem]
//              [--access-key ID --secret-key KEY [--region us-east-1]]
// Each client takes the next endpoint round-robin and the next key; the run stops after --seconds
// (or after --keys operations with --once). `list` asks for the page of up to 1000 keys after the
// key (ListObjectsV2 start-after), so pages deep in the bucket cost what the first one does, or not.
// With --access-key every S3 request is signed (SigV4, UNSIGNED-PAYLOAD), as the aws CLI signs.
// `mkbucket` creates --bucket through the first endpoint and stops. `--target o3` is `s3`. Prints one JSON line: ops, seconds, ops_per_s, mib_per_s, p50_ms, p99_ms,
// errors (non-2xx, a GET of the wrong length, an empty listing, or failed), first_error.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

var options = new Dictionary<string, string>(StringComparer.Ordinal);
for (int i = 0; i + 1 < args.Length; i += 2)
{
    options[args[i].TrimStart('-')] = args[i + 1];
}

string target = options.GetValueOrDefault("target", "o3");
string[] endpoints = options["endpoints"].Split(',');
string op = options.GetValueOrDefault("op", "put");
int clients = int.Parse(options.GetValueOrDefault("clients", "64"), CultureInfo.InvariantCulture);
long size = ParseSize(options.GetValueOrDefault("size", "4096"));
int keys = int.Parse(options.GetValueOrDefault("keys", "10000"), CultureInfo.InvariantCulture);
double seconds = double.Parse(options.GetValueOrDefault("seconds", "10"), CultureInfo.InvariantCulture);
bool once = options.GetValueOrDefault("once") == "1"; // each key exactly once, then stop
string bucket = options.GetValueOrDefault("bucket", "bench");
string? accessKey = options.GetValueOrDefault("access-key");
byte[] secretKey = Encoding.UTF8.GetBytes("AWS4" + options.GetValueOrDefault("secret-key", string.Empty));
string region = options.GetValueOrDefault("region", "us-east-1");
Tuple<string, byte[]>? signingKeyOfDay = null; // a reference, so clients never see one day's name with another's key
if (target is not ("s3" or "o3" or "etcd") || op is not ("put" or "get" or "list" or "mkbucket") || (op is "list" or "mkbucket" && target == "etcd"))
{
    Console.Error.WriteLine($"o3-loadgen: --target s3|etcd and --op put|get|list|mkbucket (list and mkbucket for s3 only), not --target {target} --op {op}");
    return 2;
}

// https:// endpoints are checked against --ca (the cluster's CA), as the aws CLI's --ca-bundle does.
X509Certificate2? authority = options.TryGetValue("ca", out string? caFile) ? X509Certificate2.CreateFromPem(File.ReadAllText(caFile)) : null;
var handler = new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseProxy = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) };
if (authority is not null)
{
    handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return certificate is not null && chain.Build(new X509Certificate2(certificate));
    };
}

using var http = new HttpClient(handler)
{
    Timeout = TimeSpan.FromMinutes(5),
};
byte[] value = new byte[size];
new Random(42).NextBytes(value);
string valueBase64 = target == "etcd" ? Convert.ToBase64String(value) : string.Empty;

if (op == "mkbucket")
{
    using var create = new HttpRequestMessage(HttpMethod.Put, $"{endpoints[0]}/{bucket}");
    if (accessKey is not null)
    {
        Sign(create, $"/{bucket}", string.Empty);
    }

    using HttpResponseMessage created = await http.SendAsync(create);
    if (!created.IsSuccessStatusCode)
    {
        Console.Error.WriteLine($"o3-loadgen: PUT /{bucket}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        return 1;
    }

    return 0;
}

long next = -1;
long errors = 0;
string? firstError = null;
var latencies = new List<double>[clients];
var clock = Stopwatch.StartNew();
var stop = TimeSpan.FromSeconds(seconds);

async Task ClientAsync(int client)
{
    var mine = latencies[client] = new List<double>(4096);
    byte[] sink = new byte[64 * 1024];
    while (clock.Elapsed < stop)
    {
        long n = Interlocked.Increment(ref next);
        if (once && n >= keys)
        {
            return;
        }

        int key = (int)(n % keys);
        string endpoint = endpoints[n % endpoints.Length];
        long started = Stopwatch.GetTimestamp();
        try
        {
            using HttpRequestMessage request = Request(endpoint, key);
            using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            await using Stream body = await response.Content.ReadAsStreamAsync();
            long read = 0;
            string head = string.Empty;
            int listed = 0;
            for (int got; (got = await body.ReadAsync(sink)) > 0;)
            {
                head = read == 0 ? Encoding.UTF8.GetString(sink, 0, Math.Min(got, 300)) : head;
                read += got;
                listed += op == "list" ? Count(sink.AsSpan(0, got), "<Key>"u8) : 0;
            }

            if (!response.IsSuccessStatusCode || (op == "get" && target != "etcd" && read != size) || (op == "list" && listed == 0))
            {
                Fail($"{(int)response.StatusCode} from {endpoint} ({read} bytes){(response.IsSuccessStatusCode ? string.Empty : ": " + head)}");
                continue;
            }
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
        {
            Fail($"{endpoint}: {e.Message}");
            continue;
        }

        mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}

void Fail(string what)
{
    Interlocked.Increment(ref errors);
    Interlocked.CompareExchange(ref firstError, what, null);
}

HttpRequestMessage Request(string endpoint, int key)
{
    string name = $"k{key:D8}";
    if (target == "etcd")
    {
        string keyBase64 = Convert.ToBase64String(Encoding.ASCII.GetBytes(name));
        string json = op == "put" ? $"{{\"key\":\"{keyBase64}\",\"value\":\"{valueBase64}\"}}" : $"{{\"key\":\"{keyBase64}\"}}";
        return new HttpRequestMessage(HttpMethod.Post, $"{endpoint}/v3/kv/{(op == "put" ? "put" : "range")}") { Content = new StringContent(json, Encoding.ASCII, "application/json") };
    }

    // start-after the key before this one: the page begins at the key itself (k00000000 sorts after "k").
    string query = op == "list" ? $"list-type=2&max-keys=1000&start-after={(key == 0 ? "k" : $"k{key - 1:D8}")}" : string.Empty;
    var request = op switch
    {
        "put" => new HttpRequestMessage(HttpMethod.Put, $"{endpoint}/{bucket}/{name}") { Content = new ByteArrayContent(value) },
        "get" => new HttpRequestMessage(HttpMethod.Get, $"{endpoint}/{bucket}/{name}"),
        _ => new HttpRequestMessage(HttpMethod.Get, $"{endpoint}/{bucket}?{query}"),
    };
    if (accessKey is not null)
    {
        Sign(request, op == "list" ? $"/{bucket}" : $"/{bucket}/{name}", query);
    }

    return request;
}

// The key SigV4 derives from the secret for one day: made once a day, not once a request (the generator
// shares the cores with the systems it measures).
byte[] SigningKey(string day)
{
    Tuple<string, byte[]>? known = Volatile.Read(ref signingKeyOfDay);
    if (known is not null && known.Item1 == day)
    {
        return known.Item2;
    }

    byte[] key = secretKey;
    foreach (string part in (string[])[day, region, "s3", "aws4_request"])
    {
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(part));
    }

    Volatile.Write(ref signingKeyOfDay, Tuple.Create(day, key));
    return key;
}

// SigV4 with an unsigned payload, as the aws CLI signs a PUT over plain HTTP: the query is already in
// canonical form (sorted, nothing to escape), as are the paths the generator makes.
void Sign(HttpRequestMessage request, string path, string query)
{
    DateTime now = DateTime.UtcNow;
    string stamp = now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
    string day = stamp[..8];
    string host = request.RequestUri!.Authority;
    const string Unsigned = "UNSIGNED-PAYLOAD";
    request.Headers.TryAddWithoutValidation("x-amz-date", stamp);
    request.Headers.TryAddWithoutValidation("x-amz-content-sha256", Unsigned);
    string canonical = $"{request.Method.Method}\n{path}\n{query}\nhost:{host}\nx-amz-content-sha256:{Unsigned}\nx-amz-date:{stamp}\n\nhost;x-amz-content-sha256;x-amz-date\n{Unsigned}";
    string scope = $"{day}/{region}/s3/aws4_request";
    string toSign = $"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
    byte[] signingKey = SigningKey(day);
    string signature = Convert.ToHexStringLower(HMACSHA256.HashData(signingKey, Encoding.UTF8.GetBytes(toSign)));
    request.Headers.TryAddWithoutValidation("Authorization", $"AWS4-HMAC-SHA256 Credential={accessKey}/{scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}");
}

await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(() => ClientAsync(c))));
double elapsed = clock.Elapsed.TotalSeconds;
double[] all = [.. latencies.SelectMany(l => l).Order()];
double Percentile(double p) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)Math.Ceiling(p * all.Length) - 1)];
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{{\"ops\":{all.Length},\"seconds\":{elapsed:F3},\"ops_per_s\":{all.Length / elapsed:F1},\"mib_per_s\":{all.Length * (double)size / elapsed / (1 << 20):F1},\"p50_ms\":{Percentile(0.50):F2},\"p99_ms\":{Percentile(0.99):F2},\"errors\":{errors},\"first_error\":{(firstError is null ? "null" : "\"" + firstError.Replace("\"", "'", StringComparison.Ordinal) + "\"")}}}"));

return 0;

static int Count(ReadOnlySpan<byte> text, ReadOnlySpan<byte> word)
{
    int count = 0;
    for (int at; (at = text.IndexOf(word)) >= 0; text = text[(at + word.Length)..])
    {
        count++;
    }

    return count;
}

static long ParseSize(string text)
{
    long scale = char.ToUpperInvariant(text[^1]) switch { 'K' => 1 << 10, 'M' => 1 << 20, 'G' => 1 << 30, _ => 1 };
    return long.Parse(scale == 1 ? text : text[..^1], CultureInfo.InvariantCulture) * scale;
}
