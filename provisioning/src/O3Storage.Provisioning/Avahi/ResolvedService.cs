namespace O3Storage.Provisioning.Avahi;

/// <summary>A resolved instance: its name, host, IPv4 address, port and TXT strings.</summary>
public sealed record ResolvedService(string Name, string Host, string Address, ushort Port, IReadOnlyList<string> Txt);
