// Owns: the calls O3StorageOS makes to avahi-daemon's D-Bus API (org.freedesktop.Avahi.Server,
// .EntryGroup), written against avahi 0.8's introspection data. Every method is one D-Bus call; the
// state machines that use them are AvahiPublisher and AvahiBrowser.
// Faults: a missing daemon or bus is an AvahiException naming what to start; a D-Bus error reply
// becomes an AvahiException carrying avahi's error name (e.g. org.freedesktop.Avahi.CollisionError).
using System.Text;
using Tmds.DBus.Protocol;

namespace O3Storage.Provisioning.Avahi;

internal sealed class AvahiBus : IDisposable
{
    public const string Service = "org.freedesktop.Avahi";
    public const string ServerInterface = "org.freedesktop.Avahi.Server";
    public const string EntryGroupInterface = "org.freedesktop.Avahi.EntryGroup";
    public const string ServiceBrowserInterface = "org.freedesktop.Avahi.ServiceBrowser";

    /// <summary>AVAHI_IF_UNSPEC and AVAHI_PROTO_UNSPEC: every interface, IPv4 and IPv6.</summary>
    public const int Unspecified = -1;

    /// <summary>AVAHI_PROTO_INET: node ids are IPv4 addresses, so resolve to IPv4.</summary>
    public const int ProtocolIPv4 = 0;

    /// <summary>AvahiServerState: AVAHI_SERVER_RUNNING.</summary>
    public const int ServerRunning = 2;

    /// <summary>How long one D-Bus call may take; avahi answers from memory or its cache in milliseconds.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    private readonly DBusConnection _connection;

    private AvahiBus(DBusConnection connection)
    {
        _connection = connection;
    }

    public DBusConnection Connection => _connection;

