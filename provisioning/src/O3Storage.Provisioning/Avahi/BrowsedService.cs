namespace O3Storage.Provisioning.Avahi;

/// <summary>One instance a ServiceBrowser reported (ItemNew): what ResolveService needs to find it again.</summary>
internal sealed record BrowsedService(int Interface, int Protocol, string Name, string Type, string Domain);
