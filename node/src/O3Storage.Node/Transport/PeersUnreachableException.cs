namespace O3Storage.Node.Transport;

/// <summary>No peer answered within the time given; the message says what each one did.</summary>
internal sealed class PeersUnreachableException(string message) : Exception(message);
