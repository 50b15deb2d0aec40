// o3ctl: operate an O3StorageOS cluster from a laptop (docs/o3ctl.md). Ctrl-C cancels the call or watch in progress.
using O3Storage.Ctl;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
return await CtlApp.RunAsync(args, CtlIo.Process(), cancel.Token).ConfigureAwait(false);
