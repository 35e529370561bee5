using System.Text.Json;

namespace EtcdServerless.Core.Storage;

// Writes in progress: the private staging folder, the commit that moves a staged file into place, the writer
// handed to callers, and the cleanup of what crashed writers left behind.
internal sealed partial class LocalDirectoryBackupStore
{
    /// <summary>
    /// Deletes staged writes left by crashed or abandoned writers: files at least <paramref name="olderThan"/> old
    /// that no live writer holds (a writer keeps its staging file open exclusively, an advisory lock on Unix, so
    /// a file that opens exclusively belongs to a process that is gone). Returns how many were removed.
    /// </summary>
    public Task<int> CleanupStagingAsync(TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        var cutoff = _timeProvider.GetUtcNow() - olderThan;
        var removed = 0;
        if (!Directory.Exists(StagingDirectory))
        {
            return Task.FromResult(0);
        }

        foreach (var file in new DirectoryInfo(StagingDirectory).EnumerateFiles())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (file.LastWriteTimeUtc <= cutoff.UtcDateTime && IO.PrivateTempFiles.TryDeleteAbandoned(file.FullName))
            {
                removed++;
            }
        }

        return Task.FromResult(removed);
    }

    // Staged bytes are partial artifacts: only this user may enter the folder or read them.
    private void EnsureStagingDirectory()
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(StagingDirectory);
            return;
        }

        const UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Directory.CreateDirectory(StagingDirectory, mode);
        if ((File.GetUnixFileMode(StagingDirectory) & ~mode) != 0)
        {
            File.SetUnixFileMode(StagingDirectory, mode);
        }
    }

    private static FileStreamOptions StagingFileOptions(FileAccess access, FileOptions options, int bufferSize)
    {
        var result = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = access,
            Share = FileShare.None,
            BufferSize = bufferSize,
            Options = options,
        };
        if (!OperatingSystem.IsWindows())
        {
            result.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return result;
    }

    private async Task<StoredObjectInfo> CommitAsync(Writer writer, CancellationToken cancellationToken)
    {
        var target = ContentPath(writer.Name);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(writer.StagingPath, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);

            // The commit point: a no-replace move (link + unlink on Unix), so the loser of a race fails here.
            NoReplaceFileMove.Move(writer.StagingPath, target);
        }
        catch (IOException ex) when (File.Exists(target))
        {
            throw new BackupObjectExistsException($"Object '{writer.Name}' already exists in {Description} (write-once store).", ex);
        }
        catch (IOException ex)
        {
            throw new BackupStoreException($"Cannot commit '{writer.Name}' to {Description}.", ex);
        }

        var created = _timeProvider.GetUtcNow();
        var meta = new LocalObjectMetadata
        {
            ContentType = writer.Options.ContentType,
            RetainUntil = writer.RetainUntil,
            Created = created,
        };
        await WriteSidecarAsync(writer.Name, MetaSuffix, JsonSerializer.SerializeToUtf8Bytes(meta, StorageJsonContext.Default.LocalObjectMetadata), cancellationToken)
            .ConfigureAwait(false);

        // Always written (even empty) so tags left by a deleted predecessor of the same name never apply.
        await SetTagsAsync(writer.Name, writer.Options.Tags, cancellationToken).ConfigureAwait(false);
        return (await GetInfoAsync(writer.Name, cancellationToken).ConfigureAwait(false))!;
    }

    private sealed class Writer(LocalDirectoryBackupStore store, string name, string stagingPath, FileStream stream, BackupObjectWriteOptions options, DateTimeOffset retainUntil)
        : IBackupObjectWriter
    {
        private bool _committed;
        private bool _disposed;

        public string Name { get; } = name;

        public string StagingPath { get; } = stagingPath;

        public BackupObjectWriteOptions Options { get; } = options;

        public DateTimeOffset RetainUntil { get; } = retainUntil;

        public Stream Content => stream;

        public async Task<StoredObjectInfo> CommitAsync(CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_committed)
            {
                throw new InvalidOperationException("The write is already committed.");
            }

            try
            {
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            catch (IOException ex)
            {
                throw new BackupStoreException($"Cannot flush the write of '{Name}'.", ex);
            }

            await stream.DisposeAsync().ConfigureAwait(false);
            try
            {
                var info = await store.CommitAsync(this, cancellationToken).ConfigureAwait(false);
                _committed = true;
                return info;
            }
            finally
            {
                File.Delete(StagingPath);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await stream.DisposeAsync().ConfigureAwait(false);
            if (!_committed)
            {
                File.Delete(StagingPath);
            }
        }
    }
}
