using System.Text.Json.Serialization;

namespace O3Storage.Firmware.Boards.Json;

/// <summary>Source-generated (AOT-safe) JSON for board profiles: snake_case, comments and trailing commas allowed.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(BoardProfileJson))]
internal sealed partial class BoardProfileJsonContext : JsonSerializerContext;
