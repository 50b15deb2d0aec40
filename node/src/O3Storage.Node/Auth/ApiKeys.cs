// Owns: the guide's api-keys.txt: one `role:key` per line (roles admin, read-write, read-only), with an
// optional third field naming the S3 access key id (`role:key:ACCESSKEYID`). Each key works as an
// `Authorization: Bearer <key>` token and as S3 credentials: the secret is the key, and the access key
// id is "O3" plus the first 18 hex digits (upper-case) of SHA-256 of the key, 20 characters that never
// reveal the secret.
// Faults: a file readable or writable by group or others is refused (the message says chmod 600); a
// bad line is refused naming its number, never its key. (No admin key is needed: with certificates no
// node proves itself with one, and the cluster's other keys may hold it; see KeyRing.)
using System.Security.Cryptography;
using System.Text;

namespace O3Storage.Node.Auth;

public enum ApiRole
{
    ReadOnly,
    ReadWrite,
    Admin,
}

public sealed record ApiKey(ApiRole Role, string Secret, string AccessKeyId)
{
    public bool CanWrite => Role is ApiRole.ReadWrite or ApiRole.Admin;

    public bool IsAdmin => Role == ApiRole.Admin;

    public override string ToString() => $"{ApiKeys.RoleName(Role)} {AccessKeyId}"; // never the secret
}

public sealed class ApiKeys
{
    public const string DefaultPath = "/opt/o3storage/api-keys.txt";

    private readonly Dictionary<string, ApiKey> _byAccessKeyId;

    private ApiKeys(IReadOnlyList<ApiKey> keys)
    {
        Keys = keys;
        _byAccessKeyId = keys.ToDictionary(k => k.AccessKeyId, StringComparer.Ordinal);
    }

    public IReadOnlyList<ApiKey> Keys { get; }

    public static string RoleName(ApiRole role) => role switch
    {
        ApiRole.Admin => "admin",
        ApiRole.ReadWrite => "read-write",
        _ => "read-only",
    };

    /// <summary>"O3" + the first 18 hex digits of SHA-256(key), upper-case.</summary>
    public static string DeriveAccessKeyId(string secret) =>
        "O3" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret)))[..18];

    /// <summary>Reads and checks the key file; null with <paramref name="error"/> set when it must be refused.</summary>
    public static ApiKeys? TryLoad(string path, out string? error)
    {
        UnixFileMode mode;
        string text;
        try
        {
            mode = File.GetUnixFileMode(path);
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"--api-keys {path}: cannot read it: {e.Message}";
            return null;
        }

        const UnixFileMode GroupOrOthers = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        if ((mode & GroupOrOthers) != 0)
        {
            error = $"--api-keys {path} is accessible by group or others (mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}); run: chmod 600 {path}";
            return null;
        }

        return TryParse(text, path, out error);
    }

    public static ApiKeys? TryParse(string text, string source, out string? error)
    {
        var keys = new List<ApiKey>();
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            string[] fields = line.Split(':');
            string where = $"{source} line {i + 1}";
            if (fields.Length is < 2 or > 3)
            {
                error = $"{where}: expected role:key or role:key:ACCESSKEYID";
                return null;
            }

            ApiRole? role = fields[0].Trim() switch
            {
                "admin" => ApiRole.Admin,
                "read-write" => ApiRole.ReadWrite,
                "read-only" => ApiRole.ReadOnly,
                _ => null,
            };
            if (role is null)
            {
                error = $"{where}: role '{fields[0].Trim()}' is not admin, read-write or read-only";
                return null;
            }

            string secret = fields[1].Trim();
            if (secret.Length < 16 || secret.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                error = $"{where}: a key needs at least 16 characters and no spaces (e.g. openssl rand -hex 32)";
                return null;
            }

            string accessKeyId = fields.Length == 3 ? fields[2].Trim() : DeriveAccessKeyId(secret);
            if (accessKeyId.Length is < 3 or > 128 || !accessKeyId.All(char.IsAsciiLetterOrDigit))
            {
                error = $"{where}: access key id must be 3-128 letters and digits";
                return null;
            }

            if (keys.Any(k => k.AccessKeyId == accessKeyId || k.Secret == secret))
            {
                error = $"{where}: the same key or access key id appears twice";
                return null;
            }

            keys.Add(new ApiKey(role.Value, secret, accessKeyId));
        }

        if (keys.Count == 0)
        {
            error = $"{source} holds no keys; remove the file to run without authentication, or add role:key lines";
            return null;
        }

        error = null;
        return new ApiKeys(keys);
    }

    /// <summary>
    /// <paramref name="local"/>'s keys, then each of <paramref name="others"/> (in the order given) whose
    /// access key id and secret are both new: a key that reuses another's id or secret with a different
    /// role or pairing is left out, never allowed to widen what the first one grants. Null when there are
    /// no keys at all (authentication off).
    /// </summary>
    public static ApiKeys? Merge(ApiKeys? local, IEnumerable<ApiKey> others)
    {
        var keys = new List<ApiKey>(local?.Keys ?? []);
        var ids = keys.Select(k => k.AccessKeyId).ToHashSet(StringComparer.Ordinal);
        var secrets = keys.Select(k => k.Secret).ToHashSet(StringComparer.Ordinal);
        foreach (ApiKey key in others)
        {
            if (ids.Add(key.AccessKeyId) & secrets.Add(key.Secret))
            {
                keys.Add(key);
            }
        }

        return keys.Count == 0 ? null : new ApiKeys(keys);
    }

    public ApiKey? FindByAccessKeyId(string accessKeyId) => _byAccessKeyId.GetValueOrDefault(accessKeyId);

    /// <summary>The key whose secret is <paramref name="token"/> (a bearer token), compared in constant time.</summary>
    public ApiKey? FindBySecret(string token)
    {
        byte[] presented = Encoding.UTF8.GetBytes(token);
        ApiKey? found = null;
        foreach (ApiKey key in Keys)
        {
            // Every key is compared, so the time taken does not tell which one (or whether any) matched.
            if (CryptographicOperations.FixedTimeEquals(presented, Encoding.UTF8.GetBytes(key.Secret)))
            {
                found = key;
            }
        }

        return found;
    }
}
