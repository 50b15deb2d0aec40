namespace O3Storage.Storage;

/// <summary>An operating error of the storage engine; the API layer maps each kind to a protocol error.</summary>
public abstract class StorageException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>No free segment is left for the write: maps to HTTP 507. Nothing stored is harmed.</summary>
public sealed class StorageFullException(string message) : StorageException(message);

/// <summary>A blob's payload or record header does not match its checksum.</summary>
public sealed class ChecksumMismatchException(string message) : StorageException(message);

/// <summary>The device holds no valid o3storage format, or its geometry contradicts the device.</summary>
public sealed class StorageCorruptException(string message) : StorageException(message);

/// <summary>Another process (or another open in this one) holds the device.</summary>
public sealed class DeviceInUseException(string message) : StorageException(message);

/// <summary>The device cannot be opened or used as asked (missing, wrong type, no O_DIRECT where required).</summary>
public sealed class DeviceException(string message, Exception? inner = null) : StorageException(message, inner);

public sealed class BlobNotFoundException(BlobId id) : StorageException($"blob {id} not found")
{
    public BlobId Id { get; } = id;
}
