using System.Text.Json;
using System.Text.Json.Serialization;

namespace O3Storage.Firmware.Boards.Json;

/// <summary>A board profile file as written; <see cref="BoardProfileReader"/> validates it into a <see cref="BoardProfile"/>.</summary>
internal sealed class BoardProfileJson
{
    public string? Name { get; set; }

    public string? Model { get; set; }

    public List<string?>? Compatible { get; set; }

    public List<LedJson?>? Leds { get; set; }

    public SensorsJson? Sensors { get; set; }

    public ThrottleJson? Throttle { get; set; }

    /// <summary>Properties this version does not know; any is an error (a typo must not be ignored silently).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
