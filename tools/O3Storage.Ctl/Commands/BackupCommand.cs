// Owns: `o3ctl backup PATH` and `o3ctl restore PATH`. A backup is read from a snapshot, so it is one
// point in time however long it takes and however the cluster is written meanwhile: o3ctl takes one
// (backup-YYYYMMDD_HHMMSS, deleted afterwards unless --keep-snapshot) or reads the one --snapshot names.
// Every object's bytes come checksum-verified from a replica; o3ctl checks their length and, for a
// single-part ETag, their MD5, and records their SHA-256. A restore creates the buckets, then imports
// each object with its recorded metadata; the node stores it only if its bytes match that SHA-256.
// A restore goes into an empty cluster: a bucket that already holds objects stops it, unless --resume
// (objects already there with the same size and ETag are skipped, so an interrupted restore can go on).
// Faults: any failure stops the run with the node's error and exit code; a backup left without its end
// file is refused by restore as incomplete, and a snapshot o3ctl took is deleted even then.
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using O3Storage.Ctl.Api;
using O3Storage.Ctl.Backup;
using O3Storage.Ctl.Views;
using Spectre.Console;

namespace O3Storage.Ctl.Commands;

public static class BackupCommand
{
    private const int PageSize = 1000;

    /// <summary>Imports under way at once during a restore, each holding its object in memory.</summary>
    private const int ImportsInFlight = 8;

    /// <summary>Objects up to this size are held in memory to be imported alongside others (at most 8 × 4 MiB held).</summary>
    private const int HeldObjectBytesMax = 4 << 20;
    private const string ImportSha256Header = "x-o3-sha256";
    private const string ImportETagHeader = "x-o3-etag";
    private const string ImportLastModifiedHeader = "x-o3-last-modified-ms";

