// Owns: a history on disk, one JSON operation per line, as a failing run leaves it for a post-mortem
// and `o3-chaos check` reads it back.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace O3Storage.Chaos.History;

public static class HistoryFile
{
    public static void Write(string path, IEnumerable<Operation> history)
    {
        using var writer = new StreamWriter(path);
        foreach (Operation operation in history)
        {
            writer.WriteLine(JsonSerializer.Serialize(operation, HistoryJson.Default.Operation));
        }
    }

    public static List<Operation> Read(string path)
    {
        var history = new List<Operation>();
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                history.Add(JsonSerializer.Deserialize(line, HistoryJson.Default.Operation) ?? throw new JsonException("null"));
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{number}: not an operation ({e.Message})", e);
            }
        }

        return history;
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, UseStringEnumConverter = true, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(Operation))]
internal sealed partial class HistoryJson : JsonSerializerContext;
