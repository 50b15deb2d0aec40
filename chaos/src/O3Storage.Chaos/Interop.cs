using System.Runtime.InteropServices;

namespace O3Storage.Chaos;

internal static partial class Interop
{
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);
}
