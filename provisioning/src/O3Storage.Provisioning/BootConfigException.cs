namespace O3Storage.Provisioning;

/// <summary>o3storage.txt could not be read or holds mistakes; the message names the file and every problem.</summary>
public sealed class BootConfigException(string message) : Exception(message);
