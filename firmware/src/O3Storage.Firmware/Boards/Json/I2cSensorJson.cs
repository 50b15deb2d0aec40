using System.Text.Json;
using System.Text.Json.Serialization;

namespace O3Storage.Firmware.Boards.Json;

internal sealed class I2cSensorJson
{
    public string? Driver { get; set; }

    public int? Bus { get; set; }

    /// <summary>"0x76" as usually written (a JSON number is accepted too).</summary>
    public JsonElement? Address { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