    public static async Task<ExitCode> BackupAsync(CtlContext ctl, string path, string? snapshotName, bool keepSnapshot, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        (Uri node, Health health) = await ctl.Api.ConnectAsync(token).ConfigureAwait(false);
        string name = snapshotName ?? $"backup-{DateTime.UtcNow:yyyyMMdd_HHmmss}";
        bool ours = false;
        if (snapshotName is null)
        {
            AdminReply made = await ctl.Api.AdminAsync(HttpMethod.Post, "/admin/snapshot", AdminCommands.Body(("name", name)), token).ConfigureAwait(false);
            ours = CtlContext.Parse(made, CtlJson.Default.SnapshotAnswer).Status == "created";
            if (!ours)
            {
                // Another backup took a snapshot of this name in the same second: it is not this moment.
                throw new CtlException(ExitCode.Refused, $"a snapshot named {name} exists already, so it is not of this moment", "run the backup again in a second, or give --snapshot to back up that one");
            }
        }

        try
        {
            SnapshotContentsAnswer contents = CtlContext.Parse(
                await ctl.Api.CallAsync(node, HttpMethod.Get, SnapshotPath(name), null, token).ConfigureAwait(false), CtlJson.Default.SnapshotContentsAnswer);
            SnapshotPart snapshot = contents.Snapshot ?? throw new CtlException(ExitCode.Refused, $"{NodeApi.Authority(node)} described snapshot {name} without its index", null);
            IReadOnlyList<SnapshotBucketPart> buckets = contents.Buckets ?? [];
            var manifest = new BackupManifest(
                BackupFormat.Version, health.Cluster?.ClusterId, new BackupSnapshot(name, snapshot.Index, snapshot.CreatedAt), DateTimeOffset.UtcNow, NodeApi.Authority(node),
                typeof(BackupCommand).Assembly.GetName().Version?.ToString() ?? "unknown",
                [.. buckets.Select(b => new BackupBucket(b.Name, b.CreatedAt, b.Objects, b.Bytes))], snapshot.Objects, snapshot.Bytes);
            long objects = 0;
            long bytes = 0;
            await using (BackupTarget target = Open(() => BackupTarget.Create(path)))
            {
                await target.AddFileAsync(BackupFormat.ManifestName, BackupFormat.Serialize(manifest, BackupJson.Default.BackupManifest), token).ConfigureAwait(false);
                await WithProgressAsync(ctl, $"backup of {name}", manifest.Objects, manifest.Bytes, async progress =>
                {
                    foreach (SnapshotBucketPart bucket in buckets)
                    {
                        await foreach (SnapshotObjectPart item in ListAsync(ctl, node, name, bucket.Name, token).ConfigureAwait(false))
                        {
                            objects++;
                            BackupObject meta = await CopyObjectAsync(ctl, node, name, bucket.Name, item, target, objects, token).ConfigureAwait(false);
                            bytes += meta.Size;
                            progress(objects, bytes);
                        }
                    }
                }).ConfigureAwait(false);
                if (objects != manifest.Objects || bytes != manifest.Bytes)
                {
                    throw new CtlException(ExitCode.Refused, $"snapshot {name} listed {objects} objects of {bytes} bytes, but said it holds {manifest.Objects} of {manifest.Bytes}", "the backup is left incomplete; run it again");
                }

                await target.FinishAsync(BackupFormat.Serialize(new BackupEnd(objects, bytes, DateTimeOffset.UtcNow), BackupJson.Default.BackupEnd), token).ConfigureAwait(false);
            }

            bool deleted = ours && !keepSnapshot && await DeleteSnapshotAsync(ctl, name, token).ConfigureAwait(false);
            ours = false;
            var result = new BackupResult(path, name, snapshot.Index, deleted, buckets.Count, objects, bytes, Math.Round(clock.Elapsed.TotalSeconds, 3));
            // With the archive on standard output, what o3ctl says goes to stderr.
            TextWriter said = path == "-" ? ctl.Error : ctl.Output;
            if (ctl.Json)
            {
                said.WriteLine(System.Text.Json.JsonSerializer.Serialize(result, JsonText.Pretty.BackupResult));
            }
            else
            {
                said.WriteLine($"backed up {objects} objects ({StatusView.Bytes(bytes)}) in {buckets.Count} buckets from snapshot {name} (index {snapshot.Index}) to {path} in {clock.Elapsed.TotalSeconds:0.0} s"
                    + (deleted ? "; the snapshot is deleted" : "; the snapshot is kept"));
            }

            said.Flush();

            return ExitCode.Ok;
        }
        finally
        {
            if (ours && !keepSnapshot)
            {
                // The backup failed: the snapshot it took must not pin the cluster's space.
                await DeleteSnapshotAsync(ctl, name, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    public static async Task<ExitCode> RestoreAsync(CtlContext ctl, string path, bool resume, bool verifyOnly, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        await using BackupSource source = await OpenAsync(() => BackupSource.OpenAsync(path, null, token)).ConfigureAwait(false);
        BackupManifest manifest = source.Manifest;
        Uri? node = null;
        if (!verifyOnly)
        {
            (node, _) = await ctl.Api.ConnectAsync(token).ConfigureAwait(false);
            foreach (BackupBucket bucket in manifest.Buckets)
            {
                AdminReply reply = await ctl.Api.AdminAsync(HttpMethod.Post, "/admin/import/bucket",
                    AdminCommands.Body(("name", bucket.Name), ("created_at", bucket.CreatedAt.ToString("O", CultureInfo.InvariantCulture))), token).ConfigureAwait(false);
                ImportBucketAnswer answer = CtlContext.Parse(reply, CtlJson.Default.ImportBucketAnswer);
                if (answer is { Status: "exists", Objects: > 0 } && !resume)
                {
                    throw new CtlException(ExitCode.Refused, $"bucket {bucket.Name} already holds {answer.Objects} objects: a restore goes into an empty cluster",
                        "restore into a new cluster, or give --resume to go on with a restore that stopped (objects already there are skipped)");
                }
            }
        }

        long objects = 0;
        long imported = 0;
        long bytes = 0;
        await WithProgressAsync(ctl, verifyOnly ? $"verify of {path}" : $"restore of {manifest.Snapshot.Name}", manifest.Objects, manifest.Bytes, async progress =>
        {
            // Small objects are read into memory and imported several at a time (each import waits on a
            // commit, so one at a time leaves the cluster idle); a large one streams from the backup.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
            using var slots = new SemaphoreSlim(ImportsInFlight);
            var inFlight = new List<Task>();
            Exception? failed = null;
            async Task ImportOneAsync(BackupObject meta, Stream data, bool held)
            {
                try
                {
                    if (await ImportAsync(ctl, node!, meta, data, stop.Token).ConfigureAwait(false))
                    {
                        Interlocked.Increment(ref imported);
                    }
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failed, e, null);
                    await stop.CancelAsync().ConfigureAwait(false);
                    throw;
                }
                finally
                {
                    if (held)
                    {
                        slots.Release();
                    }
                }
            }

            try
            {
                while (await NextAsync(source, stop.Token).ConfigureAwait(false) is var (meta, data))
                {
                    objects++;
                    if (verifyOnly)
                    {
                        string sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(data, token).ConfigureAwait(false));
                        if (sha256 != meta.Sha256)
                        {
                            throw new CtlException(ExitCode.Refused, $"{path}: {meta.Bucket}/{meta.Key} ({BackupFormat.DataName(objects)}) has SHA-256 {sha256}, not the {meta.Sha256} recorded: the backup is damaged", null);
                        }
                    }
                    else if (meta.Size <= HeldObjectBytesMax)
                    {
                        byte[] held = new byte[meta.Size];
                        await data.ReadExactlyAsync(held, stop.Token).ConfigureAwait(false);
                        await slots.WaitAsync(stop.Token).ConfigureAwait(false);
                        inFlight.RemoveAll(t => t.IsCompletedSuccessfully);
                        inFlight.Add(ImportOneAsync(meta, new MemoryStream(held, writable: false), held: true));
                    }
                    else
                    {
                        await ImportOneAsync(meta, data, held: false).ConfigureAwait(false);
                    }

                    bytes += meta.Size;
                    progress(objects, bytes);
                }
            }
            catch (OperationCanceledException) when (failed is not null && !token.IsCancellationRequested)
            {
                // An import failed and stopped the rest: its error is the one reported, below.
            }
            finally
            {
                await Task.WhenAll(inFlight).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            if (failed is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed);
            }
        }).ConfigureAwait(false);
        if (objects != manifest.Objects)
        {
            throw new CtlException(ExitCode.Refused, $"{path} holds {objects} objects, but its manifest says the snapshot had {manifest.Objects}", "the backup is damaged");
        }

        var result = new RestoreResult(path, manifest.Snapshot.Name, verifyOnly, manifest.Buckets.Count, objects, imported, verifyOnly ? 0 : objects - imported, bytes, Math.Round(clock.Elapsed.TotalSeconds, 3));
        if (ctl.Json)
        {
            ctl.Output.WriteLine(System.Text.Json.JsonSerializer.Serialize(result, JsonText.Pretty.RestoreResult));
            ctl.Output.Flush();
        }
        else if (verifyOnly)
        {
            ctl.Console.MarkupLine($"{Markup.Escape(path)} is whole: {objects} objects ({StatusView.Bytes(bytes)}) in {manifest.Buckets.Count} buckets of snapshot {Markup.Escape(manifest.Snapshot.Name)}, every SHA-256 as recorded");
        }
        else
        {
            ctl.Console.MarkupLine($"restored [bold]{imported}[/] objects ({StatusView.Bytes(bytes)}) in {manifest.Buckets.Count} buckets from {Markup.Escape(path)} in {clock.Elapsed.TotalSeconds:0.0} s"
                + (objects > imported ? $"; {objects - imported} were already there" : string.Empty) + "; every object's SHA-256 checked by the node that stored it");
        }

        return ExitCode.Ok;
    }

    private static string SnapshotPath(string name) => $"/admin/snapshots/{Uri.EscapeDataString(name)}";

    private static async IAsyncEnumerable<SnapshotObjectPart> ListAsync(CtlContext ctl, Uri node, string snapshot, string bucket, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken token)
    {
        string? after = string.Empty;
        while (after is not null)
        {
            AdminReply reply = await ctl.Api.CallAsync(node, HttpMethod.Get,
                $"{SnapshotPath(snapshot)}/objects?bucket={Uri.EscapeDataString(bucket)}&after={Uri.EscapeDataString(after)}&limit={PageSize}", null, token).ConfigureAwait(false);
            SnapshotObjectPageAnswer page = CtlContext.Parse(reply, CtlJson.Default.SnapshotObjectPageAnswer);
            foreach (SnapshotObjectPart item in page.Objects ?? [])
            {
                yield return item;
            }

            after = page.IsTruncated ? page.NextAfter ?? throw new CtlException(ExitCode.Refused, $"{NodeApi.Authority(node)} cut a listing of {bucket} short without saying where it goes on", null) : null;
        }
    }

    /// <summary>One object from the snapshot into the backup: spooled while hashed, checked, then its metadata and bytes written.</summary>
    private static async Task<BackupObject> CopyObjectAsync(CtlContext ctl, Uri node, string snapshot, string bucket, SnapshotObjectPart item, BackupTarget target, long number, CancellationToken token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(node, $"{SnapshotPath(snapshot)}/object?bucket={Uri.EscapeDataString(bucket)}&key={Uri.EscapeDataString(item.Key)}"));
        using HttpResponseMessage response = await ctl.Api.StreamAsync(node, request, token).ConfigureAwait(false);
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        Stream spool = target.StartData();
        long length = 0;
        await using (Stream body = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false))
        {
            byte[] buffer = new byte[1 << 20];
            int read;
            try
            {
                while ((read = await body.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
                {
                    sha256.AppendData(buffer, 0, read);
                    md5.AppendData(buffer, 0, read);
                    await spool.WriteAsync(buffer.AsMemory(0, read), token).ConfigureAwait(false);
                    length += read;
                }
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                throw new CtlException(ExitCode.Unreachable, $"{NodeApi.Authority(node)} broke off {bucket}/{item.Key} after {length} of {item.Size} bytes: {e.Message}",
                    "a replica may have failed mid-object; run the backup again (into a new place)");
            }
        }

        string what = $"{bucket}/{item.Key}";
        if (length != item.Size)
        {
            throw new CtlException(ExitCode.Refused, $"{what}: {length} bytes came, the snapshot lists {item.Size}", "run the backup again (into a new place)");
        }

        // A single-part ETag is the MD5 of the bytes: a second check, end to end.
        string etag = item.ETag.Trim('"');
        string md5Hex = Convert.ToHexStringLower(md5.GetHashAndReset());
        if (etag.Length == 32 && !etag.Contains('-', StringComparison.Ordinal) && !string.Equals(etag, md5Hex, StringComparison.OrdinalIgnoreCase))
        {
            throw new CtlException(ExitCode.Refused, $"{what}: the bytes' MD5 is {md5Hex}, but its ETag is {item.ETag}", "the object is damaged on the cluster or on the way; o3ctl status and the node's log say more");
        }

        var meta = new BackupObject(bucket, item.Key, item.Size, item.ETag, item.ContentType ?? "binary/octet-stream", item.LastModifiedMs,
            item.UserMetadata ?? new Dictionary<string, string>(), Convert.ToHexStringLower(sha256.GetHashAndReset()));
        await target.AddFileAsync(BackupFormat.MetadataName(number), BackupFormat.Serialize(meta, BackupJson.Default.BackupObject), token).ConfigureAwait(false);
        await target.AddDataAsync(BackupFormat.DataName(number), token).ConfigureAwait(false);
        return meta;
    }

    /// <summary>Imports one object; true when it was stored, false when the same object was already there.</summary>
    private static async Task<bool> ImportAsync(CtlContext ctl, Uri node, BackupObject meta, Stream data, CancellationToken token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(node, $"/admin/import/object?bucket={Uri.EscapeDataString(meta.Bucket)}&key={Uri.EscapeDataString(meta.Key)}"));
        var content = new StreamContent(data);
        content.Headers.ContentLength = meta.Size;
        content.Headers.TryAddWithoutValidation("Content-Type", meta.ContentType);
        request.Content = content;
        request.Headers.TryAddWithoutValidation(ImportETagHeader, meta.ETag);
        request.Headers.TryAddWithoutValidation(ImportSha256Header, meta.Sha256);
        request.Headers.TryAddWithoutValidation(ImportLastModifiedHeader, meta.LastModifiedMs.ToString(CultureInfo.InvariantCulture));
        foreach ((string name, string value) in meta.UserMetadata)
        {
            request.Headers.TryAddWithoutValidation("x-amz-meta-" + name, value);
        }

        string what = $"{meta.Bucket}/{meta.Key}";
        HttpResponseMessage response;
        try
        {
            response = await ctl.Api.StreamAsync(node, request, token).ConfigureAwait(false);
        }
        catch (CtlException e) when (e.Code == ExitCode.Usage)
        {
            // The node refused the object itself (its bytes do not match the backup's SHA-256, or are short): the backup is at fault, not the command line.
            throw new CtlException(ExitCode.Refused, $"{what}: {e.Message}", "nothing of it was stored; o3ctl restore --verify-only checks the whole backup");
        }

        using (response)
        {
            string text = await response.Content.ReadAsStringAsync(token).ConfigureAwait(false);
            ImportObjectAnswer answer = CtlContext.Parse(new AdminReply(response.StatusCode, text, node), CtlJson.Default.ImportObjectAnswer);
            if (answer.Size != meta.Size || answer.ETag != meta.ETag || (answer.Status == "imported" && answer.Sha256 != meta.Sha256))
            {
                throw new CtlException(ExitCode.Refused, $"{what}: the node stored {answer.Size} bytes, ETag {answer.ETag}, SHA-256 {answer.Sha256}; the backup holds {meta.Size}, {meta.ETag}, {meta.Sha256}", null);
            }

            return answer.Status == "imported";
        }
    }

    private static async Task<bool> DeleteSnapshotAsync(CtlContext ctl, string name, CancellationToken token)
    {
        try
        {
            await ctl.Api.AdminAsync(HttpMethod.Delete, SnapshotPath(name), null, token).ConfigureAwait(false);
            return true;
        }
        catch (CtlException e)
        {
            ctl.Error.WriteLine($"o3ctl: warning: the snapshot {name} this backup took could not be deleted ({e.Message}); o3ctl snapshot delete {name} frees what it pins");
            return false;
        }
    }

    private static async Task<(BackupObject, Stream)?> NextAsync(BackupSource source, CancellationToken token)
    {
        try
        {
            return await source.NextAsync(token).ConfigureAwait(false);
        }
        catch (BackupFormatException e)
        {
            throw new CtlException(ExitCode.Refused, e.Message, "nothing after it was restored; a backup is whole only when it ends with " + BackupFormat.EndName);
        }
    }

    private static BackupTarget Open(Func<BackupTarget> open)
    {
        try
        {
            return open();
        }
        catch (Exception e) when (e is BackupFormatException or IOException or UnauthorizedAccessException)
        {
            throw new CtlException(ExitCode.Usage, e.Message, "give a new directory, a new .tar file, or - for standard output");
        }
    }

    private static async Task<BackupSource> OpenAsync(Func<Task<BackupSource>> open)
    {
        try
        {
            return await open().ConfigureAwait(false);
        }
        catch (Exception e) when (e is BackupFormatException or IOException or UnauthorizedAccessException)
        {
            throw new CtlException(ExitCode.Usage, e.Message, "give a directory or .tar file o3ctl backup wrote, or - for standard input");
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/>, which reports (objects, bytes) done: a progress bar on a terminal, a
    /// line on stderr every few seconds otherwise (never on stdout, which may be the archive or JSON).
    /// </summary>
    private static async Task WithProgressAsync(CtlContext ctl, string what, long objects, long bytes, Func<Action<long, long>, Task> work)
    {
        if (!ctl.Json && ctl.Console.Profile.Capabilities.Interactive && !System.Console.IsOutputRedirected)
        {
            await ctl.Console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    ProgressTask task = context.AddTask(Markup.Escape($"{what}: 0/{objects} objects"), maxValue: Math.Max(1, bytes));
                    await work((done, sent) =>
                    {
                        task.Value = sent;
                        task.Description = Markup.Escape($"{what}: {done}/{objects} objects");
                    }).ConfigureAwait(false);
                    task.Value = task.MaxValue;
                }).ConfigureAwait(false);
            return;
        }

        long last = Stopwatch.GetTimestamp();
        await work((done, sent) =>
        {
            if (Stopwatch.GetElapsedTime(last) >= TimeSpan.FromSeconds(5))
            {
                last = Stopwatch.GetTimestamp();
                ctl.Error.WriteLine($"o3ctl: {what}: {done}/{objects} objects, {StatusView.Bytes(sent)} of {StatusView.Bytes(bytes)}");
                ctl.Error.Flush();
            }
        }).ConfigureAwait(false);
    }
}
