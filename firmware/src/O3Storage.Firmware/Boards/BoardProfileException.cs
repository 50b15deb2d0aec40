namespace O3Storage.Firmware.Boards;

/// <summary>A board profile file is missing, not JSON, or not a valid profile; the message names the file and the field.</summary>
public sealed class BoardProfileException : Exception
{
    public BoardProfileException(string message)
        : base(message)
    {
    }

    public BoardProfileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
