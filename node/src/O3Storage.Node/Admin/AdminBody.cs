// Owns: reading an admin request body the way the guide sends it: a JSON object, with or without
// `Content-Type: application/json` (curl -d labels it form data but sends the JSON as written), or real
// form fields (`enabled=true&reason=...`). Only the fields the call knows are allowed, with the types
// it expects; anything else is an error that names the field. Pure: bytes in, values or an error out.
using System.Text;
using System.Text.Json;

namespace O3Storage.Node.Admin;

internal sealed class AdminBody
{
    /// <summary>An admin body is a handful of fields; anything larger is a mistake.</summary>
    public const int BytesMax = 64 * 1024;

    private readonly Dictionary<string, object?> _fields;

    private AdminBody(Dictionary<string, object?> fields) => _fields = fields;

    public static AdminBody Empty { get; } = new(new Dictionary<string, object?>(StringComparer.Ordinal));

    /// <summary>Parses <paramref name="body"/>; on failure, null with the error and detail for a 400.</summary>
    public static AdminBody? Parse(ReadOnlySpan<byte> body, string? contentType, IReadOnlyCollection<string> known, out AdminError? error)
    {
        error = null;
        ReadOnlySpan<byte> trimmed = body.Trim(" \t\r\n"u8);
        if (trimmed.IsEmpty)
        {
            return Empty;
        }

        var fields = new Dictionary<string, object?>(StringComparer.Ordinal);
        bool form = contentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) == true;
        if (form && trimmed[0] != (byte)'{')
        {
            foreach (string pair in Encoding.UTF8.GetString(trimmed).Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                int equals = pair.IndexOf('=');
                string name = Uri.UnescapeDataString((equals < 0 ? pair : pair[..equals]).Replace('+', ' '));
                string value = equals < 0 ? string.Empty : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
                fields[name] = value is "true" or "false" ? value == "true" : value;
            }
        }
        else
        {
            try
            {
                using JsonDocument document = JsonDocument.Parse(trimmed.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    error = new AdminError("the body must be a JSON object", $"got a JSON {document.RootElement.ValueKind.ToString().ToLowerInvariant()}; e.g. {Example(known)}");
                    return null;
                }

                foreach (JsonProperty property in document.RootElement.EnumerateObject())
                {
                    fields[property.Name] = property.Value.ValueKind switch
                    {
                        JsonValueKind.String => property.Value.GetString(),
                        JsonValueKind.True => true,
                        JsonValueKind.False => false,
                        JsonValueKind.Null => null,
                        JsonValueKind.Number => property.Value.TryGetDouble(out double number) ? number : double.NaN,
                        _ => property.Value.ValueKind,
                    };
                }
            }
            catch (JsonException e)
            {
                error = new AdminError("the body is not valid JSON", $"{e.Message.Split(" Path:")[0]} e.g. {Example(known)}");
                return null;
            }
            catch (InvalidOperationException e) when (e.InnerException is DecoderFallbackException)
            {
                // A string that is not UTF-8 passes the reader and fails when it is read: a 500 until the fuzzer found it.
                error = new AdminError("the body is not valid JSON", $"a string in it is not UTF-8; e.g. {Example(known)}");
                return null;
            }
        }

        foreach (string name in fields.Keys)
        {
            if (!known.Contains(name))
            {
                error = new AdminError($"unknown field '{name}'", known.Count == 0 ? "this call takes no fields" : $"known fields: {string.Join(", ", known)}");
                return null;
            }
        }

        return new AdminBody(fields);
    }

    public bool Has(string name) => _fields.ContainsKey(name) && _fields[name] is not null;

    /// <summary>A string field: null when absent; an error when it is another type.</summary>
    public string? String(string name, out AdminError? error)
    {
        error = null;
        if (!_fields.TryGetValue(name, out object? value) || value is null)
        {
            return null;
        }

        if (value is string text)
        {
            return text;
        }

        error = new AdminError($"'{name}' must be a string", $"got {Describe(value)}");
        return null;
    }

    /// <summary>A boolean field: null when absent; an error when it is another type.</summary>
    public bool? Bool(string name, out AdminError? error)
    {
        error = null;
        if (!_fields.TryGetValue(name, out object? value) || value is null)
        {
            return null;
        }

        if (value is bool flag)
        {
            return flag;
        }

        error = new AdminError($"'{name}' must be true or false", $"got {Describe(value)}");
        return null;
    }

    private static string Describe(object value) => value switch
    {
        string text => $"the string \"{text}\"",
        bool flag => flag ? "true" : "false",
        double number => $"the number {number}",
        JsonValueKind kind => $"a JSON {kind.ToString().ToLowerInvariant()}",
        _ => value.ToString() ?? "a value",
    };

    private static string Example(IReadOnlyCollection<string> known) =>
        known.Count == 0 ? "no body" : "{" + string.Join(", ", known.Select(k => $"\"{k}\": ...")) + "}";
}
