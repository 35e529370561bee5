namespace EtcdServerless.Core.Storage;

/// <summary>A backup store operation failed; the transport or I/O error is the inner exception.</summary>
public class BackupStoreException : Exception
{
    public BackupStoreException() { }

    public BackupStoreException(string message) : base(message) { }

    public BackupStoreException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>A write-once store refused to write a name that already exists.</summary>
public sealed class BackupObjectExistsException : BackupStoreException
{
    public BackupObjectExistsException() { }

    public BackupObjectExistsException(string message) : base(message) { }

    public BackupObjectExistsException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>No committed object has the requested name.</summary>
public sealed class BackupObjectNotFoundException : BackupStoreException
{
    public BackupObjectNotFoundException() { }

    public BackupObjectNotFoundException(string message) : base(message) { }

    public BackupObjectNotFoundException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>The object is still under retention (WORM) and cannot be deleted or overwritten.</summary>
public sealed class BackupObjectImmutableException : BackupStoreException
{
    public BackupObjectImmutableException() { }

    public BackupObjectImmutableException(string message) : base(message) { }

    public BackupObjectImmutableException(string message, Exception? innerException) : base(message, innerException) { }
}
