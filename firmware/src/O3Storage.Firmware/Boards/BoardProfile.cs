namespace O3Storage.Firmware.Boards;

/// <summary>
/// What O3StorageOS knows about one kind of board: how to recognise it, its LEDs (first that opens
/// wins), its sensors and its thermal limits. Read from JSON by <see cref="BoardProfiles"/>; the
/// format is documented in firmware/README.md.
/// </summary>
/// <param name="Name">Short id, e.g. "raspberry-pi-4".</param>
/// <param name="Model">Human-readable model, e.g. "Raspberry Pi 4 Model B".</param>
/// <param name="Compatible">Device-tree compatible strings that select this profile.</param>
/// <param name="Leds">Status LEDs in order of preference.</param>
/// <param name="ThermalZones">Thermal zone types to read (/sys/class/thermal/thermal_zone*/type); empty: any.</param>
/// <param name="I2cSensors">Optional environment sensors on I2C.</param>
/// <param name="Throttle">Temperatures at which background work slows down.</param>
public sealed record BoardProfile(
    string Name,
    string Model,
    IReadOnlyList<string> Compatible,
    IReadOnlyList<LedSpec> Leds,
    IReadOnlyList<string> ThermalZones,
    IReadOnlyList<I2cSensorSpec> I2cSensors,
    ThrottleLimits Throttle);
