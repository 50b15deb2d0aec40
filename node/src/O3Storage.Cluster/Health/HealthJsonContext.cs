using System.Text.Json.Serialization;

namespace O3Storage.Cluster.Health;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(HealthReport))]
public sealed partial class HealthJsonContext : JsonSerializerContext;
