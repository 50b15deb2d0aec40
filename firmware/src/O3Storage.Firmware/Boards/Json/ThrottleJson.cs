using System.Text.Json;
using System.Text.Json.Serialization;

namespace O3Storage.Firmware.Boards.Json;

internal sealed class ThrottleJson
{
    public double? SoftCelsius { get; set; }

    public double? HardCelsius { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
