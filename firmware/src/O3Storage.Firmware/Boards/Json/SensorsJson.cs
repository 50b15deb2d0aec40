using System.Text.Json;
using System.Text.Json.Serialization;

namespace O3Storage.Firmware.Boards.Json;

internal sealed class SensorsJson
{
    public List<string?>? ThermalZones { get; set; }

    public List<I2cSensorJson?>? I2c { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