    /// <summary>Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS or /run/dbus/system_bus_socket) and checks avahi answers.</summary>
    public static async Task<AvahiBus> ConnectAsync(string? address, CancellationToken token)
    {
        address ??= DBusAddress.System ?? "unix:path=/run/dbus/system_bus_socket";
        var connection = new DBusConnection(address);
        try
        {
            await connection.ConnectAsync().AsTask().WaitAsync(token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DBusConnectFailedException or DBusConnectionClosedException)
        {
            connection.Dispose();
            throw new AvahiException($"cannot reach the D-Bus system bus at {address} ({e.Message}); is dbus running?");
        }

        var bus = new AvahiBus(connection);
        try
        {
            await bus.GetStateAsync().WaitAsync(token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            bus.Dispose();
            throw;
        }

        return bus;
    }

    public Task<int> GetStateAsync() =>
        CallAsync("/", ServerInterface, "GetState", null, static (ref MessageWriter _) => { }, static (Message m, object? _) => m.GetBodyReader().ReadInt32());

    /// <summary>A random number avahi-daemon draws when it starts: a different one means it restarted (and forgot our objects).</summary>
    public Task<uint> GetLocalServiceCookieAsync() =>
        CallAsync("/", ServerInterface, "GetLocalServiceCookie", null, static (ref MessageWriter _) => { }, static (Message m, object? _) => m.GetBodyReader().ReadUInt32());

    public Task<int> GroupStateAsync(ObjectPath group) =>
        CallAsync(group, EntryGroupInterface, "GetState", null, static (ref MessageWriter _) => { }, static (Message m, object? _) => m.GetBodyReader().ReadInt32());

    public Task<string> GetHostNameFqdnAsync() =>
        CallAsync("/", ServerInterface, "GetHostNameFqdn", null, static (ref MessageWriter _) => { }, static (Message m, object? _) => m.GetBodyReader().ReadString());

    public Task<string> GetAlternativeServiceNameAsync(string name) =>
        CallAsync("/", ServerInterface, "GetAlternativeServiceName", "s", (ref MessageWriter w) => w.WriteString(name), static (Message m, object? _) => m.GetBodyReader().ReadString());

    public Task<ObjectPath> EntryGroupNewAsync() =>
        CallAsync("/", ServerInterface, "EntryGroupNew", null, static (ref MessageWriter _) => { }, static (Message m, object? _) => m.GetBodyReader().ReadObjectPath());

    public Task AddServiceAsync(ObjectPath group, string name, string type, ushort port, IReadOnlyList<string> txt) =>
        CallAsync(group, EntryGroupInterface, "AddService", "iiussssqaay", (ref MessageWriter w) =>
        {
            w.WriteInt32(Unspecified);
            w.WriteInt32(Unspecified);
            w.WriteUInt32(0);
            w.WriteString(name);
            w.WriteString(type);
            w.WriteString(""); // the default domain (.local)
            w.WriteString(""); // this host
            w.WriteUInt16(port);
            WriteTxt(ref w, txt);
        }, static (Message _, object? _) => true);

    public Task UpdateServiceTxtAsync(ObjectPath group, string name, string type, IReadOnlyList<string> txt) =>
        CallAsync(group, EntryGroupInterface, "UpdateServiceTxt", "iiusssaay", (ref MessageWriter w) =>
        {
            w.WriteInt32(Unspecified);
            w.WriteInt32(Unspecified);
            w.WriteUInt32(0);
            w.WriteString(name);
            w.WriteString(type);
            w.WriteString("");
            WriteTxt(ref w, txt);
        }, static (Message _, object? _) => true);

    public Task GroupCallAsync(ObjectPath group, string member) =>
        CallAsync(group, EntryGroupInterface, member, null, static (ref MessageWriter _) => { }, static (Message _, object? _) => true);

    public Task<ObjectPath> ServiceBrowserNewAsync(string type) =>
        CallAsync("/", ServerInterface, "ServiceBrowserNew", "iissu", (ref MessageWriter w) =>
        {
            // IPv4 only: node ids are IPv4, and with IPv6 on every instance would be reported twice.
            w.WriteInt32(Unspecified);
            w.WriteInt32(ProtocolIPv4);
            w.WriteString(type);
            w.WriteString("");
            w.WriteUInt32(0);
        }, static (Message m, object? _) => m.GetBodyReader().ReadObjectPath());

    /// <summary>Server.ResolveService: host, address, port and TXT of one browsed instance (from avahi's cache when it has them).</summary>
    public Task<ResolvedService> ResolveServiceAsync(BrowsedService item) =>
        CallAsync("/", ServerInterface, "ResolveService", "iisssiu", (ref MessageWriter w) =>
        {
            w.WriteInt32(item.Interface);
            w.WriteInt32(item.Protocol);
            w.WriteString(item.Name);
            w.WriteString(item.Type);
            w.WriteString(item.Domain);
            w.WriteInt32(ProtocolIPv4);
            w.WriteUInt32(0);
        }, static (Message m, object? _) =>
        {
            Reader reader = m.GetBodyReader();
            reader.ReadInt32(); // interface
            reader.ReadInt32(); // protocol
            string name = reader.ReadString();
            reader.ReadString(); // type
            reader.ReadString(); // domain
            string host = reader.ReadString();
            reader.ReadInt32(); // address protocol
            string address = reader.ReadString();
            ushort port = reader.ReadUInt16();
            var txt = new List<string>();
            ArrayEnd end = reader.ReadArrayStart(DBusType.Array);
            while (reader.HasNext(end))
            {
                txt.Add(Encoding.UTF8.GetString(reader.ReadArrayOfByte()));
            }

            return new ResolvedService(name, host, address, port, txt);
        });

    /// <summary>Subscribes to signals matching <paramref name="rule"/>; the handler runs on the connection's thread.</summary>
    public async Task<IDisposable> WatchAsync<T>(MatchRule rule, MessageValueReader<T> reader, Action<Notification<T>> handler)
    {
        try
        {
            return await _connection.AddMatchAsync(rule, reader, handler, emitOnCapturedContext: false, ObserverFlags.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DBusConnectionException or DBusErrorReplyException or ObjectDisposedException)
        {
            throw new AvahiException($"cannot watch {rule}: {e.Message}");
        }
    }

    public void Dispose() => _connection.Dispose();

    private static void WriteTxt(ref MessageWriter writer, IReadOnlyList<string> txt)
    {
        ArrayStart start = writer.WriteArrayStart(DBusType.Array);
        foreach (string entry in txt)
        {
            writer.WriteArray(Encoding.UTF8.GetBytes(entry));
        }

        writer.WriteArrayEnd(start);
    }

    /// <summary>MessageWriter is a ref struct: the body must be written through a reference, not into a copy.</summary>
    private delegate void BodyWriter(ref MessageWriter writer);

    private async Task<T> CallAsync<T>(string path, string @interface, string member, string? signature, BodyWriter body, MessageValueReader<T> reader)
    {
        MessageBuffer message;
        MessageWriter writer = _connection.GetMessageWriter();
        try
        {
            writer.WriteMethodCallHeader(destination: Service, path: path, @interface: @interface, signature: signature, member: member);
            body(ref writer);
            message = writer.CreateMessage();
        }
        finally
        {
            writer.Dispose();
        }

        try
        {
            // A wedged daemon must not hang the node: every call is bounded.
            return await _connection.CallMethodAsync(message, reader).WaitAsync(CallTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new AvahiException($"avahi {member}: no answer within {CallTimeout.TotalSeconds:0} s");
        }
        catch (DBusErrorReplyException e)
        {
            string hint = e.ErrorName == "org.freedesktop.DBus.Error.ServiceUnknown" ? " (is avahi-daemon running?)" : "";
            throw new AvahiException($"avahi {member}: {e.ErrorName}: {e.ErrorMessage}{hint}", e.ErrorName);
        }
        catch (Exception e) when (e is DBusConnectionException or ObjectDisposedException)
        {
            throw new AvahiException($"avahi {member}: the D-Bus connection is gone ({e.Message})");
        }
    }
}
