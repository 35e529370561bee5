namespace EtcdServerless.Core.Orchestration;

/// <summary>
/// An activity threw (an unexpected fault; expected failures are result records). Carries the serializable
/// <see cref="FailureDetails"/>, because on Durable the original exception object does not cross the wire.
/// </summary>
public sealed class ActivityFailedException : Exception
{
    public ActivityFailedException()
    {
    }

    public ActivityFailedException(string message)
        : base(message)
    {
    }

    public ActivityFailedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    internal ActivityFailedException(string activityName, int sequence, FailureDetails failureDetails)
        : base($"Activity '{activityName}' (#{sequence}) failed: {failureDetails.ErrorType}: {failureDetails.ErrorMessage}")
    {
        ActivityName = activityName;
        Sequence = sequence;
        FailureDetails = failureDetails;
    }

    /// <summary>The activity's registered name.</summary>
    public string ActivityName { get; } = "";

    /// <summary>The activity call's sequence number in the orchestration history.</summary>
    public int Sequence { get; }

    /// <summary>What the activity threw.</summary>
    internal FailureDetails FailureDetails { get; } = new("Unknown", "");
}
