using System.Text.Json;
using System.Text.Json.Serialization;

namespace O3Storage.Firmware.Boards.Json;

/// <summary>One entry of "leds": the fields of every driver, checked against "driver" by the reader.</summary>
internal sealed class LedJson
{
    public string? Driver { get; set; }

    public List<string?>? Names { get; set; }

    public int? Pin { get; set; }

    public bool? ActiveLow { get; set; }

    public int? Chip { get; set; }

    public int? SpiBus { get; set; }

    public int? ChipSelect { get; set; }

    public int? Pixels { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
