// Owns: which exceptions from device libraries count as operating errors (a missing, busy or
// unplugged device) rather than programmer errors.
// Assumes: System.Device.Gpio and Iot.Device.Bindings report device problems with these types; a
// missing native library (libgpiod) surfaces as DllNotFoundException or PlatformNotSupportedException.
// Faults: anything else (NullReferenceException, ArgumentNullException) still escapes and stops the
// process, as programmer errors should.
namespace O3Storage.Firmware;

internal static class HardwareErrors
{
    public static bool IsOperatingError(Exception e) =>
        e is IOException
            or UnauthorizedAccessException
            or (InvalidOperationException and not ObjectDisposedException)
            or PlatformNotSupportedException
            or NotSupportedException
            or DllNotFoundException
            or EntryPointNotFoundException
            or TypeInitializationException
            // A pin, bus or address that the board does not have comes from a profile, not from code.
            or (ArgumentException and not ArgumentNullException);
}
