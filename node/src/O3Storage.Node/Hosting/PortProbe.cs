using System.Net;
using System.Net.Sockets;

namespace O3Storage.Node.Hosting;

/// <summary>Checks that an address can be listened on before anything is written, so a taken port fails cleanly.</summary>
internal static class PortProbe
{
    public static void EnsureBindable(IPEndPoint endPoint, string flag)
    {
        try
        {
            using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(endPoint);
            socket.Listen(1);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new StartupException($"{flag}: {endPoint} is already in use by another process");
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            throw new StartupException($"--ip {endPoint.Address} is not an address of this machine");
        }
        catch (SocketException e)
        {
            throw new StartupException($"{flag}: cannot listen on {endPoint}: {e.Message}");
        }
    }
}
